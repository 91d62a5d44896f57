"""HEARD_RETENTION_DAYS: check-ins last touched longer ago are erased, with an audit entry;
newer ones, and every safeguarding alert, are kept."""
from __future__ import annotations

import time
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from bot.app import create_app
from bot.erasure import apply_retention
from framework.db import repository as repo
from framework.db.engine import make_engine, make_session_factory
from framework.db.models import AuditEntry, SafeguardingAlert, SurveySession, utcnow
from framework.settings import Settings, get_settings
from tests.databases import migrate_fresh
from tests.unit.staff_site import staff_settings_env


def test_old_checkins_are_erased_and_alerts_and_newer_checkins_kept(db, tmp_path):
    settings = Settings(var_dir=tmp_path, rasa_tracker_url="memory", retention_days=365)
    now = utcnow()
    school = repo.create_school(db, "Oak")
    pupil = repo.create_pupil(db, school, "Sam")

    def checkin(days_ago: int) -> SurveySession:
        session = repo.start_or_resume_session(db, repo.create_invite(db, pupil, "york")).session
        repo.record_comment(db, session, "york.safe", "anything_else", f"said {days_ago} days ago")
        repo.set_status(db, session, "finished", now=now - timedelta(days=days_ago))
        return session

    old, recent = checkin(400), checkin(30)
    message, _ = repo.add_message(db, old, "in", "he hurts me")
    repo.raise_alert(db, old, "he hurts me", ["abuse"], ["hurts"], "screen", message=message)
    db.commit()

    erased = apply_retention(db, settings, now=now)
    db.commit()
    assert (erased.sessions, erased.comments, erased.messages) == (1, 1, 1)
    assert db.get(SurveySession, old.id) is None
    assert [c.text for c in repo.comments_for(db, recent)] == ["said 30 days ago"]
    assert db.scalar(select(SafeguardingAlert.words)) == "he hurts me"
    [entry] = db.scalars(select(AuditEntry).where(AuditEntry.action == "retention")).all()
    assert entry.detail["sessions"] == 1 and entry.detail["days"] == 365
    assert apply_retention(db, settings, now=now) is None  # nothing more to do


def test_retention_days_zero_keeps_everything(db, tmp_path):
    pupil = repo.create_pupil(db, repo.create_school(db, "Oak"), "Sam")
    session = repo.start_or_resume_session(db, repo.create_invite(db, pupil, "york")).session
    repo.set_status(db, session, "finished", now=utcnow() - timedelta(days=5000))
    db.commit()
    assert apply_retention(db, Settings(var_dir=tmp_path, retention_days=0)) is None
    assert db.get(SurveySession, session.id) is not None


def test_the_web_app_applies_retention_when_it_starts(sqlite_url, tmp_path, monkeypatch):
    migrate_fresh(sqlite_url)
    engine = make_engine(sqlite_url)
    sessions = make_session_factory(engine)
    with sessions.begin() as db:
        pupil = repo.create_pupil(db, repo.create_school(db, "Oak"), "Sam")
        session = repo.start_or_resume_session(db, repo.create_invite(db, pupil, "york")).session
        repo.set_status(db, session, "finished", now=utcnow() - timedelta(days=400))
        old = session.id
    staff_settings_env(monkeypatch, sqlite_url, tmp_path, HEARD_RETENTION_DAYS="365", HEARD_RASA_TRACKER_URL="memory")
    with TestClient(create_app()):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with sessions() as db:
                if db.get(SurveySession, old) is None:
                    break
            time.sleep(0.2)
    engine.dispose()
    get_settings.cache_clear()
    with sessions() as db:
        assert db.get(SurveySession, old) is None
