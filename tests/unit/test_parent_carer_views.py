"""A pupil's parent carer on the staff side: a SENCO makes their code and slip from the pupil's
page; their check-in is shown beside the pupil's (the pupil first, per area) in the summary,
the profile PDF and the CSV, with differences said plainly; nothing of the pupil's is merged,
changed or counted as theirs."""
from __future__ import annotations

import csv
import io

import pytest
from markupsafe import escape
from sqlalchemy import select

from bot.reports.voice import checkin_summary, parent_carer_view
from framework.db import repository as repo
from framework.db.models import Answer, Invite, SurveySession
from framework.loader import load_framework
from tests.unit.staff_site import CSRF_IN_PAGE, staff_db_url, staff_site  # noqa: F401
from tests.unit.test_staff_exports import PDF_TOOLS, pdf_text

SHROPSHIRE = load_framework("shropshire")
LISTENED, VOICE = "shropshire.heard.cyp2", "shropshire.heard.pc5"  # VOICE mirrors LISTENED
GOALS, PATHWAY = "shropshire.goals.cyp1", "shropshire.goals.pc4"  # so does PATHWAY GOALS
HAPPY, ACCEPTED = "shropshire.happy.cyp1", "shropshire.happy.pc4"  # ACCEPTED mirrors happy.cyp2, not asked


@pytest.fixture
def sam(staff_site):
    """Oak School's SENCO, signed in; Sam's own check-in, then their parent carer's."""
    school = staff_site.school("Oak School")
    pupil = staff_site.pupil(school, "Sam Green")
    child = staff_site.checkin(pupil, {LISTENED: "sometimes", GOALS: "yes", HAPPY: "dont_know"},
                               framework_id="shropshire", words={LISTENED: "kinda"},
                               comments=(("shropshire.heard", "anything_else", "they dont listen at break"),))
    parent = staff_site.checkin(pupil, {VOICE: "no", PATHWAY: "yes", ACCEPTED: "no"}, framework_id="shropshire",
                                perspective="parent_carers", words={VOICE: "not at school"},
                                comments=(("shropshire.heard", "what_would_help", "a meeting each term"),))
    assert staff_site.sign_in(staff_site.account("senco", school)).url.path == "/staff"
    return school, pupil, child, parent


def test_a_senco_makes_a_parent_carer_code_and_slip_from_the_pupils_page(staff_site, sam):
    _, pupil, _, _ = sam
    page = staff_site.client.get(f"/staff/pupils/{pupil}")
    assert f'href="/staff/pupils/{pupil}/parent-carer-invites"' in page.text
    form = staff_site.client.get(f"/staff/pupils/{pupil}/parent-carer-invites")
    assert "Make an invite code for Sam Green's parent carer" in form.text
    assert "York" not in form.text  # only frameworks with questions for parent carers
    made = staff_site.client.post(f"/staff/pupils/{pupil}/parent-carer-invites", data={
        "csrf_token": CSRF_IN_PAGE.search(form.text).group(1), "framework": "shropshire", "question_set": "core",
        "days": "14"})
    assert made.status_code == 200 and "For Sam&#39;s parent carer: your Heard code" in made.text
    with staff_site.sessions() as db:
        invite = db.scalars(select(Invite).where(Invite.pupil_id == pupil).order_by(Invite.id.desc())).first()
        assert (invite.perspective, invite.framework_id, invite.question_set) == ("parent_carers", "shropshire", "core")
    [entry] = staff_site.audit("create_invites")
    assert entry.pupil_id == pupil and entry.detail["perspective"] == "parent_carers"
    rows = staff_site.client.get(f"/staff/pupils/{pupil}").text
    assert "Their parent carer" in rows and "The pupil" in rows


def test_the_pupil_list_and_over_time_count_only_the_pupils_own_checkins(staff_site, sam):
    _, pupil, _, _ = sam
    with staff_site.sessions.begin() as db:  # the parent carer has a new code and an unfinished check-in
        session = db.scalars(select(SurveySession).where(SurveySession.perspective == "parent_carers")).one()
        repo.create_invite(db, session.pupil, "shropshire", perspective="parent_carers")
        session.status = "paused"
    [row] = [r for r in staff_site.client.get("/staff/pupils").text.split("<tr") if "Sam Green" in r]
    assert "Finished" in row and "Paused" not in row
    over_time = staff_site.client.get(f"/staff/pupils/{pupil}/over-time").text
    assert escape(SHROPSHIRE.statement(LISTENED).text) in over_time
    assert escape(SHROPSHIRE.statement(VOICE).text) not in over_time


