"""The staff side for tests: the staff pages (as bot.routers.staff.install adds them to the
web app) on a fresh, migrated database (SQLite unless `staff_db_url` is overridden), a TestClient that keeps cookies like a
browser, helpers that make schools, staff accounts and alerts, and a real SMTP server
(aiosmtpd) on this machine to receive the alert emails."""
from __future__ import annotations

import html
import re
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from functools import lru_cache

import httpx
import pyotp
import pytest
from aiosmtpd.controller import Controller
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.app import create_app
from bot.auth import two_factor
from bot.auth.passwords import hash_password
from framework.db import repository as repo
from framework.db.engine import make_engine, make_session_factory
from framework.db.models import AuditEntry, Council, Pupil, SafeguardingAlert, School, StaffUser, utcnow
from framework.settings import get_settings
from tests.databases import migrate_fresh

PASSWORD = "correct horse battery staple"
CSRF_IN_PAGE = re.compile(r'name="csrf_token" value="([^"]+)"')
KEPT_IN_FORM = re.compile(r'<textarea [^>]*name="(draft\.[^"]+)"[^>]*>(.*?)</textarea>', re.S)
# The authenticator of the test accounts that must use two-factor sign-in (safeguarding leads, admins).
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def set_up_two_factor(staff: StaffUser) -> None:
    """As if they had set it up with TOTP_SECRET (tests of other things sign in with codes of it)."""
    staff.totp_secret, staff.totp_confirmed_at = TOTP_SECRET, utcnow()


def code_now(secret: str = TOTP_SECRET) -> str:
    return pyotp.TOTP(secret).now()


def forget_last_code(sessions: sessionmaker[Session], email: str) -> None:
    """So a test may sign in more than once in 30 seconds with the current code (which is
    otherwise refused the second time: tests/unit/test_staff_two_factor.py)."""
    with sessions.begin() as db:
        db.execute(update(StaffUser).where(StaffUser.email == repo.normalise_email(email)).values(totp_last_step=None))


def type_code(client: TestClient, sessions: sessionmaker[Session], email: str, response: httpx.Response) -> httpx.Response:
    """If the sign-in asks for a two-factor code, type the current one (sending on, as a browser
    would, any typing the form carries over the sign-in)."""
    if 'action="/staff/two-factor"' not in response.text:
        return response
    forget_last_code(sessions, email)
    token = CSRF_IN_PAGE.search(response.text).group(1)
    kept = {name: html.unescape(text) for name, text in KEPT_IN_FORM.findall(response.text)}
    return client.post("/staff/two-factor", data={"csrf_token": token, "code": code_now(), **kept})


@lru_cache(maxsize=1)
def password_hash() -> str:
    return hash_password(PASSWORD)  # argon2 is slow on purpose: hash once for all tests


def closed_port() -> int:
    """A local port nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    """An aiosmtpd handler that keeps every message, and refuses the addresses in `refuse`."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.refuse: set[str] = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.content, policy=default_policy))
        return "250 Message accepted for delivery"

    def wait_for(self, count: int, timeout: float, to: str | None = None) -> list[EmailMessage]:
        """The messages (to `to`, if given) once there are `count` of them, or when time is up."""
        deadline = time.monotonic() + timeout
        while True:
            arrived = [m for m in self.messages if to is None or m["To"] == to]
            if len(arrived) >= count or time.monotonic() > deadline:
                return arrived
            time.sleep(0.1)


class MailServer:
    def __init__(self, port: int) -> None:
        self.port = port
        self.inbox = Inbox()
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@pytest.fixture
def mail_server() -> Iterator[MailServer]:
    """A mail server on a free port, not started: tests start it (or leave it down)."""
    server = MailServer(closed_port())
    yield server
    server.stop()


def record_checkin(sessions: sessionmaker[Session], pupil_id: int, answers: dict[str, str] | None = None, *,
                   framework_id: str = "york", question_set: str = "core", words: dict[str, str] | None = None,
                   comments: tuple[tuple[str, str, str], ...] = (), consent: tuple[str, ...] | None = ("school",),
                   input_mode: str = "tap", read_aloud: bool = False, who_with: str = "alone",
                   status: str = "finished", at: datetime | None = None,
                   perspective: str = "children_young_people") -> int:
    """A check-in as the chat stores it (a test's own rows, made without Rasa): the pupil's own,
    or (`perspective` "parent_carers") their parent carer's.

    `answers`: statement id -> value (default: "yes" to every question of the set); `words`:
    statement id -> the exact words typed (method typed); `comments`: (area id, kind, text);
    `consent` None: never asked. Returns the survey session id."""
    from framework.loader import load_framework  # noqa: PLC0415 (heavy: only when used)

    framework = load_framework(framework_id)
    when = at or utcnow()
    if answers is None:
        answers = {s.id: "yes" for s in framework.questions(perspective, question_set)}
    words = words or {}
    with sessions.begin() as db:
        pupil = db.get(Pupil, pupil_id)
        invite = repo.create_invite(db, pupil, framework_id, perspective=perspective, question_set=question_set,
                                    now=when)
        session = repo.start_or_resume_session(db, invite).session
        session.started_at = when
        repo.save_preferences(db, session, input_mode=input_mode, read_aloud=read_aloud, who_with=who_with)
        for statement_id, value in answers.items():
            typed = words.get(statement_id)
            repo.record_answer(db, session, statement_id, framework.area_of(statement_id).id, value,
                               "typed" if typed else "tapped", words=typed, confidence=1.0, now=when)
        for area_id, kind, text in comments:
            repo.record_comment(db, session, area_id, kind, text)
        if consent is not None:
            repo.record_consent(db, session, consent, now=when)
        repo.set_status(db, session, status, now=when)
        return session.id


