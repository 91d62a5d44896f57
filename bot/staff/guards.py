"""Who may see a staff page, as FastAPI dependencies that raise.

A handler names what it needs, e.g. `db: Db, staff: Senco, pupil: OwnPupil`, and holds only
its own logic; a form's route adds `dependencies=[fresh_form(...)]`. A need not met raises a
`Refusal`, which `answer_refusal` (the one exception handler) turns into a page: the sign-in
page, the form again as it was typed (its token was stale: 403), "not for your role" (403) or
"not found" (404).
The guards write each refusal of a signed-in member of staff to the audit log, and the
refusal's entry is kept. Another school's record looks like no record at all.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Depends, Request
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from bot.auth import two_factor
from bot.auth.csrf import FIELD as CSRF_FIELD
from bot.auth.csrf import csrf_ok
from bot.auth.sessions import session_staff_id, session_version, sign_out
from bot.staff.drafts import TextFields, kept_draft, restore_draft
from bot.staff.messages import message
from bot.staff.pages import CHANGE_PASSWORD, FORM_STALE, SET_UP_TWO_FACTOR, SIGN_IN, render, sign_in_page
from framework.db import repository as repo
from framework.db.models import ROLES_WITHOUT_SCHOOL, Invite, Pupil, StaffUser

MAX_ID = 2**31 - 1  # larger numbers are no id (and would overflow PostgreSQL's integer)
NOT_FOR_ROLE_TITLE, NOT_FOR_ROLE = message("forms.not_for_role_title"), message("forms.not_for_role")
NOT_FOUND_TITLE, NOT_FOUND = message("forms.not_found_title"), message("forms.not_found")


class Refusal(Exception):
    """Why a staff page is not shown; `answer_refusal` says so to the person."""


class SignInNeeded(Refusal):
    pass


class PasswordChangeNeeded(Refusal):
    """An administrator set their password: no page until they choose their own."""


class TwoFactorSetUpNeeded(Refusal):
    """A safeguarding lead or administrator without two-factor sign-in: no page until it is set up."""


class NotForRole(Refusal):
    def __init__(self, staff_id: int, who: str):
        super().__init__(who)
        self.staff_id, self.who = staff_id, who


class NotFound(Refusal):
    def __init__(self, staff_id: int):
        super().__init__(staff_id)
        self.staff_id = staff_id


class StaleForm(Refusal):
    """A form sent with a stale token (the page was open too long): nothing is saved, and the
    page it came from is shown again with what was typed."""
    def __init__(self, staff_id: int):
        super().__init__(staff_id)
        self.staff_id = staff_id


def database(request: Request) -> Iterator[Session]:
    """One transaction for the page, committed before the page is sent. A refusal keeps its
    audit entry; any other error undoes everything."""
    with request.app.state.sessions() as db:
        try:
            yield db
        except Refusal:
            db.commit()
            raise
        db.commit()


# scope="function": committed before the response goes out, so a redirect never outruns its write.
Db = Annotated[Session, Depends(database, scope="function")]


def signed_in_staff(request: Request, db: Session) -> StaffUser | None:
    staff_id = session_staff_id(request)
    if staff_id is None:
        return None
    staff = db.get(StaffUser, staff_id)
    # A different version: they signed out elsewhere, or their password changed since.
    if staff is None or not staff.active or session_version(request) != staff.session_version:
        sign_out(request)
        return None
    return staff


def signed_in(request: Request, db: Db) -> StaffUser:
    staff = signed_in_staff(request, db)
    if staff is None:
        raise SignInNeeded()
    if staff.must_change_password:
        raise PasswordChangeNeeded()
    if two_factor.required(staff) and not two_factor.is_set_up(staff):
        raise TwoFactorSetUpNeeded()
    return staff


SignedIn = Annotated[StaffUser, Depends(signed_in)]


def fresh_form(*fields: str):
    """For a staff form's route, `dependencies=[fresh_form("name", ...)]`: notes the fields worth
    keeping, so a sign-in that ran out shows them on the sign-in page, then checks the form's
    token. A stale token raises StaleForm, and the page's restorer (bot/staff/drafts.py) shows
    the form again. Route dependencies run first, so this comes before any other refusal."""
    def fresh(request: Request, db: Db, sent: TextFields) -> None:
        request.state.draft = {field: sent.get(field, "") for field in fields}
        if not csrf_ok(request, sent.get(CSRF_FIELD)):
            raise StaleForm(signed_in(request, db).id)  # a sign-in that ran out is said first
    fresh.keeps = fields  # what the route keeps (tests/unit/test_staff_drafts.py reads it)
    return Depends(fresh)


def requires_role(*roles: str, who: str) -> Callable[[Request, Session, StaffUser], StaffUser]:
    """A dependency: the signed-in member of staff, if their role is one of `roles` (and a school
    role has a school). `who` names those roles for the "not for your role" page."""
    def staff_with_role(request: Request, db: Db, staff: SignedIn) -> StaffUser:
        if staff.role not in roles or (staff.role not in ROLES_WITHOUT_SCHOOL and staff.school_id is None):
            repo.audit(db, staff, "page_refused", "staff_page", request.url.path[:64], detail={"role": staff.role})
            raise NotForRole(staff.id, who)
        return staff
    return staff_with_role


senco = requires_role("senco", who="SENCOs")
Senco = Annotated[StaffUser, Depends(senco)]


def parse_id(text: str) -> int | None:
    """A database id from a URL, or None for anything that is not one."""
    return int(text) if text.isdigit() and 0 < int(text) <= MAX_ID else None


def own_record(db: Session, staff: StaffUser, model: type, record_id: str, school_id_of: Callable[[object], int],
               object_type: str, refused_action: str):
    """The `model` row with this id from a URL, if it belongs to this member of staff's school;
    else NotFound, the refusal audited."""
    number = parse_id(record_id)
    record = db.get(model, number) if number is not None else None
    if record is None or staff.school_id is None or school_id_of(record) != staff.school_id:
        repo.audit(db, staff, refused_action, object_type, record_id[:64], detail={"role": staff.role})
        raise NotFound(staff.id)
    return record


def named_invites(request: Request, staff: StaffUser, find: Callable[[list[int]], list[Invite] | None]) -> list[Invite]:
    """The invites the URL names (`?invite=1&invite=2`), if `find` gives back every one (it finds
    only this member of staff's); else NotFound."""
    invite_ids = [parse_id(text) for text in request.query_params.getlist("invite")]
    invites = None if None in invite_ids else find(invite_ids)
    if invites is None:
        raise NotFound(staff.id)
    return invites


def own_pupil(pupil_id: str, db: Db, staff: Senco) -> Pupil:
    return own_record(db, staff, Pupil, pupil_id, lambda pupil: pupil.school_id, "pupil", "view_pupil_refused")


OwnPupil = Annotated[Pupil, Depends(own_pupil)]


def answer_refusal(request: Request, refusal: Refusal) -> Response:
    """The one exception handler for staff pages (bot/app.py adds it)."""
    if isinstance(refusal, SignInNeeded):
        return sign_in_needed(request)
    if isinstance(refusal, PasswordChangeNeeded):
        return RedirectResponse(CHANGE_PASSWORD, status_code=303)
    if isinstance(refusal, TwoFactorSetUpNeeded):
        return RedirectResponse(SET_UP_TWO_FACTOR, status_code=303)
    if isinstance(refusal, StaleForm):
        return form_again(request, refusal)
    with request.app.state.sessions() as db:
        staff = db.get(StaffUser, refusal.staff_id)
        if isinstance(refusal, NotForRole):
            return render(request, "staff/message.html", staff=staff, db=db, status=403, title=NOT_FOR_ROLE_TITLE,
                          message=NOT_FOR_ROLE.format(who=refusal.who))
        return render(request, "staff/message.html", staff=staff, db=db, status=404, title=NOT_FOUND_TITLE,
                      message=NOT_FOUND)


def form_again(request: Request, refusal: StaleForm) -> Response:
    """The page a stale form came from, with what was typed put back and why nothing was saved."""
    with request.app.state.sessions() as db:
        staff = db.get(StaffUser, refusal.staff_id)
        try:
            page = restore_draft(request, db, staff, request.url.path, kept_draft(request) or {},
                                 problem=FORM_STALE, status=403)
        except Refusal as other:  # e.g. not for their role: its audit entry is kept
            db.commit()
            return answer_refusal(request, other)
        db.commit()
    if page is None:
        raise LookupError(f"no page restores the form of {request.url.path}")
    return page


UNREADABLE_FORM = message("forms.unreadable")
UNREADABLE_TITLE = message("forms.unreadable_title")


async def answer_unreadable_form(request: Request, error: RequestValidationError) -> Response:
    """A staff form FastAPI could not read into its fields: a page that says so, not JSON.
    (The chat API reads its bodies itself and answers in its own words: bot/routers/chat.py.)"""
    if not request.url.path.startswith("/staff"):
        return await request_validation_exception_handler(request, error)
    return render(request, "staff/message.html", status=422, title=UNREADABLE_TITLE,
                  message=UNREADABLE_FORM)


def sign_in_needed(request: Request) -> Response:
    """A page asked for without a sign-in: a page view goes to the sign-in page; a form sent
    is answered with the sign-in page straight away, holding what was typed."""
    here = request.url.path
    if request.method == "GET":
        query = f"{here}?{request.url.query}" if request.url.query else here
        return RedirectResponse(f"{SIGN_IN}?{urlencode({'next': query})}", status_code=303)
    return sign_in_page(request, status=401, next_path=here, draft=kept_draft(request))
