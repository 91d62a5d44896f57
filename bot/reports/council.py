"""The council's picture: how young people answered each outcome statement of a framework,
across one council's schools and over time, as counts and percentages, with small numbers hidden.

What is counted
- Only the schools of the officer's council (schools.council_id): one council's officers never
  see another council's schools, nor figures that include them.
- Young people's own answers as they stood when the last whole term ended (a changed answer
  counts once, as changed), from check-ins started before then whose consent decision at that
  time includes the council (`school_family_and_council`) and still does (a young person who
  takes it back is taken out at once).
- Whole terms only: this term's check-ins are added when it ends. So the figures do not change
  from one day to the next, and comparing the page on two dates cannot single out the few
  young people who checked in between (COUNTED_UNTIL_RULE says the same for the page).
- Every such check-in counts: a pupil who checked in twice gives two answers to a statement
  but is one pupil. Each row says how many pupils and how many answers it is built from.
- A check-in's time is when it started, in UK time. An academic year runs 1 September to
  31 August; terms are taken as autumn (September to December), spring (January to March)
  and summer (April to August).
- Year group is the pupil's year group as recorded now.

How small numbers are hidden (SUPPRESSION_RULES says the same for the page)
1. A row built from fewer than MIN_PUPILS (5) distinct pupils is hidden. In a row that is shown,
   a count of one answer from 1 to MIN_COUNT - 1 (4) is hidden: five pupils who all but one
   said "yes" would otherwise give that one's answer away.
2. Rows add up to totals: schools to all schools, year groups to all year groups, academic
   years to all years, terms to their academic year, statements to their area. A sum with
   just one hidden figure gives that figure away by subtraction. So wherever exactly one
   figure of a sum (its rows or its total) is hidden, one more figure of that sum is hidden
   too (the smallest, preferring one that mends other sums at once), repeated until no sum
   has exactly one hidden figure. A row's counts add up to its answers, and each count adds
   up across schools, year groups, terms and statements like the rows do: the same rule holds
   for them (hiding a row's answers hides the whole row).
3. Both steps run over every figure any filter can show, before the filters pick what is
   shown: a row is hidden or shown whatever the filters, so comparing one filter choice with
   another cannot reveal a hidden row either.

Comments young people wrote are counted per area too, under the area they are filed under
now: where a SENCO moved them, else where Heard filed them (its best match, else the area whose
prompt was answered). Only all schools, year groups and years together, so no other comment
figure can be set against them; an area's count from fewer than MIN_PUPILS pupils is hidden.

Nothing here knows a pupil's name, words or id: the queries count, they never list pupils.
The figures come from one query that groups and counts (plus one for school names), however
many answers there are; each check-in's latest consent is found once, not once per answer.
Each web process keeps what it counted, and a quicker query (one row per check-in counted, with
its answers' number and ids summed up) tells it whether anything they are counted from changed: only
then are they counted again (`_kept_or_counted`).
"""
from __future__ import annotations

import csv
import hashlib
import io
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import NamedTuple

from sqlalchemy import Text, and_, case, cast, distinct, false, func, literal, or_, select, union_all
from sqlalchemy.orm import Session, aliased

from bot.reports.answers_csv import inert
from bot.reports.voice import answer_values
from bot.staff.wording import SCHOOL_TIME, answer_words
from framework.db.models import (
    DEFAULT_PERSPECTIVE,
    Answer,
    Comment,
    CommentMapping,
    ConsentDecision,
    Pupil,
    School,
    SurveySession,
    utcnow,
)
from framework.loader import framework_files, load_framework
from framework.schema import Area, Framework, Statement

