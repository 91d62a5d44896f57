""""You said, we did" on the staff site: a SENCO plans what the school will do about an answer or
a comment (CSRF, audited, own school only), the sentence the child will hear is checked kindly,
the plan is marked done, and the child's reply to "Did that help?" is shown to the SENCO and
counted, without names, in the council view."""
from __future__ import annotations

import html
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from bot.reports.council import COUNCIL_CONSENT, term_start
from framework import checkin as chat
from framework import we_did
from framework.answers import Reply
from framework.db import repository as repo
from framework.db.models import Answer, Comment, SchoolAction, SurveySession, utcnow
from framework.loader import load_framework
from tests.unit.staff_site import CSRF_IN_PAGE, PASSWORD, staff_db_url, staff_site  # noqa: F401

YORK = load_framework("york")
SAFE = "york.safe.cyp1"
NEXT_WEEK = (date.today() + timedelta(days=7)).isoformat()


def plan(answer_id: int, **changes) -> dict[str, str]:
    return {"said": f"answer-{answer_id}", "what": "Lunch in the quiet room from Monday, with a TA nearby.",
            "who": "Mrs Patel (TA)", "due_on": NEXT_WEEK, "child_words": "you can eat in the quiet room", **changes}


@pytest.fixture
def oak(staff_site):
    """Oak School's SENCO, signed in, and Amy's finished check-in: No to feeling safe, and a comment."""
    school = staff_site.school("Oak School")
    pupil = staff_site.pupil(school, "Amy Oak")
    checkin = staff_site.checkin(pupil, {SAFE: "no"}, comments=(("york.safe", "what_would_help", "lunch is loud"),),
                                 at=utcnow() - timedelta(days=20))
    email = staff_site.account("senco", school)
    staff_site.sign_in(email)
    with staff_site.sessions() as db:
        answer_id = db.scalar(select(Answer.id).where(Answer.session_id == checkin))
        comment_id = db.scalar(select(Comment.id).where(Comment.session_id == checkin))
    return school, pupil, checkin, answer_id, comment_id


def send(site, path: str, form: dict[str, str], token: str | None = None):
    return site.client.post(path, data={"csrf_token": token or site.token("/staff"), **form}, follow_redirects=False)


def stored_actions(site) -> list[SchoolAction]:
    with site.sessions() as db:
        return list(db.scalars(select(SchoolAction).order_by(SchoolAction.id)))


def test_a_senco_plans_for_an_answer_and_marks_it_done_each_step_audited(staff_site, oak):
    _, pupil, checkin, answer_id, comment_id = oak
    page = staff_site.client.get(f"/staff/checkins/{checkin}").text
    assert f'value="answer-{answer_id}"' in page and f'value="comment-{comment_id}"' in page  # any answer or comment
    sent = send(staff_site, f"/staff/checkins/{checkin}/actions", plan(answer_id))
    assert sent.status_code == 303 and sent.headers["location"] == f"/staff/checkins/{checkin}#we-did"
    [action] = stored_actions(staff_site)
    assert (action.answer_id, action.comment_id, action.area_id, action.who, action.due_on, action.child_words) == \
        (answer_id, None, "york.safe", "Mrs Patel (TA)", date.fromisoformat(NEXT_WEEK), "you can eat in the quiet room")
    [recorded] = staff_site.audit("record_school_action")
    assert (recorded.pupil_id, recorded.object_id) == (pupil, str(action.id))
    page = staff_site.client.get(f"/staff/checkins/{checkin}").text
    assert "“Now you can eat in the quiet room.”" in page and "<dd class=\"we-did-status\">Planned</dd>" in page

    done = send(staff_site, f"/staff/checkins/{checkin}/actions/{action.id}/done", {})
    assert done.status_code == 303
    [action] = stored_actions(staff_site)
    assert action.done_at is not None
    assert len(staff_site.audit("school_action_done")) == 1
    page = staff_site.client.get(f"/staff/checkins/{checkin}").text
    assert "Done: they will be told at their next check-in" in page and "Mark done" not in page


