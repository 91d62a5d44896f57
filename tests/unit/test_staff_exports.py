"""The SENCO's downloads: the one-page profile PDF (read back with pdftotext) and every answer
as CSV (read back with the csv module). Exact words kept, formulas made inert, own school and
SENCOs only, every download audited."""
from __future__ import annotations

import csv
import io
import os
import re
import shutil
import subprocess
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from bot.exports import profile_pdf
from bot.reports.answers_csv import HEADER
from framework import we_did
from framework.db import repository as repo
from framework.db.models import Answer, SchoolAction, SurveySession, utcnow
from framework.loader import load_framework
from tests.unit.staff_site import staff_db_url, staff_site  # noqa: F401

YORK = load_framework("york")
SAFE, INDEPENDENT, HEARD = "york.safe.cyp1", "york.independent.cyp1", "york.heard.cyp1"
APOSTROPHE_AND_ACCENT = "I don’t like the café queue 👎"
COMMENT = "Zoë sits with me – that helps"
PDF_TOOLS_MISSING = "pdftotext is missing: scripts/system-deps installs poppler-utils"
# Skipped only on a developer's machine without poppler; CI (which runs system-deps) never skips.
PDF_TOOLS = pytest.mark.skipif(shutil.which("pdftotext") is None and not os.environ.get("CI"),
                               reason=PDF_TOOLS_MISSING)


def pdf_text(pdf: bytes, tmp_path) -> str:
    """The PDF's text as pdftotext reads it, with line wrapping undone."""
    path = tmp_path / "profile.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], check=True, capture_output=True).stdout
    return " ".join(text.decode("utf-8").split())


def pdf_pages(pdf: bytes, tmp_path) -> int:
    path = tmp_path / "pages.pdf"
    path.write_bytes(pdf)
    info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))


@pytest.fixture
def oak(staff_site):
    """Oak's SENCO, signed in; Amy's check-in, typed words with a curly apostrophe and an accent."""
    school = staff_site.school("Oak School")
    pupil = staff_site.pupil(school, "Amy Oak")
    checkin = staff_site.checkin(
        pupil, {SAFE: "no", INDEPENDENT: "sometimes", HEARD: "yes"}, words={SAFE: APOSTROPHE_AND_ACCENT},
        comments=(("york.safe", "what_would_help", COMMENT),), read_aloud=True, who_with="with_support")
    email = staff_site.account("senco", school)
    staff_site.sign_in(email)
    return school, pupil, checkin, email


@PDF_TOOLS
def test_the_profile_pdf_keeps_the_childs_exact_words_on_one_page(staff_site, oak, tmp_path):
    _, pupil, checkin, email = oak
    response = staff_site.client.get(f"/staff/checkins/{checkin}/profile.pdf")
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;") and f"pupil-{pupil}-" in disposition and "Amy" not in disposition
    assert re.search(r'filename="heard-profile-pupil-\d+-\d{4}-\d{2}-\d{2}\.pdf"', disposition)
    text = pdf_text(response.content, tmp_path)
    for expected in ("Section A", "Amy Oak", "views, interests and aspirations", f"“{APOSTROPHE_AND_ACCENT}”",
                     f"“{COMMENT}”", "The young person, with someone helping", "Questions read aloud: on",
                     YORK.title, "“Only my school”"):
        assert expected in text
    # "In my own words" quotes comments only; words typed as an answer go with the answer given.
    own_words, about_each_area = text.split("What I said about each area")
    assert f"“{COMMENT}”" in own_words and APOSTROPHE_AND_ACCENT not in own_words
    # What they said about each area, in the first person, from the framework's own I statements.
    assert f"This is not true for me: {YORK.statement(SAFE).text} (I typed “{APOSTROPHE_AND_ACCENT}”)" in about_each_area
    assert f"This is sometimes true for me: {YORK.statement(INDEPENDENT).text}" in text
    assert f"This is true for me: {YORK.statement(HEARD).text}" in text
    assert pdf_pages(response.content, tmp_path) == 1
    [export] = staff_site.audit("export_profile_pdf")
    assert (export.actor_id, export.pupil_id, export.object_id) == (
        staff_site.staff_user(email).id, pupil, str(checkin))


@PDF_TOOLS
def test_the_profile_pdf_says_which_comment_cards_were_chosen(staff_site, oak, tmp_path):
    _, _, checkin, _ = oak
    with staff_site.sessions.begin() as db:
        repo.record_comment(db, db.get(SurveySession, checkin), "york.heard", "anything_else",
                            "people listen to me; I like it", cards=["people listen to me", "I like it"])
    text = pdf_text(staff_site.client.get(f"/staff/checkins/{checkin}/profile.pdf").content, tmp_path)
    assert "I chose the cards “people listen to me” and “I like it”." in text
    assert "“people listen to me; I like it”" not in text  # not quoted as if typed


