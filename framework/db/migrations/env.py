"""Alembic environment. Run migrations with framework.db.engine.upgrade(), which builds the
config in code; the URL comes from there (the argument, or HEARD_DATABASE_URL)."""
from __future__ import annotations

from alembic import context

from framework.db.engine import make_engine, open_connection
from framework.db.models import Base


def run_migrations() -> None:
    engine = make_engine(context.config.get_main_option("sqlalchemy.url"))
    try:
        with open_connection(engine) as connection:
            is_sqlite = connection.dialect.name == "sqlite"
            if is_sqlite:
                # SQLite alters a table by copying it and dropping the old one; with foreign keys
                # on, that drop would cascade-delete child rows. Set before any transaction begins.
                connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
            context.configure(
                connection=connection,
                target_metadata=Base.metadata,
                render_as_batch=is_sqlite,
                transactional_ddl=True,  # SQLite can roll DDL back too: a failed step leaves no half schema
                compare_type=True,
            )
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()  # the SQLite connection above has foreign keys off: never reuse it


if context.is_offline_mode():
    raise SystemExit("Heard's migrations run against a live database only (no --sql mode).")
run_migrations()
