"""A form sent after the sign-in ran out is not lost: the sign-in page shows what was typed
and sends it on, so the page it came from can put it back once signed in again."""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from framework.db.models import StaffUser

# Said on the page a kept form comes back on, once signed in again.
SIGNED_BACK_IN = "You are signed in again. Nothing was saved yet: check what you typed, then press the button again."
DRAFT_PREFIX = "draft."  # form fields carrying what was typed before signing in again


def keeps(*fields: str):
    """For a form's route, `dependencies=[keeps("name", ...)]`: the fields worth keeping if the
    sign-in has run out. (Route dependencies run first, so this is noted before any refusal.)"""
    async def note_draft(request: Request) -> None:
        form = await request.form()  # already read by FastAPI: this is the same parsed form
        request.state.draft = {field: value for field in fields if isinstance(value := form.get(field, ""), str)}
    return Depends(note_draft)


async def text_fields(request: Request) -> dict[str, str]:
    """Every text field of the form sent: a page's own, and the `draft.` ones a sign-in carries on."""
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


TextFields = Annotated[dict[str, str], Depends(text_fields)]


def kept_draft(request: Request) -> dict[str, str] | None:
    return getattr(request.state, "draft", None)


# After signing in again, a form that was sent with an expired sign-in is shown again with
# what was typed put back: each page that has a form registers how (path pattern, restorer).
# A restorer may raise a refusal (bot/staff/guards.py) like any page.
DraftRestorer = Callable[[Request, Session, StaffUser, "re.Match[str]", dict[str, str], str], Response]
DRAFT_RESTORERS: list[tuple["re.Pattern[str]", DraftRestorer]] = []


def restores_drafts(pattern: str) -> Callable[[DraftRestorer], DraftRestorer]:
    """Decorator: `restorer(request, db, staff, match, draft, notice)` for paths matching `pattern`."""
    def register(restorer: DraftRestorer) -> DraftRestorer:
        DRAFT_RESTORERS.append((re.compile(pattern), restorer))
        return restorer
    return register


def restore_draft(request: Request, db: Session, staff: StaffUser, next_path: str, draft: dict[str, str],
                  notice: str) -> Response | None:
    for pattern, restorer in DRAFT_RESTORERS:
        match = pattern.fullmatch(urlsplit(next_path).path)
        if match is not None:
            return restorer(request, db, staff, match, draft, notice)
    return None