MIN_PUPILS = 5
MIN_COUNT = 5  # in a row that is shown, a count of one answer from 1 to 4 is hidden
COUNCIL_CONSENT = "school_family_and_council"  # framework/choices.yml, consent
ANSWERS, PUPILS = "answers", "pupils"  # what a row of the counting query counts
ALL = "*"  # a key's "every school / year group / period"
NOT_RECORDED = "not-recorded"  # the year group of pupils who have none recorded
NOT_RECORDED_LABEL = "Not recorded"
TERMS = (  # (key, name, month and day it starts); the academic year starts with autumn
    ("autumn", "Autumn term", 9, 1),
    ("spring", "Spring term", 1, 1),
    ("summer", "Summer term", 4, 1),
)
# What a hidden row says instead of numbers. The same words for every hidden row: saying which
# rows are small and which are hidden only to protect them would narrow down the small ones.
SUPPRESSED_TEXT = f"fewer than {MIN_PUPILS} pupils, or hidden to protect such a row"
HIDDEN_COUNT_TEXT = "hidden"  # one count in a row that is shown
SUPPRESSION_RULES = (
    f"A row built from fewer than {MIN_PUPILS} pupils is hidden.",
    f"In a row that is shown, a count of one answer from 1 to {MIN_COUNT - 1} is hidden, with its percentage, "
    "so that no young person's own answer can be picked out.",
    "Rows add up to totals: schools to all schools, year groups to all year groups, years to all years, "
    "terms to their year, and statements to their area; a row's counts add up to its answers. Where only "
    "one figure of a sum would be hidden, it could be worked out by subtraction, so another figure of "
    "that sum is hidden too.",
    "Rows are hidden the same way whichever filters you choose, so comparing filters reveals nothing more.",
    f"Every hidden row says \u201c{SUPPRESSED_TEXT}\u201d, so you cannot tell which rows are the small ones.",
)

COUNTED_UNTIL_RULE = (
    "Figures are counted up to the end of the last whole term, and this term's check-ins are added when it "
    "ends. So the figures do not change from day to day, and comparing them on two dates cannot single out "
    "the few young people who checked in between."
)

CellKey = tuple[str, int | str, str, str]  # (statement or area id, school id, year group, period)
UNIT, SCHOOL, YEAR_GROUP, PERIOD = range(4)


@dataclass(frozen=True)
class Figures:
    """One row's numbers: answers per value (in answer-scale order) and the pupils behind them."""

    pupils: int
    counts: tuple[int, ...]

    def __add__(self, other: Figures) -> Figures:
        return Figures(self.pupils + other.pupils, tuple(a + b for a, b in zip(self.counts, other.counts)))

    @property
    def answers(self) -> int:
        return sum(self.counts)

    def shares(self) -> list[Share]:
        total = self.answers
        return [Share(value, answer_words(value), count, round(100 * count / total) if total else 0)
                for value, count in zip(answer_values(), self.counts)]


@dataclass(frozen=True)
class Share:
    value: str
    label: str
    count: int
    percent: int  # of the row's answers, rounded: a row's percentages may not add to exactly 100


@dataclass(frozen=True)
class Row:
    label: str
    figures: Figures | None  # None: no answers, or hidden
    suppressed: bool = False
    who: str = "pupil"  # whom `figures.pupils` counts (a parent carer's or partner's row says so)
    hidden_counts: frozenset[int] = frozenset()  # the answer values (by index) whose counts are hidden

    def shares(self) -> list[HiddenOrShown]:
        """The row's count and percentage per answer, None where hidden."""
        return [HiddenOrShown(share.value, share.label, None, None) if index in self.hidden_counts else
                HiddenOrShown(share.value, share.label, share.count, share.percent)
                for index, share in enumerate(self.figures.shares())] if self.figures else []

    def describe(self) -> str:
        """The row in words, e.g. for a chart's text alternative."""
        if self.suppressed:
            return f"{self.label}: {SUPPRESSED_TEXT}"
        if self.figures is None:
            return f"{self.label}: no answers"
        shares = ", ".join(f"{share.label} {HIDDEN_COUNT_TEXT if share.count is None else f'{share.percent}%'}"
                           for share in self.shares())
        return (f"{self.label}: {shares} ({_counted(self.figures.answers, 'answer')} "
                f"from {_counted(self.figures.pupils, self.who)})")


@dataclass(frozen=True)
class HiddenOrShown:
    value: str
    label: str
    count: int | None  # None: hidden
    percent: int | None


def _counted(number: int, thing: str) -> str:
    return f"{number} {thing}" if number == 1 else f"{number} {thing}s"


@dataclass(frozen=True)
class UnitFigures:
    """An area (all its statements together) or one statement, by school and over time."""

    unit_id: str
    title: str
    by_school: tuple[Row, ...]
    all_schools: Row
    over_time: tuple[Row, ...]
    all_times: Row  # all_schools again, named for the over-time table's foot


@dataclass(frozen=True)
class CommentCount:
    """The comments filed under an area now, from all schools and years."""

    comments: int
    pupils: int

    @property
    def suppressed(self) -> bool:
        return 0 < self.pupils < MIN_PUPILS


@dataclass(frozen=True)
class AreaFigures:
    area: UnitFigures
    statements: tuple[UnitFigures, ...]
    comments: CommentCount = CommentCount(0, 0)


