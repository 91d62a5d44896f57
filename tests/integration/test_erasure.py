"""Erasing a pupil, against the real stack: after `heard pupil erase ID`, no table of ours, no
row of Rasa's tracker store and no file under var/ holds the child's words; their
safeguarding alert is kept, word for word."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, select, text

from bot.cli import main
from framework.db.engine import database_url
from framework.db.models import AuditEntry, SafeguardingAlert
from framework.settings import Settings, get_settings
from tests.integration.test_chat_gateway import session_of, through_preferences
from tests.unit.test_chat_api import send, start

pytestmark = pytest.mark.integration

WORDS = "Zebedee my purple giraffe"  # found nowhere else in the stack's data
WORRY = "my step dad hurts me"
DATABASE_FILES = (".db", ".db-wal", ".db-shm", ".db-journal")


def tables_holding(url: str, words: str) -> set[str]:
    """The tables of a database with a row that holds `words` in any column."""
    engine = create_engine(database_url(url))
    try:
        with engine.connect() as connection:
            return {
                table for table in inspect(connection).get_table_names()
                if any(words in str(tuple(row)) for row in connection.execute(text(f'SELECT * FROM "{table}"')))
            }
    finally:
        engine.dispose()


def files_holding(folder: Path, words: str) -> list[Path]:
    """Files under `folder` (the databases aside: their rows are read above) that hold `words`."""
    return [path for path in folder.rglob("*")
            if path.is_file() and not path.name.endswith(DATABASE_FILES) and words.encode() in path.read_bytes()]


def where_the_words_are(settings: Settings, words: str) -> dict[str, object]:
    return {
        "ours": tables_holding(settings.resolved_database_url, words),
        "rasa": tables_holding(settings.resolved_rasa_tracker_url, words),
        "files": files_holding(settings.var_dir, words),
    }


def test_after_erasure_no_table_tracker_row_or_file_holds_the_childs_words(chat_client, new_invite, stack, monkeypatch):
    _, auth = start(chat_client, new_invite())
    assert send(chat_client, auth, WORRY).status_code == 200  # an alert, which is kept
    assert send(chat_client, auth, "/carry_on").status_code == 200
    reply = through_preferences(chat_client, auth)
    said_it = False
    while (kind := reply.get("messages", [{}])[-1].get("kind")) in ("question", "comment"):
        if kind == "question":
            reply = send(chat_client, auth, "/affirm").json()
        elif not said_it:
            reply, said_it = send(chat_client, auth, WORDS).json(), True
        else:
            reply = send(chat_client, auth, "/skip").json()
    assert "messages" in reply, reply
    [read_back] = [m for m in reply["messages"] if m["contains_child_words"]]
    assert WORDS in read_back["text"]
    assert chat_client.get(read_back["audio_url"]).status_code == 200  # the read-back, read aloud
    session = session_of(stack, auth)

    before = where_the_words_are(stack.settings, WORDS)
    assert before["ours"] >= {"comments", "transcript_messages"} and before["rasa"] == {"events"} and before["files"]

    for name, value in stack.settings.as_env().items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    try:
        assert main(["pupil", "erase", str(session.pupil_id), "--yes"]) == 0
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()

    assert where_the_words_are(stack.settings, WORDS) == {"ours": set(), "rasa": set(), "files": []}
    with stack.sessions() as db:
        alert = db.scalar(select(SafeguardingAlert).where(SafeguardingAlert.pupil_id == session.pupil_id))
        assert (alert.words, alert.session_id) == (WORRY, None)
        [erased] = db.scalars(select(AuditEntry).where(
            AuditEntry.action == "erase_pupil", AuditEntry.pupil_id == session.pupil_id)).all()
        assert erased.actor_id is None and erased.detail["checkins"]["comments"] == 1
        assert WORDS not in str(erased.detail)
