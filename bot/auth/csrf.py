"""CSRF protection for staff forms: a random token kept in the signed session and sent back
in a hidden field (the synchronizer-token pattern), compared in constant time."""
from __future__ import annotations

import secrets

from fastapi import Request

from bot.auth.sessions import CSRF_KEY, new_csrf_token

FIELD = "csrf_token"


def csrf_token(request: Request) -> str:
    """This session's token, made on first use (so the sign-in form is protected too)."""
    token = request.session.get(CSRF_KEY)
    if not token:
        token = request.session[CSRF_KEY] = new_csrf_token()
    return token


def csrf_ok(request: Request, submitted: str | None) -> bool:
    expected = request.session.get(CSRF_KEY)
    if not expected or not submitted:
        return False
    return secrets.compare_digest(expected.encode(), submitted.encode())
