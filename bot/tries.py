"""Tries at what a guesser would like to guess (invite codes, staff passwords), counted in the
database: each is written before it is checked, so tries made at once, or through several web
workers, all count.

A try is counted per network address (and, for a password, per account: `subject`). Many people
can share one address, e.g. a school's, so an address someone succeeded from in the last 30 days
may get many more wrong than a stranger's before it has to wait. Strangers together have a limit
too, against guessing from many addresses; known addresses are not held back by it. Addresses
and subjects are kept only as a keyed hash.
"""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import timedelta

from fastapi import Request
from sqlalchemy.orm import Session, sessionmaker

from framework.db import repository as repo
from framework.db.models import utcnow

WINDOW = timedelta(minutes=15)
REMEMBERED = timedelta(days=30)  # how long a success makes an address known; tries are deleted after this


def client_address(request: Request) -> str:
    """The network address a request came from: what tries, and the chat's rate limits, count by."""
    return request.client.host if request.client else "unknown"


@dataclass(frozen=True)
class TryLimits:
    """Wrong tries allowed in any WINDOW."""

    stranger: int  # from one address nobody succeeded from
    known: int  # from an address someone succeeded from
    strangers: int  # from all strangers' addresses together


@dataclass(frozen=True)
class Try:
    id: int
    known: bool  # from an address someone succeeded from (for this subject)


class Tries:
    def __init__(self, sessions: sessionmaker[Session], secret: str, kind: str, limits: TryLimits):
        self.sessions = sessions
        self.secret = secret.encode()
        self.kind = kind
        self.limits = limits

    def begin(self, ip: str, subject: str = "") -> Try | None:
        """Count a try from `ip` (at `subject`): pass it to `succeeded` if it was right. None when
        this address, or strangers together, got too many wrong (the try is then not counted).
        Uses its own transactions: call it before the caller's transaction begins."""
        address = hmac.new(self.secret, f"{subject}\n{ip}".encode(), hashlib.sha256).hexdigest()
        now = utcnow()
        with self.sessions.begin() as db:
            attempt = repo.record_attempt(db, self.kind, address, now)
            repo.forget_attempts(db, now - REMEMBERED)
        # Counted after the try is committed: of tries made at once, at most the limit pass.
        with self.sessions.begin() as db:
            known = repo.addresses_that_succeeded(db, self.kind, now - REMEMBERED)
            since = now - WINDOW
            failed = repo.failed_attempts(db, self.kind, since, address=address)
            if address in known:
                allowed = failed <= self.limits.known
            else:
                allowed = failed <= self.limits.stranger and \
                    repo.failed_attempts(db, self.kind, since, excluding=known) <= self.limits.strangers
            if not allowed:
                repo.forget_attempt(db, attempt.id)  # so a person trying again is not held back longer
        return Try(attempt.id, address in known) if allowed else None

    @staticmethod
    def succeeded(db: Session, attempt: Try) -> None:
        """It was right: in the caller's transaction, so it counts only if what it opened is kept."""
        repo.attempt_succeeded(db, attempt.id)
