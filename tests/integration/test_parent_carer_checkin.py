"""A pupil and their parent carer each check in over the chat API (the real Rasa server and
action server); the SENCO's summary, profile PDF and answers CSV then show both, the pupil's
first, side by side per area, and nothing of the pupil's is changed by the parent carer's."""
from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess

import pytest
from markupsafe import escape
from sqlalchemy import select

from bot.auth.passwords import hash_password
from framework.db import repository as repo
from framework.db.models import Answer, Comment, ConsentDecision, SafeguardingAlert, SurveySession
from framework.loader import load_framework
from tests.stack import app_client

pytestmark = pytest.mark.integration

MESSAGES = "/api/sessions/current/messages"
SHROPSHIRE = load_framework("shropshire")
PASSWORD = "a parent carer test password"
WORRY = "his step dad hits him when he is angry"  # the screen's rules catch it from an adult too


def choose(slot: str, value: str) -> str:
    return "/choose" + json.dumps({slot: value}, separators=(",", ":"))


def check_in(client, code: str, answer_for, *, comment: str | None = None) -> tuple[list[str], list[dict]]:
    """Start with `code`, choose the short set, answer each question with `answer_for(statement)`
    (an intent), type `comment` at the first comment prompt (else "No more"), confirm the
    read-back and say the council may see it. Returns the statements asked and every message."""
    started = client.post("/api/sessions", json={"invite_code": code})
    assert started.status_code == 201, started.text
    auth = {"Authorization": f"Bearer {started.json()['token']}"}
    seen = list(started.json()["messages"])

    def send(text: str) -> list[dict]:
        response = client.post(MESSAGES, json={"text": text}, headers=auth)
        assert response.status_code == 200, response.text
        seen.extend(response.json()["messages"])
        return response.json()["messages"]

    for slot, value in (("input_mode", "tap"), ("read_aloud", "on"), ("question_set", "core"), ("who_with", "alone")):
        messages = send(choose(slot, value))
    asked = []
    for _ in range(60):
        kinds = [m["kind"] for m in messages]
        if "question" in kinds:
            question = [m for m in messages if m["kind"] == "question"][-1]
            asked.append(question["statement_id"])
            messages = send(f"/{answer_for(SHROPSHIRE.statement(question['statement_id']))}")
        elif "comment" in kinds:
            if comment is not None:
                worried = send(comment)
                assert [m["kind"] for m in worried].count("safeguarding") >= 1  # support words, not the chat
                comment = None
            messages = send("/skip")  # "No more"
        elif messages[-1]["text"] == "Is that right?":
            send("/affirm")
            end = send(choose("consent", "school_family_and_council"))
            assert end[-1]["kind"] == "end"
            return asked, seen
        else:
            pytest.fail(f"unexpected turn: {messages}")
    pytest.fail("the check-in did not end")


def child_rows(stack, session_id: int) -> list[tuple]:
    """Every stored row of one check-in (answers, comments, consent, the session), column by column."""
    with stack.sessions() as db:
        rows = []
        for model in (Answer, Comment, ConsentDecision):
            for row in db.scalars(select(model).where(model.session_id == session_id).order_by(model.id)):
                rows.append(tuple(getattr(row, c.key) for c in model.__table__.columns))
        session = db.get(SurveySession, session_id)
        rows.append(tuple(getattr(session, c.key) for c in SurveySession.__table__.columns if c.key != "token_hash"))
        return rows


