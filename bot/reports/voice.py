"""Pupil voice for staff: one check-in summed up, and a pupil's answers over time.

Plain data built from the outcomes database in a few queries (never one per answer), for
the staff pages and the exports to show. Children's words are carried exactly as stored;
showing them safely (escaping) is the page's job.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from bot.staff.wording import (
    COMMENT_WORDS,
    FIRST_PERSON,
    METHOD_WORDS,
    STATUS_IN_FULL,
    answer_words,
    question_set_label,
    who_spoke,
)
from framework.answers import answer_scale
from framework.choices import choices
from framework.db import repository as repo
from framework.db.models import (
    DEFAULT_PERSPECTIVE,
    PARENT_CARERS,
    AlertMessage,
    Answer,
    Comment,
    Pupil,
    SafeguardingAlert,
    SurveySession,
)
from framework.loader import load_framework
from framework.mapping import SURE_AT
from framework.safeguarding import safeguarding_categories
from framework.schema import QUESTION_SETS, Area, Framework, Statement

# The scale lists its answers in button order: Yes, Sometimes, No, then I don't know and Skip.
# Only the first three are an order of agreement, and every I statement is put positively,
# so agreeing more is better. "I don't know" and a skip say nothing about better or worse.
NOT_ON_SCALE = ("dont_know", "skipped")


def answer_values() -> tuple[str, ...]:
    return tuple(a.value for a in answer_scale().answers)


def agreement(value: str) -> int | None:
    """How much an answer agrees with its statement (No 0, Sometimes 1, Yes 2), from the
    scale's order; None for answers that are not on it."""
    ranked = [v for v in answer_values() if v not in NOT_ON_SCALE]
    return len(ranked) - 1 - ranked.index(value) if value in ranked else None


def change_between(before: str, after: str) -> str:
    """'better', 'same' or 'worse': how `after` compares with an earlier answer on the scale."""
    was, now = agreement(before), agreement(after)
    if was is None or now is None:
        raise ValueError(f"only Yes, Sometimes and No answers can be compared, not {before!r} and {after!r}")
    return "better" if now > was else "worse" if now < was else "same"


def option_words(slot: str, value: str | None) -> str | None:
    """The button words a child chose (choices.yml), e.g. 'Only my school'."""
    if value is None:
        return None
    return next((o.label for o in choices().options(slot) if o.value == value), value)


# ---- one check-in ------------------------------------------------------------------------------


@dataclass(frozen=True)
class GivenAnswer:
    value: str
    method: str
    words: str | None  # exactly as typed; None when tapped
    read_aloud: bool
    who_answered: str | None
    at: datetime

    @property
    def label(self) -> str:
        """The answer as staff read it: "Skipped", not the child's "Skip"."""
        return answer_words(self.value)

    @property
    def how(self) -> str:
        return METHOD_WORDS[self.method]

    @classmethod
    def of(cls, answer: Answer) -> GivenAnswer:
        return cls(answer.value, answer.method, answer.words, answer.read_aloud, answer.who_answered,
                   answer.created_at)


@dataclass(frozen=True)
class StatementAnswer:
    statement: Statement
    answer: GivenAnswer | None  # None: not answered (not reached yet, or the check-in stopped)
    earlier: tuple[GivenAnswer, ...] = ()  # answers this one replaced, oldest first

    @property
    def changed_from(self) -> str | None:
        """E.g. 'changed from No', or 'changed from No, then Sometimes'."""
        if not self.earlier:
            return None
        return "changed from " + ", then ".join(a.label for a in self.earlier)


@dataclass(frozen=True)
class AnswerCount:
    value: str
    count: int

    @property
    def label(self) -> str:
        """The answer as staff read it: "Skipped", not the child's "Skip"."""
        return answer_words(self.value)


@dataclass(frozen=True)
class MovedBy:
    """A SENCO filed the comment under another outcome than Heard did."""

    who: str  # the member of staff's email
    at: datetime
    heard_filed: str  # the title of the area Heard had filed it under


