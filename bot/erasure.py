"""Erasing what young people said: one pupil's data on request (`heard pupil erase ID`, or a
SENCO or admin on the pupil's page), and every check-in older than HEARD_RETENTION_DAYS (a
job in the web app's background, once an hour).

A child's words live in three places, and all three are cleared: our database (answers,
comments, the transcript, consent), Rasa's SQL tracker store (its record of each
conversation, keyed by the check-in's sender id), and read-aloud notes and audio of bot
messages that repeat the child's words (var/audio). Safeguarding alerts are kept, with their
exact words: they are the school's child-protection record (see the README). Each erasure
is written to the audit log, with counts and no words.
"""
from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Select, bindparam, create_engine, inspect, select, text
from sqlalchemy.orm import Session, sessionmaker

from bot.chat.gateway import speech_cache
from bot.processes import IN_MEMORY
from framework.db import repository as repo
from framework.db.engine import database_url
from framework.db.models import Pupil, StaffUser, SurveySession, TranscriptMessage, utcnow
from framework.settings import Settings

log = logging.getLogger(__name__)

RETENTION_EVERY = 3600.0  # seconds between runs of the retention job
RASA_EVENTS_TABLE = "events"  # Rasa's SQLTrackerStore: one row per event, with the conversation's sender_id


@dataclass(frozen=True)
class PupilErasure:
    deleted: repo.PupilDataDeletion
    conversations: int  # Rasa conversations forgotten
    tracker_events: int


def erase_pupil(db: Session, pupil: Pupil, settings: Settings, by: StaffUser | None) -> PupilErasure:
    """Erase one pupil's check-ins, answers, comments, transcript, Rasa conversations and
    read-aloud notes, and their invites; audited (by None: the `heard` command)."""
    senders, events = _forget_outside_the_database(db, repo.pupil_checkins(pupil), settings)
    deleted = repo.delete_pupil_data(db, pupil)
    repo.audit(db, by, "erase_pupil", "pupil", pupil.id, pupil=pupil,
               detail=asdict(deleted) | {"conversations": senders, "tracker_events": events})
    return PupilErasure(deleted, senders, events)


def apply_retention(db: Session, settings: Settings, now: datetime | None = None) -> repo.CheckinDeletion | None:
    """Erase every check-in last touched more than HEARD_RETENTION_DAYS ago (0: keep them).
    None when there is nothing to do."""
    if settings.retention_days <= 0:
        return None
    old = repo.checkins_ended_before((now or utcnow()) - timedelta(days=settings.retention_days))
    if db.scalar(old.limit(1)) is None:
        return None
    senders, events = _forget_outside_the_database(db, old, settings)
    deleted = repo.delete_checkins(db, old)
    repo.audit(db, None, "retention", "survey_session",
               detail=asdict(deleted) | {"days": settings.retention_days, "tracker_events": events})
    log.info("retention: erased %d check-in(s) older than %d days", deleted.sessions, settings.retention_days)
    return deleted


def run_retention(sessions: sessionmaker[Session], settings: Settings) -> None:
    """One run of the retention job, in its own transaction (bot/app.py runs it every RETENTION_EVERY)."""
    with sessions.begin() as db:
        apply_retention(db, settings)


def _forget_outside_the_database(db: Session, session_ids: Select, settings: Settings) -> tuple[int, int]:
    """Clear Rasa's tracker store and the read-aloud notes for these check-ins; (conversations,
    tracker events). Done before our rows go, which name them: if what follows fails, it can
    simply be run again."""
    senders = list(db.scalars(select(SurveySession.sender_id).where(SurveySession.id.in_(session_ids))))
    said = db.scalars(select(TranscriptMessage.text).where(
        TranscriptMessage.session_id.in_(session_ids), TranscriptMessage.direction == "out"))
    speech = speech_cache(settings.var_dir / "audio")
    for words in set(said):
        speech.forget(words)
    return len(senders), forget_conversations(settings, senders)


def forget_conversations(settings: Settings, sender_ids: list[str]) -> int:
    """Delete Rasa's stored events of these conversations; how many. (Rasa's in-memory store,
    HEARD_RASA_TRACKER_URL=memory, keeps nothing on disk and forgets all on restart.)"""
    if not sender_ids or settings.resolved_rasa_tracker_url == IN_MEMORY:
        return 0
    url = database_url(settings.resolved_rasa_tracker_url)
    if url.get_backend_name() == "sqlite" and not Path(url.database or "").is_file():
        return 0  # Rasa has not stored a conversation yet (and opening it would make the file)
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            if not inspect(connection).has_table(RASA_EVENTS_TABLE):
                return 0  # Rasa has not made its tables yet
            statement = text(f"DELETE FROM {RASA_EVENTS_TABLE} WHERE sender_id IN :senders").bindparams(
                bindparam("senders", expanding=True))
            return connection.execute(statement, {"senders": sender_ids}).rowcount
    finally:
        engine.dispose()
