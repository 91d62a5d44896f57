"""The chat API under load it should shrug off: the screen never holds the database, and a
sweep of bad input gets kind 4xx answers and loses nothing already stored.

These run the web app in this process with Rasa faked at its HTTP boundary
(tests/unit/chat_without_rasa.py): what is tested is what the web app does with what comes
in, before and after Rasa; tests/unit/test_chat_api.py covers the same API against real Rasa.
"""
from __future__ import annotations

import sqlite3

from sqlalchemy import select

import bot.chat.gateway as gateway_module
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
