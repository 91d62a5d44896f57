"""The staff pages' frame: the templates (Jinja2, autoescaped), the navigation, one-line
notices, and the sign-in page."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.responses import Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlalchemy.orm import Session
from starlette.templating import Jinja2Templates

from bot.auth.csrf import csrf_token
from bot.auth.sessions import pop_expired
from bot.staff.drafts import DRAFT_PREFIX
from bot.outbox import ESCALATE_AFTER
from bot.staff.messages import message
from bot.staff.wording import role_label, school_time
from framework.db import repository as repo
from framework.db.models import SafeguardingAlert, School, StaffUser, utcnow
from framework.safeguarding import safeguarding_categories

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
HOME = "/staff"
SIGN_IN = "/staff/login"
CHANGE_PASSWORD = "/staff/password"
TWO_FACTOR = "/staff/two-factor"  # the sign-in's second step: the code
SET_UP_TWO_FACTOR = "/staff/two-factor/setup"

# A form sent with a stale CSRF token (the page was open too long) is shown again as it was.
FORM_STALE = message("forms.stale")
SIGNED_OUT_FOR_SAFETY = message("sign_in.signed_out_for_safety")
DRAFT_KEPT = message("forms.draft_kept")
SIGN_IN_TO_CARRY_ON = message("forms.sign_in_to_carry_on")
# Banners while an alert may not have reached a person.
UNDELIVERED_FOR_SCHOOL, NO_LEAD_FOR_ADMIN = message("warnings.undelivered_for_school"), message("warnings.no_lead_for_admin")
UNDELIVERED_FOR_ADMIN = message("warnings.undelivered_for_admin")
UNDELIVERED_PARTNER_FOR_ADMIN = message("warnings.undelivered_partner_for_admin")


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
    env.filters["role"] = role_label
    env.filters["as_choices"] = lambda values: [(value, value) for value in values]  # for _fields.html
    return env


templates = Jinja2Templates(env=_environment())


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
              ("Councils", "/staff/admin/councils"), ("Audit log", "/staff/admin/audit")),
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


def attachment(filename: str) -> dict[str, str]:
    """Headers that make a response a download. Ids and dates only: a child's name never goes
    into a file name (it shows in download lists and email attachments)."""
    return {"Content-Disposition": f'attachment; filename="{filename}"'}


def flash(request: Request, notice: str) -> None:
    """A one-line notice for the next page (after a redirect)."""
    request.session["notice"] = notice


def safeguarding_warnings(staff: StaffUser | None, db: Session | None) -> list[str]:
    """Banners while an alert may not have reached a person: to every member of staff of a school
    whose alert email has not gone for ESCALATE_AFTER, and to admins about every such school
    and every school without an active safeguarding lead."""
    if staff is None or db is None:
        return []
    stuck_since = utcnow() - ESCALATE_AFTER
    if staff.school_id is not None:
        return [UNDELIVERED_FOR_SCHOOL] if repo.undelivered_alert_emails(db, stuck_since, school_id=staff.school_id) else []
    if staff.role != "admin":
        return []
    minutes = int(ESCALATE_AFTER.total_seconds() // 60)
    stuck = {db.get(SafeguardingAlert, email.alert_id).school_id for email in repo.undelivered_alert_emails(db, stuck_since)}
    return ([NO_LEAD_FOR_ADMIN.format(school=school.name) for school in repo.schools_without_safeguarding_lead(db)]
            + [UNDELIVERED_FOR_ADMIN.format(school=db.get(School, school_id).name, minutes=minutes)
               for school_id in sorted(stuck - {None})]
            + ([UNDELIVERED_PARTNER_FOR_ADMIN.format(minutes=minutes)] if None in stuck else []))  # no school


def render(request: Request, name: str, *, staff: StaffUser | None = None, db: Session | None = None,
           status: int = 200, **context) -> Response:
    base = {
        "staff": staff,
        "nav": nav_links(staff, db),
        "warnings": safeguarding_warnings(staff, db),
        "current_path": request.url.path,
        "csrf_token": csrf_token(request),
        "notice": request.session.pop("notice", None),
        "problem": None,
        "parts_down": request.app.state.parts_watch.down,
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
    if parts.path in (SIGN_IN, "/staff/logout", TWO_FACTOR):
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
