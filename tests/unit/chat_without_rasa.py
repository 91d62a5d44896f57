"""The chat API in this process (FastAPI's TestClient) on a fresh, migrated SQLite database,
with Rasa and the action server faked at the HTTP boundary: the web app's own httpx client
gets a transport that answers as Rasa's REST channel does (one plain reply per message), or
fails to connect while `FakeRasa.down` is set.

For tests of what the web app itself does with what comes in (screening, storing, refusing,
its error answers): not of what Rasa understands. tests/unit/test_chat_api.py and the
integration tests run the real stack.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from framework.db import repository as repo
from framework.db.engine import make_engine, make_session_factory, upgrade
from framework.db.models import TranscriptMessage
from framework.settings import Settings
from tests.stack import app_client

RASA = "http://rasa.test"
ACTIONS = "http://actions.test"
REPLY = "Thank you. Here is the next question."


@dataclass
class FakeRasa:
    """Answers the web app's requests to Rasa and the action server."""

    down: bool = False
    received: list[dict] = field(default_factory=list)

    def handle(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        if request.url.path == "/webhooks/rest/webhook":
            self.received.append(json.loads(request.content))
            return httpx.Response(200, json=[{"text": REPLY}])
        if request.url.path.endswith("/tracker"):
            return httpx.Response(200, json={"latest_message": {"text": "hello"}})
        if request.url.path.endswith("/tracker/events"):
            return httpx.Response(200, json={})
        if request.url.path == "/health":
            return httpx.Response(200, json={"status": "ok"})
        return httpx.Response(404, json={})


@dataclass
class ChatApp:
    client: TestClient
    rasa: FakeRasa
    sessions: sessionmaker[Session]
    database: Path

    def invite(self, school_name: str = "Chat School") -> str:
        """A pupil with an invite, at a school with a safeguarding lead; returns the code."""
        with self.sessions.begin() as db:
            school = repo.create_school(db, school_name)
            repo.create_staff(db, f"dsl{school.id}@school.example", "not-a-login", "dsl", school)
            pupil = repo.create_pupil(db, school, "Test Pupil", year_group="Year 6")
            return repo.create_invite(db, pupil, "york", question_set="core").code

    def start(self, code: str | None = None) -> dict[str, str]:
        """A started check-in's Authorization header."""
        response = self.client.post("/api/sessions", json={"invite_code": code or self.invite()})
        assert response.status_code == 201, response.text
        return {"Authorization": f"Bearer {response.json()['token']}"}

    def incoming(self) -> list[tuple[int, str, str | None]]:
        """Every stored incoming message: (check-in, words, client message id), in order."""
        with self.sessions() as db:
            rows = db.scalars(select(TranscriptMessage).where(TranscriptMessage.direction == "in")
                              .order_by(TranscriptMessage.id))
            return [(m.session_id, m.text, m.client_message_id) for m in rows]


@pytest.fixture
def chat_app(tmp_path) -> Iterator[ChatApp]:
    url = f"sqlite:///{tmp_path / 'heard.db'}"
    upgrade(url)
    settings = Settings(
        var_dir=tmp_path, database_url=url, rasa_url=RASA, action_server_url=ACTIONS,
        rasa_token="a-test-secret-of-thirty-two-bytes-or-more", secret_key="test-secret",
        outbox_every_seconds=0, health_every_seconds=0, retention_days=0,
    )
    rasa = FakeRasa()
    engine = make_engine(url)
    with app_client(settings) as client:
        gateway = client.app.state.chat
        gateway.rasa.http = httpx.AsyncClient(transport=httpx.MockTransport(rasa.handle))
        yield ChatApp(client, rasa, make_session_factory(engine), Path(make_url(url).database))
    engine.dispose()
