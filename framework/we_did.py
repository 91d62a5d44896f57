""""You said, we did": a school tells a young person what it did about what they said.

A SENCO records, against one answer or comment of a check-in, what the school will do, who
does it and by when, and the sentence the young person will hear ("Now you can eat in the
quiet room."); later they mark it done. At the young person's next check-in (the same
perspective, so a parent carer is never told the child's), before the first question, the
bot tells them each done item, one at a time, with the area's symbol, and asks "Did that
help?"; the reply is kept with the item.

What the young person hears is only: fixed words (we_did.yml), the framework's own question
or prompt, the words of comment cards they chose, and the school's sentence, checked for
plain language when the SENCO wrote it. Never their own typed words: a comment passed to
the safeguarding lead, or any other, is not said back.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accessibility import plain_language
from accessibility.symbols import known_symbols
from framework.answers import AnswerValue, answer_scale
from framework.db.models import HELPED_VALUES, Answer, Comment, SchoolAction, StaffUser, SurveySession, utcnow
from framework.loader import all_frameworks, load_checked, load_framework, plain_bar
from framework.schema import SYMBOL_PATTERN
from framework.settings import get_settings
from framework.survey import COMMENT_KINDS

WORDS_FILE = Path(__file__).parent / "we_did.yml"
# At most this many items are told at one check-in: the young person came to answer
# questions. The rest wait for the next one.
MAX_TOLD = 3


class HelpReply(BaseModel):
    """One button under "Did that help?"."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    value: str
    answer: AnswerValue  # the answer-scale answer that means the same (its intent and payload)
    label: str = Field(min_length=1)
    symbol: str = Field(pattern=SYMBOL_PATTERN)