@PDF_TOOLS
def test_the_profile_pdf_says_a_shorter_set_was_chosen_and_what_the_school_did(staff_site, oak, tmp_path):
    _, pupil, checkin, email = oak
    full = staff_site.client.get(f"/staff/checkins/{checkin}/profile.pdf").content
    assert "Questions: Short (one question about each area)." in pdf_text(full, tmp_path)
    assert "chose the shorter set" not in pdf_text(full, tmp_path) and "You said, we did" not in pdf_text(full, tmp_path)

    shorter = staff_site.checkin(pupil, {SAFE: "no"}, question_set="standard")
    with staff_site.sessions.begin() as db:
        session = db.get(SurveySession, shorter)
        session.question_set = "core"  # the child chose "A few"
        [answer] = repo.current_answers(db, session)
        action = we_did.record(db, repo.find_staff_by_email(db, email), session, answer=answer,
                               what="Lunch in the quiet room from Monday", who="Miss Khan (TA)",
                               due_on=date(2026, 12, 11), child_words="you can eat in the quiet room")
        we_did.mark_done(db, action, repo.find_staff_by_email(db, email))
        action_id = action.id
    told = staff_site.checkin(pupil, {HEARD: "yes"})
    with staff_site.sessions.begin() as db:  # told at the next check-in, and their reply
        we_did.keep_for(db, db.get(SurveySession, told))
        action = db.get(SchoolAction, action_id)
        we_did.mark_told(db, action)
        we_did.record_reply(db, action, "a_bit", "tapped", None)

    planned = pdf_text(staff_site.client.get(f"/staff/checkins/{shorter}/profile.pdf").content, tmp_path)
    assert "I chose the shorter set: the invite was for Standard" in planned
    we_did_part = planned.split("You said, we did")[1].split("How my views were gathered")[0]
    assert "What my school plans about what I said Lunch in the quiet room from Monday" in we_did_part
    for fact in (f"Asked “{YORK.statement(SAFE).question}”, they said No", "Who: Miss Khan (TA), by Fri 11 Dec 2026",
                 "They will hear: “Now you can eat in the quiet room.”", "They said: It helped a bit"):
        assert fact in we_did_part
    at_next = pdf_text(staff_site.client.get(f"/staff/checkins/{told}/profile.pdf").content, tmp_path)
    assert "What my school told me at this check-in Lunch in the quiet room from Monday" in at_next


@PDF_TOOLS
def test_a_long_profile_runs_on_to_a_second_page_rather_than_losing_words(staff_site, oak, tmp_path):
    school, _, _, _ = oak
    full = YORK.questions("children_young_people", "full")
    long_words = {s.id: f"{s.id} " + "my own long answer with every word kept " * 6 + "THE END" for s in full}
    checkin = staff_site.checkin(staff_site.pupil(school, "Ben Oak"), question_set="full", words=long_words)
    response = staff_site.client.get(f"/staff/checkins/{checkin}/profile.pdf")
    text = pdf_text(response.content, tmp_path)
    assert pdf_pages(response.content, tmp_path) >= 2
    for words in long_words.values():
        assert f"“{words}”" in text


def test_without_the_font_the_pdf_page_says_what_to_install(staff_site, oak, monkeypatch, tmp_path):
    _, _, checkin, _ = oak
    monkeypatch.setattr(profile_pdf, "FONT_DIR", tmp_path)
    response = staff_site.client.get(f"/staff/checkins/{checkin}/profile.pdf")
    assert response.status_code == 503 and "fonts-dejavu-core" in response.text
    assert staff_site.audit("export_profile_pdf") == []


def read_csv(response) -> list[dict[str, str]]:
    header, *rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert tuple(header) == HEADER
    return [dict(zip(header, row)) for row in rows]


