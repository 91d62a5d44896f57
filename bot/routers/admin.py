"""Administrators' pages: staff accounts, schools, councils, and the audit log.

Administrators decide who can sign in, which schools there are, and which council each school
and each local authority officer belongs to (an officer sees only their council's schools). They read no child's
answers: these pages show accounts, schools with counts only, and the audit log, which names
a pupil by id, never by name or words. Every change, and every look at the audit log, is
itself written to the audit log.
"""
from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from bot.auth import two_factor
from bot.auth.passwords import generate_password, hash_password
from bot.staff.drafts import restores_drafts
from bot.staff.guards import Db, fresh_form, parse_id, requires_role
from bot.staff.messages import message
from bot.staff.pages import flash, render
from bot.staff.wording import ROLE_LABELS, SCHOOL_TIME
from framework.db import repository as repo
from framework.db.models import ROLES_WITHOUT_SCHOOL, Council, School, StaffUser, utcnow

ACCOUNTS, SCHOOLS, COUNCILS = "/staff/admin/accounts", "/staff/admin/schools", "/staff/admin/councils"
AUDIT = "/staff/admin/audit"
ACCOUNT_FIELDS = ("email", "role", "school_id", "council_id")
SCHOOL_FIELDS = ("name", "urn", "council_id")
COUNCIL_FIELDS = ("name",)
MAX_COUNCIL_NAME_CHARS = 200
AUDIT_PAGE_SIZE = 100
MAX_EMAIL_CHARS = 254
MAX_SCHOOL_NAME_CHARS = 200
MAX_URN_DIGITS = 16
EMAIL_SHAPE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
# What an administrator may see of an entry's detail: who, which records, how many. Not a
# safeguarding lead's notes on an alert, nor the names a SENCO searched for, nor anything new
# until it is added here.
SHOWN_DETAIL_KEYS = frozenset({
    "email", "role", "name", "urn", "school_id", "failed_in_a_row", "minutes", "rows", "count", "pupil_count",
    "page", "action", "actor", "day", "framework", "framework_id", "question_set", "days", "year_group",
    "academic_year", "pupil_ids", "invite_ids", "alert_ids", "checkins", "council_id",
})
MAX_DETAIL_CHARS = 300

EMAIL_NEEDED = message("accounts.email_needed")
EMAIL_TAKEN = message("accounts.email_taken")
ROLE_NEEDED = message("accounts.role_needed")
SCHOOL_NEEDED = message("accounts.school_needed")
NO_SCHOOL_FOR_ROLE = message("accounts.no_school_for_role")
COUNCIL_NEEDED = message("accounts.council_needed")
NO_COUNCIL_FOR_ROLE = message("accounts.no_council_for_role")
NOT_AN_OFFICER = message("accounts.not_an_officer")
NO_SUCH_COUNCIL = message("councils.no_such_council")
NO_SUCH_SCHOOL = message("schools.no_such_school")
COUNCIL_NAME_NEEDED = message("councils.name_needed").format(max=MAX_COUNCIL_NAME_CHARS)
COUNCIL_TAKEN = message("councils.taken")
NO_SUCH_ACCOUNT = message("accounts.no_such_account")
NOT_YOURSELF = message("accounts.not_yourself")
SCHOOL_NAME_NEEDED = message("schools.name_needed").format(max=MAX_SCHOOL_NAME_CHARS)
URN_DIGITS = message("schools.urn_digits")
URN_TAKEN = message("schools.urn_taken")
BAD_DATE = message("audit.bad_date")

# The buttons on each account: what they do, the audit action, and what the administrator is told.
ACCOUNT_CHANGES = {
    "deactivate": ("account_deactivated", message("accounts.deactivate")),
    "reactivate": ("account_reactivated", message("accounts.reactivate")),
    "unlock": ("account_unlocked", message("accounts.unlock")),
    "reset_password": ("account_password_reset", message("accounts.reset_password")),
    # A lost phone: they set up two-factor sign-in again at their next sign-in.
    "reset_two_factor": ("account_two_factor_reset", message("accounts.reset_two_factor")),
}
ACCOUNT_MADE, OFFICER_COUNCIL_SET = message("accounts.made"), message("accounts.council_set")
SCHOOL_ADDED, COUNCIL_ADDED = message("schools.added"), message("councils.added")
IN_COUNCIL, IN_NO_COUNCIL = message("schools.in_council"), message("schools.in_no_council")