@dataclass(frozen=True)
class CommentView:
    id: int
    kind: str
    prompt: str | None  # the question the child was asked, when the framework has it
    text: str  # exactly as given
    about: tuple[Statement, ...]  # the statements the mapper matched, best first
    cards: tuple[str, ...] = ()  # the words of the comment cards chosen, when the comment was cards
    sure: bool = False  # the mapper was sure of the first match (False when it matched none)
    moved: MovedBy | None = None

    @property
    def kind_label(self) -> str:
        return COMMENT_WORDS.get(self.kind, self.kind)

    @property
    def cards_chosen(self) -> str:
        """'chose the cards “too noisy” and “people are kind”'; empty for typed words."""
        if not self.cards:
            return ""
        quoted = [f"\u201c{words}\u201d" for words in self.cards]
        listed = quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]
        return f"chose the card{'s' if len(quoted) > 1 else ''} {listed}"


@dataclass(frozen=True)
class AreaSummary:
    area: Area
    counts: tuple[AnswerCount, ...]  # every scale answer, in scale order, zeros included
    statements: tuple[StatementAnswer, ...]
    comments: tuple[CommentView, ...]

    @property
    def title(self) -> str:
        return self.area.plain_title

    def in_first_person(self) -> list[tuple[str, list[StatementAnswer]]]:
        """What the young person said about this area, e.g. ("This is sometimes true for me",
        [the statements so answered…]), in scale order. The I statements are the framework's
        own words; words typed as an answer ("kinda") go with the answer they gave."""
        said = [(FIRST_PERSON[v], [s for s in self.statements if s.answer and s.answer.value == v])
                for v in answer_values()]
        return [(words, statements) for words, statements in said if statements]


@dataclass(frozen=True)
class HowGathered:
    input_mode: str | None  # the child's button words, e.g. "Tap buttons"; None if not chosen
    read_aloud: bool
    who_with: str | None  # WHO_SPOKE words
    methods: tuple[tuple[str, int], ...]  # (how given, number of answers), most first
    read_aloud_answers: int
    who_answered: tuple[tuple[str, int], ...]  # (WHO_SPOKE words, number of answers)
    answers: int


@dataclass(frozen=True)
class PassedToLead:
    """A message of this check-in that went to the safeguarding lead instead of the chat: still
    the child's voice. The words are shown to the SENCO only where every category allows it
    (framework/safeguarding_categories.yml, senco_sees); otherwise only that something was passed on."""

    at: datetime
    words: str | None


@dataclass(frozen=True)
class CheckinSummary:
    session: SurveySession
    pupil: Pupil
    framework: Framework
    areas: tuple[AreaSummary, ...]
    asked: int  # questions in the check-in's set, and any answered outside it
    answered: int  # not counting skips
    skipped: int
    consent: tuple[str, ...] | None  # the child's button words; None: not asked yet
    consent_at: datetime | None
    gathered: HowGathered
    passed_to_lead: tuple[PassedToLead, ...]  # oldest first

    @property
    def status(self) -> str:
        return STATUS_IN_FULL.get(self.session.status, self.session.status)

    @property
    def question_set(self) -> str:
        return question_set_label(self.session.question_set)

    @property
    def chose_shorter_set(self) -> bool:
        """The young person chose fewer questions than the set staff chose on the invite."""
        return QUESTION_SETS.index(self.session.question_set) < QUESTION_SETS.index(self.session.invite.question_set)

    @property
    def invited_question_set(self) -> str:
        return question_set_label(self.session.invite.question_set)

    @property
    def stopped_before_choosing(self) -> bool:
        """They stopped (or asked to, and left) before saying who may see: only the school does."""
        return self.consent is None and (self.session.status == "stopped" or self.session.stop_asked_at is not None)

    @property
    def comments(self) -> list[tuple[AreaSummary, CommentView]]:
        return [(area, c) for area in self.areas for c in area.comments]

    @property
    def by_parent_carer(self) -> bool:
        """A parent carer's check-in about the pupil, not the pupil's own."""
        return self.session.perspective == PARENT_CARERS

    @property
    def heading(self) -> str:
        name = self.pupil.display_name
        return f"Parent carer's view: {name}" if self.by_parent_carer else f"Pupil voice: {name}"


