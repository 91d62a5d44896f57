"""Rasa's conversation memory and locks, as Heard configures them: the endpoints file Heard
writes is read by Rasa's own code, against a real SQLite file, PostgreSQL and Redis."""
from __future__ import annotations

import json
import os
import sqlite3
import uuid
from contextlib import closing

import pytest
import redis

from bot.processes import rasa_endpoints, write_rasa_endpoints
from framework.settings import Settings
from tests.rasa_probe import run_in_rasa

PROBE = os.path.join(os.path.dirname(__file__), "rasa_store_probe.py")
REDIS_URL = "redis://127.0.0.1:6379/1"


@pytest.fixture
def redis_url() -> str:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        reason = f"Redis is not reachable at {REDIS_URL}: {exc}"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return REDIS_URL


def run_probe(settings: Settings) -> dict:
    endpoints = write_rasa_endpoints(settings)
    sender = uuid.uuid4().hex
    return json.loads(run_in_rasa(PROBE, str(endpoints), sender, "yeah kinda"))


def test_by_default_conversations_are_kept_in_a_sqlite_file_in_var(tmp_path):
    result = run_probe(Settings(var_dir=tmp_path))
    # Connections kept open between messages (rasa_server/sqlite_pool.py), not one per read or save.
    assert result == {"tracker_store": "SQLTrackerStore", "pool": "QueuePool", "lock_store": "InMemoryLockStore",
                      "words": "yeah kinda", "locked": True}
    assert (tmp_path / "rasa-conversations.db").stat().st_size > 0
    # Rasa reads and saves side by side (WAL): one server's save does not hold up another's reads.
    with closing(sqlite3.connect(tmp_path / "rasa-conversations.db")) as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    # Several Rasa servers may share the file: each waits its turn to write.
    assert rasa_endpoints(Settings(var_dir=tmp_path))["tracker_store"]["query"] == {"timeout": "30"}


@pytest.mark.postgres
def test_several_rasa_servers_share_postgresql_and_redis(tmp_path, postgres_url, redis_url):
    result = run_probe(Settings(var_dir=tmp_path, rasa_tracker_url=postgres_url, redis_url=redis_url))
    assert result == {"tracker_store": "SQLTrackerStore", "pool": "QueuePool", "lock_store": "RedisLockStore",
                      "words": "yeah kinda", "locked": True}


def test_memory_leaves_rasa_its_own_in_memory_store(tmp_path):
    endpoints = rasa_endpoints(Settings(var_dir=tmp_path, rasa_tracker_url="memory"))
    assert "tracker_store" not in endpoints and "lock_store" not in endpoints
    assert endpoints["action_endpoint"]["url"].endswith("/webhook")


def test_rasa_reads_a_secret_that_starts_with_a_dash_as_the_secret():
    """token_urlsafe gives a leading "-" one time in 64; Rasa must not read it as an option."""
    check = ("from rasa.__main__ import create_argument_parser; from rasa_server import rasa_argv; "
             "print(create_argument_parser().parse_args(rasa_argv(['run'], '-Xy_secret')[1:]).jwt_secret)")
    assert run_in_rasa("-c", check) == "-Xy_secret"
