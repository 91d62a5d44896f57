"""Two-factor sign-in: after the password, a six-digit code from an authenticator app (TOTP,
RFC 6238, made and checked by pyotp).

Safeguarding leads and administrators must use it: their first sign-in sets it up. Everyone
else may turn it on from their account. A code is accepted in its own 30 seconds or the ones
either side (a phone's clock may be a little out), and never twice: the time step of the last
code accepted is kept, and a code must be of a later step, checked and stored in one UPDATE so
two requests with the same code cannot both pass. Lost phone: an administrator resets it
(audited; the school's staff are told when it is a safeguarding lead's), and the person sets
it up again at their next sign-in. Wrong codes are counted with the sign-in tries (bot/tries.py).
"""
from __future__ import annotations

import hmac
from datetime import datetime

import pyotp
from markupsafe import Markup
from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from bot.reports.invites import qr_svg
from framework.db.models import StaffUser, utcnow

REQUIRED_FOR = ("dsl", "admin")  # they see every worry of a school, or manage every account
ISSUER = "Heard"
CODE_DIGITS = 6
STEPS_EITHER_SIDE = 1


def required(staff: StaffUser) -> bool:
    return staff.role in REQUIRED_FOR


def is_set_up(staff: StaffUser) -> bool:
    return staff.totp_secret is not None and staff.totp_confirmed_at is not None


def needs_code(staff: StaffUser) -> bool:
    """Does signing in take a code after the password (or setting one up)?"""
    return required(staff) or is_set_up(staff)


def secret_to_set_up(staff: StaffUser) -> str:
    """The secret a person is setting up: the one already shown to them (so a reload shows the
    same), else a new one. Never changes a secret that is set up."""
    if staff.totp_secret is None or staff.totp_confirmed_at is None:
        staff.totp_secret = staff.totp_secret or pyotp.random_base32()
    return staff.totp_secret


def setup_uri(staff: StaffUser) -> str:
    """The otpauth:// address an authenticator app reads (typed in, or from the QR code)."""
    return pyotp.TOTP(secret_to_set_up(staff)).provisioning_uri(name=staff.email, issuer_name=ISSUER)


def setup_qr(staff: StaffUser) -> Markup:
    return qr_svg(setup_uri(staff), title="QR code: scan it with your authenticator app")


def spaced(secret: str) -> str:
    """The secret in groups of four, for typing into an app."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def check_code(db: Session, staff: StaffUser, typed: str, now: datetime | None = None) -> bool:
    """True once for a right code: its time step is stored (and the set-up confirmed) in the
    caller's transaction. False for a wrong code, or one of a step already used."""
    code = "".join(ch for ch in typed if not ch.isspace())
    if staff.totp_secret is None or len(code) != CODE_DIGITS or not code.isascii() or not code.isdigit():
        return False
    now = now or utcnow()
    totp = pyotp.TOTP(staff.totp_secret)
    current = totp.timecode(now)
    step = next((current + offset for offset in range(-STEPS_EITHER_SIDE, STEPS_EITHER_SIDE + 1)
                 if hmac.compare_digest(totp.generate_otp(current + offset), code)), None)
    if step is None:
        return False
    used = db.execute(
        update(StaffUser)
        .where(StaffUser.id == staff.id, or_(StaffUser.totp_last_step.is_(None), StaffUser.totp_last_step < step))
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.expire(staff, ["totp_last_step"])
    if used != 1:
        return False  # this code (or a later one) was accepted before
    if staff.totp_confirmed_at is None:
        staff.totp_confirmed_at = now
    return True


def reset(staff: StaffUser) -> None:
    """Forget the account's two-factor set-up (a lost phone): it is set up again at the next sign-in."""
    staff.totp_secret = staff.totp_confirmed_at = staff.totp_last_step = None