@dataclass
class StaffSite:
    app: FastAPI
    client: TestClient
    sessions: sessionmaker[Session]

    def council(self, name: str) -> int:
        with self.sessions.begin() as db:
            return repo.create_council(db, name).id

    def school(self, name: str, council_id: int | None = None) -> int:
        with self.sessions.begin() as db:
            return repo.create_school(db, name, council=db.get(Council, council_id) if council_id else None).id

    def account(self, role: str, school_id: int | None = None, email: str | None = None,
                council_id: int | None = None) -> str:
        email = email or f"{role}{school_id or ''}@school.example"
        with self.sessions.begin() as db:
            school = db.get(School, school_id) if school_id is not None else None
            council = db.get(Council, council_id) if council_id is not None else None
            staff = repo.create_staff(db, email, password_hash(), role, school, council)
            if two_factor.required(staff):
                set_up_two_factor(staff)
        return email

    def alert(self, school_id: int, words: str, *, context: tuple[tuple[str, str], ...] = (),
              pupil: str = "Sam Pupil", categories: tuple[str, ...] = ("abuse_physical",),
              evidence: tuple[str, ...] = ("hurt",), at: datetime | None = None) -> int:
        """An alert as the chat raises it: the messages before it become its context."""
        with self.sessions.begin() as db:
            school = db.get(School, school_id)
            child = repo.create_pupil(db, school, pupil, year_group="Year 6")
            session = repo.start_or_resume_session(db, repo.create_invite(db, child, "york")).session
            for direction, text in context:
                repo.add_message(db, session, direction, text)
            message, _ = repo.add_message(db, session, "in", words)
            alert, _ = repo.raise_alert(db, session, words, categories, evidence, "screen", message=message,
                                        now=at or utcnow())
            return alert.id

    def pupil(self, school_id: int, name: str = "Sam Pupil", year_group: str | None = "Year 6",
              class_name: str | None = None) -> int:
        with self.sessions.begin() as db:
            return repo.create_pupil(db, db.get(School, school_id), name, year_group=year_group,
                                     class_name=class_name).id

    def checkin(self, pupil_id: int, answers: dict[str, str] | None = None, **details) -> int:
        """A check-in as the chat stores it: see `record_checkin`."""
        return record_checkin(self.sessions, pupil_id, answers, **details)

    def token(self, path: str = "/staff/login") -> str:
        page = self.client.get(path)
        return CSRF_IN_PAGE.search(page.text).group(1)

    def sign_in(self, email: str, password: str = PASSWORD, next_path: str = "/staff") -> httpx.Response:
        """Password, then the two-factor code if the account has it set up."""
        response = self.client.post("/staff/login", data={
            "csrf_token": self.token(), "email": email, "password": password, "next": next_path})
        return type_code(self.client, self.sessions, email, response)

    def staff_user(self, email: str) -> StaffUser:
        with self.sessions() as db:
            return repo.find_staff_by_email(db, email)

    def stored_alert(self, alert_id: int) -> SafeguardingAlert:
        with self.sessions() as db:
            return db.get(SafeguardingAlert, alert_id)

    def audit(self, action: str) -> list[AuditEntry]:
        with self.sessions() as db:
            return list(db.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


def staff_settings_env(monkeypatch, database_url: str, var_dir, **extra: str) -> None:
    """Point the settings at a test database; mail goes to a closed port unless told otherwise;
    no part's health is checked (no Rasa runs here) unless told otherwise."""
    env = {"HEARD_DATABASE_URL": database_url, "HEARD_VAR_DIR": str(var_dir), "HEARD_SECRET_KEY": "test-secret",
           "HEARD_SMTP_HOST": "127.0.0.1", "HEARD_SMTP_PORT": str(closed_port()),
           "HEARD_HEALTH_EVERY_SECONDS": "0", **extra}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()


@pytest.fixture
def staff_db_url(sqlite_url) -> str:
    """The staff site's database; a test module may override this (e.g. with `db_url`)."""
    return sqlite_url


@pytest.fixture
def staff_site(staff_db_url, tmp_path, monkeypatch) -> Iterator[StaffSite]:
    migrate_fresh(staff_db_url)
    staff_settings_env(monkeypatch, staff_db_url, tmp_path)
    engine = make_engine(staff_db_url)
    app = create_app()
    with TestClient(app) as client:
        yield StaffSite(app, client, make_session_factory(engine))
    engine.dispose()
    get_settings.cache_clear()


def hours_ago(hours: float) -> datetime:
    return utcnow() - timedelta(hours=hours)
