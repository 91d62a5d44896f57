"""GET /healthz: is each part of Heard reachable? A contract outside checks rely on."""
from __future__ import annotations

import asyncio

import httpx
from fastapi import APIRouter
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from framework.db.engine import check_database
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


@router.get("/healthz", summary="Database, Rasa and action server: each ok or not")
async def healthz() -> JSONResponse:
    settings = get_settings()
    database, rasa, actions = await asyncio.gather(
        _check_db(),
        _check_http(settings.rasa_url + "/"),
        _check_http(settings.action_server_url + "/health"),
    )
    body = {"database": database, "rasa": rasa, "action_server": actions}
    body["ok"] = all(part["ok"] for part in (database, rasa, actions))
    return JSONResponse(body, status_code=200 if body["ok"] else 503)
