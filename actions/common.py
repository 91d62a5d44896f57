"""What every action needs: the database, the young person's session, and a way to say things;
and the two rules that keep each turn all-or-nothing (see `turn` and `fails_visibly`)."""
from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import ActionExecutionRejected
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.interfaces import ActionExecutionRejection
from sqlalchemy.orm import Session, sessionmaker

from framework.checkin import Say
from framework.conversation import MESSAGE_ID, TURN_FAILED
from framework.db import repository as repo
from framework.db.engine import make_engine, make_session_factory, reading
from framework.db.models import SurveySession

log = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def _sessions() -> sessionmaker[Session]:
    return make_session_factory(make_engine())


@contextmanager
def database(*, reads_only: bool = False) -> Iterator[Session]:
    """One transaction per action call: all of it is kept, or none. One that only reads says so:
    it then neither waits for nor holds up the web app's writes (framework.db.engine.reading)."""
    with (reading(_sessions()) if reads_only else _sessions().begin()) as db:
        yield db


class UnknownConversation(LookupError):
    """Rasa was sent a sender id that no check-in has: only the web app starts check-ins."""


def checkin_session(db: Session, tracker: Tracker) -> SurveySession:
    session = repo.find_session_by_sender(db, tracker.sender_id)
    if session is None:
        raise UnknownConversation(tracker.sender_id)
    return session


@dataclass(frozen=True)
class Turn:
    db: Session
    session: SurveySession
    # What this message said is stored already: Rasa was sent it again because its reply was
    # lost. Store nothing from it a second time (nor against the question that came next).
    repeated: bool

    @contextmanager
    def stored_once(self) -> Iterator[Session]:
        """For the writes a message causes: a repeated message runs them and keeps none."""
        if not self.repeated:
            yield self.db
            return
        with self.db.begin_nested() as again:
            yield self.db
            again.rollback()


def message_id(tracker: Tracker) -> int | None:
    """The transcript row of the young person's latest message, as the web app sent it."""
    value = ((tracker.latest_message or {}).get("metadata") or {}).get(MESSAGE_ID)
    return value if isinstance(value, int) else None


@contextmanager
def turn(tracker: Tracker) -> Iterator[Turn]:
    """One transaction for storing what the latest message said; it also marks the message
    handled, so if the message comes again it is recognised (`Turn.repeated`)."""
    with database() as db:
        session = checkin_session(db, tracker)
        message = repo.incoming_message(db, session, message_id(tracker))
        yield Turn(db, session, repeated=message is not None and message.handled_at is not None)
        if message is not None:
            repo.mark_handled(db, message)


def fails_visibly(run):
    """For an action's run(): Rasa logs an action's exception and carries on without its
    events, so a lost answer would look like a quiet turn. Instead the action says the turn
    failed; the web app undoes the turn in Rasa, keeps the message and sends it again later."""

    @functools.wraps(run)
    async def guarded(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain):
        try:
            result = run(self, dispatcher, tracker, domain)
            return await result if inspect.isawaitable(result) else result
        except ActionExecutionRejection:
            raise  # Rasa's own way for an action to decline: not a failure
        except Exception:
            log.exception("%s failed on conversation %s: the turn is reported as failed", self.name(), tracker.sender_id)
            dispatcher.utter_message(json_message={"kind": TURN_FAILED})
            # A form drops what its validation said unless the validation rejects the form itself
            # (Rasa then answers with its fallback, which also forgets the message).
            return [ActionExecutionRejected(self.form_name())] if isinstance(self, FormValidationAction) else []

    return guarded


def say(dispatcher: CollectingDispatcher, says: list[Say]) -> None:
    for item in says:
        dispatcher.utter_message(
            response=item.response,
            text=item.text,
            buttons=item.buttons or None,
            json_message=item.custom,
            **item.fill,
        )
