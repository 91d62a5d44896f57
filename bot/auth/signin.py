"""Checking a staff sign-in: argon2 passwords, and wrong passwords slowed down, never locking
out the person whose account it is.

Every try is counted in the database before the password is checked (bot/tries.py), per
account and network address: 5 wrong in 15 minutes from an address the account never signed
in from, 20 from one it did (a school's). Across all addresses, wrong passwords in a row
(counted in the database, so parallel guesses all count) make the account wait longer and
longer, up to 15 minutes, but only for addresses it never signed in from: someone who knows
a safeguarding lead's email cannot keep them out at school. An email without an account gets
the same answers, so the answers do not tell which emails have accounts. An account with
two-factor sign-in set up is signed in only once its code is right too (bot/routers/two_factor.py).
"""
from __future__ import annotations

import enum
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy.orm import Session, sessionmaker

from bot.auth import two_factor
from bot.auth.passwords import hash_password, needs_rehash, verify_password
from bot.tries import WINDOW, Tries, TryLimits, Try
from framework.db import repository as repo
from framework.db.models import StaffUser, utcnow

log = logging.getLogger(__name__)

SIGN_IN_TRIES = TryLimits(stranger=5, known=20, strangers=300)
BACK_OFF_AFTER = 5  # wrong passwords in a row before the account waits
LONGEST_WAIT = timedelta(minutes=15)


class Outcome(enum.Enum):
    SIGNED_IN = "signed_in"
    CODE_NEEDED = "code_needed"  # the password was right; the two-factor code comes next
    WRONG = "wrong"
    WAIT = "wait"  # too many wrong: from this address, or for this account


@dataclass(frozen=True)
class SignInResult:
    outcome: Outcome
    staff: StaffUser | None = None
    minutes_to_wait: int = 0  # for WAIT


def sign_in_tries(sessions: sessionmaker[Session], secret: str) -> Tries:
    return Tries(sessions, secret, "staff_sign_in", SIGN_IN_TRIES)


def begin_sign_in(tries: Tries, email: str, address: str) -> Try | SignInResult:
    """Count the try before anything is checked (in its own transactions: before the caller's)."""
    attempt = tries.begin(address, subject=repo.normalise_email(email))
    return attempt if attempt is not None else SignInResult(Outcome.WAIT, minutes_to_wait=_minutes(WINDOW))


def back_off(failures_in_a_row: int) -> timedelta:
    """1 minute after the 5th wrong password in a row, then 2, 4, 8, then 15 at most."""
    if failures_in_a_row < BACK_OFF_AFTER:
        return timedelta(0)
    return min(timedelta(minutes=2 ** min(failures_in_a_row - BACK_OFF_AFTER, 4)), LONGEST_WAIT)


@lru_cache(maxsize=1)
def _decoy_hash() -> str:
    return hash_password(secrets.token_urlsafe(16))


def check_sign_in(db: Session, attempt: Try, email: str, password: str, now: datetime | None = None) -> SignInResult:
    now = now or utcnow()
    staff = repo.find_staff_by_email(db, email) if email.strip() else None
    if staff is None or not staff.active:
        verify_password(_decoy_hash(), password)  # take as long as a real check: timing tells nothing
        log.info("sign-in failed for an email with no active account")
        return SignInResult(Outcome.WRONG)
    if not attempt.known and staff.locked_until is not None and staff.locked_until > now:
        return SignInResult(Outcome.WAIT, staff, _minutes(staff.locked_until - now))
    if not verify_password(staff.password_hash, password):
        failures = repo.count_failed_sign_in(db, staff)
        wait = back_off(failures)
        if wait:
            staff.locked_until = now + wait
            repo.audit(db, staff, "sign_in_slowed", "staff_user", staff.id,
                       detail={"failed_in_a_row": failures, "minutes": _minutes(wait)})
        else:
            repo.audit(db, staff, "sign_in_failed", "staff_user", staff.id, detail={"failed_in_a_row": failures})
        return SignInResult(Outcome.WRONG, staff)
    staff.failed_logins = 0
    staff.locked_until = None
    if needs_rehash(staff.password_hash):
        staff.password_hash = hash_password(password)
    if two_factor.is_set_up(staff):
        return SignInResult(Outcome.CODE_NEEDED, staff)
    signed_in(db, staff, attempt.id, now)
    return SignInResult(Outcome.SIGNED_IN, staff)


def signed_in(db: Session, staff: StaffUser, attempt_id: int, now: datetime | None = None) -> None:
    """Every step passed: the password's try counts as right, and the sign-in is audited."""
    staff.last_login_at = now or utcnow()
    repo.attempt_succeeded(db, attempt_id)
    repo.audit(db, staff, "sign_in", "staff_user", staff.id)


def _minutes(delta: timedelta) -> int:
    return max(1, -(-int(delta.total_seconds()) // 60))  # rounded up: never "0 minutes"
