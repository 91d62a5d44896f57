"""How the web app undoes a turn that failed part-way in Rasa, found by `make chaos`.

Rasa answers a turn with silence when it could not reach the action server (it logs the
failed action and carries on). The action server may be back by the time the web app looks
(supervisord restarts it in seconds), so silence is never taken for a finished turn: a killed
action server came back between Rasa's failed call and the web app's look, and a message was
marked delivered with nothing stored.

A failed turn is undone by restarting the conversation in Rasa and resuming it at the step
the database holds, never by Rasa's "rewind": inside a form Rasa folds the form's earlier turns
away, so a rewind at the third question went back to before the questions began (the child
was then sent to the read-back with questions never asked).

Rasa here is a fake on httpx's mock transport: these tests are about what the web app does
with what Rasa answers; tests/integration/test_turn_faults.py does it with the real Rasa."""
from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
import json

import httpx
import pytest

from bot.chat.gateway import START_PAYLOAD, RasaClient, RasaUnavailable, TurnFailed
from framework.conversation import MESSAGE_ID, TURN_FAILED, UNNEGATED
from framework.settings import Settings

MESSAGE = 7
QUESTION = [{"text": "Is there more you want to say about feeling safe?", "buttons": [{"title": "No more", "payload": "/skip"}]}]
WELCOME_BACK = [{"text": "Welcome back."}, *QUESTION]
FAILED = [{"custom": {"kind": TURN_FAILED}}]


class FakeRasa:
    """Rasa's REST channel answering with `replies` in turn, its tracker events API, and the
    action server's health (up or not)."""

    def __init__(self, replies: list[list[dict]], actions_up: bool = True):
        self.replies = replies
        self.actions_up = actions_up
        self.received: list[str] = []
        self.metadata: list[dict | None] = []
        self.events: list[dict] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/webhooks/rest/webhook":
            body = json.loads(request.content)
            self.received.append(body["message"])
            self.metadata.append(body.get("metadata"))
            return httpx.Response(200, json=self.replies.pop(0))
        if path.endswith("/tracker/events"):
            self.events.append(json.loads(request.content))
            return httpx.Response(200, json={})
        if path == "/health":
            return httpx.Response(200 if self.actions_up else 503, json={})
        return httpx.Response(404)


def send(rasa: FakeRasa, messages: int = 1, unnegated: str | None = None) -> list[dict]:
    """`messages` turns of one conversation through one client; the last one's elements."""
    settings = Settings(rasa_url="http://rasa.test", action_server_url="http://actions.test",
                        rasa_token="a-test-secret-of-thirty-two-bytes-or-more")

    async def turns() -> list[dict]:
        async with httpx.AsyncClient(transport=httpx.MockTransport(rasa)) as http:
            client = RasaClient(settings, http)
            for _ in range(messages - 1):
                with pytest.raises(RasaUnavailable):
                    await client.send("sender-1", "/skip", MESSAGE)
            return await client.send("sender-1", "/skip", MESSAGE, unnegated)

    # A thread of its own: the browser tests may leave an event loop running in this one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, turns()).result()


def test_the_words_outside_negated_acts_go_to_the_actions_beside_the_message_id():
    rasa = FakeRasa([QUESTION])
    assert send(rasa, unnegated="i am") == QUESTION
    assert rasa.metadata == [{MESSAGE_ID: MESSAGE, UNNEGATED: "i am"}]
    rasa = FakeRasa([QUESTION])
    assert send(rasa) == QUESTION
    assert rasa.metadata == [{MESSAGE_ID: MESSAGE}]


def test_silence_with_the_action_server_back_is_undone_and_sent_again():
    rasa = FakeRasa([[], WELCOME_BACK, QUESTION])
    assert send(rasa) == QUESTION
    assert rasa.received == ["/skip", START_PAYLOAD, "/skip"]
    assert rasa.events == [{"event": "restart"}]  # the lost turn, undone before it was sent again


def test_silence_with_the_action_server_down_is_not_delivered_and_resumed_before_the_next_try():
    rasa = FakeRasa([[], [], WELCOME_BACK, QUESTION], actions_up=False)
    assert send(rasa, messages=2) == QUESTION
    assert rasa.received == ["/skip", START_PAYLOAD, START_PAYLOAD, "/skip"]
    assert rasa.events == [{"event": "restart"}] * 2


def test_silence_twice_with_the_action_server_up_is_a_turn_with_nothing_to_say():
    rasa = FakeRasa([[], WELCOME_BACK, []])
    assert send(rasa) == []
    assert rasa.received == ["/skip", START_PAYLOAD, "/skip"]


def test_a_turn_an_action_failed_is_undone_by_a_restart_not_a_rewind():
    rasa = FakeRasa([FAILED, WELCOME_BACK])
    with pytest.raises(TurnFailed):
        send(rasa)
    assert rasa.received == ["/skip", START_PAYLOAD] and rasa.events == [{"event": "restart"}]


def test_rasa_and_the_actions_name_a_failed_turn_alike():
    """rasa_server (in Rasa's environment) says a turn failed with the same word as our actions."""
    from rasa_server import TURN_FAILED as SAID_BY_RASA

    assert SAID_BY_RASA == TURN_FAILED
