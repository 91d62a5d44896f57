"""Rate limits, kept in this process's memory.

With several web workers each keeps its own count, so the real limit is the number of
workers times these. Tries at invite codes are counted in the database (bot/tries.py).
"""
from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session, sessionmaker

from bot.tries import Tries, TryLimits

_SWEEP_EVERY = 1000  # hits between clearing out keys that have gone quiet


@dataclass
class SlidingWindow:
    """At most `limit` events per key in any `seconds`-long window."""

    limit: int
    seconds: float
    clock: Callable[[], float] = time.monotonic
    _events: dict[Hashable, deque[float]] = field(default_factory=dict, repr=False)
    _hits: int = field(default=0, repr=False)

    def full(self, key: Hashable) -> bool:
        events = self._events.get(key)
        if events is None:
            return False
        self._forget_old(events)
        return len(events) >= self.limit

    def record(self, key: Hashable) -> None:
        self._events.setdefault(key, deque()).append(self.clock())
        self._hits += 1
        if self._hits % _SWEEP_EVERY == 0:
            self._sweep()

    def allow(self, key: Hashable) -> bool:
        """Count one event, unless the key's window is already full."""
        if self.full(key):
            return False
        self.record(key)
        return True

    def _forget_old(self, events: deque[float]) -> None:
        cutoff = self.clock() - self.seconds
        while events and events[0] <= cutoff:
            events.popleft()

    def _sweep(self) -> None:
        for key in list(self._events):
            self._forget_old(self._events[key])
            if not self._events[key]:
                del self._events[key]


@dataclass
class ChatLimits:
    # A child taps about once every few seconds; 30 a minute is well past that.
    per_session: SlidingWindow = field(default_factory=lambda: SlidingWindow(30, 60))
    # A school's network shows every child behind one address: 100 children at their fastest.
    # (900, a class at its fastest, refused a class of 50 at an ordinary pace.)
    per_ip: SlidingWindow = field(default_factory=lambda: SlidingWindow(3000, 60))


# Wrong invite codes (counted in the database): a class of 30 mistyping behind a school's
# address is not held back; 31^8 codes leave a guesser nothing.
CODE_TRIES = TryLimits(stranger=10, known=100, strangers=500)


def code_tries(sessions: sessionmaker[Session], secret: str) -> Tries:
    return Tries(sessions, secret, "invite_code", CODE_TRIES)
