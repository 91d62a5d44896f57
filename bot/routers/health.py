"""GET /healthz: is each part of Heard reachable? A contract outside checks rely on.

It also says whether every alert can reach a person (`safeguarding`): no school without an
active safeguarding lead, no alert email undelivered for long. That needs a person, not a
restart, so it does not change the overall `ok` or the status code. Counts only: the page
is public, so it names no school.

Anyone can ask, so the answer names no path, address or error: those go to the log. The
database is checked through the app's own engine, not a new one per call.

The same checks of the parts run in the web app's background every HEARD_HEALTH_EVERY_SECONDS
(`PartsWatch`, started by bot/app.py), so every staff page can say at once when a part is down."""
from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import sessionmaker
from starlette.concurrency import run_in_threadpool

from bot.background import repeating
from bot.outbox import ESCALATE_AFTER
from bot.processes import Process, action_servers, rasa_servers
from framework.db import repository as repo
from framework.db.engine import check_database
from framework.db.models import utcnow
from framework.settings import Settings, get_settings

log = logging.getLogger(__name__)
router = APIRouter(tags=["health"])

# Each part /healthz reports, as staff read it in the banner.
PARTS = {
    "database": "the database",
    "rasa": "the chat engine (Rasa)",
    "action_server": "the chat's action server",
}


# Made once: a client builds one from the system's certificates each time (about 20 ms of CPU),
# and the parts are checked every few seconds while children chat.
_TLS = httpx.create_ssl_context()


async def _check_http(url: str) -> dict:
    try:
        async with httpx.AsyncClient(timeout=2.0, verify=_TLS) as client:
            response = await client.get(url)
        ok = response.status_code == 200
        return {"ok": ok, "detail": "reachable" if ok else f"answered HTTP {response.status_code}"}
    except httpx.HTTPError as exc:
        return {"ok": False, "detail": f"not reachable ({type(exc).__name__})"}


async def _check_db(engine: Engine) -> dict:
    ok, detail = await run_in_threadpool(check_database, engine)
    if not ok:
        log.warning("health check: %s", detail)
    return {"ok": ok, "detail": "ok" if ok else "not working: see the web app's log"}


async def _check_servers(balancer_url: str, servers: list[Process]) -> dict:
    """One server, or several and the balancer in front of them: ok only if each is."""
    if len(servers) == 1:
        return await _check_http(servers[0].health_url)
    checks = await asyncio.gather(_check_http(balancer_url), *(_check_http(p.health_url) for p in servers))
    names = ["balancer", *(p.name for p in servers)]
    down = [f"{name} {check['detail']}" for name, check in zip(names, checks, strict=True) if not check["ok"]]
    return {"ok": not down, "detail": "; ".join(down) or f"{len(servers)} servers reachable"}


async def check_parts(settings: Settings, engine: Engine) -> dict:
    database, rasa, actions = await asyncio.gather(
        _check_db(engine),
        _check_servers(settings.rasa_url + "/", rasa_servers(settings)),
        _check_servers(settings.action_server_url + "/health", action_servers(settings)),
    )
    body = {"database": database, "rasa": rasa, "action_server": actions}
    body["ok"] = all(body[part]["ok"] for part in PARTS)
    return body


class PartsWatch:
    """The parts found down at the latest check, for the staff pages' banner."""

    def __init__(self) -> None:
        self.down: list[str] = []

    def note(self, body: dict) -> None:
        down = [label for part, label in PARTS.items() if not body[part]["ok"]]
        if down != self.down:
            log.warning("parts down: %s", ", ".join(down) or "none")
        self.down = down

    @asynccontextmanager
    async def running(self, settings: Settings, engine: Engine, every: float) -> AsyncIterator[None]:
        def check() -> None:  # in a worker thread (bot/background.py): its own event loop for the checks
            self.note(asyncio.run(check_parts(settings, engine)))

        async with repeating("the health check", check, every):
            yield


def _check_safeguarding(sessions: sessionmaker) -> dict:
    try:
        with sessions() as db:
            without_lead = len(repo.schools_without_safeguarding_lead(db))
            undelivered = len(repo.undelivered_alert_emails(db, utcnow() - ESCALATE_AFTER))
    except SQLAlchemyError:
        log.warning("health check: safeguarding could not be checked", exc_info=True)
        return {"ok": False, "detail": "could not be checked: the database is not reachable"}
    problems = [f"{count} {what}" for count, what in (
        (without_lead, "school(s) with no active safeguarding lead"),
        (undelivered, f"alert email(s) undelivered for over {int(ESCALATE_AFTER.total_seconds() // 60)} minutes"),
    ) if count]
    return {"ok": not problems, "detail": "; ".join(problems) or "every school has a safeguarding lead",
            "schools_without_lead": without_lead, "undelivered_alert_emails": undelivered}


@router.get("/healthz", summary="Database, Rasa and action server: each ok or not")
async def healthz(request: Request) -> JSONResponse:
    body, safeguarding = await asyncio.gather(
        check_parts(get_settings(), request.app.state.engine),
        run_in_threadpool(_check_safeguarding, request.app.state.sessions),
    )
    request.app.state.parts_watch.note(body)
    body["safeguarding"] = safeguarding
    return JSONResponse(body, status_code=200 if body["ok"] else 503)
