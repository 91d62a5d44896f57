"""The council view, for local authority officers: how young people answered each outcome
statement, across their own council's schools and over time, as counts and percentages.
Aggregates only: no names, no words, no pupil ids; rows from fewer than 5 pupils and counts
under 5 hidden; whole terms only (bot.reports.council). An officer whose account has no
council yet sees no figures. Every view and every download is written to the audit log with
the filters used.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
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
from bot.reports.voice import answer_values
from bot.reports.we_did import council_we_did
from bot.staff.guards import Db, requires_role
from bot.staff.pages import attachment, render
from bot.staff.wording import answer_words
from framework.db import repository as repo
from framework.db.models import StaffUser

OBJECT_TYPE = "council_figures"
MAX_FILTER_CHARS = 64

UNKNOWN_FRAMEWORK = "There is no framework called that, so the figures below are for {title}."
UNKNOWN_YEAR = "That academic year could not be read, so the figures below are for every year."

router = APIRouter(prefix="/staff", include_in_schema=False)
Officer = Annotated[StaffUser, Depends(requires_role("la_officer", who="local authority officers"))]


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
                  we_did=council_we_did(db, staff.council_id, filters.framework_id))


@router.get("/council.csv")
def council_csv(db: Db, staff: Officer, framework: str = "", year_group: str = "", academic_year: str = "") -> Response:
    filters, _, figures = council_figures_seen(db, staff, "export_council_csv", framework, year_group, academic_year)
    name = "-".join(str(part) for part in ("heard-council", filters.framework_id, filters.academic_year) if part)
    return Response(to_csv(figures), media_type="text/csv; charset=utf-8", headers=attachment(f"{name}.csv"))
