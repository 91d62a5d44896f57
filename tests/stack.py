"""The real stack for integration and browser tests: the Rasa server and the action server,
started once per test session with the same commands `heard run` uses, on free local
ports, over a real database made by the real migrations; the web app too (`web_url`),
when a test asks for it. tests/conftest.py exposes the fixtures to every test folder."""
from __future__ import annotations

import random
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from bot.chat.gateway import START_PAYLOAD, rasa_authorization
from bot.processes import Process, action_process, rasa_process, web_process, write_rasa_endpoints
from framework.db import repository as repo
from framework.db.engine import make_engine, make_session_factory, upgrade
from framework.settings import PROJECT_ROOT, Settings, get_settings

RASA_START_TIMEOUT = 480  # seconds: TensorFlow and the model load slowly on 2 busy cores


_GIVEN_PORTS: set[int] = set()
_PORT_CHOICE = random.Random()  # its own, seeded from the system: tests that seed `random` can't repeat it
_WORKER_PORTS = 4  # `heard run` puts a second and third worker on the ports just above the one set


def free_port() -> int:
    """A local port nothing listens on, with the few just above it free too, never one this process
    gave out before, and below the range the system takes ports from for outgoing connections:
    while Rasa loads (~15 s), any connection could take a port chosen there."""
    try:
        outgoing = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        outgoing = 32768
    while True:
        first = _PORT_CHOICE.randrange(10000, outgoing - _WORKER_PORTS)
        ports = range(first, first + _WORKER_PORTS)
        if not _GIVEN_PORTS.intersection(ports) and all(map(_nothing_listens, ports)):
            _GIVEN_PORTS.update(ports)
            return first