# A safeguarding lead's account sees every child's worries: when an administrator makes or
# changes one, the school's staff (the lead too) are told, so no one can use it unnoticed.
CHANGED = {"deactivate": message("emails.lead_deactivated"), "reactivate": message("emails.lead_reactivated"),
           "reset_password": message("emails.lead_new_password"),
           "reset_two_factor": message("emails.lead_two_factor_reset")}
LEAD_MADE, LEAD_CHANGED = message("emails.lead_made"), message("emails.lead_changed")
LEAD_CHANGED_SUBJECT = message("emails.lead_changed_subject")

router = APIRouter(prefix="/staff/admin", include_in_schema=False)
administrator = requires_role("admin", who="Heard administrators")
Administrator = Annotated[StaffUser, Depends(administrator)]


# ---- accounts ----------------------------------------------------------------------------------


@router.get("/accounts")
def accounts(request: Request, db: Db, admin: Administrator) -> Response:
    return accounts_page(request, db, admin)


# Only the new-account form holds typing worth keeping (the buttons' forms have none of its fields).
@router.post("/accounts", dependencies=[fresh_form(*ACCOUNT_FIELDS)])
def accounts_submit(request: Request, db: Db, admin: Administrator, action: str = Form(""), email: str = Form(""), role: str = Form(""), school_id: str = Form(""),
                    council_id: str = Form(""), account_id: str = Form("")) -> Response:
    form = {"email": email, "role": role, "school_id": school_id, "council_id": council_id}
    if action == "create":
        return _create_account(request, db, admin, form)
    if action == "set_council":
        return _set_officer_council(request, db, admin, account_id, council_id)
    return _change_account(request, db, admin, action, account_id, form)


@restores_drafts(ACCOUNTS)
def restore_account_draft(request: Request, db: Session, staff: StaffUser, match: re.Match[str],
                          draft: dict[str, str], **said) -> Response:
    """After signing in again: the accounts page with the new-account form as it was typed."""
    return accounts_page(request, db, administrator(request, db, staff), form={k: draft.get(k, "") for k in ACCOUNT_FIELDS}, **said)


def accounts_page(request: Request, db: Session, admin: StaffUser, *, form: dict[str, str] | None = None,
                  problem: str | None = None, notice: str | None = None, new_password: tuple[str, str] | None = None,
                  status: int = 200) -> Response:
    context = {"accounts": repo.list_staff(db), "schools": repo.list_schools(db), "councils": repo.list_councils(db),
               "roles": ROLE_LABELS, "now": utcnow(),
               "form": form or dict.fromkeys(ACCOUNT_FIELDS, ""), "problem": problem,
               "new_password": new_password, "roles_without_school": ROLES_WITHOUT_SCHOOL}
    if notice:
        context["notice"] = notice
    return render(request, "staff/admin_accounts.html", staff=admin, db=db, status=status, **context)


def _create_account(request: Request, db: Session, admin: StaffUser, form: dict[str, str]) -> Response:
    email, role = repo.normalise_email(form["email"]), form["role"]
    school, problem, status = _new_account_problem(db, email, role, form["school_id"])
    council = _council(db, form["council_id"])
    if not problem and role == "la_officer" and council is None:
        problem, status = COUNCIL_NEEDED, 422
    elif not problem and role != "la_officer" and form["council_id"]:
        problem, status = NO_COUNCIL_FOR_ROLE, 422
    if problem:
        return accounts_page(request, db, admin, form=form, problem=problem, status=status)
    password = generate_password()
    account = repo.create_staff(db, email, hash_password(password), role, school, council)
    account.must_change_password = True  # the administrator has seen it
    detail = {"email": account.email, "role": role, "school_id": account.school_id}
    if council is not None:
        detail["council_id"] = council.id
    repo.audit(db, admin, "account_created", "staff_user", account.id, detail=detail)
    tell_the_school(db, account, LEAD_MADE)
    return accounts_page(request, db, admin, notice=ACCOUNT_MADE.format(email=account.email),
                         new_password=(account.email, password))


