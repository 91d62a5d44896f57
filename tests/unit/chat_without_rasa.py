"""The chat API on a fresh, migrated SQLite database, with Rasa and the action server faked at
the HTTP boundary: `FakeRasa` answers as Rasa's REST channel does (one plain reply per
message), or not at all while `down` is set. `chat_app` runs the web app in this process
(FastAPI's TestClient) and gives its httpx client a transport to the fake; `serve_fake_rasa`
puts the same fake on a local port, for a web app running in a process of its own.

For tests of what the web app itself does with what comes in (screening, storing, refusing,
its error answers): not of what Rasa understands. tests/unit/test_chat_api.py and the
integration tests run the real stack.
"""
from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from framework.db import repository as repo
from framework.db.engine import make_engine, make_session_factory
from framework.db.models import TranscriptMessage
from framework.settings import Settings
from tests.databases import migrate_fresh
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
        if request.url.path in ("/", "/health"):  # Rasa's and the action server's health
            return httpx.Response(200, json={"status": "ok"})
        return httpx.Response(404, json={})


def new_invite(sessions: sessionmaker[Session]) -> str:
    """A pupil with an invite, at a school with a safeguarding lead; returns the code."""
    with sessions.begin() as db:
        school = repo.create_school(db, "Chat School")
        repo.create_staff(db, f"dsl{school.id}@school.example", "not-a-login", "dsl", school)
        pupil = repo.create_pupil(db, school, "Test Pupil", year_group="Year 6")
        return repo.create_invite(db, pupil, "york", question_set="core").code


@dataclass
class ChatApp:
    client: TestClient
    rasa: FakeRasa
    sessions: sessionmaker[Session]
    database: Path

    def invite(self) -> str:
        return new_invite(self.sessions)

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


@contextmanager
def serve_fake_rasa(fake: FakeRasa) -> Iterator[str]:
    """`fake` on a free local port (its URL), answering in a thread. While `fake.down`, a
    request's connection is closed unanswered, as a stopped server's would be."""

    class Handler(BaseHTTPRequestHandler):
        def answer(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            try:
                response = fake.handle(httpx.Request(self.command, f"http://fake{self.path}", content=body))
            except httpx.ConnectError:
                self.close_connection = True
                return
            self.send_response(response.status_code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(response.content)))
            self.end_headers()
            self.wfile.write(response.content)

        do_GET = do_POST = answer

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def chat_app(tmp_path) -> Iterator[ChatApp]:
    url = f"sqlite:///{tmp_path / 'heard.db'}"
    migrate_fresh(url)
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