def _nothing_listens(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@dataclass
class RunningProcess:
    process: Process
    popen: subprocess.Popen
    log: Path

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def start(process: Process, settings: Settings, log_dir: Path) -> RunningProcess:
    log = log_dir / f"{process.name}.log"
    popen = subprocess.Popen(
        process.argv, env=process.environ(settings), stdout=log.open("w"), stderr=subprocess.STDOUT,
        cwd=PROJECT_ROOT,
    )
    return RunningProcess(process, popen, log)


def wait_until_healthy(running: RunningProcess, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if running.popen.poll() is not None:
            pytest.fail(f"{running.process.name} exited with {running.popen.returncode}:\n{running.log_tail()}")
        try:
            if httpx.get(running.process.health_url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    pytest.fail(f"{running.process.name} was not healthy after {timeout:.0f}s:\n{running.log_tail()}")


@dataclass
class Stack:
    settings: Settings
    sessions: sessionmaker[Session]
    processes: dict[str, RunningProcess]

    def rasa_headers(self) -> dict[str, str]:
        """What the web app signs its requests to Rasa with."""
        return rasa_authorization(self.settings.resolved_rasa_token)

    def restart(self, name: str) -> None:
        old = self.processes[name]
        old.stop()
        self.processes[name] = start(old.process, self.settings, old.log.parent)
        wait_until_healthy(self.processes[name], RASA_START_TIMEOUT)


@pytest.fixture(scope="session")
def stack(tmp_path_factory) -> Iterator[Stack]:
    var = tmp_path_factory.mktemp("var")
    web_port = free_port()
    settings = Settings(
        var_dir=var,
        database_url=f"sqlite:///{var / 'heard.db'}",
        rasa_url=f"http://127.0.0.1:{free_port()}",
        action_server_url=f"http://127.0.0.1:{free_port()}",
        rasa_token="integration-test-secret-of-thirty-two-bytes-or-more",
        rasa_workers=1, action_workers=1, web_workers=1,  # one of each, started here as `heard run` starts them
        port=web_port,
        public_url=f"http://127.0.0.1:{web_port}",
    )
    model = settings.model_dir / "heard.tar.gz"
    if not model.is_file():
        pytest.fail(f"no trained model at {model}: run 'make test', which trains it first")
    upgrade(settings.resolved_database_url)
    write_rasa_endpoints(settings)
    processes = {
        "actions": start(action_process(settings), settings, var),
        "rasa": start(rasa_process(settings), settings, var),
    }
    try:
        for running in processes.values():
            wait_until_healthy(running, RASA_START_TIMEOUT)
        # Rasa finishes loading its language model on the first message it reads: do that now,
        # so no test's first turn waits for it (on busy cores it can take longer than a page waits).
        # A payload, as typed words without the web app's sentence vector would load Rasa's encoder.
        httpx.post(f"{settings.rasa_url}/model/parse", headers=rasa_authorization(settings.rasa_token),
                   json={"text": START_PAYLOAD}, timeout=RASA_START_TIMEOUT).raise_for_status()
        engine = make_engine(settings.resolved_database_url)
        yield Stack(settings, make_session_factory(engine), processes)
        engine.dispose()
    finally:
        for running in processes.values():
            running.stop()


@pytest.fixture(scope="session")
def web_url(stack) -> Iterator[str]:
    """The web app, served by uvicorn as `heard run` serves it, talking to the stack."""
    # Its own email sender stays off: tests that check email run their own app with their own mail server.
    settings = stack.settings.model_copy(update={"outbox_every_seconds": 0})
    stack.processes["web"] = start(web_process(settings), settings, settings.var_dir)
    try:
        wait_until_healthy(stack.processes["web"], RASA_START_TIMEOUT)
        yield stack.settings.public_url
    finally:
        stack.processes.pop("web").stop()


@contextmanager
def app_client(settings: Settings, address: str = "testclient") -> Iterator[TestClient]:
    """The web app in this process with these settings (as HEARD_* variables, as a real process
    gets them), its requests coming from `address`."""
    from bot.app import create_app

    with pytest.MonkeyPatch.context() as patch:
        for name, value in settings.as_env().items():
            patch.setenv(name, value)
        get_settings.cache_clear()
        try:
            with TestClient(create_app(), client=(address, 50000)) as client:
                yield client
        finally:
            get_settings.cache_clear()


@pytest.fixture
def chat_client(stack) -> Iterator[TestClient]:
    with app_client(stack.settings) as client:
        yield client


@pytest.fixture
def new_invite(stack):
    """Makes a pupil with an invite (at a school with a safeguarding lead); returns the code."""
    counter = iter(range(1, 10_000))

    def make(framework_id: str = "york", question_set: str = "standard", valid_for: timedelta = repo.INVITE_LIFETIME) -> str:
        with stack.sessions.begin() as db:
            school = repo.create_school(db, f"Invite School {next(counter)}")
            repo.create_staff(db, f"dsl{school.id}@school.example", "not-a-login", "dsl", school)
            pupil = repo.create_pupil(db, school, "Test Pupil", year_group="Year 6")
            return repo.create_invite(db, pupil, framework_id, question_set=question_set, valid_for=valid_for).code

    return make


class RasaChat:
    """Talks to Rasa's REST channel as the web app does: a server-issued sender id, the auth token."""

    def __init__(self, stack: Stack, sender_id: str):
        self.stack = stack
        self.sender_id = sender_id
        self.transcript: list[tuple[str, list[dict]]] = []

    def send(self, text: str) -> list[dict]:
        response = httpx.post(
            f"{self.stack.settings.rasa_url}/webhooks/rest/webhook",
            headers=self.stack.rasa_headers(),
            json={"sender": self.sender_id, "message": text},
            timeout=60,
        )
        response.raise_for_status()
        messages = response.json()
        self.transcript.append((text, messages))
        return messages

    def readable(self) -> str:
        """The conversation so far, for a failing test's message."""
        lines = []
        for sent, replies in self.transcript:
            lines.append(f"> {sent}")
            lines += [f"  {m.get('text') or m.get('custom')}" for m in replies]
        return "\n".join(lines)

    def tracker(self) -> dict:
        response = httpx.get(
            f"{self.stack.settings.rasa_url}/conversations/{self.sender_id}/tracker",
            headers=self.stack.rasa_headers(),
            timeout=30,
        )
        response.raise_for_status()
        return response.json()


@dataclass
class Pupil:
    """A pupil with an invite and a started check-in, as the web app would make them."""

    session_id: int
    sender_id: str
    invite_code: str


@pytest.fixture
def new_checkin(stack):
    counter = iter(range(1, 10_000))

    def make(framework_id: str = "york", question_set: str = "core") -> tuple[Pupil, RasaChat]:
        with stack.sessions.begin() as db:
            school = repo.create_school(db, f"Integration School {next(counter)}")
            pupil = repo.create_pupil(db, school, "Test Pupil", year_group="Year 5")
            invite = repo.create_invite(db, pupil, framework_id, question_set=question_set)
            started = repo.start_or_resume_session(db, invite)
            made = Pupil(started.session.id, started.session.sender_id, invite.code)
        return made, RasaChat(stack, made.sender_id)

    return make
