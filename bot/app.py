"""The Heard web app: chat API, widget, audio, staff pages. Everything is assembled here:
one lifespan, one database engine, every router and middleware, the outbox sender, and the
watch on each part's health behind the banner staff see when one is down.
Routers live in bot/routers/, one per resource."""
from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import timedelta

import httpx
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from bot.auth.headers import SecurityHeaders
from bot.auth.sessions import add_session_middleware
from bot.auth.signin import sign_in_tries
from bot.background import repeating
from bot.chat.gateway import ChatGateway, RasaClient, speech_cache
from bot.chat.limits import ChatLimits, code_tries
from bot.chat.locks import CheckinLocks
from bot.erasure import RETENTION_EVERY, run_retention
from bot.exports.profile_pdf import read_fonts
from bot.outbox import running_outbox
from bot.routers import (
    admin, alerts, chat, council, health, media, pupils, school_actions, staff, summaries, two_factor, widget,
)
from bot.routers.health import PartsWatch
from bot.safeguarding.screen import default_screener
from bot.staff.guards import Refusal, answer_refusal, answer_unreadable_form
from framework.db.engine import make_engine, make_session_factory
from framework.settings import get_settings


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings = get_settings()
    engine = make_engine(settings.resolved_database_url)
    app.state.engine = engine  # /healthz checks the database through it
    app.state.sessions = make_session_factory(engine)  # the one way to the database, for chat and staff
    app.state.sign_in_tries = sign_in_tries(app.state.sessions, settings.resolved_secret_key)
    # Load the screen's language data now, not while the first child waits.
    await run_in_threadpool(default_screener)
    await run_in_threadpool(read_fonts)  # the profile PDF's, likewise not while the first SENCO waits
    speech = await run_in_threadpool(speech_cache, settings.var_dir / "audio")
    async with AsyncExitStack() as running:
        http = await running.enter_async_context(httpx.AsyncClient())
        # Several web workers share each check-in's lock through Redis; one keeps it in memory.
        locks = CheckinLocks(settings.redis_url if settings.resolved_web_workers > 1 else "")
        running.push_async_callback(locks.close)
        app.state.chat = ChatGateway(app.state.sessions, RasaClient(settings, http), speech, ChatLimits(),
                                     code_tries(app.state.sessions, settings.resolved_secret_key),
                                     idle_after=timedelta(minutes=settings.chat_idle_minutes), locks=locks)
        # The alert emails: sent from the web app, so nothing more has to be running.
        if settings.outbox_every_seconds > 0:
            await running.enter_async_context(
                running_outbox(app.state.sessions, settings, every=settings.outbox_every_seconds))
        # Old check-ins erased (HEARD_RETENTION_DAYS), once an hour.
        if settings.retention_days > 0:
            await running.enter_async_context(repeating(
                "the retention job", lambda: run_retention(app.state.sessions, settings), RETENTION_EVERY))
        # Each part's health, for the banner every staff page shows when one is down.
        if settings.health_every_seconds > 0:
            await running.enter_async_context(app.state.parts_watch.running(settings, engine, settings.health_every_seconds))
        # What is loaded by now stays for the life of the process (the screen's language data,
        # the frameworks, the routes): the garbage collector need not walk it again on every
        # full collection, which a big staff page (the council view) otherwise sets off.
        gc.freeze()
        yield
    engine.dispose()


def create_app() -> FastAPI:
    settings = get_settings()
    app = FastAPI(
        title="Heard",
        summary="Pupil-voice chat for children and young people with SEND",
        version="0.1.0",
        lifespan=lifespan,
        # The documentation pages load Swagger UI and ReDoc from a CDN: only while developing.
        # /openapi.json, the chat API's contract, is always served.
        docs_url="/docs" if settings.debug else None,
        redoc_url="/redoc" if settings.debug else None,
    )
    app.state.parts_watch = PartsWatch()
    app.add_exception_handler(Refusal, answer_refusal)  # sign-in needed, not for your role, not found
    app.add_exception_handler(RequestValidationError, answer_unreadable_form)
    app.add_middleware(SecurityHeaders)
    add_session_middleware(app, settings)  # the staff sign-in cookie, scoped to /staff
    app.include_router(health.router)
    app.include_router(chat.router)
    app.include_router(media.router)
    app.include_router(widget.router)
    app.mount("/static/widget", widget.WidgetFiles(directory=widget.STATIC_DIR), name="widget-static")
    app.mount("/staff/static", StaticFiles(directory=staff.STATIC_DIR), name="staff-static")
    for pages in (staff, two_factor, alerts, pupils, summaries, school_actions, council, admin):
        app.include_router(pages.router)
    return app
