"""The chat API against its own contract: schemathesis reads /openapi.json from the running web
app (uvicorn in a process of its own, as `heard run` starts it) and sends it requests made from
that description, valid and not, with no session token, a made-up one and a real one. Every
answer must be a status the description lists, of the content type and shape it gives, and
never a server error, except the documented 503 while Rasa is down.

Rasa and the action server are faked at their HTTP boundary (tests/unit/chat_without_rasa.py,
on a local port): what is tested is the web app's side of the contract, not what Rasa
understands (tests/unit/test_chat_api.py runs the real stack). Examples are capped so the run
takes seconds.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import Case
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy.orm import Session, sessionmaker

from bot.processes import web_process
from framework.db import repository as repo
from framework.db.engine import make_engine, make_session_factory
from framework.settings import Settings
from tests.databases import migrate_fresh
from tests.stack import free_port, start, wait_until_healthy
from tests.unit.chat_without_rasa import FakeRasa, new_invite, serve_fake_rasa

EXAMPLES = 25  # per operation and test: a few seconds each
MESSAGES_PER_TOKEN = 20  # under the 30 a minute a check-in may send


@dataclass
class RunningApp:
    url: str
    rasa: FakeRasa
    sessions: sessionmaker[Session]
    _token: str = ""
    _used: int = 0

    def token(self) -> str:
        """A real session token, a new check-in's every MESSAGES_PER_TOKEN messages."""
        if not self._token or self._used >= MESSAGES_PER_TOKEN:
            # Started in the database, as POST /api/sessions would: the run's made-up codes have
            # used up this address's tries at codes.
            code = new_invite(self.sessions)
            with self.sessions.begin() as db:
                self._token, self._used = repo.start_or_resume_session(db, repo.find_invite_by_code(db, code)).token, 0
        self._used += 1
        return self._token


@pytest.fixture(scope="module")
def running_app(tmp_path_factory) -> Iterator[RunningApp]:
    var = tmp_path_factory.mktemp("contract")
    url = f"sqlite:///{var / 'heard.db'}"
    migrate_fresh(url)
    rasa = FakeRasa()
    with serve_fake_rasa(rasa) as rasa_url:
        port = free_port()
        app_settings = Settings(
            var_dir=var, database_url=url, rasa_url=rasa_url, action_server_url=rasa_url,
            rasa_token="a-test-secret-of-thirty-two-bytes-or-more", secret_key="test-secret",
            port=port, public_url=f"http://127.0.0.1:{port}", rasa_workers=1, action_workers=1, web_workers=1,
            outbox_every_seconds=0, health_every_seconds=0, retention_days=0,
        )
        web = start(web_process(app_settings), app_settings, var)
        engine = make_engine(url)
        try:
            wait_until_healthy(web, 120)
            yield RunningApp(f"http://127.0.0.1:{port}", rasa, make_session_factory(engine))
        finally:
            web.stop()
            engine.dispose()


CONTRACT = [status_code_conformance, content_type_conformance, response_schema_conformance]


def each_operation(running_app: RunningApp, check: Callable[[Case], None]) -> list[str]:
    """`check` on EXAMPLES generated cases of each chat API operation; the operations' labels.
    (Hypothesis directly: schemathesis's pytest plugin does not run under this pytest.)"""
    schema = schemathesis.openapi.from_url(f"{running_app.url}/openapi.json").include(path_regex="^/api/")
    labels = []
    for result in schema.get_all_operations():
        operation = result.ok()
        labels.append(operation.label)

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def one(case: Case) -> None:
            check(case)

        one()
    return labels


def only_the_documented_503(ctx, response, case) -> None:
    """While Rasa is down: a server error is the documented 503, saying kindly what happened."""
    if response.status_code >= 500:
        assert response.status_code == 503, f"HTTP {response.status_code} while Rasa is down"
        body = response.json()
        assert isinstance(body.get("error"), str) and body["error"], body


def bearer(running_app: RunningApp, case: Case) -> dict[str, str] | None:
    return {"Authorization": f"Bearer {running_app.token()}"} if "messages" in case.path else None


def test_without_a_session_token(running_app):
    """No token, or whatever token the description's security scheme makes up."""
    labels = each_operation(running_app, lambda case: case.call_and_validate(checks=[not_a_server_error, *CONTRACT]))
    assert labels == ["POST /api/sessions", "POST /api/sessions/current/messages", "GET /api/audio/{key}.mp3"]


def test_with_a_session_token(running_app):
    each_operation(running_app, lambda case: case.call_and_validate(
        headers=bearer(running_app, case), checks=[not_a_server_error, *CONTRACT]))


def test_with_rasa_down_only_the_documented_503(running_app):
    running_app.rasa.down = True
    try:
        each_operation(running_app, lambda case: case.call_and_validate(
            headers=bearer(running_app, case), checks=[only_the_documented_503, *CONTRACT]))
    finally:
        running_app.rasa.down = False
