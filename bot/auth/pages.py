"""What every staff page shares: the templates (Jinja2, autoescaped), who is signed in,
the navigation, and the pages for signing in, "not for your role" and "not found".

A form sent after the sign-in ran out is not lost: the sign-in page shows what was typed
and sends it on, so the page it came from can put it back once signed in again.
"""
from __future__ import annotations

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
from framework.db.models import StaffUser

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
CATEGORY_LABELS = {  # bot/safeguarding/rules.py CATEGORIES
    "self_harm_suicide": "Self-harm or suicide",
    "abuse_physical": "Physical abuse",
    "abuse_sexual": "Sexual abuse",
    "abuse_emotional": "Emotional abuse",
    "neglect": "Neglect",
    "exploitation_grooming": "Exploitation or grooming",
    "bullying_threats": "Bullying or threats",
    "weapons": "Weapons",
}

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
    env.filters["category"] = lambda c: CATEGORY_LABELS.get(c, c.replace("_", " "))
    env.filters["role"] = lambda r: ROLE_LABELS.get(r, r)
    return env


templates = Jinja2Templates(env=_environment())


def staff_db(request: Request) -> sessionmaker[Session]:
    return request.app.state.staff_sessions


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


def nav_links(staff: StaffUser | None, db: Session | None) -> list[NavLink]:
    if staff is None:
        return []
    links = [NavLink("Home", HOME)]
    if is_safeguarding_lead(staff) and db is not None:
        links.append(NavLink("Safeguarding alerts", "/staff/alerts", len(repo.list_open_alerts(db, staff.school))))
    return links


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
