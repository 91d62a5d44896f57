import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from framework.answers import answer_scale
from framework.db import models
from framework.db.engine import current_revision, downgrade, head_revision, make_engine, upgrade
from framework.survey import COMMENT_KINDS
from tests.databases import migrate_fresh


def schema_differences(url: str, metadata: sa.MetaData) -> list:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return compare_metadata(context, metadata)
    finally:
        engine.dispose()


def table_names(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_migrations_go_up_down_and_up_again(db_url):
    upgrade(db_url)
    assert table_names(db_url) >= set(models.Base.metadata.tables)
    downgrade(db_url, "base")
    assert table_names(db_url) == {"alembic_version"}
    upgrade(db_url)
    engine = make_engine(db_url)
    with engine.connect() as connection:
        assert current_revision(connection) == head_revision() == "0012"
    engine.dispose()


def test_models_match_the_migrations(db_url):
    upgrade(db_url)
    assert schema_differences(db_url, models.Base.metadata) == []


def test_a_fresh_test_database_is_what_the_migrations_make(db_url):
    """Tests get a copy of a migrated template (tests/databases.py), not their own migration run."""
    migrate_fresh(db_url)
    assert schema_differences(db_url, models.Base.metadata) == []
    engine = make_engine(db_url)
    with engine.connect() as connection:
        assert current_revision(connection) == head_revision()
        assert connection.execute(sa.text("SELECT count(*) FROM schools")).scalar_one() == 0
    engine.dispose()


def test_the_comparison_would_notice_a_difference(db_url):
    """Guards the test above against comparing nothing."""
    upgrade(db_url)
    changed = sa.MetaData(naming_convention=models.NAMING_CONVENTION)
    for table in models.Base.metadata.tables.values():
        table.to_metadata(changed)
    changed.tables["pupils"].append_column(sa.Column("nickname", sa.String(40)))
    changed.tables["answers"].c.words.type = sa.String(10)
    kinds = {diff[0] if isinstance(diff, tuple) else diff[0][0] for diff in schema_differences(db_url, changed)}
    assert kinds == {"add_column", "modify_type"}


def test_check_constraints_match_the_models(db_url):
    """Alembic does not compare CHECK constraints, so compare their names here."""
    upgrade(db_url)
    engine = make_engine(db_url)
    inspector = sa.inspect(engine)
    for table in models.Base.metadata.sorted_tables:
        expected = {c.name for c in table.constraints if isinstance(c, sa.CheckConstraint)}
        assert {c["name"] for c in inspector.get_check_constraints(table.name)} == expected, table.name
    engine.dispose()


def test_vocabularies_match_the_framework_code():
    assert models.ANSWER_VALUES == tuple(a.value for a in answer_scale().answers)
    assert tuple(COMMENT_KINDS) == ("anything_else", "what_would_help")


@pytest.mark.parametrize(
    "staff",
    [
        {"role": "headteacher", "school_id": 1},  # not a role
        {"role": "senco", "school_id": None},  # a SENCO belongs to a school
    ],
)
def test_migrated_database_refuses_what_the_checks_forbid(db_url, staff):
    upgrade(db_url)
    engine = make_engine(db_url)
    with engine.begin() as connection:
        connection.execute(sa.insert(models.School.__table__).values(id=1, name="Oak", created_at=models.utcnow()))
    row = {"email": "a@example.org", "password_hash": "h", "failed_logins": 0, "active": True, "created_at": models.utcnow()}
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as connection:
        connection.execute(sa.insert(models.StaffUser.__table__).values(**row, **staff))
    engine.dispose()


@pytest.mark.parametrize(
    "invite",
    [
        {"perspective": "partners", "pupil_id": 1, "school_id": 1, "partner_role": "health"},  # a partner has no pupil
        {"perspective": "partners", "pupil_id": None, "school_id": None, "partner_role": None},  # but a service
        {"perspective": "parent_carers", "pupil_id": None, "school_id": None, "partner_role": None},  # about a pupil
        {"perspective": "partners", "pupil_id": None, "school_id": None, "partner_role": "police"},  # not a role
        {"perspective": "teachers", "pupil_id": 1, "school_id": 1, "partner_role": None},  # not a perspective
    ],
)
def test_migrated_database_refuses_an_invite_of_the_wrong_shape(db_url, invite):
    upgrade(db_url)
    engine = make_engine(db_url)
    now = models.utcnow()
    with engine.begin() as connection:
        connection.execute(sa.insert(models.School.__table__).values(id=1, name="Oak", created_at=now))
        connection.execute(sa.insert(models.Pupil.__table__).values(id=1, school_id=1, pupil_ref="r1",
                                                                    display_name="Sam", created_at=now))
    row = {"code": "ABCDEFGH", "framework_id": "shropshire", "question_set": "core", "expires_at": now,
           "created_at": now}
    for fine in ({"perspective": "parent_carers", "pupil_id": 1, "school_id": 1, "partner_role": None},
                 {"perspective": "partners", "pupil_id": None, "school_id": None, "partner_role": "health"}):
        with engine.begin() as connection:
            connection.execute(sa.insert(models.Invite.__table__).values(**row, **fine))
            connection.execute(sa.delete(models.Invite.__table__))
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as connection:
        connection.execute(sa.insert(models.Invite.__table__).values(**row, **invite))
    engine.dispose()
