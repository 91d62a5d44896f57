"""Tries at invite codes, counted in the database: each is written before the code is looked
up, so tries made at once, or through several web workers, all count.

A class often shares one network address, so an address a right code came from in the last
30 days (a school's, or a family's) may get many more codes wrong than a stranger's before
it has to wait. Strangers together have a limit too, against guessing from many addresses;
the schools' addresses are not held back by it. Addresses are kept only as a keyed hash.
"""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from framework.db import repository as repo
from framework.db.models import utcnow

KIND = "invite_code"
WINDOW = timedelta(minutes=15)
REMEMBERED = timedelta(days=30)  # how long a right code makes an address known; tries are deleted after this


@dataclass(frozen=True)
class CodeLimits:
    """Wrong codes allowed in any WINDOW."""

    stranger: int = 10  # from one address no right code came from
    known: int = 100  # from an address a right code came from: a class of 30 mistyping
    strangers: int = 500  # from all strangers' addresses together


class CodeTries:
    def __init__(self, sessions: sessionmaker[Session], secret: str, limits: CodeLimits = CodeLimits()):
        self.sessions = sessions
        self.secret = secret.encode()
        self.limits = limits

    def begin(self, ip: str) -> int | None:
        """Count a try from `ip`: its id, to pass to `succeeded` if the code is right; None when
        this address, or strangers together, got too many wrong (the try is then not counted)."""
        address = hmac.new(self.secret, ip.encode(), hashlib.sha256).hexdigest()
        now = utcnow()
        with self.sessions.begin() as db:
            attempt = repo.record_attempt(db, KIND, address, now)
            repo.forget_attempts(db, now - REMEMBERED)
        # Counted after the try is committed: of tries made at once, at most the limit pass.
        with self.sessions.begin() as db:
            known = repo.addresses_that_succeeded(db, KIND, now - REMEMBERED)
            since = now - WINDOW
            failed = repo.failed_attempts(db, KIND, since, address=address)
            if address in known:
                allowed = failed <= self.limits.known
            else:
                allowed = failed <= self.limits.stranger and \
                    repo.failed_attempts(db, KIND, since, excluding=known) <= self.limits.strangers
            if not allowed:
                repo.forget_attempt(db, attempt.id)  # so a child trying again is not held back longer
        return attempt.id if allowed else None

    @staticmethod
    def succeeded(db: Session, attempt_id: int) -> None:
        """The code was right: in the caller's transaction, so it counts only if the check-in starts."""
        repo.attempt_succeeded(db, attempt_id)
