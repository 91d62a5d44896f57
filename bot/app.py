"""The Heard web app: chat API, widget, audio, staff pages. Routers live in bot/routers/."""
from __future__ import annotations

from fastapi import FastAPI

from bot.routers import chat, health, media, staff, widget


def create_app() -> FastAPI:
    app = FastAPI(
        title="Heard",
        summary="Pupil-voice chat for children and young people with SEND",
        version="0.1.0",
    )
    app.include_router(health.router)
    app.include_router(chat.router)
    app.include_router(media.router)
    app.include_router(widget.router)
    widget.mount_static(app)
    staff.install(app)  # sign-in sessions, security headers, staff pages, alert queue, outbox sender
    return app
