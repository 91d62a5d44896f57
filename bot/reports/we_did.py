""""You said, we did" for staff (framework/we_did.py): what a school plans about the answers and
comments of one check-in, the sentence the young person will hear checked for plain language
(kindly, saying what to change), and for the council, per area, how many actions there were and
whether young people said they helped, small numbers hidden as in the rest of the council view.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session, selectinload

from accessibility import plain_language
from bot.reports.council import (
    ALL, MIN_PUPILS, WHOLE_ROW, CellKey, Figures, counted_checkins, suppressed_cells, term_start,
)
from bot.staff.guards import parse_id
from bot.staff.messages import message
from bot.staff.wording import COMMENT_WORDS, METHOD_WORDS, answer_words
from framework import we_did
from framework.db.models import (
    DEFAULT_PERSPECTIVE, HELPED_VALUES, Answer, Comment, Pupil, SchoolAction, SurveySession, utcnow,
)
from framework.loader import load_framework

FIELDS = ("said", "what", "who", "due_on", "child_words")  # the form's fields, kept across a sign-in
EMPTY_PLAN = dict.fromkeys(FIELDS, "")
MAX_WHAT, MAX_WHO, MAX_CHILD_WORDS = 1000, 120, 200
SAID_PREVIEW = 80  # characters of a typed comment shown in the list of what they said

CHECK_THE_PLAN = message("checkins.check_the_plan")
PLAN_PROBLEMS = {key: message(f"checkins.plan_{key}") for key in (
    "said", "what", "who", "too_long", "due_on", "shorter",
    "child_words", "one_sentence", "too_many_words", "hard_words", "hard_to_read")}
# What staff read for a reply to "Did that help?"
HELPED_WORDS = {"yes": "Yes, it helped", "a_bit": "It helped a bit", "no": "No, it did not help",
                "skipped": "They skipped this"}


@dataclass(frozen=True)
class Said:
    """One answer or comment of a check-in, as the plan's first field offers it."""

    value: str  # "answer-12" or "comment-3"
    label: str


def said_choices(db: Session, session: SurveySession) -> list[Said]:
    """Every current answer and every comment of the check-in, in the framework's order."""
    framework = load_framework(session.framework_id)
    answers = {a.statement_id: a for a in db.scalars(
        select(Answer).where(Answer.session_id == session.id, Answer.is_current))}
    comments = list(db.scalars(select(Comment).where(Comment.session_id == session.id).order_by(Comment.id)))
    choices = []
    for area in framework.areas:
        for statement in area.statements:
            if statement.id in answers:
                choices.append(Said(f"answer-{answers[statement.id].id}",
                                    f"{area.plain_title}: asked \u201c{statement.question or statement.text}\u201d, "
                                    f"they said {answer_words(answers[statement.id].value)}"))
        for comment in comments:
            if comment.area_id == area.id:
                choices.append(Said(f"comment-{comment.id}",
                                    f"{area.plain_title}: {COMMENT_WORDS[comment.kind]}, "
                                    f"\u201c{_preview(comment.text)}\u201d"))
    return choices


