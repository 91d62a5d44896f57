import threading

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from framework.db import engine as engine_module
from framework.db.engine import (
    DatabaseUnavailable,
    check_database,
    database_url,
    head_revision,
    make_engine,
    make_session_factory,
    reading,
    upgrade,
)
from framework.settings import get_settings

UNREACHABLE = "postgresql://heard:s3cret-pw@127.0.0.1:1/heard"  # nothing listens on port 1


def test_unreachable_postgres_gives_one_kind_line_without_the_password():
    with pytest.raises(DatabaseUnavailable) as raised:
        upgrade(UNREACHABLE)
    message = str(raised.value)
    assert "s3cret-pw" not in message
    assert "\n" not in message
    assert message.startswith("cannot reach the database at postgresql+psycopg://heard:***@127.0.0.1:1/heard")
    assert "is PostgreSQL running?" in message and "HEARD_DATABASE_URL" in message


def test_health_check_reports_unreachable_database_without_raising():
    ok, detail = check_database(make_engine(UNREACHABLE))
    assert not ok
    assert "s3cret-pw" not in detail and "cannot reach" in detail


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("not a url:s3cret-pw@x", "is not a database URL"),
        ("mysql://root:s3cret-pw@localhost/heard", "SQLite or PostgreSQL"),
    ],
)
def test_wrong_urls_are_explained_without_the_password(url, expected):
    with pytest.raises(DatabaseUnavailable) as raised:
        make_engine(url)
    assert expected in str(raised.value)
    assert "s3cret-pw" not in str(raised.value)


def test_plain_postgresql_urls_use_psycopg_3():
    assert database_url("postgres://u@h/db").drivername == "postgresql+psycopg"
    assert database_url("postgresql://u@h/db").drivername == "postgresql+psycopg"


def test_sqlite_folder_that_cannot_be_made_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(DatabaseUnavailable, match="cannot make the SQLite database"):
        make_engine(f"sqlite:///{blocker / 'var' / 'heard.db'}")


@pytest.fixture
def settings_env(monkeypatch, tmp_path):
    """Settings read from a clean environment pointing var/ into tmp_path."""
    monkeypatch.delenv("HEARD_DATABASE_URL", raising=False)
    monkeypatch.setenv("HEARD_VAR_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    yield tmp_path / "var"
    get_settings.cache_clear()


def test_default_is_a_sqlite_file_in_var_made_when_missing(settings_env):
    assert not settings_env.exists()
    upgrade()
    assert (settings_env / "heard.db").is_file()
    engine = make_engine()
    assert check_database(engine) == (True, f"sqlite ok, schema {head_revision()}")
    engine.dispose()


def test_sqlite_connections_enforce_foreign_keys_and_use_wal(sqlite_url):
    upgrade(sqlite_url)  # migrations turn foreign keys off on their own connection only
    engine = make_engine(sqlite_url)
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    engine.dispose()


def test_a_sqlite_read_neither_waits_for_the_write_lock_nor_may_write(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'reads.db'}")
    sessions = make_session_factory(engine)
    with sessions.begin() as db:
        db.execute(text("CREATE TABLE said (words TEXT)"))
        db.execute(text("INSERT INTO said VALUES ('kept')"))
    with sessions.begin() as writer:
        writer.execute(text("INSERT INTO said VALUES ('not yet committed')"))  # holds the write lock
        with reading(sessions) as db:  # would wait for the writer (busy timeout) if it took the lock
            assert db.execute(text("SELECT words FROM said")).scalars().all() == ["kept"]
    with pytest.raises(OperationalError, match="readonly"), reading(sessions) as db:
        db.execute(text("INSERT INTO said VALUES ('never')"))


def test_a_pooled_sqlite_connection_writes_again_after_a_read(tmp_path):
    # One after another, every transaction here gets the one connection the pool holds.
    sessions = make_session_factory(make_engine(f"sqlite:///{tmp_path / 'reads.db'}"))
    with sessions.begin() as db:
        db.execute(text("CREATE TABLE said (words TEXT)"))
    for _ in range(2):
        with reading(sessions) as db:
            db.execute(text("SELECT count(*) FROM said"))
        with sessions.begin() as db:
            db.execute(text("INSERT INTO said VALUES ('kept')"))
    with reading(sessions) as db:
        assert db.execute(text("SELECT count(*) FROM said")).scalar() == 2


def test_sqlite_writes_of_one_process_take_turns_and_a_failed_one_lets_the_next_in(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(engine_module, "WRITERS_QUEUE_SECONDS", 0.5)
    sessions = make_session_factory(make_engine(f"sqlite:///{tmp_path / 'writes.db'}"))
    with sessions.begin() as db:
        db.execute(text("CREATE TABLE said (words TEXT)"))
    with pytest.raises(ValueError), sessions.begin() as db:
        db.execute(text("INSERT INTO said VALUES ('rolled back')"))
        raise ValueError("the write failed part-way")

    def write(words: str) -> None:
        with sessions.begin() as db:
            db.execute(text("INSERT INTO said VALUES (:words)"), {"words": words})

    writers = [threading.Thread(target=write, args=(f"writer {n}",)) for n in range(8)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
    with reading(sessions) as db:
        assert db.execute(text("SELECT count(*) FROM said")).scalar() == 8
    assert "waited" not in caplog.text  # each was let in by the one before, none timed out in the queue


def test_health_check_wants_the_latest_schema(db_url):
    engine = make_engine(db_url)
    ok, detail = check_database(engine)
    assert not ok and "schema is at nothing" in detail
    upgrade(db_url)
    ok, detail = check_database(engine)
    assert ok, detail
    engine.dispose()
