"""The pupil list and a pupil's page as plain data, straight from the database (SQLite and
PostgreSQL): statuses, counts, filters, a fixed number of queries however many pupils, and
the checks on a new pupil and on new invite codes."""
from __future__ import annotations

import secrets
from contextlib import contextmanager
from datetime import timedelta

import pytest
import segno
from sqlalchemy import event, insert, select

from bot.reports.invites import (
    InviteChoice,
    askable_frameworks,
    check_invite_choice,
    create_invites,
    pupil_invites,
    qr_svg,
    question_set_options,
    start_url,
)
from bot.reports.pupil_list import (
    NewPupil,
    PupilFilters,
    check_new_pupil,
    pupil_checkins,
    pupil_list,
    school_groups,
)
from framework.db import repository as repo
from framework.db.models import AuditEntry, Invite, Pupil, SurveySession, utcnow
from framework.loader import all_frameworks, load_framework


def checkin(db, pupil, status, *, at, answers=(), question_set="core"):
    """A check-in of `pupil` that ended (or stands) at `status`, started at `at`."""
    invite = repo.create_invite(db, pupil, "york", question_set=question_set, now=at)
    session = repo.start_or_resume_session(db, invite).session
    session.started_at = at
    framework = load_framework("york")
    for statement_id, value in answers:
        repo.record_answer(db, session, statement_id, framework.area_of(statement_id).id, value, "tapped", now=at)
    repo.set_status(db, session, status, now=at)
    return session


@pytest.fixture
def school(db):
    """Oak School's pupils in every state, and one pupil of Elm School."""
    now = utcnow()
    oak, elm = repo.create_school(db, "Oak School"), repo.create_school(db, "Elm School")
    amy = repo.create_pupil(db, oak, "Amy Ash", "Year 6", "Willow")
    ben = repo.create_pupil(db, oak, "ben birch", "Year 6", "Hazel")
    cat = repo.create_pupil(db, oak, "Cat Cedar", "Year 10", "Willow")
    dan = repo.create_pupil(db, oak, "Dan 100%_Done", "Year 2", None)
    eve = repo.create_pupil(db, elm, "Eve Elm", "Year 6", "Willow")
    # Amy: two finished check-ins, then one paused yesterday, with two open safeguarding alerts.
    checkin(db, amy, "finished", at=now - timedelta(days=60))
    checkin(db, amy, "finished", at=now - timedelta(days=30))
    paused = checkin(db, amy, "paused", at=now - timedelta(days=1))
    for words, hours_ago in (("an older worry", 3), ("words only the lead reads", 1)):  # too far apart to be one
        repo.raise_alert(db, paused, words, ["bullying_threats"], ["x"], "screen", now=now - timedelta(hours=hours_ago))
    # Ben: one stopped check-in; its code still works.
    checkin(db, ben, "stopped", at=now - timedelta(days=2))
    # Cat: only an invite, unused; an older one has expired.
    repo.create_invite(db, cat, "york", now=now - timedelta(days=40))
    cat_code = repo.create_invite(db, cat, "york").code
    # Eve at Elm: a finished check-in and an alert, never on Oak's list.
    eve_session = checkin(db, eve, "finished", at=now)
    repo.raise_alert(db, eve_session, "elm words", ["neglect"], ["y"], "screen")
    db.flush()
    return {"oak": oak, "elm": elm, "amy": amy, "ben": ben, "cat": cat, "dan": dan, "eve": eve,
            "cat_code": cat_code, "now": now}


def by_name(rows):
    return {row.name: row for row in rows}


def test_each_pupil_of_the_school_with_their_latest_checkin_counts_and_open_code(db, school):
    rows = pupil_list(db, school["oak"].id)
    assert [r.name for r in rows] == ["Amy Ash", "ben birch", "Cat Cedar", "Dan 100%_Done"]  # by name, any case
    amy, ben, cat, dan = (by_name(rows)[n] for n in ("Amy Ash", "ben birch", "Cat Cedar", "Dan 100%_Done"))
    assert (amy.status, amy.status_label, amy.finished_checkins, amy.open_alerts) == ("paused", "Paused", 2, 2)
    assert amy.last_checkin_at.date() == (school["now"] - timedelta(days=1)).date()
    assert amy.open_invite_code is not None  # the paused check-in's code still works
    assert (ben.status_label, ben.finished_checkins, ben.open_alerts) == ("Stopped", 0, 0)
    assert ben.open_invite_code is not None  # stopped is not finished: the code can be used again
    assert (cat.status_label, cat.last_checkin_at, cat.finished_checkins) == ("Not started", None, 0)
    code = school["cat_code"]
    assert cat.open_invite_code == f"{code[:4]}-{code[4:]}"  # the newest code, not the expired one
    assert (dan.status_label, dan.open_invite_code, dan.class_name) == ("Not started", None, None)