def test_the_sentence_a_child_will_hear_must_be_plain_and_the_form_says_what_to_change(staff_site, oak):
    _, _, checkin, answer_id, _ = oak
    hard = "the designated practitioner will facilitate differentiated provision"
    sent = send(staff_site, f"/staff/checkins/{checkin}/actions", plan(answer_id, child_words=hard, who=""))
    assert sent.status_code == 422 and stored_actions(staff_site) == []
    text = html.unescape(sent.text)
    assert "Nothing is saved yet. Please check the plan below." in text
    assert "These words may be hard for a young reader:" in text and "“facilitate”" in text
    assert "Please say who will do it." in text
    assert f'value="{hard}"' in text and "Lunch in the quiet room from Monday" in text  # what was typed stays
    field = re.search(r'<input id="child_words"[^>]*>', sent.text)[0]
    assert 'aria-describedby="child_words-hint child_words-error"' in field and 'aria-invalid="true"' in field


def test_a_stale_form_or_another_checkins_answer_saves_nothing(staff_site, oak):
    school, pupil, checkin, answer_id, _ = oak
    stale = send(staff_site, f"/staff/checkins/{checkin}/actions", plan(answer_id), token="not-the-token")
    assert stale.status_code == 403 and "nothing was saved" in stale.text
    other = staff_site.checkin(pupil, {SAFE: "yes"})
    with staff_site.sessions() as db:
        others_answer = db.scalar(select(Answer.id).where(Answer.session_id == other))
    for said in (f"answer-{others_answer}", "answer-" + "9" * 30, "comment-x", "statement-1"):
        sent = send(staff_site, f"/staff/checkins/{checkin}/actions", plan(answer_id, said=said))
        assert sent.status_code == 422 and "Please choose what they said" in sent.text
    assert stored_actions(staff_site) == []


def test_another_schools_checkin_and_plan_are_not_found(staff_site, oak):
    _, pupil, checkin, answer_id, _ = oak
    elm = staff_site.school("Elm School")
    elm_checkin = staff_site.checkin(staff_site.pupil(elm, "Cat Elm"), {SAFE: "no"})
    with staff_site.sessions() as db:
        elm_answer = db.scalar(select(Answer.id).where(Answer.session_id == elm_checkin))
    assert send(staff_site, f"/staff/checkins/{elm_checkin}/actions", plan(elm_answer)).status_code == 404
    assert stored_actions(staff_site) == []
    send(staff_site, f"/staff/checkins/{checkin}/actions", plan(answer_id))
    [action] = stored_actions(staff_site)
    # A plan is reached only through its own check-in.
    assert send(staff_site, f"/staff/checkins/{elm_checkin}/actions/{action.id}/done", {}).status_code == 404
    later = staff_site.checkin(pupil, {SAFE: "yes"})
    assert send(staff_site, f"/staff/checkins/{later}/actions/{action.id}/done", {}).status_code == 404
    assert stored_actions(staff_site)[0].done_at is None


def tell_and_reply(site, pupil: int, intent: str, consent=("school",), at=None) -> int:
    """The pupil's next check-in, as the chat runs it: preferences, the item told, the reply
    (`at`: when it started and consent was given, for the council's whole-term figures)."""
    with site.sessions.begin() as db:
        from framework.db.models import Pupil  # noqa: PLC0415

        invite = repo.create_invite(db, db.get(Pupil, pupil), "york", question_set="core")
        session = repo.start_or_resume_session(db, invite).session
        chat.save_preferences(db, session, input_mode="tap", read_aloud=False, question_set="core", who_with="alone")
        chat.ask_current(db, session)
        chat.handle_reply(db, session, Reply(text=f"/{intent}", intent=intent, confidence=1.0, tapped=True))
        if at is not None:
            session.started_at = at
        repo.record_consent(db, session, consent, now=at)
        return session.id


def test_the_childs_reply_is_shown_to_the_senco_on_both_checkins(staff_site, oak):
    _, pupil, checkin, answer_id, _ = oak
    send(staff_site, f"/staff/checkins/{checkin}/actions", plan(answer_id))
    [action] = stored_actions(staff_site)
    send(staff_site, f"/staff/checkins/{checkin}/actions/{action.id}/done", {})
    told = tell_and_reply(staff_site, pupil, "sometimes")
    source = staff_site.client.get(f"/staff/checkins/{checkin}").text
    assert "Told to them. They said: It helped a bit" in source
    assert f'<a href="/staff/checkins/{told}">the check-in where they were told</a>' in source
    there = staff_site.client.get(f"/staff/checkins/{told}").text
    section = there.split("Told to them at this check-in", 1)[1].split("Plans about this check-in", 1)[0]
    assert "It helped a bit" in section and html.escape(YORK.statement(SAFE).question) in section


