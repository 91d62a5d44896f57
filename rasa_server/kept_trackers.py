"""Rasa keeps the last few conversations it saved, instead of reading each back from the first
event at the next message.

Rasa's SQL tracker store reads every event of the conversation's session back at each message
and replays them into a new tracker; late in a long check-in that was a seventh of Rasa's CPU
(after `tracker_replay`), and with it the tracker lost what it had worked out about its events.
`install()` has the store keep each tracker it has just saved (the last KEPT conversations), and
hand it back at the conversation's next message when the database shows nothing written since:
its newest event is still the one it was after that save. Otherwise, or for a tracker not read
from the store (or saved over events it did not read), it reads the conversation as before. A
kept tracker is handed out once (a tracker read and not saved back is read again next time), and
only when it holds the same events as reading would give: one session, and none added since.
Rasa handles one message of a conversation at a time (its lock store, Redis when several Rasa
servers share the database), so nothing can be written between that check and the save.

Written against Rasa 3.6.21's SQLTrackerStore; on any other Rasa version it changes nothing.
"""
from __future__ import annotations

import itertools
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_server.patch import patch_rasa

KEPT = 64  # conversations each Rasa server keeps: a class at once (a whole 58-turn check-in is about 1.3 MB)
READ = "_heard_events_read"  # on a tracker: how many events the store held when it was read
STORED = "_heard_events_stored"  # on a tracker being saved: how many events the store held before


@dataclass
class _Kept:
    tracker: DialogueStateTracker
    events: int  # how many it had when kept: more means it was changed and not saved
    newest_id: int | None  # the conversation's newest event in the database then
    domain: Any  # the domain the tracker's slots came from


def _kept(store: SQLTrackerStore) -> OrderedDict[str, _Kept]:
    return store.__dict__.setdefault("_heard_kept", OrderedDict())


def _newest_id(store: SQLTrackerStore, sender_id: str) -> int | None:
    with store.session_scope() as session:
        return session.query(sa.func.max(store.SQLEvent.id)).filter(store.SQLEvent.sender_id == sender_id).scalar()


def _one_session(tracker: DialogueStateTracker) -> bool:
    """Whether reading the conversation back would give these events: a session started
    part way through would leave the earlier ones out."""
    return not any(isinstance(event, SessionStarted) for event in itertools.islice(tracker.events, 1, None))


def _kept_or_read(retrieve):
    async def kept_or_read(self: SQLTrackerStore, sender_id: str) -> DialogueStateTracker | None:
        kept = _kept(self).pop(sender_id, None)
        if (kept is not None and kept.domain is self.domain and len(kept.tracker.events) == kept.events
                and _newest_id(self, sender_id) == kept.newest_id):
            tracker = kept.tracker
        else:
            tracker = await retrieve(self, sender_id)
        if tracker is not None:
            tracker.__dict__[READ] = len(tracker.events)
        return tracker
    return kept_or_read


def _counting(_):
    def additional_events(self: SQLTrackerStore, session, tracker: DialogueStateTracker):
        """Rasa's own: the tracker's events past those the store holds for this session; and
        how many it holds, noted on the tracker."""
        stored = self._event_query(session, tracker.sender_id, fetch_events_from_all_sessions=False).count()
        tracker.__dict__[STORED] = stored
        return itertools.islice(tracker.events, stored, len(tracker.events))
    return additional_events


def _saving_and_keeping(save):
    async def save_and_keep(self: SQLTrackerStore, tracker: DialogueStateTracker) -> None:
        read = tracker.__dict__.pop(READ, 0)  # a new conversation's tracker was read from nothing
        tracker.__dict__.pop(STORED, None)
        await save(self, tracker)
        # Kept only when the store now holds exactly its events: it held what was read, no more.
        if tracker.__dict__.pop(STORED, None) == read and _one_session(tracker):
            kept = _kept(self)
            kept[tracker.sender_id] = _Kept(tracker, len(tracker.events), _newest_id(self, tracker.sender_id), self.domain)
            kept.move_to_end(tracker.sender_id)
            while len(kept) > KEPT:
                kept.popitem(last=False)
    return save_and_keep


def install() -> None:
    if_not = "each message reads its conversation back from the first event."
    patch_rasa(SQLTrackerStore, "retrieve", _kept_or_read, if_not)
    patch_rasa(SQLTrackerStore, "_additional_events", _counting, if_not)
    patch_rasa(SQLTrackerStore, "save", _saving_and_keeping, if_not)
