"""Staff sign-in sessions: Starlette's SessionMiddleware (a cookie signed with itsdangerous),
scoped to /staff so the young people's side never carries it.

The cookie holds only the staff id, the account's session version, two times and the CSRF
token. It expires after IDLE_LIMIT without use (the signature's age) and, however busy,
ABSOLUTE_LIMIT after signing in. Signing out or a new password raises the account's session
version, which ends every copy of the cookie (bot/staff/guards.py checks it on each request).
An expired sign-in is told apart from never signing in, so the page can say so.

Between a right password and the two-factor code (bot/auth/two_factor.py) the cookie holds only
a pending sign-in (`PendingSignIn`): no page is open to it, and it runs out after PENDING_LIMIT.
"""
from __future__ import annotations

import json
import secrets
import time
from base64 import b64decode
from dataclasses import asdict, dataclass
from datetime import timedelta

import itsdangerous
from fastapi import FastAPI, Request
from starlette.middleware.sessions import SessionMiddleware

from framework.settings import Settings

COOKIE_NAME = "heard_staff"
COOKIE_PATH = "/staff"
IDLE_LIMIT = timedelta(minutes=30)  # ASVS 4.0.3 L2, 3.3.2
ABSOLUTE_LIMIT = timedelta(hours=12)

_STAFF_ID, _VERSION, _SIGNED_IN_AT, _ACTIVE_AT = "staff_id", "version", "signed_in_at", "active_at"
_EXPIRED = "expired"  # set when a sign-in runs out, popped by the sign-in page
_PENDING, _PENDING_AT = "pending", "pending_at"
PENDING_LIMIT = timedelta(minutes=5)  # from the right password to the code
CSRF_KEY = "csrf"


@dataclass(frozen=True)
class PendingSignIn:
    """The password was right; the two-factor code is still to come."""

    staff_id: int
    version: int  # the account's session version then: signing out elsewhere ends this too
    attempt_id: int  # the password's try, marked right once the code is (bot/tries.py)
    next_path: str  # (a form's typing kept over the sign-in travels in the code form, not in this cookie)


def add_session_middleware(app: FastAPI, settings: Settings) -> None:
    app.state.session_secret = settings.resolved_secret_key
    app.add_middleware(
        SessionMiddleware,
        secret_key=app.state.session_secret,
        session_cookie=COOKIE_NAME,
        path=COOKIE_PATH,
        max_age=int(IDLE_LIMIT.total_seconds()),
        # Lax, not Strict: the link in the alert email must open signed in. Forms carry a CSRF token.
        same_site="lax",
        https_only=settings.resolved_staff_url.startswith("https://"),
    )


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def sign_in(request: Request, staff_id: int, version: int) -> None:
    """A fresh session (never the one from before signing in) with a new CSRF token."""
    now = int(time.time())
    request.session.clear()
    request.session.update({_STAFF_ID: staff_id, _VERSION: version, _SIGNED_IN_AT: now, _ACTIVE_AT: now,
                            CSRF_KEY: new_csrf_token()})


def await_code(request: Request, pending: PendingSignIn) -> None:
    """A fresh session holding only the pending sign-in, with a new CSRF token."""
    request.session.clear()
    request.session.update({_PENDING: asdict(pending), _PENDING_AT: int(time.time()), CSRF_KEY: new_csrf_token()})


def pending_sign_in(request: Request) -> PendingSignIn | None:
    """The sign-in waiting for its code, unless it ran out (then it is forgotten)."""
    pending = request.session.get(_PENDING)
    if pending is None:
        return None
    if int(time.time()) - request.session.get(_PENDING_AT, 0) > PENDING_LIMIT.total_seconds():
        request.session.pop(_PENDING, None)
        return None
    return PendingSignIn(**pending)


def sign_out(request: Request, *, expired: bool = False) -> None:
    request.session.clear()
    if expired:
        request.session[_EXPIRED] = True


def session_version(request: Request) -> int | None:
    """The account's session version when this sign-in began."""
    return request.session.get(_VERSION)


def session_staff_id(request: Request) -> int | None:
    """The signed-in staff id, or None. Marks the session expired when a sign-in has run out."""
    session = request.session
    staff_id = session.get(_STAFF_ID)
    if staff_id is None:
        if _stale_cookie_was_signed_in(request):
            sign_out(request, expired=True)
        return None
    now = int(time.time())
    if now - session.get(_SIGNED_IN_AT, 0) > ABSOLUTE_LIMIT.total_seconds():
        sign_out(request, expired=True)
        return None
    # Re-signing the cookie on each page is what makes IDLE_LIMIT count from the last use.
    session[_ACTIVE_AT] = now
    return staff_id


def pop_expired(request: Request) -> bool:
    return bool(request.session.pop(_EXPIRED, False))


def _stale_cookie_was_signed_in(request: Request) -> bool:
    """Did the request carry a genuine (signed by us) but too old cookie of a signed-in session?"""
    cookie = request.cookies.get(COOKIE_NAME)
    if not cookie:
        return False
    signer = itsdangerous.TimestampSigner(request.app.state.session_secret)
    try:
        data = json.loads(b64decode(signer.unsign(cookie.encode("utf-8"))))
    except (itsdangerous.BadSignature, ValueError):
        return False
    return isinstance(data, dict) and _STAFF_ID in data