class Option(NamedTuple):
    """A choice in a drop-down; unpacks as (value, label)."""

    value: str
    label: str


@dataclass(frozen=True)
class CouncilFigures:
    framework_id: str
    framework_title: str
    year_group: str | None
    academic_year: int | None
    time_heading: str  # what the over-time rows are: academic years, or the terms of the chosen year
    time_total: str  # what they add up to: all years, or the chosen year
    areas: tuple[AreaFigures, ...]
    year_groups: tuple[Option, ...]  # what the filters can choose, from the answers counted
    academic_years: tuple[Option, ...]
    counted_until: date  # the last day counted: the end of the last whole term

    @property
    def has_answers(self) -> bool:
        return any(a.area.all_schools.figures is not None or a.area.all_schools.suppressed for a in self.areas)


def framework_options() -> tuple[Option, ...]:
    """Every bundled framework, in file order."""
    return tuple(Option(fid, load_framework(fid).title) for fid in framework_files())


def default_framework(db: Session, council_id: int | None, now: datetime | None = None) -> str:
    """The framework with the most check-ins this council counts (the first in file order on a
    tie, or when there are none): an officer whose schools use York lands on York's figures,
    not on an empty page for another framework."""
    checkins = dict(db.execute(
        select(SurveySession.framework_id, func.count(SurveySession.id))
        .join(Pupil, Pupil.id == SurveySession.pupil_id)
        .where(SurveySession.perspective == DEFAULT_PERSPECTIVE,
               *counted_checkins(council_id, term_start(now or utcnow())))
        .group_by(SurveySession.framework_id)
    ).all())
    return max((option.value for option in framework_options()), key=lambda fid: checkins.get(fid, 0))


def academic_year_of(when: datetime) -> int:
    """The academic year a moment falls in, named by the year its September is in."""
    local = when.astimezone(SCHOOL_TIME)
    return local.year if local.month >= 9 else local.year - 1


def academic_year_label(year: int) -> str:
    return f"{year}/{(year + 1) % 100:02d}"


def year_group_label(year_group: str) -> str:
    return NOT_RECORDED_LABEL if year_group == NOT_RECORDED else year_group


def term_start(now: datetime) -> datetime:
    """When the term `now` falls in began (UK midnight): the figures count what came before."""
    year = academic_year_of(now)
    starts = [datetime(year + (month < 9), month, day, tzinfo=SCHOOL_TIME) for _, _, month, day in TERMS]
    return max(start for start in starts if start <= now)


def council_figures(db: Session, council_id: int | None, framework_id: str, year_group: str | None = None,
                    academic_year: int | None = None, now: datetime | None = None) -> CouncilFigures:
    """The figures of one council's schools for one framework, for one year group and academic
    year if given (else all), as they stood when the last whole term before `now` ended."""
    framework = load_framework(framework_id)
    until = term_start(now or utcnow())
    cube, years, hidden = _kept_or_counted(db, framework, council_id, until)
    schools = _school_labels(db, {key[SCHOOL] for key in cube} - {ALL})
    group = year_group or ALL
    period = str(academic_year) if academic_year is not None else ALL

    def row(label: str, key: CellKey) -> Row:
        hidden_here = hidden.get(key, frozenset())
        if WHOLE_ROW in hidden_here:
            return Row(label, None, suppressed=True)
        return Row(label, cube.get(key), hidden_counts=hidden_here)

    time_total = "All years" if academic_year is None else f"All of {academic_year_label(academic_year)}"
    if academic_year is None:
        times = [(academic_year_label(y), str(y)) for y in years]
    else:
        times = [(f"{name} {academic_year_label(academic_year)}", f"{academic_year}-{term}")
                 for term, name, _, _ in TERMS]

    def unit(unit_id: str, title: str) -> UnitFigures:
        return UnitFigures(
            unit_id=unit_id,
            title=title,
            by_school=tuple(row(name, (unit_id, school_id, group, period)) for school_id, name in schools),
            all_schools=row("All schools", (unit_id, ALL, group, period)),
            over_time=tuple(row(label, (unit_id, ALL, group, when)) for label, when in times),
            all_times=row(time_total, (unit_id, ALL, group, period)),
        )

    comments = comment_counts(db, council_id, framework, until)
    areas = tuple(
        AreaFigures(unit(area.id, area.title), tuple(unit(s.id, s.text) for s in statements),
                    comments.get(area.id, CommentCount(0, 0)))
        for area in framework.areas if (statements := asked_statements(area))
    )
    groups = sorted({key[YEAR_GROUP] for key in cube} - {ALL}, key=_natural_order)
    return CouncilFigures(
        framework_id=framework.id,
        framework_title=framework.title,
        year_group=year_group,
        academic_year=academic_year,
        time_heading="Academic year" if academic_year is None else "Term",
        time_total=time_total,
        areas=areas,
        year_groups=tuple(Option(g, year_group_label(g)) for g in groups),
        academic_years=tuple(Option(str(y), academic_year_label(y)) for y in sorted(years, reverse=True)),
        counted_until=(until.astimezone(SCHOOL_TIME) - timedelta(days=1)).date(),
    )