def checkin_summary(db: Session, session: SurveySession) -> CheckinSummary:
    """Everything a SENCO reads about one check-in (seven queries, however many answers)."""
    framework = load_framework(session.framework_id)
    every_answer = list(db.scalars(select(Answer).where(Answer.session_id == session.id).order_by(Answer.id)))
    comments = list(db.scalars(
        select(Comment).where(Comment.session_id == session.id)
        .options(selectinload(Comment.mappings), selectinload(Comment.moved_by))
        .order_by(Comment.id)
    ))
    consent = repo.latest_consent(db, session)

    current = {a.statement_id: a for a in every_answer if a.is_current}
    earlier: dict[str, list[GivenAnswer]] = defaultdict(list)
    for answer in every_answer:
        if not answer.is_current:
            earlier[answer.statement_id].append(GivenAnswer.of(answer))
    asked = {s.id for s in framework.questions(session.perspective, session.question_set)} | set(current)

    areas = []
    for area in framework.areas:
        statements = tuple(
            StatementAnswer(s, GivenAnswer.of(current[s.id]) if s.id in current else None, tuple(earlier[s.id]))
            for s in area.statements if s.id in asked
        )
        area_comments = tuple(_comment_view(framework, session.perspective, c)
                              for c in comments if filed_area(framework, c) == area.id)
        if statements or area_comments:
            areas.append(AreaSummary(area, _counts(a.answer.value for a in statements if a.answer), statements,
                                     area_comments))

    values = Counter(a.value for a in current.values())
    return CheckinSummary(
        session=session,
        pupil=session.pupil,
        framework=framework,
        areas=tuple(areas),
        asked=len(asked),
        answered=sum(values.values()) - values["skipped"],
        skipped=values["skipped"],
        consent=tuple(option_words("consent", v) for v in consent.audiences) if consent else None,
        consent_at=consent.decided_at if consent else None,
        gathered=_how_gathered(session, list(current.values())),
        passed_to_lead=_passed_to_lead(db, session),
    )


def _passed_to_lead(db: Session, session: SurveySession) -> tuple[PassedToLead, ...]:
    messages = db.scalars(
        select(AlertMessage).join(SafeguardingAlert).where(SafeguardingAlert.session_id == session.id)
        .order_by(AlertMessage.id)
    )
    senco_sees = safeguarding_categories().senco_sees
    return tuple(PassedToLead(m.created_at, m.words if senco_sees(m.categories) else None) for m in messages)


def _counts(values) -> tuple[AnswerCount, ...]:
    tally = Counter(values)
    return tuple(AnswerCount(v, tally[v]) for v in answer_values())


def mapped_statements(framework: Framework, comment: Comment) -> tuple[Statement, ...]:
    """The statements a comment was mapped to, best first; any the framework file no longer
    has are left out (the comment itself still stands)."""
    known = {s.id: s for area in framework.areas for s in area.statements}
    return tuple(known[m.statement_id] for m in comment.mappings if m.statement_id in known)


def filed_area(framework: Framework, comment: Comment) -> str:
    """The area a comment is shown and counted under: where a SENCO moved it, else where Heard
    filed it."""
    if comment.moved_to_area_id in {area.id for area in framework.areas}:
        return comment.moved_to_area_id
    return heard_filed_area(framework, comment)


def heard_filed_area(framework: Framework, comment: Comment) -> str:
    """Where Heard filed a comment: the outcome it was mapped to first, else the area whose
    prompt the young person answered."""
    known = {area.id for area in framework.areas}
    first = comment.mappings[0].area_id if comment.mappings else None
    return first if first in known else comment.area_id


