"""The council view, for local authority officers: how young people answered each outcome
statement, across their own council's schools and over time, as counts and percentages, with
their parent carers' and partners' answers beside them per area. Aggregates only: no names, no
words, no pupil ids; rows from fewer than 5 people and counts under 5 hidden; whole terms only
(bot.reports.council, bot.reports.other_voices). An officer whose account has no council yet
sees no figures. Every view and every download is written to the audit log with the filters used.

Officers also invite partners (health, social care and education services) to answer the
framework's partner statements: codes with a kind of service, no pupil and no school; their
answers count for the council of the officer who invited them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from bot.reports.council import (
    ALL,
    COUNTED_UNTIL_RULE,
    HIDDEN_COUNT_TEXT,
    SUPPRESSED_TEXT,
    SUPPRESSION_RULES,
    CouncilFigures,
    council_figures,
    default_framework,
    framework_options,
    to_csv,
)
from bot.reports.invites import (
    askable_frameworks,
    check_invite_choice,
    create_partner_invites,
    invite_terms_form,
    partner_invites,
    slips,
    these_partner_invites,
)
from bot.reports.other_voices import OTHER_SUPPRESSED_TEXT, other_voices
from bot.reports.other_voices import csv_rows as other_voices_csv
from bot.reports.voice import answer_values
from bot.reports.we_did import council_we_did
from bot.staff.drafts import restores_drafts
from bot.staff.guards import Db, fresh_form, named_invites, requires_role
from bot.staff.messages import message
from bot.staff.pages import attachment, flash, render
from bot.staff.wording import PARTNER_ROLE_WORDS, QUESTION_SET_NAMES, answer_words
from framework.db import repository as repo
from framework.db.models import PARTNERS, StaffUser
from framework.loader import all_frameworks
from framework.settings import get_settings

OBJECT_TYPE = "council_figures"
MAX_FILTER_CHARS = 64

UNKNOWN_FRAMEWORK = message("council.unknown_framework")
UNKNOWN_YEAR = message("council.unknown_year")

router = APIRouter(prefix="/staff", include_in_schema=False)
officer = requires_role("la_officer", who="local authority officers")
Officer = Annotated[StaffUser, Depends(officer)]


@dataclass(frozen=True)
class Filters:
    framework_id: str
    year_group: str | None
    academic_year: int | None

    def audit_detail(self) -> dict:
        return {"framework": self.framework_id, "year_group": self.year_group, "academic_year": self.academic_year}

    def query(self) -> str:
        fields = {"framework": self.framework_id, "year_group": self.year_group or "",
                  "academic_year": "" if self.academic_year is None else str(self.academic_year)}
        return urlencode({k: v for k, v in fields.items() if v})


def read_filters(db: Session, council_id: int | None, framework: str, year_group: str,
                 academic_year: str) -> tuple[Filters, str | None]:
    """The filters from the form, and what to tell the officer about any that could not be used.
    No framework (or an unknown one) means the one most check-ins counted here used."""
    frameworks = framework_options()
    problems = []
    chosen = next((f for f in frameworks if f.value == framework), None)
    if chosen is None:
        fallback = default_framework(db, council_id)
        chosen = next(f for f in frameworks if f.value == fallback)
        if framework:
            problems.append(UNKNOWN_FRAMEWORK.format(title=chosen.label))
    year: int | None = None
    if academic_year.isdigit() and 2000 <= int(academic_year) <= 2100:
        year = int(academic_year)
    elif academic_year:
        problems.append(UNKNOWN_YEAR)
    group = year_group.strip()[:MAX_FILTER_CHARS] or None
    return Filters(chosen.value, None if group == ALL else group, year), " ".join(problems) or None


def council_figures_seen(db: Session, staff: StaffUser, action: str, framework: str, year_group: str,
                         academic_year: str) -> tuple[Filters, str | None, CouncilFigures]:
    """The figures for the filters as sent, the look written to the audit log as `action`."""
    filters, problem = read_filters(db, staff.council_id, framework, year_group, academic_year)
    figures = council_figures(db, staff.council_id, filters.framework_id, filters.year_group, filters.academic_year)
    repo.audit(db, staff, action, OBJECT_TYPE, detail={**filters.audit_detail(), "council_id": staff.council_id})
    return filters, problem, figures


@router.get("/council")
def council_view(request: Request, db: Db, staff: Officer, framework: str = "", year_group: str = "",
                 academic_year: str = "") -> Response:
    filters, problem, figures = council_figures_seen(db, staff, "view_council", framework, year_group, academic_year)
    return render(request, "staff/council.html", staff=staff, db=db, figures=figures, problem=problem,
                  frameworks=framework_options(), csv_link=f"/staff/council.csv?{filters.query()}",
                  answers=[(v, answer_words(v)) for v in answer_values()], council=staff.council,
                  rules=SUPPRESSION_RULES, suppressed_text=SUPPRESSED_TEXT, hidden_count_text=HIDDEN_COUNT_TEXT,
                  counted_until_rule=COUNTED_UNTIL_RULE,
                  we_did=council_we_did(db, staff.council_id, filters.framework_id),
                  others=other_voices(db, staff.council_id, filters.framework_id),
                  others_suppressed_text=OTHER_SUPPRESSED_TEXT)


@router.get("/council.csv")
def council_csv(db: Db, staff: Officer, framework: str = "", year_group: str = "", academic_year: str = "") -> Response:
    filters, _, figures = council_figures_seen(db, staff, "export_council_csv", framework, year_group, academic_year)
    name = "-".join(str(part) for part in ("heard-council", filters.framework_id, filters.academic_year) if part)
    others = other_voices_csv(other_voices(db, staff.council_id, filters.framework_id), filters.framework_id)
    return Response(to_csv(figures, others), media_type="text/csv; charset=utf-8", headers=attachment(f"{name}.csv"))


# ---- inviting partners -------------------------------------------------------------------------

MAX_PARTNER_CODES = 50
CHECK_THE_PARTNER_CHOICES = message("council.check_the_choices")
CHOOSE_A_SERVICE = message("council.choose_a_service")
HOW_MANY = message("council.how_many").format(max=MAX_PARTNER_CODES)
ONE_CODE_READY, CODES_READY = message("pupils.one_code_ready"), message("pupils.codes_ready")
PARTNER_FIELDS = ("partner_role", "count", "framework", "question_set", "days")  # kept across a sign-in


@router.get("/council/partners")
def partners_page(request: Request, db: Db, staff: Officer) -> Response:
    return partner_invite_page(request, db, staff)


@router.post("/council/partners", dependencies=[fresh_form(*PARTNER_FIELDS)])
def make_partner_invites(request: Request, db: Db, staff: Officer, partner_role: str = Form(""),
                         count: str = Form(""), framework: str = Form(""), question_set: str = Form(""),
                         days: str = Form("")) -> Response:
    form = {"partner_role": partner_role, "count": count, "framework": framework, "question_set": question_set,
            "days": days}
    choice = check_invite_choice(framework, question_set, days, askable_frameworks(all_frameworks(), PARTNERS))
    errors = dict(choice) if isinstance(choice, dict) else {}
    if partner_role not in PARTNER_ROLE_WORDS:
        errors["partner_role"] = CHOOSE_A_SERVICE
    number = int(count.strip()) if count.strip().isdigit() and len(count.strip()) < 4 else None
    if number is None or not 1 <= number <= MAX_PARTNER_CODES:
        errors["count"] = HOW_MANY
    if errors:
        return partner_invite_page(request, db, staff, form=form, errors=errors, problem=CHECK_THE_PARTNER_CHOICES,
                                   status=422)
    invites = create_partner_invites(db, staff, partner_role, number, choice)
    flash(request, ONE_CODE_READY if number == 1 else CODES_READY.format(count=number))
    query = "&".join(f"invite={invite.id}" for invite in invites)
    return RedirectResponse(f"/staff/council/partners/slips?{query}", status_code=303)


@router.get("/council/partners/slips")
def partner_slips_page(request: Request, db: Db, staff: Officer) -> Response:
    """Slips for the partner invites named `?invite=1&invite=2`: just made, or printed again."""
    invites = named_invites(request, staff, lambda invite_ids: these_partner_invites(db, staff.council_id, invite_ids))
    repo.audit(db, staff, "view_invite_slips", "invite", detail={"invite_ids": [i.id for i in invites]})
    public_url = get_settings().public_url
    return render(request, "staff/invites_slips.html", staff=staff, db=db, back="/staff/council/partners",
                  back_label="partner invites", for_partners=True, slips=slips(invites, public_url),
                  public_url=public_url)


def partner_invite_page(request: Request, db: Session, staff: StaffUser, *, form: dict[str, str] | None = None,
                        errors: dict[str, str] | None = None, problem: str | None = None,
                        status: int = 200, **said: str) -> Response:
    """The form for partners' codes, and every partner code made so far (no names: there are none);
    `said`: a notice above the form."""
    return render(request, "staff/council_partners.html", staff=staff, db=db, status=status,
                  **invite_terms_form(PARTNERS, form, partner_role="", count="1"), errors=errors or {},
                  problem=problem, roles=PARTNER_ROLE_WORDS, set_names=QUESTION_SET_NAMES,
                  invites=partner_invites(db, staff.council_id), max_count=MAX_PARTNER_CODES, **said)


@restores_drafts(r"/staff/council/partners")
def restore_partner_invite_form(request: Request, db: Session, staff: StaffUser, match: re.Match[str],
                                draft: dict[str, str], **said) -> Response:
    return partner_invite_page(request, db, officer(request, db, staff), form=draft, **said)
