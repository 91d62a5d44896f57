"""The council's picture of the framework's other voices: how parent carers and partners
answered their own statements, per area, to show beside the young people's figures.

Counted as the young people's are (bot.reports.council): current answers from check-ins whose
latest consent includes the council, rows from fewer than MIN_PUPILS people hidden, and, where
a statement's row is hidden, enough more hidden that its area's total cannot give it away.
A parent carer is counted once per pupil they answered about; a partner once per invite code
(a code is one partner's check-in). Nothing here knows a name, a pupil id, a school or any words.
These figures are for all years, year groups and schools together: one figure per row whatever
the filters, so comparing filters cannot reveal a hidden one. Like the young people's, they are
the officer's own council's (a parent carer's through their pupil's school, a partner's through
the council of the officer who invited them) and count whole terms only.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import false, or_, select
from sqlalchemy.orm import Session

from bot.reports.council import (
    ALL,
    MIN_PUPILS,
    SOME_COUNTS_HIDDEN_MARK,
    SUPPRESSED_MARK,
    WHOLE_ROW,
    Figures,
    Row,
    _council_may_count,
    counted_checkins,
    suppressed_cells,
    term_start,
)
from bot.reports.voice import answer_values
from framework.db.models import PARENT_CARERS, PARTNERS, Answer, Invite, Pupil, StaffUser, SurveySession, utcnow
from framework.loader import load_framework
from framework.schema import Area, Framework, Statement

VOICES = {PARENT_CARERS: ("Parent carers", "parent carer"), PARTNERS: ("Partners", "partner")}


@dataclass(frozen=True)
class VoiceFigures:
    """One perspective's figures in one area: the area as a whole, and each statement."""

    perspective: str
    label: str  # "Parent carers"
    area: Row
    statements: tuple[tuple[Statement, Row], ...]


def other_voices(db: Session, council_id: int | None, framework_id: str,
                 now: datetime | None = None) -> dict[str, tuple[VoiceFigures, ...]]:
    """For each area of the framework (by id): the parent carers' and partners' figures, in that
    order, for the perspectives the framework asks questions of."""
    framework = load_framework(framework_id)
    until = term_start(now or utcnow())
    by_area: dict[str, list[VoiceFigures]] = defaultdict(list)
    for perspective, (label, one) in VOICES.items():
        if perspective not in framework.perspectives or not framework.questions(perspective, "full"):
            continue
        cube = _count(db, framework, perspective, council_id, until)
        sums = [((area.id, ALL, ALL, ALL), [(s.id, ALL, ALL, ALL) for s in _asked(area, perspective)
                                            if (s.id, ALL, ALL, ALL) in cube])
                for area in framework.areas if (area.id, ALL, ALL, ALL) in cube]
        hidden = suppressed_cells(cube, [(total, parts) for total, parts in sums if parts], MIN_PUPILS)

        def row(unit_id: str, title: str) -> Row:
            key = (unit_id, ALL, ALL, ALL)
            hidden_here = hidden.get(key, frozenset())
            if WHOLE_ROW in hidden_here:
                return Row(title, None, suppressed=True, who=one)
            return Row(title, cube.get(key), who=one, hidden_counts=hidden_here)

        for area in framework.areas:
            statements = tuple((s, row(s.id, s.text)) for s in _asked(area, perspective))
            if statements:
                by_area[area.id].append(VoiceFigures(perspective, label, row(area.id, label), statements))
    return {area_id: tuple(voices) for area_id, voices in by_area.items()}


def _asked(area: Area, perspective: str) -> list[Statement]:
    return [s for s in area.statements if s.perspective == perspective and s.sets]


def _of_the_council(perspective: str, council_id: int | None, until: datetime) -> list:
    """SQL conditions on SurveySession: a check-in the council may count (see counted_checkins):
    a parent carer's through their pupil's school, a partner's through who invited them."""
    if perspective != PARTNERS:
        return counted_checkins(council_id, until)
    if council_id is None:
        return [false()]
    invited_here = (select(Invite.id).join(StaffUser, StaffUser.id == Invite.created_by_id)
                    .where(StaffUser.council_id == council_id))
    return [SurveySession.invite_id.in_(invited_here), SurveySession.started_at < until,
            _council_may_count(until), _council_may_count(None)]


def _count(db: Session, framework: Framework, perspective: str, council_id: int | None,
           until: datetime) -> dict[tuple, Figures]:
    """Figures by (statement or area id, ALL, ALL, ALL): answers per value and the people behind them."""
    respondent = SurveySession.invite_id if perspective == PARTNERS else SurveySession.pupil_id
    statement_ids = [s.id for area in framework.areas for s in _asked(area, perspective)]
    rows = db.execute(
        select(Answer.statement_id, Answer.area_id, Answer.value, respondent)
        .join(SurveySession, SurveySession.id == Answer.session_id)
        .outerjoin(Pupil, Pupil.id == SurveySession.pupil_id)
        .where(SurveySession.framework_id == framework.id, SurveySession.perspective == perspective,
               *_of_the_council(perspective, council_id, until), Answer.statement_id.in_(statement_ids),
               # the answers as they stood when the term began
               Answer.created_at < until, or_(Answer.is_current, Answer.superseded_at >= until))
    )
    values = answer_values()
    answers: dict[str, Counter] = defaultdict(Counter)
    people: dict[str, set] = defaultdict(set)
    for statement_id, area_id, value, who in rows:
        for unit in (statement_id, area_id):
            answers[unit][value] += 1
            people[unit].add(who)
    return {(unit, ALL, ALL, ALL): Figures(len(people[unit]), tuple(answers[unit][v] for v in values))
            for unit in answers}


OTHER_SUPPRESSED_TEXT = f"fewer than {MIN_PUPILS} people, or hidden to protect such a row"
WHOSE_VIEW = "Whose view"  # the council CSV's "Split by" for these rows


def csv_rows(voices: dict[str, tuple[VoiceFigures, ...]], framework_id: str) -> Iterator[list[str | int]]:
    """These figures as rows of the council CSV (bot.reports.council.csv_rows's columns): for every
    year group and year, split by whose view; "Pupils" counts the people."""
    framework = load_framework(framework_id)
    for area in framework.areas:
        for voice in voices.get(area.id, ()):
            units = [("", "All their statements in this area", voice.area)]
            units += [(statement.id, statement.text, row) for statement, row in voice.statements]
            for statement_id, text, row in units:
                numbers: list[str | int] = [""] * (2 + 2 * len(answer_values()))
                if row.figures is not None:
                    numbers = [row.figures.pupils, row.figures.answers]
                    numbers += ["" if share.count is None else n for share in row.shares()
                                for n in (share.count, share.percent)]
                mark = SUPPRESSED_MARK if row.suppressed else SOME_COUNTS_HIDDEN_MARK if row.hidden_counts else ""
                yield [framework.title, "All", "All", area.title, statement_id, text, WHOSE_VIEW, voice.label,
                       *numbers, mark]