def _preview(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= SAID_PREVIEW else flat[:SAID_PREVIEW - 1] + "\u2026"


# ---- checking a plan ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    answer: Answer | None
    comment: Comment | None
    what: str
    who: str
    due_on: date
    child_words: str  # the school's part of "Now …"


def child_sentence_problem(typed: str) -> str | None:
    """What to change in the sentence the young person will hear, kindly; None when it is plain
    (the child rules: one sentence, 12 words or fewer, everyday words, reading age 9 or under)."""
    part = we_did.school_words(typed)
    if not part:
        return PLAN_PROBLEMS["child_words"]
    sentence = we_did.now_sentence(part)
    if len(plain_language.sentences(sentence)) > 1:
        return PLAN_PROBLEMS["one_sentence"]
    if not plain_language.problems(sentence):
        return None
    count = len(plain_language.words(sentence))
    if count > plain_language.MAX_WORDS:
        return PLAN_PROBLEMS["too_many_words"].format(sentence=sentence, count=count, max=plain_language.MAX_WORDS)
    rare = [w for w in plain_language.words(sentence) if plain_language.problems(w)]
    if rare:
        listed = ", ".join(f"\u201c{w}\u201d" for w in dict.fromkeys(rare))
        return PLAN_PROBLEMS["hard_words"].format(words=listed)
    return PLAN_PROBLEMS["hard_to_read"].format(sentence=sentence, age=plain_language.MAX_READING_AGE)


def check_plan(db: Session, session: SurveySession, form: dict[str, str]) -> Plan | dict[str, str]:
    """The plan, or what to change, by field."""
    errors = {}
    kind, _, number = form["said"].partition("-")
    model, said_id = {"answer": Answer, "comment": Comment}.get(kind), parse_id(number)
    said = db.get(model, said_id) if model is not None and said_id is not None else None
    if said is None or said.session_id != session.id or (isinstance(said, Answer) and not said.is_current):
        errors["said"] = PLAN_PROBLEMS["said"]
    what, who = form["what"].strip(), " ".join(form["who"].split())
    if not what:
        errors["what"] = PLAN_PROBLEMS["what"]
    elif len(what) > MAX_WHAT:
        errors["what"] = PLAN_PROBLEMS["too_long"].format(max=MAX_WHAT)
    if not who:
        errors["who"] = PLAN_PROBLEMS["who"]
    elif len(who) > MAX_WHO:
        errors["who"] = PLAN_PROBLEMS["too_long"].format(max=MAX_WHO)
    try:
        due_on = date.fromisoformat(form["due_on"].strip())
    except ValueError:
        errors["due_on"] = PLAN_PROBLEMS["due_on"]
    problem = child_sentence_problem(form["child_words"])
    if problem is None and len(we_did.school_words(form["child_words"])) > MAX_CHILD_WORDS:
        problem = PLAN_PROBLEMS["shorter"]
    if problem:
        errors["child_words"] = problem
    if errors:
        return errors
    return Plan(said if kind == "answer" else None, said if kind == "comment" else None, what, who, due_on,
                we_did.school_words(form["child_words"]))


# ---- what the SENCO sees -------------------------------------------------------------------------


@dataclass(frozen=True)
class ActionView:
    id: int
    area_title: str
    about: str  # what the young person was asked and said, for staff
    what: str
    who: str
    due_on: date
    child_hears: str  # "Now you can eat in the quiet room."
    created_at: datetime
    done_at: datetime | None
    told_at: datetime | None
    told_checkin_id: int | None
    helped: str | None  # HELPED_WORDS
    helped_how: str | None
    helped_words: str | None  # exactly as typed

    @property
    def due_words(self) -> str:
        """E.g. 'Fri 13 Dec 2026'."""
        return f"{self.due_on:%a} {self.due_on.day} {self.due_on:%b %Y}"

    @property
    def status(self) -> str:
        if self.helped:
            return "Told to them. They said: " + self.helped
        if self.told_at:
            return "Told to them; they have not answered yet"
        if self.done_at:
            return "Done: they will be told at their next check-in"
        return "Planned"


def action_view(action: SchoolAction) -> ActionView:
    source = action.session
    framework = load_framework(source.framework_id)
    if action.answer is not None:
        statement = framework.statement(action.answer.statement_id)
        about = (f"Asked \u201c{statement.question or statement.text}\u201d, "
                 f"they said {answer_words(action.answer.value)}")
    else:
        about = f"{COMMENT_WORDS[action.comment.kind]}: \u201c{_preview(action.comment.text)}\u201d"
    return ActionView(
        action.id, framework.area(action.area_id).plain_title, about, action.what, action.who, action.due_on,
        we_did.now_sentence(action.child_words), action.created_at, action.done_at, action.told_at,
        action.told_session_id, HELPED_WORDS.get(action.helped) if action.helped else None,
        METHOD_WORDS.get(action.helped_method) if action.helped_method else None, action.helped_words,
    )


@dataclass(frozen=True)
class CheckinActions:
    planned: tuple[ActionView, ...]  # about this check-in's answers and comments
    told: tuple[ActionView, ...]  # from earlier check-ins, told at this one
    choices: tuple[Said, ...]


def checkin_actions(db: Session, session: SurveySession) -> CheckinActions:
    loads = (selectinload(SchoolAction.session), selectinload(SchoolAction.answer),
             selectinload(SchoolAction.comment))
    planned = db.scalars(select(SchoolAction).where(SchoolAction.session_id == session.id)
                         .options(*loads).order_by(SchoolAction.id))
    told = db.scalars(select(SchoolAction).where(SchoolAction.told_session_id == session.id)
                      .options(*loads).order_by(SchoolAction.told_at, SchoolAction.id))
    return CheckinActions(tuple(map(action_view, planned)), tuple(map(action_view, told)),
                          tuple(said_choices(db, session)))


# ---- the council's counts --------------------------------------------------------------------------


COUNTED = ("actions", "done", "told", *HELPED_VALUES)


@dataclass(frozen=True)
class WeDidRow:
    label: str
    pupils: int | None  # None: hidden, or nothing to count
    counts: dict[str, int | None] | None  # by COUNTED; a reply's count is None where it is hidden
    suppressed: bool = False


def _replies(figures: Figures) -> Figures:
    """A row's replies to "Did that help?", as the answers of a council row: one count per reply,
    then those told who have not replied yet, so that the counts add up to "Told to them"."""
    counted = dict(zip(COUNTED, figures.counts))
    replied = tuple(counted[value] for value in HELPED_VALUES)
    return Figures(figures.pupils, (*replied, counted["told"] - sum(replied)))


@dataclass(frozen=True)
class WeDidFigures:
    areas: tuple[WeDidRow, ...]
    total: WeDidRow

    @property
    def has_actions(self) -> bool:
        return self.total.suppressed or self.total.counts is not None


def council_we_did(db: Session, council_id: int | None, framework_id: str, now: datetime | None = None) -> WeDidFigures:
    """Per area: actions planned about young people's answers and comments, how many were done and
    told to them, and their replies to "Did that help?". An action counts when the check-in it is
    about may be counted by the council; its telling and reply when that check-in may be too.
    Every year group and year together (so no filter can take a hidden row apart), rows from
    fewer than MIN_PUPILS pupils hidden, and one more where a hidden row could be worked out.
    A reply is a young person's answer: in a shown row, a reply's count from 1 to MIN_COUNT - 1 is
    hidden as an answer's is, and one more where it could be worked out from "Told to them" or
    from the other rows. Only the officer's own council's schools, counted to the start of this
    term, as the answers are."""
    framework = load_framework(framework_id)
    # A check-in is told at, counted (for its telling and reply) only if the council may count it.
    council_checkins = (select(SurveySession.id).join(Pupil, Pupil.id == SurveySession.pupil_id)
                        .where(*counted_checkins(council_id, term_start(now or utcnow()))).correlate(None))
    told_counts = and_(SchoolAction.told_at.is_not(None), SchoolAction.told_session_id.in_(council_checkins))
    figures = (
        func.count(func.distinct(SchoolAction.pupil_id)),
        func.count(SchoolAction.id),
        func.sum(case((SchoolAction.done_at.is_not(None), 1), else_=0)),
        func.sum(case((told_counts, 1), else_=0)),
        *[func.sum(case((and_(told_counts, SchoolAction.helped == value), 1), else_=0)) for value in HELPED_VALUES],
    )
    about_counted_checkins = (SurveySession.framework_id == framework.id,
                              SurveySession.perspective == DEFAULT_PERSPECTIVE, SurveySession.id.in_(council_checkins))

    def counted(*by):
        return (select(*by, *figures).join(SurveySession, SurveySession.id == SchoolAction.session_id)
                .where(*about_counted_checkins))

    total_key: CellKey = (ALL, ALL, ALL, ALL)
    cube: dict[CellKey, Figures] = {
        (area_id, ALL, ALL, ALL): Figures(pupils, tuple(int(n or 0) for n in numbers))
        for area_id, pupils, *numbers in db.execute(counted(SchoolAction.area_id).group_by(SchoolAction.area_id))
    }
    if cube:
        pupils, *numbers = db.execute(counted()).one()
        cube[total_key] = Figures(pupils, tuple(int(n or 0) for n in numbers))
    sums = [(total_key, [key for key in cube if key != total_key])] if cube else []
    # Whole rows first, from the plans (min_count 1: plans are not young people's answers); then,
    # in the rows shown, the replies' small counts.
    hidden_rows = [key for key, cells in suppressed_cells(cube, sums, MIN_PUPILS, 1).items() if WHOLE_ROW in cells]
    hidden = suppressed_cells({key: _replies(figures) for key, figures in cube.items()}, sums, MIN_PUPILS,
                              hidden_rows=hidden_rows)

    def row(label: str, key: CellKey) -> WeDidRow:
        hidden_here = hidden.get(key, frozenset())
        if WHOLE_ROW in hidden_here:
            return WeDidRow(label, None, None, suppressed=True)
        found = cube.get(key)
        if not found:
            return WeDidRow(label, None, None)
        counts: dict[str, int | None] = dict(zip(COUNTED, found.counts))
        for index in hidden_here:
            if index < len(HELPED_VALUES):  # the last is "not replied yet", which is never shown
                counts[HELPED_VALUES[index]] = None
        return WeDidRow(label, found.pupils, counts)

    return WeDidFigures(tuple(row(area.title, (area.id, ALL, ALL, ALL)) for area in framework.areas),
                        row("All areas", total_key))
