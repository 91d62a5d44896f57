"""Staff pages: signing in and out, one's own password, and the home page. One sign-in serves
every staff page.
(bot/app.py adds the session cookie, the security headers and the stylesheet.)
"""
from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from bot.auth.csrf import FIELD as CSRF_FIELD
from bot.auth.csrf import csrf_ok
from bot.auth.passwords import hash_password, verify_password
from bot.auth import two_factor
from bot.auth.sessions import PendingSignIn, await_code, sign_in, sign_out
from bot.auth.signin import Outcome, begin_sign_in, check_sign_in
from bot.routers.two_factor import code_page
from bot.staff.drafts import DRAFT_PREFIX, SIGNED_BACK_IN, TextFields, restore_draft
from bot.staff.guards import Db, SignInNeeded, signed_in_staff
from bot.staff.messages import message
from bot.staff.pages import (
    CHANGE_PASSWORD,
    HOME,
    SET_UP_TWO_FACTOR,
    SIGN_IN,
    TWO_FACTOR,
    flash,
    is_safeguarding_lead,
    render,
    safe_next,
    sign_in_page,
)
from bot.tries import Try, client_address
from framework.db import repository as repo
from framework.db.models import StaffUser

STATIC_DIR = Path(__file__).resolve().parent.parent / "static" / "staff"

WRONG_PASSWORD = message("sign_in.wrong_password")
WAIT = message("sign_in.wait")
SIGN_IN_FORM_STALE = message("sign_in.stale")
MISSING_FIELDS = message("sign_in.missing_fields")
MAX_EMAIL_CHARS = 254
MIN_PASSWORD_CHARS = 12  # ASVS 4.0.3 2.1.1
MAX_PASSWORD_CHARS = 128  # ASVS 4.0.3 2.1.2; and no megabyte of text to hash
PASSWORD_TOO_SHORT = message("sign_in.password_too_short").format(min=MIN_PASSWORD_CHARS)
PASSWORD_TOO_LONG = message("sign_in.password_too_long").format(max=MAX_PASSWORD_CHARS)
SIGN_OUT_STALE = message("sign_in.sign_out_stale")
SIGNED_OUT = message("sign_in.signed_out")
PASSWORDS_DIFFER = message("sign_in.passwords_differ")
PASSWORD_NOT_NEW = message("sign_in.password_not_new")
PASSWORD_FORM_STALE = message("sign_in.password_stale")
PASSWORD_CHANGED = message("sign_in.password_changed")


router = APIRouter(prefix="/staff", include_in_schema=False)


@router.get("")
def home(request: Request, db: Db) -> Response:
    staff = signed_in_staff(request, db)
    if staff is None:
        return RedirectResponse(SIGN_IN, status_code=303)
    if staff.must_change_password:
        return RedirectResponse(CHANGE_PASSWORD, status_code=303)
    if two_factor.required(staff) and not two_factor.is_set_up(staff):
        return RedirectResponse(SET_UP_TWO_FACTOR, status_code=303)
    open_alerts = len(repo.list_open_alerts(db, staff.school)) if is_safeguarding_lead(staff) else None
    return render(request, "staff/home.html", staff=staff, db=db, open_alerts=open_alerts)


@router.get("/login")
def sign_in_form(request: Request, db: Db, next: str = HOME) -> Response:
    if signed_in_staff(request, db) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return sign_in_page(request, next_path=next)


