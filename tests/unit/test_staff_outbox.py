"""The outbox sender, against a real SMTP server (aiosmtpd) on this machine; and the
`heard outbox send` and `heard staff add` commands."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.app import create_app
from bot.auth.passwords import verify_password
from bot.outbox import build_message, send_due
from framework import alerts
from framework.db import repository as repo
from framework.db.engine import make_engine, make_session_factory
from framework.db.models import OutboxEmail, StaffUser, utcnow
from framework.settings import Settings, get_settings
from tests.databases import migrate_fresh
from tests.unit.staff_site import mail_server, password_hash, staff_settings_env  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def outbox_db(db_url) -> Iterator[sessionmaker[Session]]:
    migrate_fresh(db_url)
    engine = make_engine(db_url)
    yield make_session_factory(engine)
    engine.dispose()


def mail_settings(port: int) -> Settings:
    return Settings(smtp_host="127.0.0.1", smtp_port=port, mail_from="heard@school.example")


def queue(sessions: sessionmaker[Session], to: str = "lead@school.example", **when) -> int:
    with sessions.begin() as db:
        return repo.enqueue_email(db, to, "Heard: a safeguarding concern needs review", "Please sign in.", **when).id


def stored(sessions: sessionmaker[Session], email_id: int) -> OutboxEmail:
    with sessions() as db:
        return db.get(OutboxEmail, email_id)


def test_a_due_email_is_sent_and_marked_sent(outbox_db, mail_server):
    mail_server.start()
    email_id = queue(outbox_db)
    run = send_due(outbox_db, mail_settings(mail_server.port))
    assert (run.sent, run.failed) == (1, 0)
    [message] = mail_server.inbox.messages
    assert message["To"] == "lead@school.example" and message["From"] == "heard@school.example"
    assert message["Subject"] == "Heard: a safeguarding concern needs review"
    assert message["Auto-Submitted"] == "auto-generated" and message["Message-ID"].startswith(f"<heard-outbox-{email_id}-")
    assert message.get_content().strip() == "Please sign in."
    sent = stored(outbox_db, email_id)
    assert sent.sent_at is not None and sent.attempts == 1
    assert send_due(outbox_db, mail_settings(mail_server.port)).sent == 0  # never twice


def test_with_the_mail_server_down_the_email_waits_and_goes_when_it_is_back(outbox_db, mail_server):
    email_id = queue(outbox_db)
    now = utcnow()
    run = send_due(outbox_db, mail_settings(mail_server.port), now=now)
    assert (run.sent, run.failed) == (0, 1) and "ConnectionRefusedError" in run.errors[0]
    waiting = stored(outbox_db, email_id)
    assert waiting.sent_at is None and waiting.attempts == 1 and "mail server 127.0.0.1" in waiting.last_error
    assert waiting.next_attempt_at == now + timedelta(minutes=1)

    mail_server.start()
    assert send_due(outbox_db, mail_settings(mail_server.port), now=now + timedelta(seconds=30)).sent == 0  # not yet
    run = send_due(outbox_db, mail_settings(mail_server.port), now=now + timedelta(minutes=2))
    assert (run.sent, run.failed) == (1, 0) and len(mail_server.inbox.messages) == 1
    sent = stored(outbox_db, email_id)
    assert sent.sent_at is not None and sent.attempts == 2


def test_a_refused_address_does_not_hold_up_the_others(outbox_db, mail_server):
    mail_server.start()
    mail_server.inbox.refuse.add("gone@school.example")
    gone, here = queue(outbox_db, "gone@school.example"), queue(outbox_db, "here@school.example")
    run = send_due(outbox_db, mail_settings(mail_server.port))
    assert (run.sent, run.failed) == (1, 1)
    assert [m["To"] for m in mail_server.inbox.messages] == ["here@school.example"]
    assert stored(outbox_db, gone).sent_at is None and "No such mailbox" in stored(outbox_db, gone).last_error
    assert stored(outbox_db, here).sent_at is not None


def test_the_web_app_sends_an_alert_email_at_once_without_the_childs_words(sqlite_url, tmp_path, monkeypatch,
                                                                          mail_server):
    mail_server.start()
    migrate_fresh(sqlite_url)
    staff_settings_env(monkeypatch, sqlite_url, tmp_path, HEARD_SMTP_PORT=str(mail_server.port),
                       HEARD_PUBLIC_URL="https://heard.school.example")
    engine = make_engine(sqlite_url)
    sessions = make_session_factory(engine)
    words = "my step dad hurts me"
    with TestClient(create_app()):
        time.sleep(0.5)  # the sender's first run finds nothing; the next is ten seconds away
        with sessions.begin() as db:
            school = repo.create_school(db, "Oak School")
            repo.create_staff(db, "lead@oak.example", password_hash(), "dsl", school)
            pupil = repo.create_pupil(db, school, "Amy Oak")
            session = repo.start_or_resume_session(db, repo.create_invite(db, pupil, "york")).session
            alert = alerts.raise_alert(db, session, words=words, categories=["abuse_physical"],
                                       evidence=["hurts me"], source="screen")
        messages = mail_server.inbox.wait_for(1, timeout=5)  # well before the next ten-second run
    engine.dispose()
    get_settings.cache_clear()
    assert len(messages) == 1
    body = messages[0].get_content()
    assert messages[0]["To"] == "lead@oak.example"
    assert f"https://heard.school.example/staff/alerts/{alert.id}" in body
    assert words not in body and "hurts" not in body and "Amy" not in body


def test_the_alert_email_links_to_the_staff_site_where_the_settings_put_it(outbox_db, monkeypatch):
    monkeypatch.setenv("HEARD_STAFF_URL", "https://staff.heard.school.example/")
    get_settings.cache_clear()
    try:
        with outbox_db.begin() as db:
            school = repo.create_school(db, "Oak School")
            repo.create_staff(db, "lead@oak.example", password_hash(), "dsl", school)
            session = repo.start_or_resume_session(
                db, repo.create_invite(db, repo.create_pupil(db, school, "Amy Oak"), "york")).session
            alert = alerts.raise_alert(db, session, words="my step dad hurts me", categories=["abuse_physical"],
                                       evidence=["hurts me"], source="screen")
            [email] = db.scalars(select(OutboxEmail)).all()
            body = build_message(email, get_settings()).get_content()
    finally:
        get_settings.cache_clear()
    assert f"https://staff.heard.school.example/alerts/{alert.id}\n" in body


def test_an_email_about_a_school_with_no_lead_links_to_the_accounts_page(outbox_db):
    settings = Settings(staff_url="https://staff.heard.school.example")
    with outbox_db.begin() as db:
        school = repo.create_school(db, "Oak School")
        repo.create_staff(db, "admin@heard.example", password_hash(), "admin", None)
        session = repo.start_or_resume_session(
            db, repo.create_invite(db, repo.create_pupil(db, school, "Amy Oak"), "york")).session
        alerts.raise_alert(db, session, words="my step dad hurts me", categories=["abuse_physical"],
                           evidence=["hurts me"], source="screen")
        [email] = db.scalars(select(OutboxEmail)).all()
        body = build_message(email, settings).get_content()
    assert "https://staff.heard.school.example/admin/accounts\n" in body and "{" not in body


def heard(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], cwd=ROOT, env={**os.environ, **env},
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def cli_env(sqlite_url, tmp_path) -> dict[str, str]:
    migrate_fresh(sqlite_url)
    return {"HEARD_DATABASE_URL": sqlite_url, "HEARD_VAR_DIR": str(tmp_path)}


def test_heard_outbox_send_sends_or_says_what_waits(cli_env, sqlite_url, mail_server):
    engine = make_engine(sqlite_url)
    sessions = make_session_factory(engine)
    email_id = queue(sessions)
    down = heard("outbox", "send", env={**cli_env, "HEARD_SMTP_PORT": str(mail_server.port)})
    assert down.returncode == 1 and "Traceback" not in down.stderr
    assert "1 email(s) not sent; they stay queued" in down.stderr
    with sessions.begin() as db:  # as if the retry time had come
        db.get(OutboxEmail, email_id).next_attempt_at = utcnow()
    mail_server.start()
    up = heard("outbox", "send", env={**cli_env, "HEARD_SMTP_PORT": str(mail_server.port)})
    assert up.returncode == 0 and "Sent 1 email(s)." in up.stdout
    assert len(mail_server.inbox.messages) == 1
    engine.dispose()


def test_heard_staff_add_prints_the_password_once_and_keeps_only_its_hash(cli_env, sqlite_url):
    engine = make_engine(sqlite_url)
    with make_session_factory(engine).begin() as db:
        repo.create_school(db, "Oak School", urn="100001")
    made = heard("staff", "add", "--email", "Lead@Oak.example", "--role", "dsl", "--school-urn", "100001", env=cli_env)
    assert made.returncode == 0, made.stderr
    password = made.stdout.split("Password: ")[1].split()[0]
    with make_session_factory(engine)() as db:
        lead = repo.find_staff_by_email(db, "lead@oak.example")
        assert (lead.role, lead.school.name) == ("dsl", "Oak School")
        assert password not in lead.password_hash and verify_password(lead.password_hash, password)

    refusals = {
        ("--email", "lead@oak.example", "--role", "dsl", "--school-urn", "100001"): "already an account",
        ("--email", "x@oak.example", "--role", "senco"): "add --school-urn",
        ("--email", "x@oak.example", "--role", "dsl", "--school-urn", "999999"): "no school has the URN 999999",
        ("--email", "x@council.example", "--role", "la_officer", "--school-urn", "100001"): "works across schools",
        ("--email", "x@oak.example", "--role", "headteacher", "--school-urn", "100001"): "there is no role",
        ("--email", "not-an-email", "--role", "admin"): "not an email address",
    }
    for args, reason in refusals.items():
        refused = heard("staff", "add", *args, env=cli_env)
        assert refused.returncode == 2 and reason in refused.stderr and "Traceback" not in refused.stderr
    with make_session_factory(engine)() as db:
        assert len(list(db.scalars(select(StaffUser)))) == 1
    engine.dispose()


def test_heard_staff_add_puts_an_la_officer_in_their_council(cli_env, sqlite_url):
    """An officer sees only their council's schools, so an officer's account names its council."""
    engine = make_engine(sqlite_url)
    with make_session_factory(engine).begin() as db:
        council_id = repo.create_council(db, "Shropshire Council").id
        repo.create_school(db, "Oak School", urn="100001")
    made = heard("staff", "add", "--email", "officer@council.example", "--role", "la_officer",
                 "--council", "shropshire council", env=cli_env)
    assert made.returncode == 0, made.stderr
    assert "for Shropshire Council" in made.stdout
    with make_session_factory(engine)() as db:
        officer = repo.find_staff_by_email(db, "officer@council.example")
        assert (officer.role, officer.council_id, officer.school_id) == ("la_officer", council_id, None)

    refusals = {
        ("--email", "x@council.example", "--role", "la_officer"): "add --council NAME",
        ("--email", "x@council.example", "--role", "la_officer", "--council", "Southshire"):
            "no council is called 'Southshire' (councils: Shropshire Council)",
        ("--email", "x@oak.example", "--role", "senco", "--school-urn", "100001", "--council", "Shropshire Council"):
            "only a la_officer belongs to a council",
    }
    for args, reason in refusals.items():
        refused = heard("staff", "add", *args, env=cli_env)
        assert refused.returncode == 2 and reason in refused.stderr and "Traceback" not in refused.stderr
    with make_session_factory(engine)() as db:
        assert len(list(db.scalars(select(StaffUser)))) == 1
    engine.dispose()
