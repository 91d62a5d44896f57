"""The chat API the widget talks to. Rasa's own API stays on 127.0.0.1: this is the only way in.

Bodies are read here rather than by FastAPI so that every failure, a 100 kB body or
bytes that are not UTF-8 included, gets the same kind {"error": ...} answer.
"""
from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ValidationError

from bot.chat import texts
from bot.chat.gateway import ChatGateway
from bot.chat.schemas import MAX_MESSAGE_CHARS, ErrorOut, MessageIn, MessagesOut, SessionStartIn, SessionStartOut
from bot.chat.texts import ChatError
from bot.tries import client_address

MAX_BODY_BYTES = 100_000

log = logging.getLogger(__name__)


router = APIRouter(prefix="/api", tags=["chat"])
bearer = HTTPBearer(auto_error=False, description="The token from POST /api/sessions")


async def read_json(request: Request, model: type[BaseModel], invalid: str) -> Any:
    """The request body as `model`: 413 past MAX_BODY_BYTES (read no further), 422 for
    anything that is not UTF-8 JSON of that shape (`invalid` says so)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise ChatError(413, texts.TOO_BIG)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise ChatError(413, texts.TOO_BIG)
    try:
        return model.model_validate(json.loads(body.decode("utf-8")))
    # JSONDecodeError is a ValueError; RecursionError: brackets nested too deep for the parser.
    except (UnicodeDecodeError, ValueError, ValidationError, RecursionError):
        raise ChatError(422, invalid) from None


def _error(status: int, error: str, stored: bool | None = None) -> JSONResponse:
    return JSONResponse(ErrorOut(error=error, stored=stored).model_dump(exclude_none=True), status_code=status)


def _json_body(model) -> dict:
    """Describe a body that the endpoint reads itself (see the module note)."""
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": model.model_json_schema()}}}}


def _errors(*codes: int) -> dict:
    return {code: {"model": ErrorOut} for code in codes}


@router.post(
    "/sessions", status_code=201, response_model=SessionStartOut, summary="Start or resume a check-in with an invite code",
    responses=_errors(404, 413, 422, 429, 500, 503), openapi_extra=_json_body(SessionStartIn),
)
async def start_session(request: Request):
    gateway: ChatGateway = request.app.state.chat
    ip = client_address(request)
    try:
        if not gateway.limits.per_ip.allow(ip):
            raise ChatError(429, texts.TOO_FAST)
        body = await read_json(request, SessionStartIn, texts.CODE_MISSING)
        if not body.invite_code.strip():
            raise ChatError(422, texts.CODE_MISSING)
        started = await gateway.start(body.invite_code, ip)
    except ChatError as exc:
        return _error(exc.status, exc.error, exc.stored)
    except Exception:  # a kind answer, never a plain-text 500
        log.exception("starting a check-in failed")
        return _error(500, texts.NOT_SENT)
    return JSONResponse(started.model_dump(mode="json"), status_code=201)


@router.post(
    "/sessions/current/messages", response_model=MessagesOut, summary="Send one message; get the bot's replies",
    responses=_errors(401, 413, 422, 429, 500, 503), openapi_extra=_json_body(MessageIn),
)
async def send_message(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)):
    gateway: ChatGateway = request.app.state.chat
    try:
        if not gateway.limits.per_ip.allow(client_address(request)):
            raise ChatError(429, texts.TOO_FAST)
        session_id = await gateway.session_for_token(credentials.credentials if credentials else "")
        if session_id is None:
            raise ChatError(401, texts.SESSION_ENDED)
        if not gateway.limits.per_session.allow(session_id):
            raise ChatError(429, texts.TOO_FAST)
        body = await read_json(request, MessageIn, texts.EMPTY_OR_NOT_TEXT)
        if len(body.text) > MAX_MESSAGE_CHARS:
            raise ChatError(422, texts.TOO_LONG)
        return await gateway.send(session_id, body.text, body.client_message_id)
    except ChatError as exc:
        return _error(exc.status, exc.error, exc.stored)
    except Exception:  # a kind answer, never a plain-text 500
        log.exception("a chat message failed")
        return _error(500, texts.NOT_SENT)
