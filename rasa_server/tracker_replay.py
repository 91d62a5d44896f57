"""A turn late in a long check-in costs Rasa no more than an early one.

Profiled (py-spy) at turns 48-55 of a Shropshire full check-in, two of Rasa's steps that grow with
the conversation took 40 % of its CPU, so a turn cost it about 2.4 times what an early turn did:

- Reading the conversation back: for every stored event Rasa looks up the event's class by walking
  the whole tree of event classes again (`Event.resolve_by_type`, 15 % of Rasa's time).
  `install()` has it remember each class once found.
- Which events still count (`DialogueStateTracker.applied_events`, 26 %): Rasa works it out from
  the first event on each time it is asked, 8-10 times a turn, and each time a form runs again it
  copies the whole list so far to undo the form's previous turn. `install()` has each conversation
  remember the answer and work out only the events added since, with the same steps in the same
  order; it starts again from the first event whenever the earlier events are not the ones it saw,
  or a new form appears (which changes how the earlier events are read).

Written against Rasa 3.6.21; on any other Rasa version it changes nothing.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from rasa.shared.core.events import (
    ActionExecuted,
    ActionReverted,
    ActiveLoop,
    DefinePrevUserUtteredFeaturization,
    Event,
    Restarted,
    SessionStarted,
    UserUttered,
    UserUtteranceReverted,
)
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_server.patch import patch_rasa


def _remembering_classes(resolve_by_type):
    found: dict[str, type] = {}

    def resolve(type_name, default=None):
        if type_name in found:
            return found[type_name]
        event_class = resolve_by_type(type_name, default)
        if event_class is not None and event_class is not default and event_class.type_name == type_name:
            found[type_name] = event_class  # only classes found by name: a default is the caller's
        return event_class
    return staticmethod(resolve)


def _undo_till_previous_loop_execution(loop_action_name: str, done_events: list[Event]) -> None:
    """Rasa's own step, without copying the whole list first: remove the actions and messages
    since the loop last ran, keeping the other events (slots, bot messages...)."""
    index = len(done_events) - 1
    while index >= 0:
        event = done_events[index]
        if isinstance(event, ActionExecuted) and event.action_name == loop_action_name:
            break
        if isinstance(event, (ActionExecuted, UserUttered, DefinePrevUserUtteredFeaturization)):
            del done_events[index]
        index -= 1


@dataclass
class _Applied:
    """What one tracker's events came to, so far."""
    events: Any  # the tracker's own deque of events, as seen
    count: int  # how many of them were read
    last: Event | None  # the last one read
    loop_names: frozenset[str]
    applied: list[Event]


def _apply(tracker: DialogueStateTracker, new_events, loop_names: frozenset[str], applied: list[Event]) -> list[Event]:
    """Rasa 3.6.21's `applied_events` loop over `new_events`, continuing from `applied`."""
    for event in new_events:
        if isinstance(event, (Restarted, SessionStarted)):
            applied = []
        elif isinstance(event, ActionReverted):
            tracker._undo_till_previous(ActionExecuted, applied)
        elif isinstance(event, UserUtteranceReverted):
            # Rewind the message, then the action before it (and the listen before that).
            tracker._undo_till_previous(UserUttered, applied)
            tracker._undo_till_previous(ActionExecuted, applied)
        elif (
            isinstance(event, ActionExecuted)
            and event.action_name in loop_names
            and not tracker._first_loop_execution_or_unhappy_path(event.action_name, applied)
        ):
            tracker._undo_till_previous_loop_execution(event.action_name, applied)
        else:
            applied.append(event)
    return applied


def _loop_names(events) -> frozenset[str]:
    return frozenset(event.name for event in events if isinstance(event, ActiveLoop) and event.name)


def _remembered(_):
    def applied_events(self: DialogueStateTracker) -> list[Event]:
        events = self.events
        count = len(events)
        # Taken, not read: should working out fail part way, the next call starts from the first event.
        seen = self.__dict__.pop("_heard_applied", None)
        if (seen is not None and seen.events is events and seen.count <= count
                and (seen.count == 0 or events[seen.count - 1] is seen.last)):
            new_events = list(itertools.islice(events, seen.count, count))
            loop_names = seen.loop_names
            # A form not seen before changes how the earlier events read: then start again.
            applied = _apply(self, new_events, loop_names, seen.applied) if _loop_names(new_events) <= loop_names else None
        else:
            applied = None
        if applied is None:
            loop_names = _loop_names(events)
            applied = _apply(self, events, loop_names, [])
        self._heard_applied = _Applied(events, count, events[-1] if count else None, loop_names, applied)
        return list(applied)  # the caller's own list: the one kept here is never handed out
    return applied_events


def install() -> None:
    patch_rasa(Event, "resolve_by_type", _remembering_classes, "each stored event's class is looked up afresh.")
    patch_rasa(DialogueStateTracker, "_undo_till_previous_loop_execution", lambda _: staticmethod(_undo_till_previous_loop_execution),
               "undoing a form's turn copies the events so far.")
    patch_rasa(DialogueStateTracker, "applied_events", _remembered, "which events count is worked out from the first, each time.")
