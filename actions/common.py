"""What every action needs: the database, the young person's session, and a way to say things."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session, sessionmaker

from framework.checkin import Say
from framework.db import repository as repo
from framework.db.engine import make_engine, make_session_factory
from framework.db.models import SurveySession


@lru_cache(maxsize=1)
def _sessions() -> sessionmaker[Session]:
    return make_session_factory(make_engine())


@contextmanager
def database() -> Iterator[Session]:
    """One transaction per action call: all of it is kept, or none."""
    with _sessions().begin() as db:
        yield db


class UnknownConversation(LookupError):
    """Rasa was sent a sender id that no check-in has: only the web app starts check-ins."""


def checkin_session(db: Session, tracker: Tracker) -> SurveySession:
    session = repo.find_session_by_sender(db, tracker.sender_id)
    if session is None:
        raise UnknownConversation(tracker.sender_id)
    return session


def say(dispatcher: CollectingDispatcher, says: list[Say]) -> None:
    for item in says:
        dispatcher.utter_message(
            response=item.response,
            text=item.text,
            buttons=item.buttons or None,
            json_message=item.custom,
            **item.fill,
        )
