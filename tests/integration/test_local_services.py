"""Rasa and the action server listen on 127.0.0.1, where any process on the machine (and any web
page in a browser on it) can reach them (issue 17, finding 7). Each answers only what Heard
signs; no secret is on a command line (which every user can read) or in a query string."""
from __future__ import annotations

import time
from pathlib import Path

import httpx
import jwt
import pytest

from bot.chat.gateway import rasa_authorization
from framework.conversation import TURN_FAILED

pytestmark = pytest.mark.integration

CHILD_WORDS = "my step dad shouts at me every night"


def command_line(stack, name: str) -> str:
    return Path(f"/proc/{stack.processes[name].popen.pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


def test_no_secret_is_on_a_command_line(stack):
    secrets = (stack.settings.resolved_rasa_token, stack.settings.resolved_action_server_token)
    for name in ("rasa", "actions"):
        line = command_line(stack, name)
        assert not [secret for secret in secrets if secret in line], name


def test_rasa_answers_only_requests_signed_with_its_secret(stack):
    secret = stack.settings.resolved_rasa_token
    webhook = f"{stack.settings.rasa_url}/webhooks/rest/webhook"
    tracker = f"{stack.settings.rasa_url}/conversations/nobody/tracker"
    message = {"sender": "nobody", "message": CHILD_WORDS}
    expired = jwt.encode({"user": {"username": "heard", "role": "admin"}, "exp": int(time.time()) - 60}, secret, "HS256")
    refused = [
        httpx.post(webhook, json=message, timeout=30),
        httpx.post(webhook, params={"token": secret}, json=message, timeout=30),
        httpx.post(webhook, headers=rasa_authorization("not-the-secret-but-as-long-as-a-real-one"), json=message, timeout=30),
        httpx.post(webhook, headers={"Authorization": f"Bearer {expired}"}, json=message, timeout=30),
        httpx.get(tracker, params={"token": secret}, timeout=30),
        httpx.get(tracker, headers=rasa_authorization("not-the-secret-but-as-long-as-a-real-one"), timeout=30),
    ]
    assert [r.status_code for r in refused] == [401] * len(refused)
    assert httpx.get(tracker, headers=stack.rasa_headers(), timeout=30).status_code == 200


def test_the_action_server_answers_only_rasa(stack):
    url = stack.settings.action_server_url
    call = {"next_action": "action_start_checkin", "sender_id": "nobody",
            "tracker": {"sender_id": "nobody", "latest_message": {"text": CHILD_WORDS}}}
    key = {"Authorization": stack.settings.action_server_authorization}
    assert httpx.post(f"{url}/webhook", json=call, timeout=30).status_code == 401
    assert httpx.post(f"{url}/webhook", json=call, headers={"Authorization": "Bearer wrong"}, timeout=30).status_code == 401
    assert httpx.get(f"{url}/actions", timeout=30).status_code == 401
    assert httpx.get(f"{url}/actions", headers=key, timeout=30).status_code == 200
    assert httpx.get(f"{url}/health", timeout=30).status_code == 200
    # No web page may call it from a browser on this machine.
    preflight = httpx.options(f"{url}/webhook", timeout=30, headers={
        "Origin": "https://example.com", "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in preflight.headers
    # A failed action (here: a conversation no check-in has) is reported as a failed turn, for the
    # web app to undo and send again, and never echoes what it was sent.
    failed = httpx.post(f"{url}/webhook", json=call, headers=key, timeout=30)
    assert failed.status_code == 200 and TURN_FAILED in failed.text
    assert CHILD_WORDS not in failed.text
