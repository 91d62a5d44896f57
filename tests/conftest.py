"""Shared pytest fixtures.

Database: `sqlite_url` and `postgres_url` give a fresh, empty database each; `db_url` runs a
test on both; `db` is a Session on a fresh database migrated to the latest schema.
"""
from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from framework.db.engine import make_engine, make_session_factory
from tests.databases import POSTGRES_SERVER, migrate_fresh, postgres_admin
from tests.stack import chat_client, new_checkin, new_invite, stack, web_url  # noqa: F401  (fixtures for integration and browser tests)


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'heard.db'}"


def _postgres_admin() -> psycopg.Connection:
    """A connection for creating test databases; skips (or fails on CI) without PostgreSQL."""
    try:
        return postgres_admin()
    except psycopg.OperationalError as exc:
        reason = f"PostgreSQL is not reachable at {POSTGRES_SERVER}: {exc}"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    name = f"heard_test_{uuid.uuid4().hex[:12]}"
    with _postgres_admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield make_url(POSTGRES_SERVER).set(database=name).render_as_string(hide_password=False)
    with _postgres_admin() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request) -> str:
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture
def db(db_url) -> Iterator[Session]:
    migrate_fresh(db_url)
    engine = make_engine(db_url)
    with make_session_factory(engine)() as session:
        yield session
    engine.dispose()


@pytest.hookimpl(tryfirst=True)  # before `-m` selects by marker
def pytest_collection_modifyitems(config, items) -> None:
    """Marks `servers` every test that drives the real servers (the shared `stack`, or marked
    integration or browser): `make test` runs those apart from the rest, at the same time
    (tests/run_all.py)."""
    for item in items:
        if "stack" in item.fixturenames or item.get_closest_marker("integration") or item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.servers)