def _comment_view(framework: Framework, perspective: str, comment: Comment) -> CommentView:
    asked_in = next((area for area in framework.areas if area.id == comment.area_id), None)
    prompts = asked_in.prompts.get(perspective) if asked_in else None
    about = mapped_statements(framework, comment)
    moved = None
    if filed_area(framework, comment) != (heard := heard_filed_area(framework, comment)):
        titles = {area.id: area.plain_title for area in framework.areas}
        moved = MovedBy(comment.moved_by.email if comment.moved_by else "a member of staff", comment.moved_at,
                        titles.get(heard, heard))
    return CommentView(comment.id, comment.kind, getattr(prompts, comment.kind, None) if prompts else None,
                       comment.text, about, tuple(comment.cards or ()),
                       sure=bool(about) and comment.mappings[0].score >= SURE_AT, moved=moved)


def _how_gathered(session: SurveySession, answers: list[Answer]) -> HowGathered:
    methods = Counter(METHOD_WORDS[a.method] for a in answers)
    who = Counter(who_spoke(a.who_answered, session.perspective, missing="Not said") for a in answers)
    return HowGathered(
        input_mode=option_words("input_mode", session.input_mode),
        read_aloud=session.read_aloud,
        who_with=who_spoke(session.who_with, session.perspective) or None,
        methods=tuple(methods.most_common()),
        read_aloud_answers=sum(a.read_aloud for a in answers),
        who_answered=tuple(who.most_common()),
        answers=len(answers),
    )


# ---- change over time -----------------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineCell:
    value: str | None  # None: not answered at this check-in
    change: str | None  # better / same / worse than the last Yes, Sometimes or No before it

    @property
    def label(self) -> str:
        return answer_words(self.value) if self.value else "Not asked"


@dataclass(frozen=True)
class StatementTimeline:
    statement: Statement
    cells: tuple[TimelineCell, ...]  # one per check-in, oldest first


@dataclass(frozen=True)
class AreaPoint:
    counts: tuple[AnswerCount, ...]
    average: float | None  # mean agreement (No 0, Sometimes 1, Yes 2); None with no such answers


@dataclass(frozen=True)
class AreaTimeline:
    area: Area
    statements: tuple[StatementTimeline, ...]
    points: tuple[AreaPoint, ...]  # one per check-in, oldest first

    @property
    def title(self) -> str:
        return self.area.plain_title


@dataclass(frozen=True)
class FrameworkTimeline:
    framework: Framework
    checkins: tuple[SurveySession, ...]  # oldest first, only those with answers
    areas: tuple[AreaTimeline, ...]


def over_time(db: Session, pupil: Pupil) -> tuple[FrameworkTimeline, ...]:
    """The pupil's current answers at each of their own check-ins, per framework they used (two queries)."""
    sessions = list(db.scalars(
        select(SurveySession).where(SurveySession.pupil_id == pupil.id, SurveySession.perspective == DEFAULT_PERSPECTIVE)
        .order_by(SurveySession.started_at, SurveySession.id)
    ))
    answers: dict[int, dict[str, str]] = defaultdict(dict)
    for session_id, statement_id, value in db.execute(
        select(Answer.session_id, Answer.statement_id, Answer.value)
        .where(Answer.session_id.in_([s.id for s in sessions]), Answer.is_current)
    ):
        answers[session_id][statement_id] = value
    timelines = []
    for framework_id in dict.fromkeys(s.framework_id for s in sessions):
        checkins = tuple(s for s in sessions if s.framework_id == framework_id and answers[s.id])
        if checkins:
            timelines.append(_framework_timeline(load_framework(framework_id), [answers[s.id] for s in checkins],
                                                 checkins))
    return tuple(timelines)


def _framework_timeline(framework: Framework, answered: list[dict[str, str]],
                        checkins: tuple[SurveySession, ...]) -> FrameworkTimeline:
    areas = []
    for area in framework.areas:
        rows = tuple(StatementTimeline(s, _cells([given.get(s.id) for given in answered]))
                     for s in area.statements if any(s.id in given for given in answered))
        if rows:
            points = tuple(_point([given[s.id] for s in area.statements if s.id in given]) for given in answered)
            areas.append(AreaTimeline(area, rows, points))
    return FrameworkTimeline(framework, checkins, tuple(areas))


