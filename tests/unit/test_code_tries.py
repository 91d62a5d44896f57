"""Guessing invite codes (issue 17, finding 2): tries are counted in the database before each
code is looked up, so a burst of tries at once, or tries through several web workers, cannot
pass the limit; and an address a right code came from (a school's) gets more room than a
stranger's, so a few children mistyping do not lock out their class."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from bot.chat import texts
from bot.chat.limits import CODE_TRIES
from bot.tries import Tries, TryLimits
from framework.db import repository as repo
from framework.db.engine import make_engine, make_session_factory
from framework.db.models import AccessAttempt
from framework.settings import Settings
from tests.databases import migrate_fresh
from tests.stack import app_client, free_port

STRANGER = "198.51.100.7"
SCHOOL = "192.0.2.20"


@pytest.fixture
def settings(tmp_path) -> Settings:
    """The app over a fresh database, with Rasa not running: a wrong code never reaches it, and a
    right one still starts the check-in (Rasa's greeting is then missing)."""
    var = tmp_path / "var"
    settings = Settings(var_dir=var, database_url=f"sqlite:///{var / 'heard.db'}", outbox_every_seconds=0,
                        rasa_url=f"http://127.0.0.1:{free_port()}", action_server_url=f"http://127.0.0.1:{free_port()}")
    migrate_fresh(settings.resolved_database_url)
    return settings


def invite_code(settings: Settings) -> str:
    engine = make_engine(settings.resolved_database_url)
    try:
        with make_session_factory(engine).begin() as db:
            school = repo.create_school(db, "Code School")
            pupil = repo.create_pupil(db, school, "Pupil", year_group="Year 4")
            return repo.create_invite(db, pupil, "york").code
    finally:
        engine.dispose()


def try_code(client, code: str) -> int:
    return client.post("/api/sessions", json={"invite_code": code}).status_code


def test_wrong_codes_sent_at_once_cannot_pass_the_limit(settings):
    with app_client(settings, address=STRANGER) as client, ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda i: try_code(client, f"WXYZ-{i:04d}"), range(40)))
    assert statuses.count(404) <= CODE_TRIES.stranger
    assert set(statuses) <= {404, 429}


def test_several_web_workers_share_one_count(settings):
    with app_client(settings, address=STRANGER) as first, app_client(settings, address=STRANGER) as second:
        assert [try_code(first, f"WXYZ-{i:04d}") for i in range(6)] == [404] * 6
        assert [try_code(second, f"WXYZ-{i:04d}") for i in range(6)] == [404] * 4 + [429] * 2
        refused = second.post("/api/sessions", json={"invite_code": invite_code(settings)})
        assert refused.status_code == 429 and refused.json() == {"error": texts.TOO_MANY_CODE_TRIES}


def test_a_schools_address_gets_more_room_than_a_strangers(settings):
    with app_client(settings, address=SCHOOL) as school, app_client(settings, address=STRANGER) as stranger:
        assert try_code(school, invite_code(settings)) == 201  # a right code: this address is a school's
        assert [try_code(school, f"WXYZ-{i:04d}") for i in range(30)] == [404] * 30  # a class mistyping
        assert try_code(school, invite_code(settings)) == 201
        assert [try_code(stranger, f"WXYZ-{i:04d}") for i in range(11)] == [404] * 10 + [429]


@pytest.fixture
def sessions(db_url):
    migrate_fresh(db_url)
    engine = make_engine(db_url)
    yield make_session_factory(engine)
    engine.dispose()


def test_strangers_together_are_limited_but_known_addresses_are_not(sessions):
    tries = Tries(sessions, "secret", "invite_code", TryLimits(stranger=3, known=5, strangers=6))
    known = tries.begin(SCHOOL)
    with sessions.begin() as db:
        tries.succeeded(db, known)
    assert all(tries.begin(f"203.0.113.{i}") is not None for i in range(6))  # six strangers, one wrong code each
    assert tries.begin("203.0.113.99") is None  # a seventh stranger waits
    assert tries.begin(SCHOOL) is not None  # the school does not


def test_a_refused_try_does_not_keep_the_address_waiting_longer(sessions):
    tries = Tries(sessions, "secret", "invite_code", TryLimits(stranger=2, known=5, strangers=50))
    assert tries.begin(STRANGER) is not None and tries.begin(STRANGER) is not None
    assert [tries.begin(STRANGER) for _ in range(5)] == [None] * 5
    with sessions() as db:
        assert repo.failed_attempts(db, "invite_code", since=repo.utcnow().replace(year=2000)) == 2


def test_addresses_are_kept_only_as_a_keyed_hash(sessions):
    Tries(sessions, "secret", "invite_code", CODE_TRIES).begin(STRANGER)
    Tries(sessions, "another secret", "invite_code", CODE_TRIES).begin(STRANGER)
    with sessions() as db:
        stored = db.scalars(select(AccessAttempt.address)).all()
    assert len(stored) == 2 and len(set(stored)) == 2 and STRANGER not in " ".join(stored)
