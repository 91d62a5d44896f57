"""`heard run` itself, as a school runs it, on free local ports: supervisord starts Rasa, the
action server and the web app; each is killed once with SIGKILL mid check-in, comes back by
itself, and the young person's check-in carries on where it was. Then two of each, behind
HAProxy, sharing conversations through Rasa's tracker store and a Redis `heard run` starts."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pytest
from sqlalchemy import select

from bot.chat.gateway import rasa_authorization
from bot.supervision import SUPERVISORCTL, config_path
from framework.db import repository as repo
from framework.db.engine import make_engine, make_session_factory, upgrade
from framework.db.models import SurveySession
from framework.settings import Settings
from tests.stack import RASA_START_TIMEOUT, free_port

pytestmark = pytest.mark.integration

HEARD = Path(sys.executable).parent / "heard"  # the command a school runs, from this environment
TURN_TIMEOUT = 240  # seconds: Rasa's first turn after a start loads its language model


@dataclass
class Supervised:
    settings: Settings
    popen: subprocess.Popen
    log: Path

    def pid(self, name: str) -> int:
        """The pid supervisord has for a process; 0 while it is not running."""
        done = subprocess.run([*SUPERVISORCTL, "-c", str(config_path(self.settings)), "pid", name],
                              capture_output=True, text=True, timeout=60)
        return int(done.stdout.strip()) if done.stdout.strip().isdigit() else 0

    def all_ok(self) -> bool:
        health = self.health()
        return health is not None and health["ok"]

    def health(self) -> dict | None:
        try:
            return httpx.get(f"{self.settings.public_url}/healthz", timeout=10).json()
        except (httpx.HTTPError, ValueError):
            return None  # the web app itself is down

    def wait_for(self, what: str, ready, timeout: float = RASA_START_TIMEOUT):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                pytest.fail(f"heard run exited with {self.popen.returncode}:\n{self.tail()}")
            if found := ready():
                return found
            time.sleep(0.5)
        pytest.fail(f"not {what} after {timeout:.0f}s; /healthz: {self.health()}\n{self.tail()}")

    def tail(self) -> str:
        logs = [self.log, *sorted((self.settings.var_dir / "log").glob("*.log"))]
        return "\n".join(f"--- {log.name}\n" + "\n".join(log.read_text(errors="replace").splitlines()[-25:])
                         for log in logs if log.exists())


@contextmanager
def heard_run(tmp_path: Path, **settings_given) -> Iterator[Supervised]:
    """`heard run` on free local ports, with these settings; stopped (every part) at the end."""
    var = tmp_path / "var"
    web_port = free_port()
    settings = Settings(
        var_dir=var, port=web_port, public_url=f"http://127.0.0.1:{web_port}",
        rasa_url=f"http://127.0.0.1:{free_port()}", action_server_url=f"http://127.0.0.1:{free_port()}",
        outbox_every_seconds=0, **settings_given,
    )
    upgrade(settings.resolved_database_url)
    log = tmp_path / "heard-run.log"
    popen = subprocess.Popen([str(HEARD), "run"], env={**os.environ, **settings.as_env()},
                             stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield Supervised(settings, popen, log)
    finally:
        popen.send_signal(signal.SIGTERM)  # supervisord stops every part, then itself
        try:
            popen.wait(timeout=90)
        except subprocess.TimeoutExpired:
            os.killpg(popen.pid, signal.SIGKILL)
            popen.wait()


@pytest.fixture
def supervised(tmp_path) -> Iterator[Supervised]:
    with heard_run(tmp_path, rasa_workers=1, action_workers=1, web_workers=1) as heard:
        yield heard


def a_checkin(settings: Settings) -> tuple[str, str]:
    """A new pupil's invite code, and the sender id Rasa knows their check-in by."""
    engine = make_engine(settings.resolved_database_url)
    with make_session_factory(engine).begin() as db:
        school = repo.create_school(db, "Supervised School")
        repo.create_staff(db, f"dsl{school.id}@supervised.example", "not-a-login", "dsl", school)
        pupil = repo.create_pupil(db, school, "Test Pupil", year_group="Year 6")
        invite = repo.create_invite(db, pupil, "york", question_set="core")
        code, sender = invite.code, repo.start_or_resume_session(db, invite).session.sender_id
    engine.dispose()
    return code, sender


def stored_answers(settings: Settings, sender: str) -> list[str]:
    engine = make_engine(settings.resolved_database_url)
    with make_session_factory(engine)() as db:
        session = db.scalar(select(SurveySession).where(SurveySession.sender_id == sender))
        values = [a.value for a in repo.current_answers(db, session)]
    engine.dispose()
    return values


