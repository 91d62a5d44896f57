"""Checking a staff sign-in: argon2 passwords, lockout after repeated failures, and a
limit on failures from one network address.

The lockout is kept in the database (StaffUser.failed_logins, locked_until), so it holds
across web workers. Failures for emails with no account are counted in memory the same
way, so the answers do not reveal which emails have accounts.
"""
from __future__ import annotations

import enum
import logging
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy.orm import Session

from bot.auth.passwords import hash_password, needs_rehash, verify_password
from bot.chat.limits import SlidingWindow
from framework.db import repository as repo
from framework.db.models import StaffUser, utcnow

log = logging.getLogger(__name__)

MAX_FAILED_SIGN_INS = 5
LOCKOUT = timedelta(minutes=15)
# A whole school may share one address: far more than its staff mistype, far too few to guess.
MAX_FAILURES_PER_ADDRESS = 30


class Outcome(enum.Enum):
    SIGNED_IN = "signed_in"
    WRONG = "wrong"
    LOCKED = "locked"
    TOO_MANY_FROM_ADDRESS = "too_many_from_address"


@dataclass(frozen=True)
class SignInResult:
    outcome: Outcome
    staff: StaffUser | None = None
    minutes_locked: int = 0  # for LOCKED: how long until they can try again


@dataclass
class SignInGuard:
    """In-memory counts of failures, per address and per email without an account."""

    per_address: SlidingWindow = field(
        default_factory=lambda: SlidingWindow(MAX_FAILURES_PER_ADDRESS, LOCKOUT.total_seconds()))
    per_unknown_email: SlidingWindow = field(
        default_factory=lambda: SlidingWindow(MAX_FAILED_SIGN_INS, LOCKOUT.total_seconds()))


@lru_cache(maxsize=1)
def _decoy_hash() -> str:
    return hash_password(secrets.token_urlsafe(16))


def check_sign_in(db: Session, guard: SignInGuard, email: str, password: str, address: str,
                  now: datetime | None = None) -> SignInResult:
    now = now or utcnow()
    if guard.per_address.full(address):
        return SignInResult(Outcome.TOO_MANY_FROM_ADDRESS, minutes_locked=_minutes(LOCKOUT))
    staff = repo.find_staff_by_email(db, email) if email.strip() else None
    if staff is None or not staff.active:
        return _unknown_account(guard, email, password, address)
    if staff.locked_until is not None and staff.locked_until > now:
        return SignInResult(Outcome.LOCKED, staff, _minutes(staff.locked_until - now))
    if not verify_password(staff.password_hash, password):
        guard.per_address.record(address)
        staff.failed_logins += 1
        if staff.failed_logins >= MAX_FAILED_SIGN_INS:
            staff.failed_logins = 0  # after the lockout, a full set of tries again
            staff.locked_until = now + LOCKOUT
            repo.audit(db, staff, "sign_in_locked", "staff_user", staff.id, detail={"minutes": _minutes(LOCKOUT)})
            return SignInResult(Outcome.LOCKED, staff, _minutes(LOCKOUT))
        repo.audit(db, staff, "sign_in_failed", "staff_user", staff.id, detail={"failed_in_a_row": staff.failed_logins})
        return SignInResult(Outcome.WRONG, staff)
    staff.failed_logins = 0
    staff.locked_until = None
    staff.last_login_at = now
    if needs_rehash(staff.password_hash):
        staff.password_hash = hash_password(password)
    repo.audit(db, staff, "sign_in", "staff_user", staff.id)
    return SignInResult(Outcome.SIGNED_IN, staff)


def _unknown_account(guard: SignInGuard, email: str, password: str, address: str) -> SignInResult:
    verify_password(_decoy_hash(), password)  # take as long as a real check: timing tells nothing
    guard.per_address.record(address)
    key = repo.normalise_email(email)
    guard.per_unknown_email.record(key)
    if guard.per_unknown_email.full(key):  # the same try on which a real account locks
        return SignInResult(Outcome.LOCKED, minutes_locked=_minutes(LOCKOUT))
    log.info("sign-in failed for an email with no active account, from %s", address)
    return SignInResult(Outcome.WRONG)


def _minutes(delta: timedelta) -> int:
    return max(1, -(-int(delta.total_seconds()) // 60))  # rounded up: never "0 minutes"
