"""Talking to the Rasa server's REST channel, on this machine, with Rasa's auth token."""
from __future__ import annotations

import httpx

from framework.settings import Settings

# Rasa answers in well under a second; the first message after a start loads more.
RASA_TIMEOUT = httpx.Timeout(60.0, connect=3.0)


class RasaUnavailable(Exception):
    """Rasa or its action server could not answer; the message was not processed."""


class RasaClient:
    def __init__(self, settings: Settings, http: httpx.AsyncClient):
        self.webhook = f"{settings.rasa_url}/webhooks/rest/webhook"
        self.conversations = f"{settings.rasa_url}/conversations"
        self.action_health = f"{settings.action_server_url}/health"
        self.token = settings.resolved_rasa_token
        self.http = http

    async def send(self, sender_id: str, text: str) -> list[dict]:
        """Rasa's reply elements for one message from `sender_id` (made by us, never by a client)."""
        try:
            response = await self.http.post(
                self.webhook, params={"token": self.token}, json={"sender": sender_id, "message": text},
                timeout=RASA_TIMEOUT,
            )
        except httpx.HTTPError as exc:
            raise RasaUnavailable(f"Rasa not reachable: {type(exc).__name__}") from exc
        if response.status_code != 200:
            raise RasaUnavailable(f"Rasa answered HTTP {response.status_code}")
        elements = response.json()
        # Rasa logs a failed custom action and carries on with nothing to say: every turn of
        # ours runs actions, so silence means the action server is down, and the turn is lost.
        if not elements and not await self._actions_reachable():
            raise RasaUnavailable("the action server is not reachable")
        return elements

    async def has_conversation(self, sender_id: str) -> bool:
        """False when Rasa holds nothing from this sender (its tracker store is new or was wiped)."""
        try:
            response = await self.http.get(
                f"{self.conversations}/{sender_id}/tracker", params={"token": self.token, "include_events": "NONE"},
                timeout=RASA_TIMEOUT,
            )
        except httpx.HTTPError as exc:
            raise RasaUnavailable(f"Rasa not reachable: {type(exc).__name__}") from exc
        if response.status_code != 200:
            raise RasaUnavailable(f"Rasa answered HTTP {response.status_code}")
        return bool((response.json().get("latest_message") or {}).get("text"))

    async def _actions_reachable(self) -> bool:
        try:
            return (await self.http.get(self.action_health, timeout=3.0)).status_code == 200
        except httpx.HTTPError:
            return False