def asked_statements(area: Area) -> list[Statement]:
    """The statements young people are asked in this area (the council's rows)."""
    return [s for s in area.statements if s.perspective == DEFAULT_PERSPECTIVE and s.sets]


# ---- counting ---------------------------------------------------------------------------------


KEPT_FIGURES = 32  # (database, council, framework, term) whose figures each web process keeps
_kept: OrderedDict[tuple, tuple[bytes, tuple]] = OrderedDict()
_kept_lock = threading.Lock()


def _kept_or_counted(db: Session, framework: Framework, council_id: int | None,
                     until: datetime) -> tuple[dict[CellKey, Figures], list[int], dict[CellKey, frozenset[int]]]:
    """The figures (`_count`), the academic years with answers and what to hide, counted again
    only when what they are counted from has changed since this process last counted them.

    Counting every answer again took most of the council view's time, though whole terms change
    rarely. What they are counted from is read first (one quick query): for each check-in counted,
    its id, pupil, school, year group and start, and how many answers it had at `until` with the
    highest and the sum of their ids. An answer is never changed in place (a changed answer is a
    new row, repository.record_answer), so every write that could change the figures changes these
    rows: consent given or taken back, a year group or school changed, a school moved to another
    council, a check-in or pupil erased, an answer recorded or changed as of a past term. The
    figures are kept under a digest of the rows and used only while the digest is the same.
    """
    answers = aliased(Answer, select(Answer).where(*_counted_answers(framework, until)).subquery())
    rows = [tuple(row) for row in db.execute(
        select(SurveySession.id, SurveySession.pupil_id, Pupil.school_id, Pupil.year_group, SurveySession.started_at,
               func.count(answers.id), func.max(answers.id), func.sum(answers.id))
        .join(Pupil, Pupil.id == SurveySession.pupil_id)
        .outerjoin(answers, answers.session_id == SurveySession.id)
        .where(*_counted_checkins_of(framework, council_id, until))
        .group_by(SurveySession.id, SurveySession.pupil_id, Pupil.school_id, Pupil.year_group,
                  SurveySession.started_at)
        .order_by(SurveySession.id)
    )]
    digest = hashlib.sha256(repr(rows).encode()).digest()
    key = (db.get_bind().url.render_as_string(hide_password=True), council_id, framework.id, until)
    with _kept_lock:
        kept = _kept.get(key)
        if kept is not None and kept[0] == digest:
            _kept.move_to_end(key)
            return kept[1]
    if rows:
        starts = [started_at for _, _, _, _, started_at, *_ in rows]
        cube, years = _count(db, framework, council_id, until,
                             list(range(academic_year_of(min(starts)), academic_year_of(max(starts)) + 1)))
    else:
        cube, years = {}, []
    figures = (cube, years, suppressed_cells(cube, _sums(cube, framework)))
    with _kept_lock:
        _kept[key] = (digest, figures)
        _kept.move_to_end(key)
        while len(_kept) > KEPT_FIGURES:
            _kept.popitem(last=False)
    return figures


def _counted_checkins_of(framework: Framework, council_id: int | None, until: datetime) -> list:
    """SQL conditions on SurveySession (joined to its Pupil): a young person's check-in with this
    framework that the council counts (`counted_checkins`)."""
    return [SurveySession.framework_id == framework.id, SurveySession.perspective == DEFAULT_PERSPECTIVE,
            *counted_checkins(council_id, until)]


def _counted_answers(framework: Framework, until: datetime) -> list:
    """SQL conditions on Answer: an answer to a statement the council counts, as it stood at `until`."""
    return [Answer.created_at < until, or_(Answer.is_current, Answer.superseded_at >= until),
            Answer.statement_id.in_(_asked_statement_ids(framework))]


