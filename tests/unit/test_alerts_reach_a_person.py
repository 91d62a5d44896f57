"""Every alert reaches a person: at a school with no active safeguarding lead the admins are
emailed instead (and /healthz counts such schools); an alert email that has not gone for 15
minutes is reported to the admins, once, and counted on /healthz."""
from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from bot.app import create_app
from bot.outbox import ESCALATION_SUBJECT, send_due
from framework import alerts
from framework.db import repository as repo
from framework.db.engine import make_engine, make_session_factory
from framework.db.models import OutboxEmail, SafeguardingAlert, utcnow
from framework.settings import Settings, get_settings
from tests.databases import migrate_fresh
from tests.unit.staff_site import closed_port, password_hash, staff_settings_env
from tests.unit.test_staff_outbox import outbox_db as sessions  # noqa: F401 (a fixture: a migrated database)

WORDS = "my step dad hurts me"


def alert_at(sessions, school_name: str, *, lead: bool) -> int:
    """An alert at a new school (with an active safeguarding lead, or only a former one); one admin exists."""
    with sessions.begin() as db:
        school = repo.create_school(db, school_name)
        if repo.find_staff_by_email(db, "admin@council.example") is None:
            repo.create_staff(db, "admin@council.example", password_hash(), "admin")
        dsl = repo.create_staff(db, f"dsl@{school.id}.example", password_hash(), "dsl", school)
        dsl.active = lead
        pupil = repo.create_pupil(db, school, "Amy Oak")
        session = repo.start_or_resume_session(db, repo.create_invite(db, pupil, "york")).session
        return alerts.raise_alert(db, session, words=WORDS, categories=["abuse_physical"], evidence=["hurts me"],
                                  source="screen").id


def outbox(sessions) -> list[OutboxEmail]:
    with sessions() as db:
        return list(db.scalars(select(OutboxEmail).order_by(OutboxEmail.id)))


def test_an_alert_at_a_school_without_a_safeguarding_lead_goes_to_the_admins(sessions):
    alert_id = alert_at(sessions, "Oak School", lead=False)
    [email] = outbox(sessions)
    assert (email.to_address, email.subject, email.alert_id) == ("admin@council.example", alerts.NO_LEAD_SUBJECT, alert_id)
    assert "Oak School" in email.body and "hurts" not in email.body and "Amy" not in email.body
    with sessions() as db:
        assert [s.name for s in repo.schools_without_safeguarding_lead(db)] == ["Oak School"]


def test_an_alert_email_undelivered_for_15_minutes_is_reported_to_the_admins_once(sessions):
    alert_id = alert_at(sessions, "Oak School", lead=True)
    mail_down = Settings(smtp_host="127.0.0.1", smtp_port=closed_port())
    queued = outbox(sessions)[0].created_at
    assert send_due(sessions, mail_down, now=queued).escalated == 0
    assert send_due(sessions, mail_down, now=queued + timedelta(minutes=14)).escalated == 0
    assert send_due(sessions, mail_down, now=queued + timedelta(minutes=16)).escalated == 1
    assert send_due(sessions, mail_down, now=queued + timedelta(minutes=30)).escalated == 0
    to_lead, to_admin = outbox(sessions)
    assert (to_lead.alert_id, to_lead.sent_at, to_lead.escalated_at is not None) == (alert_id, None, True)
    assert (to_admin.to_address, to_admin.subject, to_admin.alert_id) == (
        "admin@council.example", ESCALATION_SUBJECT, None)
    assert "Oak School" in to_admin.body and "ConnectionRefusedError" in to_admin.body and "{" not in to_admin.body
    assert "Please phone the school's safeguarding lead now." in to_admin.body
    assert "hurts" not in to_admin.body and "Amy" not in to_admin.body
    with sessions() as db:
        assert [e.id for e in repo.undelivered_alert_emails(db, utcnow() + timedelta(hours=1))] == [to_lead.id]
        assert db.get(SafeguardingAlert, alert_id).words == WORDS


def test_healthz_counts_schools_without_a_lead_and_undelivered_alert_emails(sqlite_url, tmp_path, monkeypatch):
    migrate_fresh(sqlite_url)
    engine = make_engine(sqlite_url)
    sessions = make_session_factory(engine)
    staff_settings_env(monkeypatch, sqlite_url, tmp_path)
    with TestClient(create_app()) as client:  # /healthz reads the database through the app's engine
        fine = client.get("/healthz").json()["safeguarding"]
        alert_at(sessions, "Oak School", lead=False)
        alert_at(sessions, "Elm School", lead=True)
        with sessions.begin() as db:
            for email in db.scalars(select(OutboxEmail)):
                email.created_at = utcnow() - timedelta(minutes=20)
        flagged = client.get("/healthz").json()["safeguarding"]
    engine.dispose()
    get_settings.cache_clear()
    assert fine["ok"] is True
    assert flagged["ok"] is False
    assert (flagged["schools_without_lead"], flagged["undelivered_alert_emails"]) == (1, 2)
    assert "Oak" not in str(flagged)  # the page is public: counts only