def test_a_pupil_and_their_parent_carer_check_in_and_the_senco_sees_both_side_by_side(stack, tmp_path):
    with stack.sessions.begin() as db:
        school = repo.create_school(db, "Parent Carer Integration School")
        repo.create_staff(db, "dsl@parents.example", "not-a-login", "dsl", school)
        repo.create_staff(db, "senco@parents.example", hash_password(PASSWORD), "senco", school)
        pupil = repo.create_pupil(db, school, "Sam Green", year_group="Year 5")
        pupil_id = pupil.id
        child_code = repo.create_invite(db, pupil, "shropshire", question_set="core").code
        parent_code = repo.create_invite(db, pupil, "shropshire", perspective="parent_carers",
                                         question_set="core").code

    with app_client(stack.settings) as client:
        # The pupil: Sometimes to being listened to, Yes to everything else.
        child_asked, _ = check_in(
            client, child_code, lambda st: "sometimes" if st.id == "shropshire.heard.cyp2" else "affirm")
        with stack.sessions() as db:
            child_session = db.scalar(select(SurveySession.id).where(
                SurveySession.pupil_id == pupil_id, SurveySession.perspective == "children_young_people"))
        before = child_rows(stack, child_session)

        # Their parent carer: No to being listened to, Yes to the rest; and a worry typed in a comment.
        parent_asked, parent_messages = check_in(
            client, parent_code, lambda st: "deny" if st.id == "shropshire.heard.pc5" else "affirm", comment=WORRY)

        assert child_asked == [st.id for st in SHROPSHIRE.questions("children_young_people", "core")]
        assert parent_asked == [st.id for st in SHROPSHIRE.questions("parent_carers", "core")]
        said = " ".join(m["text"] for m in parent_messages)
        assert SHROPSHIRE.statement("shropshire.heard.pc5").question in said  # the parent carer's own questions
        assert SHROPSHIRE.statement("shropshire.heard.cyp2").question not in said

        # Nothing of the pupil's changed: not an answer, comment, consent or the check-in itself.
        assert child_rows(stack, child_session) == before
        with stack.sessions() as db:
            parent_session = db.scalar(select(SurveySession).where(
                SurveySession.pupil_id == pupil_id, SurveySession.perspective == "parent_carers"))
            assert {a.statement_id for a in repo.current_answers(db, parent_session)} == set(parent_asked)
            [alert] = db.scalars(select(SafeguardingAlert).where(SafeguardingAlert.pupil_id == pupil_id))
            assert (alert.words, alert.perspective, alert.session_id) == (WORRY, "parent_carers", parent_session.id)

        # The SENCO's views.
        token = client.get("/staff/login").text.split('name="csrf_token" value="')[1].split('"')[0]
        signed_in = client.post("/staff/login", data={"csrf_token": token, "email": "senco@parents.example",
                                                      "password": PASSWORD, "next": "/staff"})
        assert signed_in.status_code == 200
        page = client.get(f"/staff/checkins/{child_session}").text
        assert "Sam said Sometimes; their parent carer said No." in page
        heard = page.split('<h3 id="area-1">')[1].split('<section class="area"')[0]
        child_at = heard.index(escape(SHROPSHIRE.statement("shropshire.heard.cyp2").text))
        parent_at = heard.index(escape(SHROPSHIRE.statement("shropshire.heard.pc5").text))
        assert child_at < heard.index("Their parent carer said") < parent_at  # the pupil first, in the same area

        exported = client.get(f"/staff/pupils/{pupil_id}/answers.csv").text.lstrip("\ufeff")
        rows = list(csv.DictReader(io.StringIO(exported)))
        whose = [row["Whose view"] for row in rows if row["Record"] == "Answer"]
        assert whose == ["The pupil"] * len(child_asked) + ["Their parent carer"] * len(parent_asked)
        by_statement = {row["Statement id"]: row["Answer"] for row in rows if row["Record"] == "Answer"}
        assert (by_statement["shropshire.heard.cyp2"], by_statement["shropshire.heard.pc5"]) == ("Sometimes", "No")

        pdf = client.get(f"/staff/checkins/{child_session}/profile.pdf")
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        if shutil.which("pdftotext"):
            path = tmp_path / "profile.pdf"
            path.write_bytes(pdf.content)
            text = " ".join(subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], check=True,
                                           capture_output=True).stdout.decode().split())
            assert "What my parent carer said" in text and "Sam said Sometimes; their parent carer said No." in text
            assert text.index("What I said about each area") < text.index("What my parent carer said")
    assert child_rows(stack, child_session) == before  # reading them changed nothing either