@router.post("/login")
def sign_in_submit(request: Request, db: Db, fields: TextFields) -> Response:
    typed_email, password = fields.get("email", "").strip(), fields.get("password", "")
    email = typed_email[:MAX_EMAIL_CHARS]  # what goes back into the form
    next_path = safe_next(fields.get("next"))
    draft = {k[len(DRAFT_PREFIX):]: v for k, v in fields.items() if k.startswith(DRAFT_PREFIX)}

    def again(status: int, problem: str) -> Response:
        # The email and anything typed before are kept; a password never goes back to the browser.
        return sign_in_page(request, status=status, email=email, next_path=next_path, draft=draft, problem=problem)

    if not csrf_ok(request, fields.get(CSRF_FIELD)):
        return again(403, SIGN_IN_FORM_STALE)
    if not email or not password:
        return again(422, MISSING_FIELDS)
    if len(password) > MAX_PASSWORD_CHARS or len(typed_email) > MAX_EMAIL_CHARS:  # no such password or email
        return again(401, WRONG_PASSWORD)
    # Counted before the password is checked, and before this request's transaction begins.
    attempt = begin_sign_in(request.app.state.sign_in_tries, email, client_address(request))
    result = check_sign_in(db, attempt, email, password) if isinstance(attempt, Try) else attempt
    if result.outcome is Outcome.WAIT:
        return again(429, WAIT.format(minutes=result.minutes_to_wait))
    if result.outcome is Outcome.WRONG:
        return again(401, WRONG_PASSWORD)
    if result.outcome is Outcome.CODE_NEEDED:
        await_code(request, PendingSignIn(result.staff.id, result.staff.session_version, attempt.id, next_path))
        if draft:  # typing kept over the sign-in goes on in the code form (too big for a cookie)
            return code_page(request, db, result.staff, TWO_FACTOR, draft=draft)
        return RedirectResponse(TWO_FACTOR, status_code=303)
    sign_in(request, result.staff.id, result.staff.session_version)
    if draft:
        restored = restore_draft(request, db, result.staff, next_path, draft, notice=SIGNED_BACK_IN)
        if restored is not None:
            return restored
    return RedirectResponse(next_path, status_code=303)


@router.post("/logout")
def sign_out_submit(request: Request, db: Db, csrf_token: str = Form("")) -> Response:
    if not csrf_ok(request, csrf_token):
        flash(request, SIGN_OUT_STALE)
        return RedirectResponse(HOME, status_code=303)
    staff = signed_in_staff(request, db)
    if staff is not None:
        repo.end_sign_ins(db, staff)  # every copy of the cookie, on any device
        repo.audit(db, staff, "sign_out", "staff_user", staff.id)
    sign_out(request)
    flash(request, SIGNED_OUT)
    return RedirectResponse(SIGN_IN, status_code=303)


# ---- one's own password --------------------------------------------------------------------------


@router.get("/password")
def password_form(request: Request, db: Db) -> Response:
    staff = signed_in_staff(request, db)  # not `SignedIn`: it sends anyone who must change it here
    if staff is None:
        raise SignInNeeded()
    return _password_page(request, db, staff)


@router.post("/password")
def password_submit(request: Request, db: Db, csrf_token: str = Form(""), password: str = Form(""),
                    again: str = Form("")) -> Response:
    staff = signed_in_staff(request, db)
    if staff is None:
        raise SignInNeeded()
    if not csrf_ok(request, csrf_token):
        return _password_page(request, db, staff, problem=PASSWORD_FORM_STALE, status=403)
    problem = password_problem(staff, password, again)
    if problem:
        return _password_page(request, db, staff, problem=problem, status=422)
    staff.password_hash = hash_password(password)
    staff.must_change_password = False
    repo.end_sign_ins(db, staff)  # every other sign-in, with the old password or not, ends here
    repo.audit(db, staff, "password_changed", "staff_user", staff.id)
    sign_in(request, staff.id, staff.session_version)  # this one carries on
    flash(request, PASSWORD_CHANGED)
    return RedirectResponse(HOME, status_code=303)


def password_problem(staff: StaffUser, password: str, again: str) -> str | None:
    if len(password) < MIN_PASSWORD_CHARS:
        return PASSWORD_TOO_SHORT
    if len(password) > MAX_PASSWORD_CHARS:
        return PASSWORD_TOO_LONG
    if password != again:
        return PASSWORDS_DIFFER
    if verify_password(staff.password_hash, password):
        return PASSWORD_NOT_NEW
    return None


def _password_page(request: Request, db: Session, staff: StaffUser, *, problem: str | None = None,
                   status: int = 200) -> Response:
    return render(request, "staff/password.html", staff=staff, db=db, status=status, problem=problem,
                  must_change=staff.must_change_password, min_chars=MIN_PASSWORD_CHARS)