def _asked_statement_ids(framework: Framework) -> list[str]:
    return [s.id for area in framework.areas for s in asked_statements(area)]



def _count(db: Session, framework: Framework, council_id: int | None, until: datetime,
           years: list[int]) -> tuple[dict[CellKey, Figures], list[int]]:
    """Every figure any filter can show, by key, and the academic years with answers: of the
    council's schools, as the answers stood at `until`; `years` spans the counted check-ins.

    Answers add up across everything, so they are counted once per statement, school, year
    group and term, and summed for areas, years and all time. Pupils add up across schools
    and year groups (a pupil has one of each) but not across statements or periods, so for
    each statement and each area the pupils are grouped by the terms they answered in, and
    each such group counts once for each of its terms, its years and all time.
    """
    # A check-in's pupil, school, year group and term: worked out once per check-in, not per answer.
    checkins = (
        select(SurveySession.id, SurveySession.pupil_id, Pupil.school_id,
               func.coalesce(func.nullif(func.trim(Pupil.year_group), ""), NOT_RECORDED).label("year_group"),
               _period_case(SurveySession.started_at, years).label("term"))
        .join(Pupil, Pupil.id == SurveySession.pupil_id)
        .where(*_counted_checkins_of(framework, council_id, until))
        .cte("checkins")
        .prefix_with("MATERIALIZED")
    )
    counted = (
        select(Answer.statement_id, Answer.area_id, Answer.value, checkins.c.pupil_id, checkins.c.school_id,
               checkins.c.year_group, checkins.c.term)
        .join(checkins, checkins.c.id == Answer.session_id)
        .where(*_counted_answers(framework, until))
        .cte("counted")
        .prefix_with("MATERIALIZED")  # read by each count below: gather it once
    )
    by_cell = (counted.c.school_id, counted.c.year_group)
    # Answers per value for each statement, school, year group and term: areas, years and all
    # time are sums of these.
    answer_counts = (
        select(literal(ANSWERS).label("kind"), counted.c.statement_id, counted.c.area_id, *by_cell,
               cast(counted.c.term, Text), literal(0).label("pupils"),  # text, as the pupils' lists of terms
               *[func.sum(case((counted.c.value == value, 1), else_=0)) for value in answer_values()])
        .group_by(counted.c.statement_id, counted.c.area_id, *by_cell, counted.c.term)
    )
    # For statements and areas: one row per pupil (no id) with the terms they answered in
    # (each listed once or more, in any order), then the pupils counted per list of terms. A
    # pupil has one school and one year group, so grouping by pupil alone is enough.
    pupil_counts = []
    for unit in (counted.c.statement_id, counted.c.area_id):
        terms_of_pupil = (
            select(unit.label("unit"), func.max(counted.c.school_id).label("school_id"),
                   func.max(counted.c.year_group).label("year_group"),
                   func.aggregate_strings(cast(counted.c.term, Text), ",").label("terms"))
            .group_by(unit, counted.c.pupil_id)
            .subquery()
        )
        same_terms = (terms_of_pupil.c.unit, terms_of_pupil.c.school_id, terms_of_pupil.c.year_group,
                      terms_of_pupil.c.terms)
        pupil_counts.append(
            select(literal(PUPILS), terms_of_pupil.c.unit, terms_of_pupil.c.unit, *same_terms[1:], func.count(),
                   *[literal(0)] * len(answer_values()))
            .group_by(*same_terms)
        )
    names = _term_names(years)
    answers: dict[CellKey, tuple[int, ...]] = {}
    pupils: dict[CellKey, int] = {}
    for kind, unit_id, area_id, school_id, group, terms, pupil_count, *counts in db.execute(
            union_all(answer_counts, *pupil_counts)):
        if kind == ANSWERS:
            periods = _periods_of(names[int(terms)])
            for key in ((unit, school_id, group, when) for unit in (unit_id, area_id) for when in periods):
                answers[key] = tuple(a + int(b) for a, b in zip(answers.get(key, [0] * len(counts)), counts))
        else:
            for when in {when for term in terms.split(",") for when in _periods_of(names[int(term)])}:
                key = (unit_id, school_id, group, when)
                pupils[key] = pupils.get(key, 0) + int(pupil_count)

    # Which figure suppression picks on a tie depends on the order of the cube: keep it fixed
    # (statements before areas; all time, then years, then terms; each in key order).
    statement_ids = set(_asked_statement_ids(framework))

    def order(key: CellKey) -> tuple:
        unit_id, school_id, group, when = key
        level = 0 if when == ALL else 2 if "-" in when else 1
        return (unit_id not in statement_ids, level, unit_id, school_id if level < 2 else 0, group, when)

    cube: dict[CellKey, Figures] = {}
    for unit_id, school_id, group, when in sorted(answers, key=order):
        counts = answers[unit_id, school_id, group, when]
        figures = Figures(pupils[unit_id, school_id, group, when], counts)
        # Terms are shown for all schools only: a school's term would be too fine a cut.
        keys = _with_totals(unit_id, school_id, group, when) if "-" not in when else \
            [(unit_id, ALL, group, when), (unit_id, ALL, ALL, when)]
        for key in keys:
            cube[key] = cube[key] + figures if key in cube else figures
    used_years = sorted({int(key[PERIOD]) for key in cube if key[PERIOD] != ALL and "-" not in key[PERIOD]})
    return cube, used_years


