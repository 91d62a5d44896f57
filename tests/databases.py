"""Fresh test databases at the latest schema, without running every migration for every test.

Running the migrations takes one to three seconds per database, and several hundred tests each want
a fresh one. So each test process runs them once, into a template, and gives each test a copy:
SQLite copies the file, PostgreSQL makes the database with `CREATE DATABASE ... TEMPLATE`. The
copy is what `upgrade` would have made (tests/unit/test_db_migrations.py runs the migrations
themselves, and checks a copy matches).
"""
from __future__ import annotations

import atexit
import shutil
import tempfile
import uuid
from functools import lru_cache
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from framework.db.engine import upgrade

POSTGRES_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def migrate_fresh(url: str) -> None:
    """Bring the new, empty database at `url` to the latest schema (as `upgrade(url)` does)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        target = Path(parsed.database)
        if target.exists() and target.stat().st_size:
            raise ValueError(f"{target} is not a new database")
        target.parent.mkdir(parents=True, exist_ok=True)  # a test's var folder may not exist yet
        shutil.copyfile(_sqlite_template(), target)
        return
    with postgres_admin() as admin:
        # An empty database is replaced by a copy of the template (nothing is connected to it yet).
        admin.execute(f'DROP DATABASE "{parsed.database}"')
        admin.execute(f'CREATE DATABASE "{parsed.database}" TEMPLATE "{_postgres_template()}"')


def postgres_admin() -> psycopg.Connection:
    libpq_url = make_url(POSTGRES_SERVER).set(drivername="postgresql").render_as_string(hide_password=False)
    return psycopg.connect(libpq_url, autocommit=True, connect_timeout=3)


@lru_cache(maxsize=1)
def _sqlite_template() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="heard-template-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    path = folder / "heard.db"
    upgrade(f"sqlite:///{path}")
    return path


@lru_cache(maxsize=1)
def _postgres_template() -> str:
    # One per test process: processes running at once never share (or drop) each other's.
    name = f"heard_template_{uuid.uuid4().hex[:12]}"
    with postgres_admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    atexit.register(_drop, name)
    upgrade(make_url(POSTGRES_SERVER).set(database=name).render_as_string(hide_password=False))
    return name


def _drop(name: str) -> None:
    with postgres_admin() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
