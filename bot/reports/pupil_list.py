"""The SENCO's pupil list and each pupil's page, as plain rows; and the check on a new pupil.

The list is one query however many pupils a school has: each pupil's latest check-in, how
many they finished, their open safeguarding alerts and their open invite come from
correlated subqueries in that one statement, never from a query per pupil. Alerts are a count only:
what a child said stays with the safeguarding lead.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from bot.staff.wording import NOT_STARTED, STATUS_WORDS, WHOSE_CHECKIN
from framework.db import repository as repo
from framework.db.codes import format_code
from framework.db.models import DEFAULT_PERSPECTIVE, Answer, Invite, Pupil, SafeguardingAlert, SurveySession, utcnow
from framework.loader import all_frameworks

MAX_NAME = 200  # the columns' sizes (framework/db/models.py Pupil)
MAX_YEAR_GROUP = 32
MAX_CLASS = 64


@dataclass(frozen=True)
class PupilFilters:
    year_group: str = ""
    class_name: str = ""
    name: str = ""  # part of the name, any case

    def as_dict(self) -> dict[str, str]:
        return {k: v for k, v in vars(self).items() if v}

    def whole_group(self) -> tuple[str, str] | None:
        """("year", "Year 6") or ("class", "Oak") when these filters pick out exactly one group."""
        if self.name or bool(self.year_group) == bool(self.class_name):
            return None
        return ("year", self.year_group) if self.year_group else ("class", self.class_name)


@dataclass(frozen=True)
class PupilRow:
    pupil_id: int
    name: str
    year_group: str | None
    class_name: str | None
    status: str  # a STATUS_WORDS key, from the latest check-in
    last_checkin_at: datetime | None
    finished_checkins: int
    open_alerts: int
    open_invite_code: str | None  # as shown (ABCD-EFGH): the newest code not yet expired nor finished with

    @property
    def status_label(self) -> str:
        return STATUS_WORDS[self.status]


def pupil_list(db: Session, school_id: int, filters: PupilFilters = PupilFilters(),
               now: datetime | None = None) -> list[PupilRow]:
    """Every pupil of the school matching `filters`, by name, with where their check-ins are."""
    # Correlated subqueries, each an index lookup per pupil: both SQLite and PostgreSQL run these
    # fast, where joining window-function subqueries made SQLite compare every pair of rows.
    # The pupil's own check-ins and codes: a parent carer's are on the pupil's page.
    own = (SurveySession.pupil_id == Pupil.id, SurveySession.perspective == DEFAULT_PERSPECTIVE)

    def newest_session(column):
        return (select(column).where(*own)
                .order_by(SurveySession.started_at.desc(), SurveySession.id.desc()).limit(1).scalar_subquery())

    finished = select(func.count()).where(*own, SurveySession.status == "finished").scalar_subquery()
    alerts = (select(func.count()).where(SafeguardingAlert.pupil_id == Pupil.id, SafeguardingAlert.status != "closed")
              .scalar_subquery())
    open_invite = (
        select(Invite.code)
        .where(Invite.pupil_id == Pupil.id, Invite.perspective == DEFAULT_PERSPECTIVE,
               Invite.expires_at > (now or utcnow()),
               ~exists().where(SurveySession.invite_id == Invite.id, SurveySession.status == "finished"))
        .order_by(Invite.id.desc()).limit(1).scalar_subquery()
    )
    query = (
        select(Pupil.id, Pupil.display_name, Pupil.year_group, Pupil.class_name,
               newest_session(SurveySession.status), newest_session(SurveySession.started_at),
               finished, alerts, open_invite)
        .where(Pupil.school_id == school_id)
        .order_by(func.lower(Pupil.display_name), Pupil.id)
    )
    if filters.year_group:
        query = query.where(Pupil.year_group == filters.year_group)
    if filters.class_name:
        query = query.where(Pupil.class_name == filters.class_name)
    if filters.name:
        query = query.where(Pupil.display_name.ilike(f"%{_like_escaped(filters.name)}%", escape="\\"))
    return [
        PupilRow(pupil_id, name, year, class_name, status or NOT_STARTED, started, finished_count, alert_count,
                 format_code(code) if code else None)
        for pupil_id, name, year, class_name, status, started, finished_count, alert_count, code in db.execute(query)
    ]


def _like_escaped(text: str) -> str:
    """`text` matched literally by LIKE: a typed % or _ is a character, not a wildcard."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# ---- the school's year groups and classes ------------------------------------------------------


@dataclass(frozen=True)
class SchoolGroups:
    """How many pupils each year group and class has, in reading order (Year 2 before Year 10)."""
    year_groups: dict[str, int]
    classes: dict[str, int]
    without_year_group: int = 0

    @property
    def pupils(self) -> int:
        return sum(self.year_groups.values()) + self.without_year_group


