"""Asking what a question means, and what happens after telling something worrying, over
HTTP against the real stack: the web app served by uvicorn, Rasa, the action server and the
database."""
from __future__ import annotations

import time

import httpx
import pytest

from bot.chat.prompts import domain_text
from framework.loader import load_framework
from tests.integration.test_chat_gateway import through_preferences
from tests.unit.test_chat_api import send, start

pytestmark = pytest.mark.integration

ANSWER_LABELS = ["Yes", "Sometimes", "No", "I don't know", "Skip"]
RATE_LIMIT_WAIT = 120  # seconds: a whole check-in is more messages than one session may send a minute


def say(client, auth: dict, text: str) -> list[dict]:
    """Send as the widget does: a 429 (too fast for the per-session limit) is sent again."""
    deadline = time.monotonic() + RATE_LIMIT_WAIT
    while True:
        response = send(client, auth, text)
        if response.status_code != 429 or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert response.status_code == 200, response.text
    return response.json()["messages"]


@pytest.mark.parametrize("framework_id", ["york", "shropshire"])
def test_wdym_at_every_question_says_that_question_another_way(web_url, new_invite, framework_id):
    framework = load_framework(framework_id)
    asked = []
    with httpx.Client(base_url=web_url, timeout=120) as client:
        _, auth = start(client, new_invite(framework_id))
        messages = through_preferences(client, auth)["messages"]
        while messages[-1]["kind"] in ("question", "comment"):
            last = messages[-1]
            if last["kind"] == "comment":
                messages = say(client, auth, "/skip")
                continue
            statement = framework.statement(last["statement_id"])
            asked.append(statement.id)
            explained = say(client, auth, "wdym")
            said = [m["text"] for m in explained]
            assert said[:3] == [domain_text("utter_another_way"), statement.reworded, statement.example], said
            again = explained[-1]
            # then the same question, with every answer a tap away
            assert (again["kind"], again["statement_id"], again["text"]) == ("question", statement.id, statement.question)
            assert [b["label"] for b in again["buttons"]] == ANSWER_LABELS
            messages = say(client, auth, "/affirm")
    assert asked == [st.id for st in framework.questions("children_young_people", "core")]


FOLLOW_UPS = {
    "will u tell my mum": ("utter_told_after_worry", "utter_told_who", "utter_told_then"),
    "what happens now": ("utter_next_not_in_trouble", "utter_next_after_worry", "utter_next_they_talk"),
    "i want to talk to a real person": ("utter_person_after_worry", "utter_person_trusted", "utter_person_childline"),
}


def test_after_a_disclosure_follow_ups_get_specific_answers_and_keep_carry_on_or_stop(web_url, new_invite):
    with httpx.Client(base_url=web_url, timeout=120) as client:
        _, auth = start(client, new_invite())
        question = through_preferences(client, auth)["messages"][-1]
        support = say(client, auth, "my step dad hurts me")
        assert support[-1]["kind"] == "safeguarding"
        for words, responses in FOLLOW_UPS.items():
            messages = say(client, auth, words)
            assert [m["text"] for m in messages] == [domain_text(name) for name in responses] + [
                domain_text("utter_carry_on_or_stop")], words
            assert [b["payload"] for b in messages[-1]["buttons"]] == ["/carry_on", "/stop"], words
        # carry on: the same question again
        again = say(client, auth, "/carry_on")[-1]
        assert (again["kind"], again["statement_id"]) == ("question", question["statement_id"])
