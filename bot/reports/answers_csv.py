"""A pupil's current answers and comments, every check-in, as CSV for the school's records.

One row per answer, then one per comment, oldest check-in first: the pupil's own check-ins,
then their parent carer's (the "Whose view" column says which; nothing is merged), each with the
question they heard, how they gave it and who they said may see it. The words are exactly as
given, except for the guard against spreadsheet formulas (see `inert`).
"""
from __future__ import annotations

import csv
import io
from dataclasses import astuple, dataclass
from datetime import tzinfo

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from bot.reports.voice import mapped_statements, option_words
from bot.staff.wording import METHOD_WORDS, WHOSE_CHECKIN, answer_words, who_spoke
from framework.db.models import DEFAULT_PERSPECTIVE, Answer, Comment, ConsentDecision, Pupil, SurveySession
from framework.loader import load_framework

HEADER = ("Record", "Check-in", "Check-in date (UK time)", "Framework", "Area", "Statement id", "I statement",
          "Question asked", "Answer", "How given", "Exact words", "Who answered", "Read aloud", "Consent",
          "Whose view")
ANSWER_RECORD = "Answer"
COMMENT_RECORDS = {"anything_else": "Comment: anything else", "what_would_help": "Comment: what would help"}
# A spreadsheet runs a cell starting with one of these as a formula, so a child's typed
# "=HYPERLINK(...)" could become a live link. Such cells get a leading single quote, which
# spreadsheets treat as "this is text". The quote is the only change ever made to the words.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
NOT_ASKED = "Not asked yet"  # the check-in ended before they were asked who may see it
NO_ONE = "No one"


@dataclass(frozen=True)
class CsvRow:
    record: str
    checkin_id: int
    checkin_date: str
    framework: str
    area: str
    statement_id: str  # a comment: the statements it was mapped to, space-separated
    statement: str
    question: str  # the words the young person heard: the question, or a comment's prompt
    answer: str
    how_given: str
    words: str
    who_answered: str
    read_aloud: str
    consent: str  # who they said may see the check-in, in their button words
    whose: str  # the pupil's own check-in, or their parent carer's


def answer_rows(db: Session, pupil: Pupil, timezone: tzinfo) -> list[CsvRow]:
    """The rows for one pupil (five queries, however many check-ins); dates in `timezone`."""
    sessions = {s.id: s for s in db.scalars(
        select(SurveySession).where(SurveySession.pupil_id == pupil.id)
        .order_by(SurveySession.perspective != DEFAULT_PERSPECTIVE, SurveySession.started_at, SurveySession.id)
    )}
    answers = db.scalars(select(Answer).where(Answer.session_id.in_(list(sessions)), Answer.is_current))
    comments = db.scalars(select(Comment).where(Comment.session_id.in_(list(sessions)))
                          .options(selectinload(Comment.mappings)))
    consents = _consents(db, list(sessions))
    by_session: dict[int, list[CsvRow]] = {session_id: [] for session_id in sessions}
    for answer in sorted(answers, key=lambda a: a.id):
        session = sessions[answer.session_id]
        by_session[answer.session_id].append(_answer_row(session, answer, timezone, consents.get(session.id)))
    for comment in sorted(comments, key=lambda c: c.id):
        session = sessions[comment.session_id]
        by_session[comment.session_id].append(_comment_row(session, comment, timezone, consents.get(session.id)))
    return [row for rows in by_session.values() for row in rows]


def _consents(db: Session, session_ids: list[int]) -> dict[int, list[str]]:
    """Each check-in's latest consent decision (one query for them all); none: not asked yet."""
    latest: dict[int, list[str]] = {}
    for decision in db.scalars(select(ConsentDecision).where(ConsentDecision.session_id.in_(session_ids))
                               .order_by(ConsentDecision.decided_at, ConsentDecision.id)):
        latest[decision.session_id] = decision.audiences
    return latest


def consent_words(audiences: list[str] | None) -> str:
    if audiences is None:
        return NOT_ASKED
    return "; ".join(option_words("consent", a) for a in audiences) or NO_ONE


def _checkin_columns(session: SurveySession, area_id: str, timezone: tzinfo, consent: list[str] | None) -> dict:
    framework = load_framework(session.framework_id)
    return {"checkin_id": session.id, "checkin_date": f"{session.started_at.astimezone(timezone):%Y-%m-%d %H:%M}",
            "framework": framework.title, "area": framework.area(area_id).title, "consent": consent_words(consent),
            "whose": WHOSE_CHECKIN[session.perspective]}


def _answer_row(session: SurveySession, answer: Answer, timezone: tzinfo, consent: list[str] | None) -> CsvRow:
    statement = load_framework(session.framework_id).statement(answer.statement_id)
    return CsvRow(
        record=ANSWER_RECORD,
        **_checkin_columns(session, answer.area_id, timezone, consent),
        statement_id=answer.statement_id,
        statement=statement.text,
        question=statement.question or "",
        answer=answer_words(answer.value),
        how_given=METHOD_WORDS[answer.method],
        words=answer.words or "",
        who_answered=who_spoke(answer.who_answered, session.perspective),
        read_aloud="yes" if answer.read_aloud else "no",
    )


def _comment_row(session: SurveySession, comment: Comment, timezone: tzinfo, consent: list[str] | None) -> CsvRow:
    framework = load_framework(session.framework_id)
    mapped = mapped_statements(framework, comment)
    prompts = framework.area(comment.area_id).prompts.get(session.perspective)
    return CsvRow(
        record=COMMENT_RECORDS.get(comment.kind, comment.kind),
        **_checkin_columns(session, comment.area_id, timezone, consent),
        statement_id=" ".join(s.id for s in mapped),
        statement=" | ".join(s.text for s in mapped),
        question=getattr(prompts, comment.kind, "") if prompts else "",
        answer="",
        how_given="Chose cards" if comment.cards else "Typed",
        words=comment.text,
        who_answered=who_spoke(session.who_with, session.perspective),
        read_aloud="yes" if session.read_aloud else "no",
    )


def inert(cell: str | int) -> str:
    """The cell as text a spreadsheet will not run as a formula."""
    text = str(cell)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def to_csv(rows: list[CsvRow]) -> str:
    """CSV text with a header row. A byte order mark first, so Excel reads the accents right."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerows([inert(cell) for cell in astuple(row)] for row in rows)
    return out.getvalue()