def test_the_csv_holds_every_current_answer_and_comment_with_formulas_made_inert(staff_site, oak):
    _, pupil, first, email = oak
    second = staff_site.checkin(pupil, {SAFE: "yes"}, words={SAFE: "=1+1"}, at=utcnow() + timedelta(minutes=5))
    with staff_site.sessions.begin() as db:  # a changed answer: only the current one is exported
        repo.record_answer(db, db.get(SurveySession, first), HEARD, "york.heard", "sometimes", "tapped")
    response = staff_site.client.get(f"/staff/pupils/{pupil}/answers.csv")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"] == f'attachment; filename="heard-answers-pupil-{pupil}.csv"'
    rows = read_csv(response)
    with staff_site.sessions() as db:
        stored = list(db.scalars(select(Answer).where(Answer.is_current).order_by(Answer.session_id, Answer.id)))
    answers = [r for r in rows if r["Record"] == "Answer"]
    assert [(int(r["Check-in"]), r["Statement id"], r["Answer"]) for r in answers] == [
        (a.session_id, a.statement_id, {"yes": "Yes", "no": "No", "sometimes": "Sometimes"}[a.value]) for a in stored]
    by_statement = {(int(r["Check-in"]), r["Statement id"]): r for r in answers}
    assert by_statement[(first, SAFE)]["Exact words"] == APOSTROPHE_AND_ACCENT
    assert by_statement[(first, SAFE)]["I statement"] == YORK.statement(SAFE).text
    assert by_statement[(second, SAFE)]["Exact words"] == "'=1+1"
    assert by_statement[(first, HEARD)]["Answer"] == "Sometimes"
    [comment] = [r for r in rows if r["Record"] != "Answer"]
    assert (comment["Record"], comment["Exact words"]) == ("Comment: what would help", COMMENT)
    [export] = staff_site.audit("export_answers_csv")
    assert (export.actor_id, export.pupil_id, export.detail) == (staff_site.staff_user(email).id, pupil,
                                                                  {"rows": len(rows)})


def test_another_schools_pupil_has_no_csv(staff_site, oak):
    elm_pupil = staff_site.pupil(staff_site.school("Elm School"), "Cat Elm")
    staff_site.checkin(elm_pupil, words={SAFE: "elm secret"})
    response = staff_site.client.get(f"/staff/pupils/{elm_pupil}/answers.csv")
    assert response.status_code == 404 and "elm secret" not in response.text
    assert staff_site.audit("export_answers_csv") == []


@pytest.mark.parametrize("role", ["dsl", "la_officer", "admin"])
def test_other_roles_cannot_download(staff_site, oak, role):
    school, pupil, checkin, _ = oak
    staff_site.client.cookies.clear()
    staff_site.sign_in(staff_site.account(role, None if role in ("la_officer", "admin") else school))
    for path in (f"/staff/checkins/{checkin}/profile.pdf", f"/staff/pupils/{pupil}/answers.csv"):
        response = staff_site.client.get(path)
        assert response.status_code == 403 and "Only SENCOs can see this page" in response.text
        assert "café" not in response.text
    assert staff_site.audit("export_profile_pdf") == [] and staff_site.audit("export_answers_csv") == []


def test_each_csv_row_has_the_question_heard_how_it_was_given_and_the_consent(staff_site, oak):
    _, pupil, first, _ = oak  # consent: only my school
    second = staff_site.checkin(pupil, {SAFE: "yes"}, consent=("school_and_family", "school_family_and_council"),
                                comments=(("york.heard", "anything_else", "more time"),), at=utcnow() + timedelta(minutes=5))
    third = staff_site.checkin(pupil, {SAFE: "no"}, consent=None, status="stopped", at=utcnow() + timedelta(minutes=9))
    with staff_site.sessions.begin() as db:
        repo.record_comment(db, db.get(SurveySession, second), "york.heard", "what_would_help", "people listen",
                            cards=["people listen"])
        repo.record_consent(db, db.get(SurveySession, first), [], now=utcnow() + timedelta(minutes=1))  # changed: no one
    rows = read_csv(staff_site.client.get(f"/staff/pupils/{pupil}/answers.csv"))
    seen = {(int(r["Check-in"]), r["Record"], r["Statement id"] if r["Record"] == "Answer" else r["Question asked"]):
            (r["Question asked"], r["How given"], r["Consent"]) for r in rows}
    heard = YORK.area("york.heard").prompts["children_young_people"]
    assert seen[(first, "Answer", SAFE)] == (YORK.statement(SAFE).question, "Typed", "No one")
    assert seen[(first, "Answer", HEARD)] == (YORK.statement(HEARD).question, "Tapped a button", "No one")
    assert seen[(second, "Answer", SAFE)][1:] == ("Tapped a button",
                                                  "My school and my family; Also the council, with no name")
    assert seen[(second, "Comment: anything else", heard.anything_else)][1] == "Typed"
    assert seen[(second, "Comment: what would help", heard.what_would_help)][1] == "Chose cards"
    assert seen[(third, "Answer", SAFE)][2] == "Not asked yet"