class Pupil:
    """A young person in the widget: tapped answers through the chat API (or straight to Rasa)."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.code, self.sender = a_checkin(settings)
        self.chat = httpx.Client(base_url=settings.public_url, timeout=TURN_TIMEOUT)
        self.auth: dict[str, str] = {}

    def start(self) -> Pupil:
        started = self.chat.post("/api/sessions", json={"invite_code": self.code})
        assert started.status_code == 201, started.text
        self.auth = {"Authorization": f"Bearer {started.json()['token']}"}
        return self

    def say(self, text: str) -> dict:
        reply = self.chat.post("/api/sessions/current/messages", json={"text": text}, headers=self.auth)
        assert reply.status_code == 200, reply.text
        return reply.json()

    @staticmethod
    def turns_to_first_question() -> list[str]:
        return ['/choose{"%s":"%s"}' % choice for choice in (
            ("input_mode", "tap"), ("read_aloud", "off"), ("question_set", "core"), ("who_with", "alone"))]

    @staticmethod
    def turns_to_answer(intent: str) -> list[str]:
        """The answer, then "anything more?" skipped ("No more": the area's second prompt is not asked)."""
        return [f"/{intent}", "/skip"]

    def answers(self) -> list[str]:
        return stored_answers(self.settings, self.sender)


def test_each_part_killed_comes_back_and_the_checkin_goes_on(supervised):
    supervised.wait_for("healthy at first", supervised.all_ok)
    pupil = Pupil(supervised.settings).start()
    for turn in pupil.turns_to_first_question():
        reply = pupil.say(turn)
    assert reply["progress"]["label"] == "Question 1 of 7"

    for question, name in enumerate(("rasa", "actions", "web"), start=1):
        before = supervised.pid(name)
        assert before, f"supervisord does not run {name}"
        os.kill(before, signal.SIGKILL)
        supervised.wait_for(f"{name} restarted", lambda: supervised.pid(name) not in (0, before))
        supervised.wait_for(f"healthy after {name} was killed", supervised.all_ok)
        # The check-in goes on where it was.
        for turn in pupil.turns_to_answer("affirm"):
            reply = pupil.say(turn)
        assert reply["progress"]["label"] == f"Question {question + 1} of 7", reply

    assert pupil.answers() == ["yes", "yes", "yes"]
    events = (supervised.settings.var_dir / "log" / "supervisord.log").read_text()
    for name in ("rasa", "actions", "web"):
        assert f"exited: {name} (terminated by SIGKILL; not expected)" in events


def test_two_rasa_servers_and_two_web_workers_share_the_conversations(tmp_path):
    own_redis = f"redis://127.0.0.1:{free_port()}/0"  # nothing answers there: heard run starts it
    with heard_run(tmp_path, rasa_workers=2, action_workers=2, web_workers=2, redis_url=own_redis) as heard:
        heard.wait_for("healthy at first", heard.all_ok)
        assert all(heard.pid(name) for name in ("redis", "haproxy", "rasa-1", "rasa-2", "actions-1", "actions-2",
                                                  "web-1", "web-2"))
        # Two pupils through the web app, their turns interleaved, each answering differently.
        first, second = Pupil(heard.settings).start(), Pupil(heard.settings).start()
        mine = {first: ["affirm", "deny", "sometimes"], second: ["deny", "sometimes", "affirm"]}
        turns = {pupil: pupil.turns_to_first_question() + [t for intent in mine[pupil] for t in pupil.turns_to_answer(intent)]
                 for pupil in mine}
        for first_turn, second_turn in zip(turns[first], turns[second], strict=True):
            first.say(first_turn)
            second.say(second_turn)
        assert first.answers() == ["yes", "no", "sometimes"]
        assert second.answers() == ["no", "sometimes", "yes"]

        # A third conversation sent to each Rasa server in turn: each picks up where the other left it.
        third = Pupil(heard.settings)  # not started through the web app: Rasa hears all from us
        servers = [f"http://127.0.0.1:{urlparse(heard.settings.rasa_url).port + n}" for n in (1, 2)]
        rasa_turns = ["/start_checkin", *third.turns_to_first_question(),
                      *(t for intent in ("sometimes", "affirm", "deny") for t in third.turns_to_answer(intent))]
        for number, turn in enumerate(rasa_turns):
            reply = httpx.post(f"{servers[number % 2]}/webhooks/rest/webhook",
                               headers=rasa_authorization(heard.settings.resolved_rasa_token),
                               json={"sender": third.sender, "message": turn}, timeout=TURN_TIMEOUT)
            assert reply.status_code == 200 and reply.json(), (turn, reply.text)
        assert third.answers() == ["sometimes", "yes", "no"]

        # A Rasa server and a web worker die: the other of each carries on at once, unnoticed.
        # (A request on its way into a process as it dies gets "try again"; the widget sends it again.)
        for name in ("rasa-1", "web-1"):
            before = heard.pid(name)
            os.kill(before, signal.SIGKILL)
            heard.wait_for(f"{name} gone", lambda: heard.pid(name) != before)  # dead, and being restarted
        for pupil, intent in ((first, "affirm"), (second, "deny")):
            for turn in pupil.turns_to_answer(intent):
                pupil.say(turn)
        assert first.answers() == ["yes", "no", "sometimes", "yes"]
        assert second.answers() == ["no", "sometimes", "yes", "no"]
    for worker in ("web-1", "web-2"):  # each turn held the check-in's lock in Redis
        assert "without its shared lock" not in (heard.settings.var_dir / "log" / f"{worker}.log").read_text()