def test_a_finished_code_is_no_longer_open_and_a_closed_alert_is_not_counted(db, school):
    amy = school["amy"]
    session = db.scalar(select(SurveySession).where(SurveySession.pupil_id == amy.id, SurveySession.status == "paused"))
    repo.set_status(db, session, "finished")
    for alert in repo.list_open_alerts(db, school["oak"])[:1]:
        repo.update_alert_status(db, alert, "closed", repo.create_staff(db, "dsl@oak.example", "x", "dsl", school["oak"]),
                                 action_taken="Spoke with Amy.")
    row = by_name(pupil_list(db, school["oak"].id))["Amy Ash"]
    assert (row.status, row.finished_checkins, row.open_alerts, row.open_invite_code) == ("finished", 3, 1, None)


def test_the_latest_checkin_is_the_one_started_last_whatever_order_it_was_stored_in(db, school):
    checkin(db, school["ben"], "finished", at=school["now"] - timedelta(days=90))  # stored last, started first
    row = by_name(pupil_list(db, school["oak"].id))["ben birch"]
    assert (row.status_label, row.finished_checkins) == ("Stopped", 1)


@pytest.mark.parametrize(("filters", "names"), [
    (PupilFilters(year_group="Year 6"), ["Amy Ash", "ben birch"]),
    (PupilFilters(class_name="Willow"), ["Amy Ash", "Cat Cedar"]),
    (PupilFilters(year_group="Year 6", class_name="Willow"), ["Amy Ash"]),
    (PupilFilters(name="BIRCH"), ["ben birch"]),
    (PupilFilters(name="a"), ["Amy Ash", "Cat Cedar", "Dan 100%_Done"]),
    (PupilFilters(name="100%_"), ["Dan 100%_Done"]),
    (PupilFilters(name="%"), ["Dan 100%_Done"]),  # typed literally, not a wildcard
    (PupilFilters(name="Eve"), []),  # another school's pupil is never found
    (PupilFilters(year_group="Year 9"), []),
])
def test_filters_by_year_group_class_and_part_of_the_name(db, school, filters, names):
    assert [r.name for r in pupil_list(db, school["oak"].id, filters)] == names


def test_filters_that_pick_out_one_group(school):
    assert PupilFilters(year_group="Year 6").whole_group() == ("year", "Year 6")
    assert PupilFilters(class_name="Oak").whole_group() == ("class", "Oak")
    for mixed in (PupilFilters(), PupilFilters("Year 6", "Oak"), PupilFilters(year_group="Year 6", name="a")):
        assert mixed.whole_group() is None


def test_year_groups_and_classes_in_reading_order_with_counts(db, school):
    groups = school_groups(db, school["oak"].id)
    assert groups.year_groups == {"Year 2": 1, "Year 6": 2, "Year 10": 1}
    assert groups.classes == {"Hazel": 1, "Willow": 2}
    assert groups.pupils == 4


@contextmanager
def counted_statements(db):
    engine = db.get_bind()
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def many_pupils(db, school, count: int, checkins: int = 3) -> None:
    """`count` pupils with `checkins` finished check-ins each, stored in bulk."""
    tag = secrets.token_hex(3).upper()
    db.execute(insert(Pupil), [{"school_id": school.id, "display_name": f"Pupil {tag} {n:04d}",
                                "year_group": f"Year {n % 12 + 1}", "class_name": f"Class {n % 30}"}
                               for n in range(count)])
    pupil_ids = list(db.scalars(select(Pupil.id).where(Pupil.display_name.like(f"Pupil {tag} %"))))
    expires = utcnow() + timedelta(days=28)
    db.execute(insert(Invite), [{"code": secrets.token_hex(4).upper(), "pupil_id": pid, "school_id": school.id,
                                 "framework_id": "york", "question_set": "core", "expires_at": expires}
                                for pid in pupil_ids for _ in range(checkins)])
    invites = db.execute(select(Invite.id, Invite.pupil_id).where(Invite.pupil_id.in_(pupil_ids))).all()
    db.execute(insert(SurveySession), [
        {"invite_id": iid, "pupil_id": pid, "framework_id": "york", "perspective": "children_young_people",
         "question_set": "core", "status": "finished", "sender_id": secrets.token_hex(16),
         "token_hash": secrets.token_hex(32), "finished_at": utcnow()}
        for iid, pid in invites])
    db.flush()


def test_the_list_takes_the_same_few_queries_for_50_or_500_pupils(db):
    small, large = repo.create_school(db, "Small School"), repo.create_school(db, "Large School")
    many_pupils(db, small, 50)
    many_pupils(db, large, 500)
    with counted_statements(db) as small_queries:
        small_rows = pupil_list(db, small.id)
    with counted_statements(db) as large_queries:
        large_rows = pupil_list(db, large.id)
    assert (len(small_rows), len(large_rows)) == (50, 500)
    assert {r.finished_checkins for r in large_rows} == {3}
    assert all(r.status == "finished" and r.open_invite_code is None for r in large_rows)
    assert len(small_queries) == len(large_queries) == 1


