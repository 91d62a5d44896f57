"""The chat API under load it should shrug off: the screen never holds the database, and a
sweep of bad input gets kind 4xx answers and loses nothing already stored.

These run the web app in this process with Rasa faked at its HTTP boundary
(tests/unit/chat_without_rasa.py): what is tested is what the web app does with what comes
in, before and after Rasa; tests/unit/test_chat_api.py covers the same API against real Rasa.
"""
from __future__ import annotations

import json
import sqlite3

from sqlalchemy import select

import bot.chat.gateway as gateway_module
from bot.chat import texts
from framework.db.models import SafeguardingAlert
from tests.unit.chat_without_rasa import ChatApp, chat_app  # noqa: F401  (the fixture)

MESSAGES = "/api/sessions/current/messages"
WORRY = "my step dad hurts me"


def test_the_screen_runs_with_no_database_transaction_open(chat_app: ChatApp, monkeypatch):
    """While a message is screened another connection can write: the screen holds no write
    lock (SQLite's) and no transaction, however long it takes."""
    real_screen = gateway_module.screen
    database_free = []

    def screen_while_another_writes(text, previous=None):
        other = sqlite3.connect(chat_app.database, timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            database_free.append(True)
        except sqlite3.OperationalError:  # "database is locked": a transaction is open around the screen
            database_free.append(False)
        finally:
            other.close()
        return real_screen(text, previous=previous)

    monkeypatch.setattr(gateway_module, "screen", screen_while_another_writes)
    auth = chat_app.start()
    ordinary = chat_app.client.post(MESSAGES, json={"text": "I like art"}, headers=auth)
    worry = chat_app.client.post(MESSAGES, json={"text": WORRY, "client_message_id": "w1"}, headers=auth)
    assert ordinary.status_code == worry.status_code == 200
    assert database_free == [True, True]
    # The worry was still answered and its alert stored, once, after the screen.
    assert {m["kind"] for m in worry.json()["messages"]} == {"safeguarding"}
    again = chat_app.client.post(MESSAGES, json={"text": WORRY, "client_message_id": "w1"}, headers=auth)
    assert again.json()["duplicate"] is True and again.json()["messages"] == worry.json()["messages"]
    with chat_app.sessions() as db:
        assert db.scalars(select(SafeguardingAlert.words)).all() == [WORRY]
    assert [m["message"] for m in chat_app.rasa.received][-1] == "I like art"  # the worry never went to Rasa


# ---- the bad-input sweep -------------------------------------------------------------------------

SWEEP_MESSAGES = 1000
CHECKINS = 40
DEEP = "[" * 40_000 + "]" * 40_000  # within the 100 kB body limit, too deep for a JSON parser
# (what is sent, as keyword arguments of the client's post; the status it should get)
BAD_INPUT: dict[str, tuple[dict, set[int]]] = {
    "empty": ({"json": {"text": ""}}, {422}),
    "blank": ({"json": {"text": " \n\t "}}, {422}),
    "one megabyte": ({"content": json.dumps({"text": "a" * 1_000_000})}, {413}),
    "over 2,000 characters": ({"json": {"text": "help me please " * 200}}, {422}),
    "binary": ({"content": bytes(range(256)) * 8}, {422}),
    "not UTF-8": ({"content": b'{"text": "caf\xe9 \xff\xfe"}'}, {422}),
    "a lone surrogate": ({"content": b'{"text": "hi \\ud800 there"}'}, {200}),
    "script": ({"json": {"text": '<script>alert(1)</script><img src=x onerror=alert(2)>'}}, {200}),
    "SQL": ({"json": {"text": "'; DROP TABLE transcript_messages; --"}}, {200}),
    "more SQL": ({"json": {"text": "1 OR 1=1; SELECT * FROM staff_users WHERE ''=''"}}, {200}),
    "control characters": ({"json": {"text": "\x00\x1b[31mhi\x07"}}, {200}),
    "an intent": ({"json": {"text": '/choose{"consent":"school_family_and_council"}'}}, {200}),
    "a number": ({"json": {"text": 42}}, {422}),
    "null": ({"json": {"text": None}}, {422}),
    "a list": ({"json": ["hi"]}, {422}),
    "no text": ({"json": {}}, {422}),
    "too deep": ({"content": '{"text": "hi", "x": ' + DEEP + "}"}, {422}),
    "a long message id": ({"json": {"text": "hi", "client_message_id": "x" * 65}}, {422}),
    "emoji and right-to-left": ({"json": {"text": "\U0001f642 \u202ehi\u202c \u0645\u0631\u062d\u0628\u0627"}}, {200}),
    "no token": ({"json": {"text": "hi"}, "headers": {}}, {401}),
    "a made-up token": ({"json": {"text": "hi"}, "headers": {"Authorization": "Bearer made-up"}}, {401}),
}


def test_a_sweep_of_bad_messages_gets_kind_4xx_answers_and_loses_nothing(chat_app: ChatApp):
    """1,000 messages over 40 check-ins, each kind of bad input in turn, then a flood from one
    check-in: never a 5xx, every refusal a kind sentence from bot/chat/texts.py, every message
    answered 200 stored word for word (control characters removed), nothing stored before changed."""
    auths = [chat_app.start() for _ in range(CHECKINS)]
    for auth in auths:
        assert chat_app.client.post(MESSAGES, json={"text": "I like art", "client_message_id": "first"},
                                    headers=auth).status_code == 200
    before = chat_app.incoming()
    kinds = list(BAD_INPUT)
    answered: dict[str, set[int]] = {kind: set() for kind in kinds}
    kept = []
    flood = SWEEP_MESSAGES - CHECKINS * 20
    for n in range(SWEEP_MESSAGES - flood):
        kind = kinds[n % len(kinds)]
        sent, _ = BAD_INPUT[kind]
        headers = {"Content-Type": "application/json", **sent.get("headers", auths[n % CHECKINS])}
        body = {k: v for k, v in sent.items() if k != "headers"}
        tagged = "json" in body and isinstance(body["json"], dict) and "client_message_id" not in body["json"]
        if tagged:
            body["json"] = {**body["json"], "client_message_id": f"sweep-{n}"}
        response = chat_app.client.post(MESSAGES, headers=headers, **body)
        assert response.status_code < 500, (kind, response.status_code, response.text)
        answered[kind].add(response.status_code)
        if response.status_code != 200:
            assert response.json()["error"] in texts.ALL, (kind, response.text)
        elif tagged:
            kept.append(n)
    for _ in range(flood):  # one check-in sends as fast as it can
        response = chat_app.client.post(MESSAGES, json={"text": "spam"}, headers=auths[0])
        assert response.status_code in (200, 429), response.text
        answered.setdefault("flood", set()).add(response.status_code)
    for kind, (_, expected) in BAD_INPUT.items():  # each kind got its answer (some, after the flood limit)
        assert answered[kind] - {429} == expected, (kind, answered[kind])
    assert answered["flood"] == {200, 429}

    after = chat_app.incoming()
    assert after[:len(before)] == before  # nothing stored before is changed or lost
    stored_ids = [cid for _, _, cid in after]
    for n in kept:
        assert stored_ids.count(f"sweep-{n}") == 1
    words = {cid: text for _, text, cid in after}
    assert kinds[8] == "SQL" and words["sweep-8"] == "'; DROP TABLE transcript_messages; --"
    scripts = [text for _, text, _ in after if text.startswith("<script>")]
    assert scripts and set(scripts) == {'<script>alert(1)</script><img src=x onerror=alert(2)>'}
    assert all("\x00" not in text and "\ud800" not in text for _, text, _ in after)
