"""The staff site's words for stored values, and its clock: school time in England. The words
are data, labels.yml, checked as they load: every value Heard stores has its words, none are
for values it does not store, and no sentence is over the adults' bar. Pages, reports and
exports all take their words from here, so they agree."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from bot.staff.messages import too_long
from framework.answers import answer_scale
from framework.db.models import (
    ANSWER_METHODS,
    ANSWER_VALUES,
    COMMENT_KINDS,
    PARENT_CARERS,
    PARTNER_ROLES,
    PERSPECTIVES,
    ROLES,
    SESSION_STATUSES,
    WHO_WITH,
)
from framework.loader import load_checked
from framework.schema import QUESTION_SETS

SCHOOL_TIME = ZoneInfo("Europe/London")
LABELS_FILE = Path(__file__).with_name("labels.yml")
NOT_STARTED = "not_started"  # a pupil with no check-in yet
NOT_USED = "not_used"  # an invite with no check-in yet


class QuestionSetWords(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    asks: str
    advice: str = ""


def words_for(values: tuple[str, ...], *, every: bool = True) -> Any:
    """A section of labels.yml: words for these stored values (`every`: each one needs its words)."""
    return Field(json_schema_extra={"stored": values, "every": every})


class StaffLabels(BaseModel):
    model_config = ConfigDict(extra="forbid")

    roles: dict[str, str] = words_for(ROLES)
    statuses: dict[str, str] = words_for((NOT_STARTED, *SESSION_STATUSES))
    statuses_in_full: dict[str, str] = words_for(SESSION_STATUSES)
    invite_uses: dict[str, str] = words_for((NOT_USED, *SESSION_STATUSES))
    question_sets: dict[str, QuestionSetWords] = words_for(QUESTION_SETS)
    staff_answers: dict[str, str] = words_for(ANSWER_VALUES, every=False)  # the rest: the scale's labels
    first_person: dict[str, str] = words_for(ANSWER_VALUES)
    methods: dict[str, str] = words_for(ANSWER_METHODS)
    who_spoke: dict[str, str] = words_for(WHO_WITH)
    parent_carer_who_spoke: dict[str, str] = words_for(WHO_WITH)
    comments: dict[str, str] = words_for(COMMENT_KINDS)
    whose_checkin: dict[str, str] = words_for(PERSPECTIVES)
    partner_roles: dict[str, str] = words_for(PARTNER_ROLES)


def _content_problems(labels: StaffLabels):
    for section, field in StaffLabels.model_fields.items():
        values, every = field.json_schema_extra["stored"], field.json_schema_extra["every"]
        words = getattr(labels, section)
        for key in (k for k in words if k not in values):
            yield (section, key), f"Heard stores no '{key}' here; use one of {', '.join(values)}"
        for value in (v for v in values if v not in words) if every else ():
            yield (section,), f"'{value}' has no words; add a line '{value}: ...'"
        for key, text in words.items():
            texts = [text.name, text.asks, text.advice] if isinstance(text, QuestionSetWords) else [text]
            for problem in (p for t in texts for p in too_long(t)):
                yield (section, key), problem


def load_labels(path: Path = LABELS_FILE) -> StaffLabels:
    return load_checked(path, StaffLabels, _content_problems)


LABELS = load_labels()
ROLE_LABELS = LABELS.roles
STATUS_WORDS = LABELS.statuses
STATUS_IN_FULL = LABELS.statuses_in_full
QUESTION_SET_NAMES = {key: words.name for key, words in LABELS.question_sets.items()}
FIRST_PERSON = LABELS.first_person
METHOD_WORDS = LABELS.methods
COMMENT_WORDS = LABELS.comments
WHOSE_CHECKIN = LABELS.whose_checkin
PARTNER_ROLE_WORDS = LABELS.partner_roles


def who_spoke(who_with: str | None, perspective: str, *, missing: str = "") -> str:
    """Who gave a check-in's answers (or one answer), as staff say it."""
    words = LABELS.parent_carer_who_spoke if perspective == PARENT_CARERS else LABELS.who_spoke
    return words.get(who_with, missing) if who_with else missing


def answer_words(value: str) -> str:
    return LABELS.staff_answers.get(value) or answer_scale().by_value(value).label


def invite_use(status: str | None) -> str:
    """An invite's use, by the status of its latest check-in (None: never used)."""
    return LABELS.invite_uses[status or NOT_USED]


def question_set_choice(key: str) -> str:
    """E.g. 'Short: one question about each area. Good for a first go or a short attention span.'"""
    words = LABELS.question_sets[key]
    return f"{words.name}: {words.asks}. {words.advice}".strip()


def question_set_label(key: str) -> str:
    """E.g. 'Short (one question about each area)'; an unknown key as it is."""
    words = LABELS.question_sets.get(key)
    return f"{words.name} ({words.asks})" if words else key


def role_label(role: str) -> str:
    return ROLE_LABELS.get(role, role)


def school_time(value: datetime | str | None) -> str:
    """A stored UTC time as a person in England reads it, e.g. 'Mon 3 Feb 2025, 14:05'."""
    if value is None:
        return ""
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    local = when.astimezone(SCHOOL_TIME)
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M}"


def school_day(when: datetime) -> str:
    """E.g. 'Mon 3 Feb 2025' in school time: short enough for a column heading."""
    local = when.astimezone(SCHOOL_TIME)
    return f"{local:%a} {local.day} {local:%b %Y}"