def _new_account_problem(db: Session, email: str, role: str, school_id: str) -> tuple[School | None, str | None, int]:
    """(the school, None, 200) for a new account that can be made; else what is wrong, and the status."""
    if not EMAIL_SHAPE.fullmatch(email) or len(email) > MAX_EMAIL_CHARS:
        return None, EMAIL_NEEDED, 422
    if role not in ROLE_LABELS:
        return None, ROLE_NEEDED, 422
    if repo.find_staff_by_email(db, email) is not None:
        return None, EMAIL_TAKEN.format(email=email), 409
    if role in ROLES_WITHOUT_SCHOOL:
        return (None, NO_SCHOOL_FOR_ROLE, 422) if school_id else (None, None, 200)
    number = parse_id(school_id)
    school = db.get(School, number) if number is not None else None
    if school is None:
        return None, SCHOOL_NEEDED, 422
    return school, None, 200


def _council(db: Session, council_id: str) -> Council | None:
    number = parse_id(council_id)
    return db.get(Council, number) if number is not None else None


def _set_officer_council(request: Request, db: Session, admin: StaffUser, account_id: str, council_id: str) -> Response:
    """Which council's figures an officer sees (their sign-ins carry on: the next page shows the new council)."""
    number = parse_id(account_id)
    account = db.get(StaffUser, number) if number is not None else None
    if account is None:
        return accounts_page(request, db, admin, problem=NO_SUCH_ACCOUNT, status=404)
    if account.role != "la_officer":
        return accounts_page(request, db, admin, problem=NOT_AN_OFFICER, status=422)
    council = _council(db, council_id)
    if council is None:
        return accounts_page(request, db, admin, problem=NO_SUCH_COUNCIL, status=422)
    account.council_id = council.id
    repo.audit(db, admin, "account_council_changed", "staff_user", account.id,
               detail={"email": account.email, "council_id": council.id})
    flash(request, OFFICER_COUNCIL_SET.format(email=account.email, council=council.name))
    return RedirectResponse(ACCOUNTS, status_code=303)


def _change_account(request: Request, db: Session, admin: StaffUser, action: str, account_id: str,
                    form: dict[str, str]) -> Response:
    number = parse_id(account_id)
    account = db.get(StaffUser, number) if number is not None else None
    if account is None or action not in ACCOUNT_CHANGES:
        return accounts_page(request, db, admin, form=form, problem=NO_SUCH_ACCOUNT, status=404)
    if action == "deactivate" and account.id == admin.id:
        return accounts_page(request, db, admin, form=form, problem=NOT_YOURSELF, status=409)
    audit_action, told = ACCOUNT_CHANGES[action]
    new_password = None
    if action in ("deactivate", "reactivate"):
        account.active = action == "reactivate"
    elif action == "reset_two_factor":
        two_factor.reset(account)
        repo.end_sign_ins(db, account)
    else:  # unlock, or a new password (which unlocks too, so it works at once)
        account.failed_logins, account.locked_until = 0, None
        if action == "reset_password":
            new_password = generate_password()
            account.password_hash = hash_password(new_password)
            account.must_change_password = True
            repo.end_sign_ins(db, account)  # whoever held the old password is signed out everywhere
    repo.audit(db, admin, audit_action, "staff_user", account.id, detail={"email": account.email})
    if action != "unlock":
        tell_the_school(db, account, CHANGED[action])
    if new_password:
        return accounts_page(request, db, admin, form=form, notice=told.format(email=account.email),
                             new_password=(account.email, new_password))
    flash(request, told.format(email=account.email))
    return RedirectResponse(ACCOUNTS, status_code=303)


def tell_the_school(db: Session, account: StaffUser, what: str) -> None:
    """Email the school's active staff when an administrator makes or changes its safeguarding lead's account."""
    if account.role != "dsl" or account.school_id is None:
        return
    body = LEAD_CHANGED.format(what=what, email=account.email, school=account.school.name)
    for person in repo.staff_for_school(db, account.school_id):
        repo.enqueue_email(db, person.email, LEAD_CHANGED_SUBJECT, body)


# ---- schools -----------------------------------------------------------------------------------


