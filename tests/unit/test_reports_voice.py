"""Pupil-voice summaries, change over time and the answers CSV, computed straight from the
database with no web app: what they hold, in what order, and in how few queries."""
from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, select

from bot.reports.answers_csv import HEADER, answer_rows, inert, to_csv
from bot.reports.voice import agreement, change_between, checkin_summary, over_time
from framework.db import repository as repo
from framework.db.engine import make_engine, make_session_factory
from framework.db.models import Answer, Comment, Pupil, StaffUser, SurveySession, utcnow
from framework.loader import load_framework
from tests.databases import migrate_fresh
from tests.unit.staff_site import StaffSite

YORK = load_framework("york")
SAFE, SAFE_TELL, INDEPENDENT = "york.safe.cyp1", "york.safe.cyp3", "york.independent.cyp1"
LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def records(db_url) -> Iterator[StaffSite]:
    """The staff_site data helpers (school, pupil, checkin) on a migrated database, with no web app,
    and its `engine`, to count the queries a report makes."""
    migrate_fresh(db_url)
    engine = make_engine(db_url)
    site = StaffSite(app=None, client=None, sessions=make_session_factory(engine))
    site.engine = engine
    yield site
    engine.dispose()


@contextmanager
def counting(engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def change_answer(site: StaffSite, session_id: int, statement_id: str, value: str, words: str | None = None) -> None:
    with site.sessions.begin() as db:
        session = db.get(SurveySession, session_id)
        repo.record_answer(db, session, statement_id, YORK.area_of(statement_id).id, value,
                           "typed" if words else "tapped", words=words)


def comment(site: StaffSite, session_id: int, area_id: str, kind: str, text: str, mapped: tuple[str, ...],
            first_score: float = 0.9) -> None:
    with site.sessions.begin() as db:
        repo.record_comment(db, db.get(SurveySession, session_id), area_id, kind, text,
                            [{"statement_id": s, "area_id": YORK.area_of(s).id, "score": first_score - i / 10}
                             for i, s in enumerate(mapped)])


def test_a_summary_holds_each_area_in_framework_order_with_counts_words_and_changes(records):
    pupil = records.pupil(records.school("Oak"), "Amy Oak")
    # A "standard" check-in stopped part-way: three answers, one skipped, one typed, one changed.
    session_id = records.checkin(
        pupil, {INDEPENDENT: "sometimes", SAFE: "no", SAFE_TELL: "skipped"}, question_set="standard",
        words={INDEPENDENT: "I can make toast now ’cos Mum showed me"}, input_mode="type", read_aloud=True,
        who_with="with_support", status="stopped", consent=None)
    change_answer(records, session_id, SAFE, "yes")
    comment(records, session_id, "york.safe", "what_would_help", "a quiet room at lunch", (SAFE, SAFE_TELL))

    with records.sessions() as db:
        summary = checkin_summary(db, db.get(SurveySession, session_id))

    standard = YORK.questions("children_young_people", "standard")
    assert (summary.asked, summary.answered, summary.skipped) == (len(standard), 2, 1)
    assert summary.status == "Stopped part-way" and summary.consent is None
    asked_areas = [a.id for a in YORK.areas if a.asked("children_young_people", "standard")]
    assert [a.area.id for a in summary.areas] == asked_areas
    safe = summary.areas[0]
    assert {c.label: c.count for c in safe.counts} == {"Yes": 1, "Sometimes": 0, "No": 0, "I don't know": 0,
                                                       "Skipped": 1}
    assert [s.statement.id for s in safe.statements] == [SAFE, SAFE_TELL]
    first = safe.statements[0]
    assert (first.answer.label, first.changed_from) == ("Yes", "changed from No")
    [help_comment] = safe.comments
    assert help_comment.text == "a quiet room at lunch" and help_comment.kind_label == "What would help"
    assert [s.id for s in help_comment.about] == [SAFE, SAFE_TELL] and help_comment.sure
    assert help_comment.prompt == YORK.area("york.safe").prompts["children_young_people"].what_would_help
    independent = summary.areas[1].statements[0]
    assert independent.answer.words == "I can make toast now ’cos Mum showed me" and independent.answer.how == "Typed"
    assert summary.areas[1].statements[1].answer is None  # not reached before stopping
    gathered = summary.gathered
    assert (gathered.input_mode, gathered.read_aloud, gathered.who_with) == (
        "Type", True, "The young person, with someone helping")
    assert dict(gathered.methods) == {"Tapped a button": 2, "Typed": 1}
    assert [(words, [s.statement.id for s in said]) for words, said in safe.in_first_person()] == [
        ("This is true for me", [SAFE]), ("I chose not to answer", [SAFE_TELL])]


def test_a_comment_shows_under_the_outcome_it_was_filed_under_and_how_sure(records):
    pupil = records.pupil(records.school("Oak"))
    session_id = records.checkin(pupil, {SAFE: "yes", INDEPENDENT: "yes"})
    friends = "york.included.cyp1"
    # asked about feeling safe, but about friends: shown under "included", with the safety prompt
    comment(records, session_id, "york.safe", "anything_else", "nobody plays with me", (friends,))
    comment(records, session_id, "york.safe", "what_would_help", "more stuff i guess", (SAFE,), first_score=0.6)
    comment(records, session_id, "york.independent", "anything_else", "my hamster is called nugget", ())

    with records.sessions() as db:
        summary = checkin_summary(db, db.get(SurveySession, session_id))

    shown = {area.area.id: [(c.text, c.sure) for c in area.comments] for area in summary.areas}
    assert shown["york.included"] == [("nobody plays with me", True)]
    assert shown["york.safe"] == [("more stuff i guess", False)]
    assert shown["york.independent"] == [("my hamster is called nugget", False)]  # filed nowhere: where asked
    [(_, moved)] = [(a, c) for a, c in summary.comments if c.text == "nobody plays with me"]
    assert moved.prompt == YORK.area("york.safe").prompts["children_young_people"].anything_else
    assert [a.area.id for a in summary.areas] == [a.id for a in YORK.areas if a.id in shown]


def test_a_comment_a_senco_moved_shows_under_its_new_outcome_with_heards_filing_kept(records):
    school = records.school("Oak")
    session_id = records.checkin(records.pupil(school), {SAFE: "yes"})
    comment(records, session_id, "york.safe", "anything_else", "kids laugh at me on the bus", (INDEPENDENT,))
    email = records.account("senco", school)
    with records.sessions.begin() as db:
        staff = db.scalars(select(StaffUser).where(StaffUser.email == email)).one()
        repo.move_comment(db, db.scalars(select(Comment)).one(), "york.safe", staff)

    with records.sessions() as db:
        summary = checkin_summary(db, db.get(SurveySession, session_id))
    [(area, view)] = summary.comments
    assert area.area.id == "york.safe" and view.text == "kids laugh at me on the bus"
    assert (view.moved.who, view.moved.heard_filed) == (email, YORK.area("york.independent").plain_title)
    assert [s.id for s in view.about] == [INDEPENDENT]  # what Heard matched is still shown


def test_the_latest_consent_counts_in_the_childs_button_words(records):
    pupil = records.pupil(records.school("Oak"))
    session_id = records.checkin(pupil, consent=("school",))
    with records.sessions.begin() as db:
        repo.record_consent(db, db.get(SurveySession, session_id), ["school_and_family"], now=utcnow() + timedelta(1))
    with records.sessions() as db:
        assert checkin_summary(db, db.get(SurveySession, session_id)).consent == ("My school and my family",)


def test_better_and_worse_follow_the_scale_and_leave_dont_know_and_skips_out():
    assert [agreement(v) for v in ("yes", "sometimes", "no", "dont_know", "skipped")] == [2, 1, 0, None, None]
    assert change_between("no", "sometimes") == "better"
    assert change_between("yes", "no") == "worse"
    assert change_between("sometimes", "sometimes") == "same"
    with pytest.raises(ValueError):
        change_between("dont_know", "yes")


def test_over_time_puts_check_ins_in_date_order_and_marks_each_change(records):
    pupil = records.pupil(records.school("Oak"))
    start = utcnow() - timedelta(days=60)
    # Made newest first: the order must come from the dates, not the ids.
    third = records.checkin(pupil, {SAFE: "yes", INDEPENDENT: "no"}, at=start + timedelta(days=40))
    second = records.checkin(pupil, {SAFE: "dont_know", INDEPENDENT: "yes"}, at=start + timedelta(days=20))
    first = records.checkin(pupil, {SAFE: "no", INDEPENDENT: "yes"}, at=start)
    records.checkin(pupil, {}, at=start + timedelta(days=50), status="paused")  # nothing answered: no column
    other = records.checkin(pupil, {"shropshire.heard.cyp2": "yes"}, framework_id="shropshire", at=start)

    with records.sessions() as db:
        [york, shropshire] = over_time(db, db.get(Pupil, pupil))

    assert [c.id for c in york.checkins] == [first, second, third]
    assert [c.id for c in shropshire.checkins] == [other]
    safe, independent = york.areas[0], york.areas[1]
    [safe_row] = safe.statements
    assert [(c.label, c.change) for c in safe_row.cells] == [("No", None), ("I don't know", None), ("Yes", "better")]
    [independent_row] = independent.statements
    assert [(c.label, c.change) for c in independent_row.cells] == [("Yes", None), ("Yes", "same"), ("No", "worse")]
    assert [p.average for p in safe.points] == [0, None, 2]


def test_a_statement_not_asked_at_a_check_in_shows_as_not_asked(records):
    pupil = records.pupil(records.school("Oak"))
    records.checkin(pupil, {SAFE: "yes"}, at=utcnow() - timedelta(days=9))
    records.checkin(pupil, {SAFE: "yes", SAFE_TELL: "no"})
    with records.sessions() as db:
        [york] = over_time(db, db.get(Pupil, pupil))
    tell = york.areas[0].statements[1]
    assert [(c.value, c.label) for c in tell.cells] == [(None, "Not asked"), ("no", "No")]


def test_the_csv_parses_back_to_the_current_answers_and_comments(records):
    pupil = records.pupil(records.school("Oak"))
    session_id = records.checkin(pupil, {SAFE: "no", INDEPENDENT: "yes"}, words={SAFE: "=1+1"}, read_aloud=True)
    change_answer(records, session_id, INDEPENDENT, "sometimes", words="café, “mostly”")
    comment(records, session_id, "york.safe", "anything_else", "@everyone\nsecond line", (SAFE,))

    with records.sessions() as db:
        text = to_csv(answer_rows(db, db.get(Pupil, pupil), LONDON))
        stored = {a.statement_id: a for a in db.scalars(select(Answer).where(Answer.is_current))}

    assert text.startswith("\ufeff")
    header, *rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert tuple(header) == HEADER
    as_dicts = [dict(zip(header, row)) for row in rows]
    answers = {r["Statement id"]: r for r in as_dicts if r["Record"] == "Answer"}
    assert set(answers) == set(stored) == {SAFE, INDEPENDENT}
    assert answers[SAFE]["Exact words"] == "'=1+1"  # neutralised: a spreadsheet shows it as text
    assert answers[INDEPENDENT]["Exact words"] == stored[INDEPENDENT].words == "café, “mostly”"
    assert answers[INDEPENDENT]["Answer"] == "Sometimes" and answers[INDEPENDENT]["How given"] == "Typed"
    assert answers[SAFE]["I statement"] == YORK.statement(SAFE).text
    assert answers[SAFE]["Read aloud"] == "yes" and answers[SAFE]["Who answered"] == "The young person, on their own"
    assert answers[SAFE]["Framework"] == YORK.title and answers[SAFE]["Area"] == YORK.area("york.safe").title
    [comment_row] = [r for r in as_dicts if r["Record"].startswith("Comment")]
    assert comment_row["Exact words"] == "'@everyone\nsecond line"
    assert comment_row["Statement id"] == SAFE and comment_row["Record"] == "Comment: anything else"


@pytest.mark.parametrize("typed", ["=HYPERLINK(\"http://x\")", "+1", "-1", "@SUM(A1)", "\t=1"])
def test_cells_a_spreadsheet_would_run_get_a_leading_quote(typed):
    assert inert(typed) == "'" + typed


def test_ordinary_words_are_left_exactly_as_typed():
    for typed in ("I like maths", "1+1=2", "’cos", "<script>alert(1)</script>", ""):
        assert inert(typed) == typed


def test_reports_for_a_pupil_with_three_check_ins_take_a_handful_of_queries(records):
    pupil = records.pupil(records.school("Oak"))
    sessions = [records.checkin(pupil, question_set="standard", at=utcnow() - timedelta(days=d)) for d in (30, 20, 10)]
    for session_id in sessions:
        comment(records, session_id, "york.safe", "anything_else", "fine", (SAFE,))
    with records.sessions() as db:
        session = db.get(SurveySession, sessions[-1])
        child = db.get(Pupil, pupil)
        with counting(records.engine) as summary_queries:
            checkin_summary(db, session)
        with counting(records.engine) as over_time_queries:
            over_time(db, child)
        with counting(records.engine) as csv_queries:
            rows = answer_rows(db, child, LONDON)
    assert len(rows) == 3 * (len(YORK.questions("children_young_people", "standard")) + 1)
    assert len(summary_queries) <= 6 and len(over_time_queries) <= 2 and len(csv_queries) <= 5  # with consent


def test_a_summary_keeps_what_went_to_the_safeguarding_lead_words_only_where_the_senco_may_see_them(records):
    pupil = records.pupil(records.school("Oak"))
    session_id = records.checkin(pupil)
    with records.sessions.begin() as db:
        session = db.get(SurveySession, session_id)
        for words, categories, source in (("i look after my mum every night", ["young_carer"], "screen"),
                                          ("he touches me", ["abuse_sexual"], "screen"),
                                          ("i dont like it at home", [], "intent")):
            repo.raise_alert(db, session, words, categories, [], source)
    with records.sessions() as db:
        passed = checkin_summary(db, db.get(SurveySession, session_id)).passed_to_lead
    assert [p.words for p in passed] == ["i look after my mum every night", None, None]