def test_the_summary_shows_the_parent_carer_after_the_pupil_in_each_area_and_says_where_they_differ(staff_site, sam):
    _, pupil, child, parent = sam
    page = staff_site.client.get(f"/staff/checkins/{child}").text
    assert "Sam said Sometimes; their parent carer said No." in page
    # Said once at the top and once in its area. Goals: both said Yes; happy: Sam's "I don't know" is
    # no difference, and ACCEPTED mirrors a question Sam was not asked.
    assert page.count("their parent carer said") == 2
    heard = page.split('<h3 id="area-1">')[1].split('<h3 id="area-2">')[0]
    order = [heard.index(text) for text in (escape(SHROPSHIRE.statement(LISTENED).text), "they dont listen at break",
                                            "Their parent carer said", escape(SHROPSHIRE.statement(VOICE).text),
                                            "not at school", "a meeting each term")]
    assert order == sorted(order)
    assert f'href="/staff/checkins/{parent}"' in page
    [entry] = staff_site.audit("view_checkin")
    assert entry.pupil_id == pupil and entry.detail == {"parent_carer_checkin": parent}


def test_the_parent_carers_own_checkin_page_says_whose_it_is(staff_site, sam):
    _, _, _, parent = sam
    page = staff_site.client.get(f"/staff/checkins/{parent}").text
    assert "<h1>Parent carer&#39;s view: Sam Green</h1>" in page
    assert "The parent carer, on their own" in page and "The young person" not in page
    assert "Their parent carer said" not in page  # no view beside a view


def test_the_csv_lists_the_pupils_rows_first_then_the_parent_carers(staff_site, sam):
    _, pupil, _, _ = sam
    rows = list(csv.DictReader(io.StringIO(staff_site.client.get(f"/staff/pupils/{pupil}/answers.csv")
                                           .text.lstrip("\ufeff"))))
    assert [(r["Statement id"] or r["Exact words"], r["Whose view"]) for r in rows] == [
        (LISTENED, "The pupil"), (GOALS, "The pupil"), (HAPPY, "The pupil"),
        ("they dont listen at break", "The pupil"),
        (VOICE, "Their parent carer"), (PATHWAY, "Their parent carer"), (ACCEPTED, "Their parent carer"),
        ("a meeting each term", "Their parent carer"),
    ]
    assert rows[4]["Exact words"] == "not at school" and rows[4]["Who answered"] == "The parent carer, on their own"


@PDF_TOOLS
def test_the_profile_pdf_has_the_parent_carers_answers_after_the_pupils(staff_site, sam, tmp_path):
    _, _, child, _ = sam
    text = pdf_text(staff_site.client.get(f"/staff/checkins/{child}/profile.pdf").content, tmp_path)
    assert text.index("What I said about each area") < text.index("What my parent carer said")
    assert "Sam said Sometimes; their parent carer said No." in text
    assert "No: " + SHROPSHIRE.statement(VOICE).text in text and "“a meeting each term”" in text


def test_the_parent_carers_answers_never_touch_the_pupils(staff_site, sam):
    _, _, child, parent = sam
    with staff_site.sessions() as db:
        before = [(a.id, a.statement_id, a.value, a.words, a.superseded_at)
                  for a in db.scalars(select(Answer).where(Answer.session_id == child))]
    with staff_site.sessions.begin() as db:  # the parent carer changes an answer; a mirrored one at that
        session = db.get(SurveySession, parent)
        repo.record_answer(db, session, VOICE, "shropshire.heard", "sometimes", "tapped")
    with staff_site.sessions() as db:
        after = [(a.id, a.statement_id, a.value, a.words, a.superseded_at)
                 for a in db.scalars(select(Answer).where(Answer.session_id == child))]
        view = parent_carer_view(db, checkin_summary(db, db.get(SurveySession, child)))
    assert after == before
    assert [d.sentence(view.first_name) for d in view.differences] == []  # both Sometimes now
    assert {s.statement.id for a in view.summary.areas for s in a.statements if s.answer} == {VOICE, PATHWAY, ACCEPTED}


def test_a_pupil_without_a_parent_carer_checkin_shows_no_such_section(staff_site):
    school = staff_site.school("Elm School")
    pupil = staff_site.pupil(school, "Ada Elm")
    child = staff_site.checkin(pupil, framework_id="shropshire")
    staff_site.checkin(pupil, framework_id="york", perspective="children_young_people")
    staff_site.sign_in(staff_site.account("senco", school))
    page = staff_site.client.get(f"/staff/checkins/{child}").text
    assert "Their parent carer said" not in page and "parent carer" not in page.lower()


def test_the_safeguarding_lead_is_told_the_words_are_the_parent_carers(staff_site, sam):
    school, _, _, parent = sam
    with staff_site.sessions.begin() as db:
        alert, _ = repo.raise_alert(db, db.get(SurveySession, parent), "his step dad hits him", ["abuse_physical"],
                                    ["hits"], "screen")
        alert_id = alert.id
    assert staff_site.stored_alert(alert_id).perspective == "parent_carers"
    staff_site.client.post("/staff/logout", data={"csrf_token": staff_site.token("/staff")})
    staff_site.sign_in(staff_site.account("dsl", school))
    page = staff_site.client.get(f"/staff/alerts/{alert_id}").text
    assert "Their parent carer's, in a check-in about the pupil" in page
    assert "The parent carer&#39;s exact words" in page