def plan_for_answer(site, checkin: int, statement_id: str, done: bool) -> None:
    with site.sessions.begin() as db:
        session = db.get(SurveySession, checkin)
        senco = repo.find_staff_by_email(db, "senco.council@x.example") or repo.create_staff(
            db, "senco.council@x.example", "x", "senco", session.pupil.school)
        answer = next(a for a in repo.current_answers(db, session) if a.statement_id == statement_id)
        action = we_did.record(db, senco, session, answer=answer, what="Quiet room", who="TA", due_on=date.today(),
                               child_words="you can eat in the quiet room")
        if done:
            we_did.mark_done(db, action, senco)


def test_the_council_counts_plans_and_replies_per_area_with_small_numbers_hidden(staff_site):
    # The council's figures are its own schools', counted to the start of this term.
    last_term = term_start(utcnow()) - timedelta(days=20)
    with staff_site.sessions.begin() as db:
        council_id = repo.create_council(db, "Ash Council").id
    school = staff_site.school("Ash School", council_id)
    officer = staff_site.account("la_officer", None, "officer@council.example", council_id=council_id)
    independent, heard = "york.independent.cyp1", "york.heard.cyp1"
    for i, intent in enumerate(["affirm", "affirm", "affirm", "deny", "affirm", "affirm"]):
        pupil = staff_site.pupil(school, f"Pupil {i}")
        first = staff_site.checkin(pupil, {SAFE: "no", independent: "no"}, consent=(COUNCIL_CONSENT,),
                                   at=last_term - timedelta(days=9))
        plan_for_answer(staff_site, first, SAFE, done=True)
        if i < 5:
            plan_for_answer(staff_site, first, independent, done=False)
        tell_and_reply(staff_site, pupil, intent, consent=(COUNCIL_CONSENT,), at=last_term)
    lonely = staff_site.checkin(staff_site.pupil(school, "Pupil 9"), {heard: "no"}, consent=(COUNCIL_CONSENT,),
                                at=last_term)
    plan_for_answer(staff_site, lonely, heard, done=False)
    # Not counted: the young person did not say the council may see it.
    private = staff_site.checkin(staff_site.pupil(school, "Pupil 10"), {SAFE: "no"}, consent=("school",),
                                 at=last_term)
    plan_for_answer(staff_site, private, SAFE, done=True)
    staff_site.client.cookies.clear()
    staff_site.sign_in(officer)
    page = staff_site.client.get("/staff/council?framework=york").text
    table = re.search(r'<table class="figures we-did-figures">(.*?)</table>', page, re.S)[1]
    rows = {html.unescape(th): [" ".join(re.sub(r"<[^>]+>", " ", c).split()) for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for th, row in re.findall(r'<tr>\s*<th scope="row">(.*?)</th>(.*?)</tr>', table, re.S)}
    # Pupils, planned, done, told; then Yes, A bit, No, Skipped. A reply is a young person's answer:
    # the one No is hidden, and so is Yes, which would give it away (6 told, 5 said Yes).
    assert rows[YORK.area("york.safe").title] == ["6", "6", "6", "6", "hidden", "0", "hidden", "0"]
    assert rows["All areas"] == ["7", "12", "6", "6", "hidden", "0", "hidden", "0"]
    hidden = [title for title, cells in rows.items() if cells and "fewer than 5 pupils" in cells[0]]
    # Being heard (1 pupil) is hidden; then the smallest other row, or the total would give it away.
    assert hidden == [YORK.area("york.independent").title, YORK.area("york.heard").title]
    assert "Pupil 1" not in page and "quiet room" not in page


def test_a_plan_written_after_the_sign_in_ran_out_is_put_back_after_signing_in(staff_site, oak):
    _, _, checkin, answer_id, _ = oak
    token = staff_site.token("/staff")
    staff_site.client.cookies.clear()  # the sign-in runs out
    typed = plan(answer_id, child_words="you can eat lunch in the quiet room")
    path = f"/staff/checkins/{checkin}/actions"
    page = staff_site.client.post(path, data={"csrf_token": token, **typed})
    assert page.status_code == 401 and "What you typed is kept below." in page.text
    back = staff_site.client.post("/staff/login", data={
        "csrf_token": CSRF_IN_PAGE.search(page.text)[1], "email": "senco1@school.example", "password": PASSWORD,
        "next": path, **{f"draft.{k}": v for k, v in typed.items()}})
    assert back.status_code == 200 and "Nothing was saved yet" in back.text
    assert 'value="you can eat lunch in the quiet room"' in back.text and f'value="answer-{answer_id}" selected' in back.text
    assert stored_actions(staff_site) == []
