"""GET /healthz: is each part of Heard reachable? A contract outside checks rely on.

It also says whether every alert can reach a person (`safeguarding`): no school without an
active safeguarding lead, no alert email undelivered for long. That needs a person, not a
restart, so it does not change the overall `ok` or the status code. Counts only: the page
is public, so it names no school."""
from __future__ import annotations

import asyncio

import httpx
from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from bot.outbox import ESCALATE_AFTER
from framework.db import repository as repo
from framework.db.engine import DatabaseUnavailable, check_database, make_engine, make_session_factory
from framework.db.models import utcnow
from framework.settings import get_settings

router = APIRouter(tags=["health"])


async def _check_http(url: str) -> dict:
    try:
        async with httpx.AsyncClient(timeout=2.0) as client:
            response = await client.get(url)
        ok = response.status_code == 200
        return {"ok": ok, "detail": "reachable" if ok else f"answered HTTP {response.status_code}"}
    except httpx.HTTPError as exc:
        return {"ok": False, "detail": f"not reachable ({type(exc).__name__})"}


async def _check_db() -> dict:
    ok, detail = await run_in_threadpool(check_database, get_settings().resolved_database_url)
    return {"ok": ok, "detail": detail}


def _check_safeguarding(url: str) -> dict:
    try:
        engine = make_engine(url)
    except DatabaseUnavailable:
        return {"ok": False, "detail": "could not be checked: the database is not reachable"}
    try:
        with make_session_factory(engine)() as db:
            without_lead = len(repo.schools_without_safeguarding_lead(db))
            undelivered = len(repo.undelivered_alert_emails(db, utcnow() - ESCALATE_AFTER))
    except SQLAlchemyError:
        return {"ok": False, "detail": "could not be checked: the database is not reachable"}
    finally:
        engine.dispose()
    problems = [f"{count} {what}" for count, what in (
        (without_lead, "school(s) with no active safeguarding lead"),
        (undelivered, f"alert email(s) undelivered for over {int(ESCALATE_AFTER.total_seconds() // 60)} minutes"),
    ) if count]
    return {"ok": not problems, "detail": "; ".join(problems) or "every school has a safeguarding lead",
            "schools_without_lead": without_lead, "undelivered_alert_emails": undelivered}


@router.get("/healthz", summary="Database, Rasa and action server: each ok or not")
async def healthz() -> JSONResponse:
    settings = get_settings()
    database, rasa, actions, safeguarding = await asyncio.gather(
        _check_db(),
        _check_http(settings.rasa_url + "/"),
        _check_http(settings.action_server_url + "/health"),
        run_in_threadpool(_check_safeguarding, settings.resolved_database_url),
    )
    body = {"database": database, "rasa": rasa, "action_server": actions}
    body["ok"] = all(part["ok"] for part in (database, rasa, actions))
    body["safeguarding"] = safeguarding
    return JSONResponse(body, status_code=200 if body["ok"] else 503)
