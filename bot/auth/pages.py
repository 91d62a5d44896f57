"""What every staff page shares: the templates (Jinja2, autoescaped), who is signed in,
the navigation, and the pages for signing in, "not for your role" and "not found".

A form sent after the sign-in ran out is not lost: the sign-in page shows what was typed
and sends it on, so the page it came from can put it back once signed in again.
"""
from __future__ import annotations

import re

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import urlencode, urlsplit
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlalchemy.orm import Session, sessionmaker
from starlette.templating import Jinja2Templates

from bot.auth.csrf import csrf_token
from bot.auth.sessions import pop_expired, session_staff_id, sign_out
from framework.db import repository as repo
from framework.db.models import Pupil, StaffUser
from framework.safeguarding import safeguarding_categories

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
SCHOOL_TIME = ZoneInfo("Europe/London")
HOME = "/staff"
SIGN_IN = "/staff/login"
DRAFT_PREFIX = "draft."  # form fields carrying what was typed before signing in again

ROLE_LABELS = {
    "admin": "Administrator",
    "senco": "SENCO",
    "dsl": "Designated safeguarding lead",
    "la_officer": "Local authority officer",
}

MAX_ID = 2**31 - 1  # larger numbers are no id (and would overflow PostgreSQL's integer)

SIGNED_OUT_FOR_SAFETY = "You were signed out because the page was not used for a while. Please sign in again."
DRAFT_KEPT = "Your sign-in ran out, so nothing was saved yet. What you typed is kept below. Sign in to carry on."
SIGN_IN_TO_CARRY_ON = "Please sign in to carry on. What you typed is kept below."


def school_time(value: datetime | str | None) -> str:
    """A stored UTC time as a person in England reads it, e.g. 'Mon 3 Feb 2025, 14:05'."""
    if value is None:
        return ""
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    local = when.astimezone(SCHOOL_TIME)
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M}"


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,  # every value is HTML-escaped: a child's "<script>" shows as text
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["school_time"] = school_time
    env.filters["category"] = safeguarding_categories().label
    env.filters["role"] = lambda r: ROLE_LABELS.get(r, r)
    return env


templates = Jinja2Templates(env=_environment())


def staff_db(request: Request) -> sessionmaker[Session]:
    return request.app.state.sessions


def signed_in_staff(request: Request, db: Session) -> StaffUser | None:
    staff_id = session_staff_id(request)
    if staff_id is None:
        return None
    staff = db.get(StaffUser, staff_id)
    if staff is None or not staff.active:
        sign_out(request)
        return None
    return staff


def is_safeguarding_lead(staff: StaffUser) -> bool:
    return staff.role == "dsl" and staff.school_id is not None


@dataclass(frozen=True)
class NavLink:
    label: str
    href: str
    count: int | None = None  # e.g. open alerts, shown beside the label


# Each role's pages, in the order the navigation shows them. A page not listed for a role
# answers "not for your role" (403) to it; another school's record answers 404.
ROLE_PAGES: dict[str, tuple[tuple[str, str], ...]] = {
    "senco": (("Pupils", "/staff/pupils"),),
    "dsl": (("Safeguarding alerts", "/staff/alerts"),),
    "la_officer": (("Council view", "/staff/council"),),
    "admin": (("Accounts", "/staff/admin/accounts"), ("Schools", "/staff/admin/schools"),
              ("Audit log", "/staff/admin/audit")),
}


def nav_links(staff: StaffUser | None, db: Session | None) -> list[NavLink]:
    if staff is None:
        return []
    links = [NavLink("Home", HOME)]
    for label, href in ROLE_PAGES.get(staff.role, ()):
        count = None
        if href == "/staff/alerts":
            if not is_safeguarding_lead(staff) or db is None:
                continue
            count = len(repo.list_open_alerts(db, staff.school))
        links.append(NavLink(label, href, count))
    return links


def staff_with_role(request: Request, db: Session, roles: tuple[str, ...], *, who: str,
                    draft: dict[str, str] | None = None) -> StaffUser | Response:
    """The signed-in member of staff if their role is one of `roles` (and a school role has a
    school); otherwise the response to send: the sign-in page (keeping `draft`) or "not for
    your role", the refusal audited. Every staff page starts with this."""
    staff = signed_in_staff(request, db)
    if staff is None:
        return sign_in_needed(request, draft=draft)
    if staff.role not in roles or (staff.role not in ("admin", "la_officer") and staff.school_id is None):
        repo.audit(db, staff, "page_refused", "staff_page", request.url.path[:64], detail={"role": staff.role})
        return not_for_role(request, staff, db, who=who)
    return staff


def staff_and_own_record(request: Request, db: Session, roles: tuple[str, ...], who: str,
                         find: Callable[[Session, StaffUser, str], object | None], record_id: str,
                         draft: dict[str, str] | None = None) -> tuple[StaffUser, object] | Response:
    """`staff_with_role`, then `find(db, staff, record_id)` (e.g. own_pupil): the member of staff
    and their own school's record, or the response to send (sign-in, not your role, not found)."""
    staff = staff_with_role(request, db, roles, who=who, draft=draft)
    if isinstance(staff, Response):
        return staff
    record = find(db, staff, record_id)
    if record is None:
        return not_found(request, staff, db)
    return staff, record