def test_a_pupils_checkins_newest_first_with_answers_given(db, school):
    cat = school["cat"]
    york = load_framework("york")
    core = [s.id for s in york.questions("children_young_people", "core")]
    older = checkin(db, cat, "finished", at=school["now"] - timedelta(days=9),
                    answers=[(core[0], "yes"), (core[1], "skipped"), (core[2], "no")])
    repo.record_answer(db, older, core[2], york.area_of(core[2]).id, "sometimes", "tapped")  # changed: still one
    newer = checkin(db, cat, "active", at=school["now"], question_set="standard", answers=[(core[0], "yes")])
    rows = pupil_checkins(db, cat)
    assert [r.session_id for r in rows] == [newer.id, older.id]
    assert (rows[0].status_label, rows[0].question_set, rows[0].answered) == ("In progress", "standard", 1)
    assert rows[0].asked == len(york.questions("children_young_people", "standard"))
    assert (rows[1].answered, rows[1].asked, rows[1].framework_title) == (2, len(core), york.title)


def test_a_pupils_invites_say_whether_they_were_used(db, school):
    rows = pupil_invites(db, school["amy"])
    assert [r.use_label for r in rows] == ["Paused", "Used: check-in finished", "Used: check-in finished"]
    assert [r.use_label for r in pupil_invites(db, school["cat"])] == ["Not used yet", "Not used yet"]


def test_making_invites_for_pupils_writes_one_audit_entry(db, school):
    senco = repo.create_staff(db, "senco@oak.example", "x", "senco", school["oak"])
    pupils = [school["ben"], school["cat"]]
    invites = create_invites(db, senco, pupils, InviteChoice("york", "full", 7), now=school["now"])
    assert [(i.pupil_id, i.question_set, i.created_by_id) for i in invites] == [(p.id, "full", senco.id) for p in pupils]
    assert all(i.expires_at == school["now"] + timedelta(days=7) for i in invites)
    entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "create_invites"))
    assert entry.detail["pupil_ids"] == [p.id for p in pupils] and entry.detail["count"] == 2


@pytest.mark.parametrize(("typed", "expected"), [
    (("  Zoë   O'Brien-Smith ", "Year 6", ""), NewPupil("Zoë O'Brien-Smith", "Year 6", None)),
    (("Sam", " Reception ", " 6B "), NewPupil("Sam", "Reception", "6B")),
    (("", "", ""), {"name": "Please type the pupil's name.",
                    "year_group": "Please type the pupil's year group, for example Year 6."}),
    (("x" * 201, "Year 6", "c" * 65), {"name": "Please keep the name to 200 characters or fewer.",
                                        "class_name": "Please keep the class to 64 characters or fewer."}),
    (("Sam\x00", "Year 6", ""), {"name": "The name has a character that cannot be shown. Please type it again."}),
])
def test_a_new_pupil_is_tidied_or_told_what_is_wrong(typed, expected):
    assert check_new_pupil(*typed) == expected


def test_invite_choices_are_checked():
    frameworks = askable_frameworks(all_frameworks())
    assert check_invite_choice("york", "core", " 28 ", frameworks) == InviteChoice("york", "core", 28)
    problems = check_invite_choice("leeds", "long", "91", frameworks)
    assert set(problems) == {"framework", "question_set", "days"}
    for days in ("0", "-1", "abc", "", "1e3", "99999999999999999999"):
        assert "days" in check_invite_choice("york", "core", days, frameworks)


def test_question_sets_are_explained_with_each_frameworks_number_of_questions():
    frameworks = askable_frameworks(all_frameworks())
    options = {o.key: o for o in question_set_options(frameworks)}
    assert list(options) == ["core", "standard", "full"]
    york = frameworks["york"]
    assert (york.source.council, len(york.questions("children_young_people", "full"))) in options["full"].counts
    assert options["core"].words.startswith("Short: one question about each area")


def test_a_slips_qr_code_opens_heard_with_the_code_typed_in():
    url = start_url("https://heard.example.org/", "ABCDEFGH")
    assert url == "https://heard.example.org/?code=ABCD-EFGH"
    svg = str(qr_svg(url))
    assert svg.startswith('<svg role="img" viewBox=') and "style" not in svg and "data:" not in svg
    assert "<title>QR code: scan it to open Heard with this code</title>" in svg
    expected_path = segno.make(url, error="m").svg_inline(omitsize=True, lineclass=None).split(" d=")[1]
    assert expected_path in svg
    assert segno.make(start_url("https://heard.example.org", "ABCDEFGJ"), error="m").svg_inline(
        omitsize=True, lineclass=None).split(" d=")[1] not in svg
