"""Rasa answers a turn with silence when it could not reach the action server (it logs the
failed action and carries on). The action server may be back by the time the web app looks
(supervisord restarts it in seconds), so silence is never taken for a finished turn: the turn
is undone in Rasa and sent once more. Found by `make chaos`: a killed action server came back
between Rasa's failed call and the web app's look, and a message was marked delivered with
nothing stored. Rasa here is a fake on httpx's mock transport: the test is about what the web
app does with what Rasa answers."""
from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from bot.chat.gateway import RasaClient, RasaUnavailable
from framework.conversation import MESSAGE_ID
from framework.settings import Settings

MESSAGE = 7
QUESTION = [{"text": "Is there more you want to say about feeling safe?", "buttons": [{"title": "No more", "payload": "/skip"}]}]


class FakeRasa:
    """Rasa's REST channel answering with `replies` in turn, its tracker API, and the action
    server's health (up or not)."""

    def __init__(self, replies: list[list[dict]], actions_up: bool = True):
        self.replies = replies
        self.actions_up = actions_up
        self.received: list[dict] = []
        self.events: list[dict] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/webhooks/rest/webhook":
            self.received.append(json.loads(request.content))
            return httpx.Response(200, json=self.replies.pop(0))
        if path.endswith("/tracker/events"):
            self.events.append(json.loads(request.content))
            return httpx.Response(200, json={})
        if path.endswith("/tracker"):
            return httpx.Response(200, json={"latest_message": {"text": "/skip", "metadata": {MESSAGE_ID: MESSAGE}}})
        if path == "/health":
            return httpx.Response(200 if self.actions_up else 503, json={})
        return httpx.Response(404)


def send(rasa: FakeRasa) -> list[dict]:
    settings = Settings(rasa_url="http://rasa.test", action_server_url="http://actions.test",
                        rasa_token="a-test-secret-of-thirty-two-bytes-or-more")

    async def one_turn() -> list[dict]:
        async with httpx.AsyncClient(transport=httpx.MockTransport(rasa)) as http:
            return await RasaClient(settings, http).send("sender-1", "/skip", MESSAGE)

    return asyncio.run(one_turn())


def test_silence_with_the_action_server_back_is_undone_and_sent_again():
    rasa = FakeRasa([[], QUESTION])
    assert send(rasa) == QUESTION
    assert [body["metadata"] for body in rasa.received] == [{MESSAGE_ID: MESSAGE}] * 2
    assert rasa.events == [{"event": "rewind"}]  # the lost turn, undone before it was sent again


def test_silence_with_the_action_server_down_is_undone_and_not_delivered():
    rasa = FakeRasa([[]], actions_up=False)
    with pytest.raises(RasaUnavailable):
        send(rasa)
    assert len(rasa.received) == 1 and rasa.events == [{"event": "rewind"}]


def test_silence_twice_with_the_action_server_up_is_a_turn_with_nothing_to_say():
    rasa = FakeRasa([[], []])
    assert send(rasa) == []
    assert len(rasa.received) == 2 and rasa.events == [{"event": "rewind"}]