def parse_id(text: str) -> int | None:
    """A database id from a URL, or None for anything that is not one."""
    return int(text) if text.isdigit() and 0 < int(text) <= MAX_ID else None


def own_record(db: Session, staff: StaffUser, model: type, record_id: str, school_id_of: Callable[[object], int],
               object_type: str, refused_action: str):
    """The `model` row with this id from a URL, if it belongs to this member of staff's school;
    else None, the refusal audited. Callers answer None with not_found: another school's record
    looks like no record at all."""
    number = parse_id(record_id)
    record = db.get(model, number) if number is not None else None
    if record is None or staff.school_id is None or school_id_of(record) != staff.school_id:
        repo.audit(db, staff, refused_action, object_type, record_id[:64], detail={"role": staff.role})
        return None
    return record


def own_pupil(db: Session, staff: StaffUser, pupil_id: str) -> Pupil | None:
    return own_record(db, staff, Pupil, pupil_id, lambda pupil: pupil.school_id, "pupil", "view_pupil_refused")


def attachment(filename: str) -> dict[str, str]:
    """Headers that make a response a download. Ids and dates only: a child's name never goes
    into a file name (it shows in download lists and email attachments)."""
    return {"Content-Disposition": f'attachment; filename="{filename}"'}


# After signing in again, a form that was sent with an expired sign-in is shown again with
# what was typed put back: each page that has a form registers how (path pattern, restorer).
DraftRestorer = Callable[[Request, Session, StaffUser, "re.Match[str]", dict[str, str], str], "Response | None"]
DRAFT_RESTORERS: list[tuple["re.Pattern[str]", DraftRestorer]] = []


def restores_drafts(pattern: str) -> Callable[[DraftRestorer], DraftRestorer]:
    """Decorator: `restorer(request, db, staff, match, draft, notice)` for paths matching `pattern`."""
    def register(restorer: DraftRestorer) -> DraftRestorer:
        DRAFT_RESTORERS.append((re.compile(pattern), restorer))
        return restorer
    return register


def restore_draft(request: Request, db: Session, staff: StaffUser, next_path: str, draft: dict[str, str],
                  notice: str) -> Response | None:
    for pattern, restorer in DRAFT_RESTORERS:
        match = pattern.fullmatch(urlsplit(next_path).path)
        if match is not None:
            return restorer(request, db, staff, match, draft, notice)
    return None


def flash(request: Request, notice: str) -> None:
    """A one-line notice for the next page (after a redirect)."""
    request.session["notice"] = notice


def render(request: Request, name: str, *, staff: StaffUser | None = None, db: Session | None = None,
           status: int = 200, **context) -> Response:
    base = {
        "staff": staff,
        "nav": nav_links(staff, db),
        "current_path": request.url.path,
        "csrf_token": csrf_token(request),
        "notice": request.session.pop("notice", None),
        "problem": None,
    }
    return templates.TemplateResponse(request, name, {**base, **context}, status_code=status)


def safe_next(target: str | None) -> str:
    """Where to go after signing in: only a staff page on this site, never elsewhere."""
    if not target or "\\" in target or any(ord(ch) < 32 for ch in target):
        return HOME
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not (parts.path == HOME or parts.path.startswith(HOME + "/")):
        return HOME
    if ".." in parts.path.split("/"):
        return HOME
    if parts.path in (SIGN_IN, "/staff/logout"):
        return HOME
    return target


def sign_in_page(request: Request, *, status: int = 200, email: str = "", next_path: str = HOME,
                 draft: dict[str, str] | None = None, problem: str | None = None) -> Response:
    draft = {k: v for k, v in (draft or {}).items() if v}
    expired = pop_expired(request)
    if problem is None and expired:
        problem = DRAFT_KEPT if draft else SIGNED_OUT_FOR_SAFETY
    elif problem is None and draft:
        problem = SIGN_IN_TO_CARRY_ON
    return render(request, "staff/login.html", status=status, email=email, next_path=safe_next(next_path),
                  draft=draft, draft_prefix=DRAFT_PREFIX, problem=problem)


def sign_in_needed(request: Request, *, draft: dict[str, str] | None = None) -> Response:
    """A page asked for without a sign-in: a page view goes to the sign-in page; a form sent
    is answered with the sign-in page straight away, holding what was typed."""
    here = request.url.path
    if request.method == "GET":
        query = f"{here}?{request.url.query}" if request.url.query else here
        return RedirectResponse(f"{SIGN_IN}?{urlencode({'next': query})}", status_code=303)
    return sign_in_page(request, status=401, next_path=here, draft=draft)


def not_found(request: Request, staff: StaffUser | None, db: Session) -> Response:
    return render(request, "staff/message.html", staff=staff, db=db, status=404,
                  title="Page not found",
                  message="There is nothing here, or it is not for your account. Check the link, or go back home.")


def not_for_role(request: Request, staff: StaffUser, db: Session, *, who: str) -> Response:
    return render(request, "staff/message.html", staff=staff, db=db, status=403,
                  title="This page is not for your role",
                  message=f"Only {who} can see this page. If you need it, ask your Heard administrator.")