def comment_counts(db: Session, council_id: int | None, framework: Framework, until: datetime) -> dict[str, CommentCount]:
    """Comments and the pupils who wrote them, per area they are filed under now (one query):
    the council's own schools, check-ins counted as the answers are (whole terms)."""
    heard_filed = (
        select(CommentMapping.area_id).where(CommentMapping.comment_id == Comment.id)
        .order_by(CommentMapping.score.desc(), CommentMapping.id).limit(1)
        .correlate(Comment).scalar_subquery()
    )
    filed = (
        select(func.coalesce(Comment.moved_to_area_id, heard_filed, Comment.area_id).label("area_id"),
               SurveySession.pupil_id)
        .join(SurveySession, SurveySession.id == Comment.session_id)
        .join(Pupil, Pupil.id == SurveySession.pupil_id)
        .where(SurveySession.framework_id == framework.id, SurveySession.perspective == DEFAULT_PERSPECTIVE,
               *counted_checkins(council_id, until))
        .subquery()
    )
    rows = db.execute(select(filed.c.area_id, func.count(), func.count(distinct(filed.c.pupil_id)))
                      .group_by(filed.c.area_id))
    return {area_id: CommentCount(int(comments), int(pupils)) for area_id, comments, pupils in rows}


def _periods_of(term: str) -> tuple[str, str, str]:
    """A term ('2024-spring'), its academic year ('2024') and all time: the periods it counts in."""
    return term, term.split("-")[0], ALL


def counted_checkins(council_id: int | None, until: datetime) -> list:
    """SQL conditions on SurveySession (joined to its Pupil): a check-in at one of the council's
    schools, started before `until`, whose consent decision then included the council and whose
    latest one still does."""
    if council_id is None:  # no council: nothing (and never the schools that have none)
        return [false()]
    return [
        Pupil.school_id.in_(select(School.id).where(School.council_id == council_id)),
        SurveySession.started_at < until,
        _council_may_count(until),
        _council_may_count(None),
    ]


def _council_may_count(before: datetime | None):
    """SQL: the check-in's latest consent decision (made before `before`, if given) includes
    the council. A decision is the latest when no later one (by time, then id) exists for its
    check-in: an anti-join both databases plan well (PostgreSQL misjudged a row_number() filter
    as one row and re-sorted every decision once per check-in)."""
    decision, later = ConsentDecision, aliased(ConsentDecision)
    newer = select(later.id).where(
        later.session_id == decision.session_id,
        or_(later.decided_at > decision.decided_at,
            and_(later.decided_at == decision.decided_at, later.id > decision.id)))
    # audiences is a JSON list of option values; a quoted value matches only itself
    conditions = [cast(decision.audiences, Text).contains(f'"{COUNCIL_CONSENT}"', autoescape=True)]
    if before is not None:
        newer = newer.where(later.decided_at < before)
        conditions.append(decision.decided_at < before)
    return SurveySession.id.in_(select(decision.session_id).where(~newer.exists(), *conditions))


def _with_totals(unit_id: str, school_id: int, group: str, period: str) -> list[CellKey]:
    """The key and the all-schools / all-year-groups totals it adds to."""
    return [(unit_id, school, g, period) for school in (school_id, ALL) for g in (group, ALL)]


def _term_names(years: list[int]) -> list[str]:
    """The terms of these academic years in order, e.g. '2024-autumn', '2024-spring', '2024-summer'."""
    return [f"{year}-{term}" for year in years for term, *_ in TERMS]


