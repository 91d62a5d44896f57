"""What comes in from the browser, made safe: size, encoding, control characters, and
which leading-slash messages may reach Rasa as commands.

Rasa treats a message starting with "/" as an intent (with entities) and skips its
language model. Our buttons send such payloads; anything else typed with a leading
slash has the slash removed, so a child cannot set slots or trigger intents by typing.
"""
from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from fastapi import Request
from pydantic import BaseModel, ValidationError

from bot.chat import texts
from bot.chat.texts import ChatError
from framework.checkin import MAX_COMMENT_CHARS
from framework.choices import choices, choose_payload
from framework.conversation import CHOICE_SLOTS, CHOOSE, PAYLOADS, STATEMENT_ENTITY
from framework.schema import Framework
from framework.scale import answer_scale

MAX_BODY_BYTES = 100_000
# Rasa is sent at most this much of one message (the transcript keeps it all).
MAX_FORWARDED_CHARS = MAX_COMMENT_CHARS
CHOOSE_PAYLOAD = f"/{CHOOSE}"  # followed by {"slot":"value"}
_KEPT_CONTROLS = {"\n", "\t"}
_LEADING_SLASHES = re.compile(r"^[\s/]+")


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
    except (UnicodeDecodeError, ValueError, ValidationError):  # JSONDecodeError is a ValueError
        raise ChatError(422, invalid) from None


def clean_text(text: str) -> str:
    """The text with control characters removed (newline and tab stay), and lone surrogates
    (which JSON can carry but no database can store)."""
    text = text.replace("\r\n", "\n")
    return "".join(
        ch for ch in text
        if ch in _KEPT_CONTROLS or unicodedata.category(ch) not in ("Cc", "Cs")
    )


@lru_cache(maxsize=1)
def _button_payloads() -> frozenset[str]:
    fixed = {b.payload for b in choices().buttons.values()}
    return frozenset({a.payload for a in answer_scale().answers} | fixed | PAYLOADS)


def known_payload(text: str, framework: Framework) -> str | None:
    """The payload one of our buttons sends, if `text` is one (in its canonical form), else None.

    /choose{...} must name one known slot and one of its values: a choice from
    framework/choices.yml, or a statement of this check-in's framework (to change an answer).
    """
    text = text.strip()
    if text in _button_payloads():
        return text
    if not text.startswith(CHOOSE_PAYLOAD + "{"):
        return None
    try:
        chosen = json.loads(text[len(CHOOSE_PAYLOAD):])
    except ValueError:
        return None
    if not isinstance(chosen, dict) or len(chosen) != 1:
        return None
    [(slot, value)] = chosen.items()
    if not isinstance(value, str):
        return None
    if slot in CHOICE_SLOTS and value in {o.value for o in choices().options(slot)}:
        return choose_payload(slot, value)
    if slot == STATEMENT_ENTITY and any(st.id == value for area in framework.areas for st in area.statements):
        return choose_payload(slot, value)
    return None


@dataclass(frozen=True)
class ForRasa:
    text: str  # empty: nothing to send
    payload: bool  # one of our buttons' payloads
    cut: bool  # the words were longer than MAX_FORWARDED_CHARS


def for_rasa(text: str, framework: Framework) -> ForRasa:
    """What Rasa is sent for a stored message: a known payload as is, else the words with
    any leading slashes removed, cut to MAX_FORWARDED_CHARS."""
    payload = known_payload(text, framework)
    if payload is not None:
        return ForRasa(payload, payload=True, cut=False)
    words = _LEADING_SLASHES.sub("", text).rstrip()
    return ForRasa(words[:MAX_FORWARDED_CHARS], payload=False, cut=len(words) > MAX_FORWARDED_CHARS)