@router.get("/schools")
def schools(request: Request, db: Db, admin: Administrator) -> Response:
    return schools_page(request, db, admin)


@router.post("/schools", dependencies=[fresh_form(*SCHOOL_FIELDS)])
def schools_submit(request: Request, db: Db, admin: Administrator, action: str = Form(""), name: str = Form(""), urn: str = Form(""), council_id: str = Form(""),
                   school_id: str = Form("")) -> Response:
    form = {"name": name, "urn": urn, "council_id": council_id}
    if action == "set_council":
        return _set_school_council(request, db, admin, school_id, council_id)
    school_name, number = " ".join(name.split()), urn.strip()
    problem, status = _new_school_problem(db, school_name, number)
    council = _council(db, council_id)
    if not problem and council_id and council is None:
        problem, status = NO_SUCH_COUNCIL, 422
    if problem:
        return schools_page(request, db, admin, form=form, problem=problem, status=status)
    school = repo.create_school(db, school_name, urn=number or None, council=council)
    detail = {"name": school.name, "urn": school.urn}
    if council is not None:
        detail["council_id"] = council.id
    repo.audit(db, admin, "school_created", "school", school.id, detail=detail)
    flash(request, SCHOOL_ADDED.format(school=school.name))
    return RedirectResponse(SCHOOLS, status_code=303)


def _set_school_council(request: Request, db: Session, admin: StaffUser, school_id: str, council_id: str) -> Response:
    """Which council's figures a school's answers count in (an empty choice: in none)."""
    number = parse_id(school_id)
    school = db.get(School, number) if number is not None else None
    if school is None:
        return schools_page(request, db, admin, problem=NO_SUCH_SCHOOL, status=404)
    council = _council(db, council_id)
    if council_id and council is None:
        return schools_page(request, db, admin, problem=NO_SUCH_COUNCIL, status=422)
    school.council_id = council.id if council else None
    repo.audit(db, admin, "school_council_changed", "school", school.id,
               detail={"name": school.name, "council_id": school.council_id})
    flash(request, IN_COUNCIL.format(school=school.name, council=council.name) if council
          else IN_NO_COUNCIL.format(school=school.name))
    return RedirectResponse(SCHOOLS, status_code=303)


@restores_drafts(SCHOOLS)
def restore_school_draft(request: Request, db: Session, staff: StaffUser, match: re.Match[str],
                         draft: dict[str, str], **said) -> Response:
    return schools_page(request, db, administrator(request, db, staff), form={k: draft.get(k, "") for k in SCHOOL_FIELDS}, **said)


def _new_school_problem(db: Session, name: str, urn: str) -> tuple[str | None, int]:
    if not name or len(name) > MAX_SCHOOL_NAME_CHARS:
        return SCHOOL_NAME_NEEDED, 422
    if urn and not (urn.isascii() and urn.isdigit() and len(urn) <= MAX_URN_DIGITS):
        return URN_DIGITS, 422
    existing = repo.find_school_by_urn(db, urn) if urn else None
    if existing is not None:
        return URN_TAKEN.format(name=existing.name, urn=urn), 409
    return None, 200


def schools_page(request: Request, db: Session, admin: StaffUser, *, form: dict[str, str] | None = None,
                 problem: str | None = None, notice: str | None = None, status: int = 200) -> Response:
    context = {"rows": repo.schools_with_counts(db), "councils": repo.list_councils(db),
               "form": form or dict.fromkeys(SCHOOL_FIELDS, ""), "problem": problem}
    if notice:
        context["notice"] = notice
    return render(request, "staff/admin_schools.html", staff=admin, db=db, status=status, **context)


# ---- councils ----------------------------------------------------------------------------------


@router.get("/councils")
def councils(request: Request, db: Db, admin: Administrator) -> Response:
    return councils_page(request, db, admin)