def _period_case(started_at, years: list[int]):
    """SQL giving the term a check-in started in (of these academic years) as its place in
    _term_names(years): a number is quicker to group by than a name. The bounds are UK midnights made UTC in Python, so the SQL is
    the same on every database."""
    starts = [datetime(year + (month < 9), month, day, tzinfo=SCHOOL_TIME) for year in years
              for _, _, month, day in TERMS]
    bounds = starts[1:] + [datetime(years[-1] + 1, 9, 1, tzinfo=SCHOOL_TIME)]
    return case(*[(started_at < bound, place) for place, bound in enumerate(bounds)], else_=None)


def _school_labels(db: Session, school_ids: set) -> list[tuple[int, str]]:
    schools = db.scalars(select(School).where(School.id.in_(school_ids))) if school_ids else []
    labelled = [(s.id, f"{s.name} (URN {s.urn})" if s.urn else s.name) for s in schools]
    return sorted(labelled, key=lambda pair: (pair[1].lower(), pair[0]))


def _natural_order(text: str) -> tuple:
    """'Year 2' before 'Year 10'; 'Not recorded' last."""
    if text == NOT_RECORDED:
        return (1,)
    return (0, *[(0, int(part), "") if part.isdigit() else (1, 0, part.lower())
                 for part in re.split(r"(\d+)", text) if part])


# ---- hiding small numbers ------------------------------------------------------------------------


Sum = tuple[CellKey, list[CellKey]]  # a total and the rows (that have answers) adding up to it
WHOLE_ROW = -1  # in a Cell: the row's answers; hidden, the whole row is
Cell = tuple[CellKey, int]  # a row and one answer value's index (or WHOLE_ROW)


def _sums(cube: dict[CellKey, Figures], framework: Framework) -> list[Sum]:
    """Every total in the cube with the rows that add up to it, along each way of splitting it."""
    children: list[dict[str, list]] = [
        {area.id: [s.id for s in asked_statements(area)] for area in framework.areas},
        {ALL: sorted({key[SCHOOL] for key in cube} - {ALL})},
        {ALL: sorted({key[YEAR_GROUP] for key in cube} - {ALL})},
        {ALL: sorted({key[PERIOD] for key in cube if "-" not in key[PERIOD]} - {ALL})},
    ]
    for key in cube:
        if key[PERIOD] != ALL and "-" not in key[PERIOD]:
            children[PERIOD].setdefault(key[PERIOD], [f"{key[PERIOD]}-{term}" for term, *_ in TERMS])
    sums = []
    for key in cube:
        for dim, kids in enumerate(children):
            parts = [k for child in kids.get(key[dim], ()) if (k := _replace(key, dim, child)) in cube]
            if parts:  # none: this split is not shown (e.g. one school's terms)
                sums.append((key, parts))
    return sums


def _replace(key: CellKey, dim: int, value) -> CellKey:
    return key[:dim] + (value,) + key[dim + 1:]  # type: ignore[return-value]


