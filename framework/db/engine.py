"""Connecting to the outcomes database and keeping its schema up to date.

SQLite (the default, var/heard.db) or PostgreSQL, chosen by HEARD_DATABASE_URL. A wrong or
unreachable URL raises DatabaseUnavailable with one kind line that hides the password;
callers print it and exit non-zero.
"""
from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from framework.private_files import private_file
from framework.settings import get_settings

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SUPPORTED_BACKENDS = ("sqlite", "postgresql")
# A failed statement's error names its SQL, never its values: they can be a child's words.
HIDE_PARAMETERS = True
READS_ONLY = "heard_reads_only"  # execution option of a transaction that only reads (`reading`)
HOLDS_WRITERS_TURN = "heard_holds_writers_turn"  # on a SQLite connection whose write transaction is open
WRITERS_QUEUE_SECONDS = 5.0  # pysqlite's busy timeout: a writer waits this long in the queue, at most


class DatabaseUnavailable(Exception):
    """The database cannot be used. The message is one line, safe to show (no password)."""


def database_url(url: str | URL | None = None) -> URL:
    """The URL to use: the argument, else the settings. Plain postgresql:// means psycopg 3."""
    raw = url if url is not None else get_settings().resolved_database_url
    try:
        parsed = make_url(raw)
    except ArgumentError:
        raise DatabaseUnavailable(
            f"'{_hide_password_in_text(str(raw))}' is not a database URL. "
            "Set HEARD_DATABASE_URL, e.g. postgresql://user:password@host/heard"
        ) from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in SUPPORTED_BACKENDS:
        raise DatabaseUnavailable(
            f"Heard stores its data in SQLite or PostgreSQL, not in {shown(parsed)}. Set HEARD_DATABASE_URL"
        )
    return parsed


def shown(url: URL) -> str:
    """A URL fit for logs and error messages."""
    return url.render_as_string(hide_password=True)


def make_engine(url: str | URL | None = None) -> Engine:
    parsed = database_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed)
    return create_engine(
        parsed,
        hide_parameters=HIDE_PARAMETERS,
        pool_pre_ping=True,  # survive PostgreSQL restarts
        pool_size=5,
        max_overflow=10,
        pool_recycle=1800,
        connect_args={"connect_timeout": 5},
    )


def _sqlite_engine(url: URL) -> Engine:
    if url.database and url.database != ":memory:":
        try:
            # SQLite gives its -wal and -shm files the database file's permissions.
            private_file(Path(url.database))
        except OSError as exc:
            raise DatabaseUnavailable(
                f"cannot make the SQLite database {url.database} ({exc.strerror}). "
                "Set HEARD_DATABASE_URL to use another place"
            ) from exc
    engine = create_engine(url, hide_parameters=HIDE_PARAMETERS)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        # pysqlite's own transaction handling breaks SAVEPOINT; SQLAlchemy emits BEGIN instead (below).
        dbapi_connection.isolation_level = None
        dbapi_connection.execute("PRAGMA foreign_keys=ON")
        dbapi_connection.execute("PRAGMA journal_mode=WAL")  # readers don't block the writer

    # This process's writers queue here for SQLite's one write lock, each woken in turn, instead of
    # all polling it: SQLite's busy handler sleeps up to 100 ms between tries, so with a class's
    # turns a writer that came later often got in first, and an unlucky one waited seconds.
    writers = threading.Lock()

    def _let_the_next_writer_in(connection: Connection) -> None:
        if connection.info.pop(HOLDS_WRITERS_TURN, False):
            writers.release()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # IMMEDIATE: take the write lock up front, so two processes writing wait their turn
        # (busy timeout) instead of failing when a read transaction later tries to write.
        # A transaction that only reads (`reading`) takes no lock: in WAL mode it reads the last
        # commit while others write, and a writer never waits for it; a write in it fails.
        reads_only = bool(connection.get_execution_options().get(READS_ONLY))
        if connection.info.get(READS_ONLY, False) != reads_only:  # the setting stays with the pooled connection
            connection.exec_driver_sql(f"PRAGMA query_only={'ON' if reads_only else 'OFF'}")
            connection.info[READS_ONLY] = reads_only
        if reads_only:
            connection.exec_driver_sql("BEGIN")
            return
        got_the_turn = writers.acquire(timeout=WRITERS_QUEUE_SECONDS)
        if not got_the_turn:  # SQLite's own wait decides, as before: a writer never waits for ever
            log.warning("a database write waited %.0f s for this process's other writes; it goes ahead",
                        WRITERS_QUEUE_SECONDS)
        connection.info[HOLDS_WRITERS_TURN] = got_the_turn
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            _let_the_next_writer_in(connection)
            raise

    # At COMMIT (or ROLLBACK) the next writer may go: its BEGIN IMMEDIATE waits only for this commit.
    event.listen(engine, "commit", _let_the_next_writer_in)
    event.listen(engine, "rollback", _let_the_next_writer_in)
    # A connection that went back to the pool without either (it broke) lets the next one in too.
    event.listen(engine, "checkin", lambda _dbapi, record: _let_the_next_writer_in(record))
    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def reading(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """A transaction that only reads. On SQLite it neither waits for the write lock nor holds
    it, so the many small reads of each chat turn do not queue behind (or hold up) the writes
    of the web app and the action server."""
    with sessions.begin() as db:
        db.connection(execution_options={READS_ONLY: True})
        yield db


@contextmanager
def open_connection(engine: Engine) -> Iterator[Connection]:
    """A connection, or DatabaseUnavailable with a message a person can act on."""
    try:
        connection = engine.connect()
    except DBAPIError as exc:
        raise DatabaseUnavailable(_unreachable_message(engine.url, exc)) from exc
    with connection:
        yield connection


def _unreachable_message(url: URL, exc: DBAPIError) -> str:
    reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
    if url.get_backend_name() == "sqlite":
        return (
            f"cannot open the SQLite database at {url.database} ({reason}): "
            "can this folder be written? Set HEARD_DATABASE_URL to use another place"
        )
    return (
        f"cannot reach the database at {shown(url)} ({reason}): "
        "is PostgreSQL running? Set HEARD_DATABASE_URL"
    )


def _hide_password_in_text(raw: str) -> str:
    return re.sub(r":[^:/@]*@", ":***@", raw)


# ---- schema (Alembic) ---------------------------------------------------------------


def alembic_config(url: str | URL | None) -> Config:
    """Alembic's config built in code, so no alembic.ini is needed in the working directory.

    Also for writing a new migration: command.revision(alembic_config(), autogenerate=True, message=...).
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    rendered = database_url(url).render_as_string(hide_password=False)
    config.set_main_option("sqlalchemy.url", rendered.replace("%", "%%"))  # configparser escaping
    return config


def upgrade(url: str | URL | None = None, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str | URL | None, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)


@lru_cache(maxsize=1)  # the migrations do not change while a process runs; reading them costs ~5 ms
def head_revision() -> str | None:
    return ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def check_database(engine: Engine) -> tuple[bool, str]:
    """For health checks: can we connect, and is the schema at the latest migration? The words
    name the database and the error: for the log, not for anyone who asks."""
    try:
        with open_connection(engine) as connection:
            at = current_revision(connection)
    except DatabaseUnavailable as exc:
        return False, str(exc)
    except DBAPIError as exc:
        return False, f"database at {shown(engine.url)} failed a check: {str(exc.orig).strip().splitlines()[0]}"
    head = head_revision()
    if at != head:
        return False, f"database schema is at {at or 'nothing'}, this version needs {head}: run the upgrade"
    return True, f"{engine.url.get_backend_name()} ok, schema {head}"