def _cells(values: list[str | None]) -> tuple[TimelineCell, ...]:
    cells, last_on_scale = [], None
    for value in values:
        on_scale = value is not None and agreement(value) is not None
        change = change_between(last_on_scale, value) if on_scale and last_on_scale else None
        cells.append(TimelineCell(value, change))
        if on_scale:
            last_on_scale = value
    return tuple(cells)


def _point(values: list[str]) -> AreaPoint:
    scores = [s for s in map(agreement, values) if s is not None]
    return AreaPoint(_counts(values), sum(scores) / len(scores) if scores else None)


# ---- a parent carer's view beside the pupil's ---------------------------------------------------


@dataclass(frozen=True)
class Difference:
    """A parent carer statement that mirrors a child statement, answered differently on the scale."""

    child: StatementAnswer
    parent_carer: StatementAnswer

    def sentence(self, first_name: str) -> str:
        """E.g. 'Sam said Sometimes; their parent carer said No.'"""
        return f"{first_name} said {self.child.answer.label}; their parent carer said {self.parent_carer.answer.label}."


@dataclass(frozen=True)
class AreaBeside:
    """One area of the parent carer's check-in, to show after the pupil's own answers there."""

    area: AreaSummary
    differences: tuple[Difference, ...]


@dataclass(frozen=True)
class ParentCarerView:
    """A parent carer's check-in about the pupil, shown beside the pupil's: never merged with it."""

    summary: CheckinSummary  # the parent carer's own check-in
    first_name: str  # the pupil's, for "Sam said …"
    areas: tuple[AreaBeside, ...]

    def area(self, area_id: str) -> AreaBeside | None:
        return next((a for a in self.areas if a.area.area.id == area_id), None)

    def areas_not_in(self, pupil: CheckinSummary) -> tuple[AreaBeside, ...]:
        """The parent carer's areas the pupil's check-in has nothing in."""
        theirs = {a.area.id for a in pupil.areas}
        return tuple(a for a in self.areas if a.area.area.id not in theirs)

    @property
    def differences(self) -> tuple[Difference, ...]:
        return tuple(d for a in self.areas for d in a.differences)


def latest_parent_carer_checkin(db: Session, pupil: Pupil, framework_id: str) -> SurveySession | None:
    """The pupil's parent carer's latest check-in with this framework that has an answer."""
    answered = select(Answer.id).where(Answer.session_id == SurveySession.id, Answer.is_current).exists()
    return db.scalar(
        select(SurveySession)
        .where(SurveySession.pupil_id == pupil.id, SurveySession.perspective == PARENT_CARERS,
               SurveySession.framework_id == framework_id, answered)
        .order_by(SurveySession.started_at.desc(), SurveySession.id.desc()).limit(1)
    )


def parent_carer_view(db: Session, pupil_summary: CheckinSummary) -> ParentCarerView | None:
    """The parent carer's latest check-in beside this check-in of the pupil's own; None if there is none."""
    if pupil_summary.session.perspective != DEFAULT_PERSPECTIVE:
        return None
    session = latest_parent_carer_checkin(db, pupil_summary.pupil, pupil_summary.framework.id)
    if session is None:
        return None
    theirs = checkin_summary(db, session)
    pupil_said = {s.statement.id: s for a in pupil_summary.areas for s in a.statements if s.answer}
    areas = []
    for area in theirs.areas:
        differences = []
        for item in area.statements:
            child = pupil_said.get(item.statement.mirrors) if item.answer else None
            if child is not None and _differ(child.answer.value, item.answer.value):
                differences.append(Difference(child, item))
        areas.append(AreaBeside(area, tuple(differences)))
    return ParentCarerView(theirs, pupil_summary.pupil.display_name.split()[0], tuple(areas))


def _differ(child: str, parent_carer: str) -> bool:
    """Both are Yes, Sometimes or No, and not the same ("I don't know" and skips say nothing)."""
    return agreement(child) is not None and agreement(parent_carer) is not None and child != parent_carer