def suppressed_cells(cube: dict[CellKey, Figures], sums: Iterable[Sum], min_pupils: int = MIN_PUPILS,
                     min_count: int = MIN_COUNT, hidden_rows: Iterable[CellKey] = ()) -> dict[CellKey, frozenset[int]]:
    """What to hide, by row: the indexes of the answer values whose counts are hidden, and
    WHOLE_ROW when the whole row is.

    A figure here is one count of one row, or the row's answers (WHOLE_ROW: hiding it hides the
    row). First hidden: `hidden_rows` (already hidden by an earlier pass), rows from fewer than
    `min_pupils` pupils, and in the others each count from 1 to `min_count` - 1. Then, while some
    sum has exactly one hidden figure, one more figure of it is hidden. The sums: each row's
    counts add up to its answers, and each figure adds up across rows as the rows do (`sums`).

    The figure chosen is the one that also mends the most other such sums, then a count before
    a whole row, then the smallest (a count of none last: hiding it protects little; a row by
    fewest pupils, then answers): e.g. Year 6 of all schools, which is both a row of "all year
    groups" and the total of the schools' Year 6 rows, rather than one row in each sum.
    """
    width = len(next(iter(cube.values())).counts) if cube else 0  # answer values, or whatever the rows count
    # Cells are numbered, row by row (the row's answers, then each count), so that the sums are
    # lists of small numbers rather than one new pair per cell per sum: quicker to build and for
    # the garbage collector, on a council's few thousand rows.
    rows = list(dict.fromkeys([*cube, *(key for total, parts in sums for key in (total, *parts))]))
    row_number = {key: number for number, key in enumerate(rows)}
    stride = 1 + width

    def cell_of(number: int) -> Cell:
        return rows[number // stride], number % stride - 1

    starts = [[row_number[key] * stride for key in (total, *parts)] for total, parts in sums]
    members: list[list[int]] = [list(row_starts) for row_starts in starts]  # rows' answers first, so
    members += [[start + value for start in row_starts]  # whole rows are settled before counts
                for row_starts in starts for value in range(1, width + 1)]
    members += [list(range(row_number[key] * stride, row_number[key] * stride + width + 1)) for key in cube]
    sums_of: list[list[int]] = [[] for _ in range(len(rows) * stride)]
    for index, cells in enumerate(members):
        for cell in cells:
            sums_of[cell].append(index)
    hidden: set[int] = set()
    hidden_in = [0] * len(members)
    one_hidden: set[int] = set()

    def row_cells(cell: int) -> Iterable[int]:
        return range(cell, cell + width + 1) if cell % stride == 0 else (cell,)

    def hide(cell: int) -> None:
        for each in row_cells(cell):
            if each in hidden:
                continue
            hidden.add(each)
            for index in sums_of[each]:
                hidden_in[index] += 1
                if hidden_in[index] == 1:
                    one_hidden.add(index)
                else:
                    one_hidden.discard(index)

    hidden_rows = set(hidden_rows)
    for key, figures in cube.items():
        start = row_number[key] * stride
        if key in hidden_rows or figures.pupils < min_pupils:
            hide(start)
        else:
            for value, count in enumerate(figures.counts):
                if 0 < count < min_count:
                    hide(start + 1 + value)

    def choice(cell: int) -> tuple:
        mends = len({index for each in row_cells(cell) if each not in hidden for index in sums_of[each]} & one_hidden)
        key, value = cell_of(cell)
        figures = cube[key]
        if value == WHOLE_ROW:
            return (-mends, 1, 0, figures.pupils, figures.answers, str((key, value)))
        count = figures.counts[value]
        return (-mends, 0, count == 0, count, 0, str((key, value)))

    while one_hidden:
        hide(min((cell for cell in members[min(one_hidden)] if cell not in hidden), key=choice))
    by_row: dict[CellKey, set[int]] = {}
    for key, value in map(cell_of, hidden):
        by_row.setdefault(key, set()).add(value)
    return {key: frozenset(values) for key, values in by_row.items()}


# ---- CSV -------------------------------------------------------------------------------------------


SUPPRESSED_MARK = "suppressed"
SOME_COUNTS_HIDDEN_MARK = "some counts hidden"


def csv_rows(figures: CouncilFigures) -> Iterator[list[str | int]]:
    """One line per row shown on the page; a hidden row has blank numbers and 'suppressed'."""
    values = answer_values()
    yield (["Framework", "Year group", "Academic year", "Area", "Statement id", "Outcome statement",
            "Split by", "Row", "Pupils", "Answers"]
           + [f"{answer_words(v)} ({unit})" for v in values for unit in ("answers", "%")] + ["Suppressed"])
    group = year_group_label(figures.year_group) if figures.year_group else "All"
    year = academic_year_label(figures.academic_year) if figures.academic_year is not None else "All"
    for area in figures.areas:
        for unit in (area.area, *area.statements):
            is_area = unit is area.area
            label = ["", "All statements in this area"] if is_area else [unit.unit_id, unit.title]
            splits = [("School", r) for r in unit.by_school] + [("School", unit.all_schools)]
            splits += [(figures.time_heading, r) for r in unit.over_time]
            for split, row in splits:
                numbers: list[str | int] = [""] * (2 + 2 * len(values))
                if row.figures is not None:
                    numbers = [row.figures.pupils, row.figures.answers]
                    numbers += [("" if n is None else n) for share in row.shares() for n in (share.count, share.percent)]
                mark = SUPPRESSED_MARK if row.suppressed else SOME_COUNTS_HIDDEN_MARK if row.hidden_counts else ""
                yield [figures.framework_title, group, year, area.area.title, *label, split, row.label, *numbers, mark]


def to_csv(figures: CouncilFigures, more_rows: Iterable[list[str | int]] = ()) -> str:
    """CSV text (with a byte order mark, so Excel reads it as UTF-8); `more_rows` (in the same
    columns) after the young people's, e.g. parent carers' and partners' (bot.reports.other_voices)."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows([inert(cell) for cell in row] for row in (*csv_rows(figures), *more_rows))
    return out.getvalue()
