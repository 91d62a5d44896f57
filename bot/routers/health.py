"""GET /healthz: is each part of Heard reachable? A contract outside checks rely on.

It also says whether every alert can reach a person (`safeguarding`): no school without an
active safeguarding lead, no alert email undelivered for long. That needs a person, not a
restart, so it does not change the overall `ok` or the status code. Counts only: the page
is public, so it names no school.

Anyone can ask, so the answer names no path, address or error: those go to the log. The
database is checked through the app's own engine, not a new one per call."""
from __future__ import annotations

import asyncio
import logging

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import sessionmaker
from starlette.concurrency import run_in_threadpool

from bot.outbox import ESCALATE_AFTER
from framework.db import repository as repo
from framework.db.engine import check_database
from framework.db.models import utcnow
from framework.settings import get_settings

log = logging.getLogger(__name__)
router = APIRouter(tags=["health"])


async def _check_http(url: str) -> dict:
    try:
        async with httpx.AsyncClient(timeout=2.0) as client:
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
    settings = get_settings()
    database, rasa, actions, safeguarding = await asyncio.gather(
        _check_db(request.app.state.engine),
        _check_http(settings.rasa_url + "/"),
        _check_http(settings.action_server_url + "/health"),
        run_in_threadpool(_check_safeguarding, request.app.state.sessions),
    )
    body = {"database": database, "rasa": rasa, "action_server": actions}
    body["ok"] = all(part["ok"] for part in (database, rasa, actions))
    body["safeguarding"] = safeguarding
    return JSONResponse(body, status_code=200 if body["ok"] else 503)