@router.post("/councils", dependencies=[fresh_form(*COUNCIL_FIELDS)])
def councils_submit(request: Request, db: Db, admin: Administrator, name: str = Form("")) -> Response:
    form = {"name": name}
    council_name = " ".join(name.split())
    if not council_name or len(council_name) > MAX_COUNCIL_NAME_CHARS:
        return councils_page(request, db, admin, form=form, problem=COUNCIL_NAME_NEEDED, status=422)
    if repo.find_council_by_name(db, council_name) is not None:
        return councils_page(request, db, admin, form=form, problem=COUNCIL_TAKEN.format(name=council_name),
                             status=409)
    council = repo.create_council(db, council_name)
    repo.audit(db, admin, "council_created", "council", council.id, detail={"name": council.name})
    flash(request, COUNCIL_ADDED.format(council=council.name))
    return RedirectResponse(COUNCILS, status_code=303)


@restores_drafts(COUNCILS)
def restore_council_draft(request: Request, db: Session, staff: StaffUser, match: re.Match[str],
                          draft: dict[str, str], **said) -> Response:
    return councils_page(request, db, administrator(request, db, staff), form={k: draft.get(k, "") for k in COUNCIL_FIELDS}, **said)


def councils_page(request: Request, db: Session, admin: StaffUser, *, form: dict[str, str] | None = None,
                  problem: str | None = None, notice: str | None = None, status: int = 200) -> Response:
    context = {"rows": repo.councils_with_counts(db), "form": form or dict.fromkeys(COUNCIL_FIELDS, ""),
               "problem": problem}
    if notice:
        context["notice"] = notice
    return render(request, "staff/admin_councils.html", staff=admin, db=db, status=status, **context)


# ---- audit log ---------------------------------------------------------------------------------


@router.get("/audit")
def audit_log(request: Request, db: Db, admin: Administrator, action: str = "", actor: str = "", day: str = "",
              page: str = "1") -> Response:
    action, actor = action.strip()[:64], actor.strip()[:MAX_EMAIL_CHARS]
    chosen_day, problem = _day(day)
    number = parse_id(page) or 1
    filters = {"action": action, "actor": actor, "day": chosen_day.isoformat() if chosen_day else ""}
    # Written first, so this very look is at the top of the log it shows.
    repo.audit(db, admin, "view_audit_log", "audit_log", detail={**filters, "page": number})
    since = until = None
    if chosen_day:
        since = datetime.combine(chosen_day, time(), tzinfo=SCHOOL_TIME)
        until = datetime.combine(chosen_day + timedelta(days=1), time(), tzinfo=SCHOOL_TIME)
    found = repo.audit_entries(db, action=action, actor=actor, since=since, until=until,
                               offset=(number - 1) * AUDIT_PAGE_SIZE, limit=AUDIT_PAGE_SIZE + 1)
    entries = [(entry, email, shown_detail(entry.detail)) for entry, email in found[:AUDIT_PAGE_SIZE]]
    actions = repo.audit_actions(db)
    links = {"newer": _page_link(filters, number - 1) if number > 1 else None,
             "older": _page_link(filters, number + 1) if len(found) > AUDIT_PAGE_SIZE else None}
    return render(request, "staff/admin_audit.html", staff=admin, db=db, entries=entries, actions=actions,
                  filters=filters, page=number, links=links, problem=problem, page_size=AUDIT_PAGE_SIZE)


def _day(text: str) -> tuple[date | None, str | None]:
    if not text.strip():
        return None, None
    try:
        return date.fromisoformat(text.strip()), None
    except ValueError:
        return None, BAD_DATE


def _page_link(filters: dict[str, str], number: int) -> str:
    return f"{AUDIT}?{urlencode({**{k: v for k, v in filters.items() if v}, 'page': number})}"


def shown_detail(detail: dict | None) -> list[tuple[str, str]]:
    """An entry's detail as (name, value) lines for the page: only SHOWN_DETAIL_KEYS (at any
    depth), long values shortened."""
    lines = []
    for key, value in (detail or {}).items():
        if str(key).lower() not in SHOWN_DETAIL_KEYS:
            continue
        text = _as_text(value)
        lines.append((str(key).replace("_", " "), text[:MAX_DETAIL_CHARS] + "…" if len(text) > MAX_DETAIL_CHARS else text))
    return lines


def _as_text(value) -> str:
    if isinstance(value, dict):
        return "; ".join(f"{name}: {text}" for name, text in shown_detail(value)) or "none"
    if isinstance(value, (list, tuple)):
        return ", ".join(_as_text(item) for item in value) or "none"
    return "none" if value is None or value == "" else str(value)
