"""Staff pages: signing in and out, and the home page. One sign-in serves every staff page.
(bot/app.py adds the session cookie, the security headers and the stylesheet.)
"""
from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from bot.auth.csrf import FIELD as CSRF_FIELD
from bot.auth.csrf import csrf_ok
from bot.auth.sessions import sign_in, sign_out
from bot.auth.signin import Outcome, check_sign_in
from bot.staff.drafts import DRAFT_PREFIX, restore_draft
from bot.staff.guards import Db, signed_in_staff
from bot.staff.pages import HOME, SIGN_IN, flash, is_safeguarding_lead, render, safe_next, sign_in_page
from framework.db import repository as repo

STATIC_DIR = Path(__file__).resolve().parent.parent / "static" / "staff"

WRONG_PASSWORD = ("That email or password is not right. Please check them and try again. "
                  "After 5 wrong tries in a row, signing in stops for 15 minutes.")
LOCKED = ("There were too many wrong passwords for this account, so it is locked for now to keep it safe. "
          "Please try again in {minutes} minutes. If you have forgotten your password, ask your Heard administrator.")
TOO_MANY_FROM_ADDRESS = ("There have been too many wrong sign-ins from this network. "
                         "Please wait {minutes} minutes, then try again.")
SIGN_IN_FORM_STALE = ("This sign-in page was open too long, so it could not be used. "
                      "Please sign in again. (If this keeps happening, allow cookies for this site.)")
MISSING_FIELDS = "Please type your email and your password."
SIGNED_BACK_IN = "You are signed in again. Nothing was saved yet: check what you typed, then press the button again."


router = APIRouter(prefix="/staff", include_in_schema=False)


def _client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.get("")
def home(request: Request, db: Db) -> Response:
    staff = signed_in_staff(request, db)
    if staff is None:
        return RedirectResponse(SIGN_IN, status_code=303)
    open_alerts = len(repo.list_open_alerts(db, staff.school)) if is_safeguarding_lead(staff) else None
    return render(request, "staff/home.html", staff=staff, db=db, open_alerts=open_alerts)


@router.get("/login")
def sign_in_form(request: Request, db: Db, next: str = HOME) -> Response:
    if signed_in_staff(request, db) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return sign_in_page(request, next_path=next)


@router.post("/login")
async def sign_in_submit(request: Request, db: Db) -> Response:
    form = await request.form()
    fields = {key: value for key, value in form.items() if isinstance(value, str)}
    return await run_in_threadpool(_sign_in, request, db, fields)


def _sign_in(request: Request, db: Session, fields: dict[str, str]) -> Response:
    email, password = fields.get("email", "").strip(), fields.get("password", "")
    next_path = safe_next(fields.get("next"))
    draft = {k[len(DRAFT_PREFIX):]: v for k, v in fields.items() if k.startswith(DRAFT_PREFIX)}

    def again(status: int, problem: str) -> Response:
        # The email and anything typed before are kept; a password never goes back to the browser.
        return sign_in_page(request, status=status, email=email, next_path=next_path, draft=draft, problem=problem)

    if not csrf_ok(request, fields.get(CSRF_FIELD)):
        return again(403, SIGN_IN_FORM_STALE)
    if not email or not password:
        return again(422, MISSING_FIELDS)
    result = check_sign_in(db, request.app.state.sign_in_guard, email, password, _client_address(request))
    if result.outcome is Outcome.TOO_MANY_FROM_ADDRESS:
        return again(429, TOO_MANY_FROM_ADDRESS.format(minutes=result.minutes_locked))
    if result.outcome is Outcome.LOCKED:
        return again(429, LOCKED.format(minutes=result.minutes_locked))
    if result.outcome is Outcome.WRONG:
        return again(401, WRONG_PASSWORD)
    sign_in(request, result.staff.id)
    if draft:
        restored = restore_draft(request, db, result.staff, next_path, draft, SIGNED_BACK_IN)
        if restored is not None:
            return restored
    return RedirectResponse(next_path, status_code=303)


@router.post("/logout")
def sign_out_submit(request: Request, db: Db, csrf_token: str = Form("")) -> Response:
    if not csrf_ok(request, csrf_token):
        flash(request, "Signing out did not work because the page was open too long. Please press Sign out again.")
        return RedirectResponse(HOME, status_code=303)
    staff = signed_in_staff(request, db)
    if staff is not None:
        repo.audit(db, staff, "sign_out", "staff_user", staff.id)
    sign_out(request)
    flash(request, "You are signed out.")
    return RedirectResponse(SIGN_IN, status_code=303)