class WeDidWords(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    intro: str
    asked_before: str
    you_said: dict[AnswerValue, str]
    you_chose: str = Field(pattern=r"\{cards\}")
    you_told_me: str
    now: str = Field(pattern=r"^Now \{what\}\.$")
    did_it_help: str
    check: str
    thanks: str
    replies: tuple[HelpReply, ...]

    @model_validator(mode="after")
    def _replies_match_the_database(self) -> "WeDidWords":
        values = tuple(r.value for r in self.replies)
        if values != HELPED_VALUES:
            raise ValueError(f"list the replies {', '.join(HELPED_VALUES)} in this order (the database keeps these)")
        if len({r.answer for r in self.replies}) != len(self.replies):
            raise ValueError("each reply needs its own answer")
        missing = set(AnswerValue.__args__) - set(self.you_said)
        if missing:
            raise ValueError(f"'you_said' needs a sentence for {', '.join(sorted(missing))}")
        return self

    def fixed_texts(self) -> list[tuple[str, str]]:
        """(name, text) of every sentence said as written, for checks and read-aloud."""
        texts = [(name, getattr(self, name)) for name in
                 ("intro", "asked_before", "you_told_me", "did_it_help", "check", "thanks")]
        texts += [(f"you_said {value}", text) for value, text in self.you_said.items()]
        return texts + [(f"reply {r.value}", r.label) for r in self.replies]

    def reply_for(self, answer_value: str) -> HelpReply | None:
        return next((r for r in self.replies if r.answer == answer_value), None)

    def label_of(self, value: str) -> str:
        return next(r.label for r in self.replies if r.value == value)

    def buttons(self) -> list[dict]:
        scale = answer_scale()
        return [{"title": r.label, "payload": scale.by_value(r.answer).payload, "symbol": r.symbol}
                for r in self.replies]


def _content_problems(data: WeDidWords):
    symbols = known_symbols(get_settings().openmoji_dir)
    for i, reply in enumerate(data.replies):
        if reply.symbol not in symbols:
            yield ("replies", i, "symbol"), f"unknown symbol '{reply.symbol}'; use an OpenMoji hexcode such as '1F44D'"
    for name, text in data.fixed_texts():
        for problem in plain_language.problems(text):
            yield tuple(name.split(" ")), problem


def load_words(path: Path = WORDS_FILE) -> WeDidWords:
    return load_checked(path, WeDidWords, _content_problems)


@lru_cache(maxsize=1)
def words() -> WeDidWords:
    return load_words()


# ---- what the young person hears --------------------------------------------------------------


_NOW = re.compile(r"^\s*now\b[\s,]*", re.I)


def school_words(typed: str) -> str:
    """The school's part of "Now …", as a SENCO typed it: without a leading "Now", the full
    stop and extra spaces."""
    return " ".join(_NOW.sub("", typed).split()).rstrip(" .!")


def now_sentence(school_part: str) -> str:
    """E.g. "Now you can eat in the quiet room." """
    return words().now.format(what=school_part)


def answer_recap(framework_id: str, statement_id: str, value: str) -> str:
    """What the young person was asked and answered, in the framework's words: "Last time, I
    asked you this. Do you feel safe at school? You said no." """
    data = words()
    statement = load_framework(framework_id).statement(statement_id)
    return f"{data.asked_before} {statement.question or statement.text} {data.you_said[value]}"


def comment_recap(framework_id: str, perspective: str, area_id: str, kind: str, cards: list[str] | None) -> str:
    """The prompt a comment answered, and the cards chosen, if they read plainly together; typed
    words are never said back: "You told me what you think." """
    data = words()
    prompt = getattr(load_framework(framework_id).area(area_id).prompts[perspective], kind)
    chose = data.you_chose.format(cards=", ".join(cards)) if cards else None
    return f"{data.asked_before} {prompt} {chose if chose and not plain_language.problems(chose) else data.you_told_me}"


def recap(action: SchoolAction) -> str:
    source = action.session
    if action.answer is not None:
        return answer_recap(source.framework_id, action.answer.statement_id, action.answer.value)
    comment = action.comment
    return comment_recap(source.framework_id, source.perspective, comment.area_id, comment.kind, comment.cards)


def every_recap_without_cards(*, for_adults: bool | None = None) -> list[tuple[str, str]]:
    """(where, text) of each recap that names no cards: every question of every framework with
    every answer, and every comment prompt (only those for adults, or for children, if asked).
    Fixed words only, so each is checked as plain and may be read aloud as a fixed prompt."""
    found = []
    for framework in all_frameworks().values():
        for area in framework.areas:
            for perspective in area.prompts:
                if for_adults is not None and (plain_bar(framework, perspective) == plain_language.ADULTS) != for_adults:
                    continue
                found += [(f"{statement.id} {value}", answer_recap(framework.id, statement.id, value))
                          for statement in area.asked(perspective, "full") for value in words().you_said]
                found += [(f"{area.id} {perspective} {kind}",
                           comment_recap(framework.id, perspective, area.id, kind, None)) for kind in COMMENT_KINDS]
    return found


@dataclass(frozen=True)
class Telling:
    """One item as the young person hears it."""

    recap: str
    now: str
    area_id: str
    area_title: str
    symbol: str


def telling(action: SchoolAction) -> Telling:
    source = action.session
    area = load_framework(source.framework_id).area(action.area_id)
    return Telling(recap(action), now_sentence(action.child_words), area.id, area.plain_title, area.symbol)


# ---- the database ---------------------------------------------------------------------------------


def record(db: Session, staff: StaffUser, session: SurveySession, *, answer: Answer | None = None,
           comment: Comment | None = None, what: str, who: str, due_on: date, child_words: str,
           now: datetime | None = None) -> SchoolAction:
    """A SENCO's plan about one answer or comment of `session` (exactly one of the two)."""
    if (answer is None) == (comment is None):
        raise ValueError("a school action is about one answer or one comment")
    said = answer if answer is not None else comment
    if said.session_id != session.id:
        raise ValueError("the answer or comment is not from this check-in")
    action = SchoolAction(
        session_id=session.id, pupil_id=session.pupil_id, answer_id=answer.id if answer else None,
        comment_id=comment.id if comment else None, area_id=said.area_id, what=what, who=who, due_on=due_on,
        child_words=child_words, created_by_id=staff.id, created_at=now or utcnow(),
    )
    db.add(action)
    db.flush()
    return action


def mark_done(db: Session, action: SchoolAction, staff: StaffUser, now: datetime | None = None) -> None:
    if action.done_at is None:
        action.done_at = now or utcnow()
        action.done_by_id = staff.id
        db.flush()


def keep_for(db: Session, session: SurveySession) -> None:
    """When a check-in's questions are about to start: set aside the done items (at most MAX_TOLD,
    oldest done first) from the pupil's earlier check-ins of the same perspective that have no
    reply yet, to be told at this one before its first question. Items done later wait for the next."""
    chosen = db.scalars(
        select(SchoolAction).join(SurveySession, SurveySession.id == SchoolAction.session_id)
        .where(SchoolAction.pupil_id == session.pupil_id, SchoolAction.done_at.is_not(None),
               SchoolAction.helped.is_(None), SurveySession.id != session.id,
               SurveySession.perspective == session.perspective, SurveySession.started_at <= session.started_at)
        .order_by(SchoolAction.done_at, SchoolAction.id).limit(MAX_TOLD)
    )
    for action in chosen:
        # One kept for an earlier check-in that was left before its reply is told again here.
        action.told_session_id, action.told_at = session.id, None
    db.flush()


def waiting_for_reply(db: Session, session: SurveySession) -> SchoolAction | None:
    """The next item kept for this check-in that has no reply to "Did that help?" yet."""
    return db.scalar(select(SchoolAction).where(SchoolAction.told_session_id == session.id,
                                                SchoolAction.helped.is_(None))
                     .order_by(SchoolAction.done_at, SchoolAction.id).limit(1))


def mark_told(db: Session, action: SchoolAction, now: datetime | None = None) -> bool:
    """Note when the item was first said; True that first time."""
    if action.told_at is not None:
        return False
    action.told_at = now or utcnow()
    db.flush()
    return True


def nothing_told_yet(db: Session, session: SurveySession) -> bool:
    return db.scalar(select(func.count(SchoolAction.id)).where(SchoolAction.told_session_id == session.id,
                                                               SchoolAction.told_at.is_not(None))) == 0


def record_reply(db: Session, action: SchoolAction, value: str, method: str, words_typed: str | None,
                 now: datetime | None = None) -> None:
    """The young person's answer to "Did that help?"."""
    if value not in HELPED_VALUES:
        raise ValueError(f"'{value}' is not a reply to 'Did that help?'")
    action.helped, action.helped_method, action.helped_words = value, method, words_typed
    action.helped_at = now or utcnow()
    db.flush()