def _natural(text: str) -> list:
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", text)]


def school_groups(db: Session, school_id: int) -> SchoolGroups:
    rows = db.execute(
        select(Pupil.year_group, Pupil.class_name, func.count())
        .where(Pupil.school_id == school_id)
        .group_by(Pupil.year_group, Pupil.class_name)
    ).all()
    years: dict[str, int] = {}
    classes: dict[str, int] = {}
    without_year = 0
    for year, class_name, count in rows:
        if year:
            years[year] = years.get(year, 0) + count
        else:
            without_year += count
        if class_name:
            classes[class_name] = classes.get(class_name, 0) + count
    return SchoolGroups(
        {y: years[y] for y in sorted(years, key=_natural)},
        {c: classes[c] for c in sorted(classes, key=_natural)},
        without_year,
    )


def pupils_in_group(db: Session, school_id: int, kind: str, name: str) -> list[Pupil]:
    """The school's pupils in one year group (`kind` "year") or class ("class"), by name."""
    column = {"year": Pupil.year_group, "class": Pupil.class_name}[kind]
    return list(db.scalars(
        select(Pupil).where(Pupil.school_id == school_id, column == name)
        .order_by(func.lower(Pupil.display_name), Pupil.id)
    ))


# ---- one pupil's check-ins ---------------------------------------------------------------------


@dataclass(frozen=True)
class CheckinRow:
    session_id: int
    started_at: datetime
    framework_id: str
    framework_title: str
    question_set: str
    status: str
    answered: int  # questions answered (a skip is no answer)
    asked: int  # questions in the set
    resumed_at: tuple[datetime, ...] = ()  # each time it was picked up again with its code
    perspective: str = DEFAULT_PERSPECTIVE

    @property
    def whose(self) -> str:
        return WHOSE_CHECKIN[self.perspective]

    @property
    def status_label(self) -> str:
        return STATUS_WORDS[self.status]


def pupil_checkins(db: Session, pupil: Pupil) -> list[CheckinRow]:
    """The pupil's check-ins and their parent carer's, newest first, with how many questions each answered."""
    answered = (
        select(Answer.session_id, func.count().label("count"))
        .join(SurveySession, SurveySession.id == Answer.session_id)
        .where(SurveySession.pupil_id == pupil.id, Answer.is_current, Answer.value != "skipped")
        .group_by(Answer.session_id)
        .subquery()
    )
    rows = db.execute(
        select(SurveySession.id, SurveySession.started_at, SurveySession.framework_id, SurveySession.perspective,
               SurveySession.question_set, SurveySession.status, func.coalesce(answered.c.count, 0))
        .outerjoin(answered, answered.c.session_id == SurveySession.id)
        .where(SurveySession.pupil_id == pupil.id)
        .order_by(SurveySession.started_at.desc(), SurveySession.id.desc())
    )
    frameworks = all_frameworks()
    resumes = repo.resumes(db, pupil)
    checkins = []
    for session_id, started, framework_id, perspective, question_set, status, count in rows:
        framework = frameworks.get(framework_id)  # a framework file since removed still lists its check-ins
        checkins.append(CheckinRow(
            session_id, started, framework_id, framework.title if framework else framework_id, question_set,
            status, count, len(framework.questions(perspective, question_set)) if framework else count,
            tuple(resumes.get(session_id, ())), perspective,
        ))
    return checkins


# ---- adding a pupil ------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewPupil:
    name: str
    year_group: str
    class_name: str | None


def _tidy(text: str) -> str:
    return " ".join(text.split())


def check_new_pupil(name: str, year_group: str, class_name: str) -> NewPupil | dict[str, str]:
    """The pupil to add, tidied; or what is wrong, by field, in words for the SENCO."""
    fields = {"name": _tidy(name), "year_group": _tidy(year_group), "class_name": _tidy(class_name)}
    problems: dict[str, str] = {}
    if not fields["name"]:
        problems["name"] = "Please type the pupil's name."
    if not fields["year_group"]:
        problems["year_group"] = "Please type the pupil's year group, for example Year 6."
    limits = {"name": ("name", MAX_NAME), "year_group": ("year group", MAX_YEAR_GROUP),
              "class_name": ("class", MAX_CLASS)}
    for field, (what, limit) in limits.items():
        value = fields[field]
        if len(value) > limit:
            problems[field] = f"Please keep the {what} to {limit} characters or fewer."
        elif not value.isprintable():
            problems[field] = f"The {what} has a character that cannot be shown. Please type it again."
    if problems:
        return problems
    return NewPupil(fields["name"], fields["year_group"], fields["class_name"] or None)
