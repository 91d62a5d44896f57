"""Two-factor sign-in pages (bot/auth/two_factor.py): the sign-in's second step, where the
code is typed after a right password, and setting it up, which safeguarding leads and
administrators must do before any other page and anyone else may choose to do.

Wrong codes are counted with the sign-in tries, per account and address (bot/tries.py), so a
guesser who has the password still gets only a few codes in 15 minutes.
"""
from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from bot.auth import two_factor
from bot.auth.csrf import FIELD as CSRF_FIELD
from bot.auth.csrf import csrf_ok
from bot.auth.sessions import PendingSignIn, pending_sign_in, session_staff_id, sign_in
from bot.auth.signin import signed_in
from bot.staff.drafts import DRAFT_PREFIX, SIGNED_BACK_IN, TextFields, restore_draft
from bot.staff.guards import Db, SignInNeeded, signed_in_staff
from bot.staff.messages import message
from bot.staff.pages import CHANGE_PASSWORD, HOME, SET_UP_TWO_FACTOR, TWO_FACTOR, flash, render, sign_in_page
from bot.tries import Tries, Try, client_address
from framework.db import repository as repo
from framework.db.models import StaffUser

WRONG_CODE, WAIT = message("sign_in.wrong_code"), message("sign_in.wait_for_code")
SIGN_IN_AGAIN, FORM_STALE = message("sign_in.took_too_long"), message("sign_in.code_stale")
SET_UP = message("sign_in.two_factor_on")

router = APIRouter(prefix="/staff", include_in_schema=False)


def _pending_staff(db: Session, pending: PendingSignIn | None) -> StaffUser | None:
    staff = db.get(StaffUser, pending.staff_id) if pending is not None else None
    if staff is None or not staff.active or staff.session_version != pending.version:
        return None
    return staff


def code_page(request: Request, db: Session, staff: StaffUser, action: str, *, signed_in_as: StaffUser | None = None,
              problem: str | None = None, status: int = 200, draft: dict[str, str] | None = None) -> Response:
    """The code form; with the secret, its otpauth address and a QR code while it is being set
    up; carrying on any typing kept over the sign-in (`draft`)."""
    setting_up = not two_factor.is_set_up(staff)
    context = {}
    if setting_up:
        context = {"secret": two_factor.spaced(two_factor.secret_to_set_up(staff)),
                   "uri": two_factor.setup_uri(staff), "qr": two_factor.setup_qr(staff)}
    return render(request, "staff/two_factor.html", staff=signed_in_as, db=db, status=status, problem=problem,
                  action=action, setting_up=setting_up, required=two_factor.required(staff),
                  draft={k: v for k, v in (draft or {}).items() if v}, draft_prefix=DRAFT_PREFIX, **context)


def _count_try(request: Request, staff_id: int) -> Try | None:
    """Count a code's try before it is checked (in its own transactions: call it before the page
    reads the database); None when this address and account must wait."""
    tries: Tries = request.app.state.sign_in_tries
    return tries.begin(client_address(request), subject=f"two-factor:{staff_id}")


def _code_right(db: Session, staff: StaffUser, code: str, attempt: Try) -> bool:
    setting_up = not two_factor.is_set_up(staff)
    if not two_factor.check_code(db, staff, code):
        repo.audit(db, staff, "two_factor_failed", "staff_user", staff.id)
        return False
    Tries.succeeded(db, attempt)
    if setting_up:
        repo.audit(db, staff, "two_factor_set_up", "staff_user", staff.id)
    return True


# ---- the sign-in's second step -------------------------------------------------------------------


@router.get("/two-factor")
def code_form(request: Request, db: Db) -> Response:
    staff = _pending_staff(db, pending_sign_in(request))
    if staff is None:
        return sign_in_page(request, problem=SIGN_IN_AGAIN)
    return code_page(request, db, staff, TWO_FACTOR)


@router.post("/two-factor")
def code_submit(request: Request, db: Db, fields: TextFields) -> Response:
    pending = pending_sign_in(request)
    draft = {k[len(DRAFT_PREFIX):]: v for k, v in fields.items() if k.startswith(DRAFT_PREFIX)}
    if pending is None or not csrf_ok(request, fields.get(CSRF_FIELD)):
        return sign_in_page(request, status=401, problem=SIGN_IN_AGAIN, next_path=pending.next_path if pending else HOME,
                            draft=draft)
    attempt = _count_try(request, pending.staff_id)
    staff = _pending_staff(db, pending)
    if staff is None:
        return sign_in_page(request, status=401, problem=SIGN_IN_AGAIN, draft=draft)
    if attempt is None:
        return code_page(request, db, staff, TWO_FACTOR, problem=WAIT, status=429, draft=draft)
    if not _code_right(db, staff, fields.get("code", ""), attempt):
        return code_page(request, db, staff, TWO_FACTOR, problem=WRONG_CODE, status=401, draft=draft)
    signed_in(db, staff, pending.attempt_id)
    sign_in(request, staff.id, staff.session_version)
    if draft:
        restored = restore_draft(request, db, staff, pending.next_path, draft, notice=SIGNED_BACK_IN)
        if restored is not None:
            return restored
    return RedirectResponse(pending.next_path, status_code=303)


# ---- setting it up while signed in ---------------------------------------------------------------


def _setting_up(request: Request, db: Session) -> StaffUser:
    """The signed-in member of staff (not `SignedIn`: it sends those who must set this up here)."""
    staff = signed_in_staff(request, db)
    if staff is None:
        raise SignInNeeded()
    return staff


@router.get("/two-factor/setup")
def set_up_form(request: Request, db: Db) -> Response:
    staff = _setting_up(request, db)
    if staff.must_change_password:
        return RedirectResponse(CHANGE_PASSWORD, status_code=303)
    return code_page(request, db, staff, SET_UP_TWO_FACTOR, signed_in_as=staff)


@router.post("/two-factor/setup")
def set_up_submit(request: Request, db: Db, csrf_token: str = Form(""), code: str = Form("")) -> Response:
    staff_id = session_staff_id(request)
    attempt = _count_try(request, staff_id) if staff_id is not None and csrf_ok(request, csrf_token) else None
    staff = _setting_up(request, db)
    if not csrf_ok(request, csrf_token):
        return code_page(request, db, staff, SET_UP_TWO_FACTOR, signed_in_as=staff, problem=FORM_STALE, status=403)
    if two_factor.is_set_up(staff):
        return RedirectResponse(HOME, status_code=303)
    if attempt is None:
        return code_page(request, db, staff, SET_UP_TWO_FACTOR, signed_in_as=staff, problem=WAIT, status=429)
    if not _code_right(db, staff, code, attempt):
        return code_page(request, db, staff, SET_UP_TWO_FACTOR, signed_in_as=staff, problem=WRONG_CODE, status=401)
    repo.end_sign_ins(db, staff)  # any sign-in made with the password alone ends here
    sign_in(request, staff.id, staff.session_version)  # this one carries on
    flash(request, SET_UP)
    return RedirectResponse(HOME, status_code=303)
