"""A form sent after the sign-in ran out, or with a stale token, is not lost: each page with a
form registers a restorer that shows the page again with what was typed put back. After a
sign-in that ran out, the sign-in page shows what was typed and sends it on, and the restorer
runs once signed in again; a stale token runs it straight away (bot/staff/guards.py:fresh_form)."""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from bot.staff.messages import message
from framework.db.models import StaffUser

# Said on the page a kept form comes back on, once signed in again.
SIGNED_BACK_IN = message("forms.signed_back_in")
DRAFT_PREFIX = "draft."  # form fields carrying what was typed before signing in again


async def text_fields(request: Request) -> dict[str, str]:
    """Every text field of the form sent: a page's own, and the `draft.` ones a sign-in carries on."""
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


TextFields = Annotated[dict[str, str], Depends(text_fields)]


def kept_draft(request: Request) -> dict[str, str] | None:
    return getattr(request.state, "draft", None)


# Each page that has a form registers how to show it again (path pattern, restorer). A restorer
# may raise a refusal (bot/staff/guards.py) like any page.
DraftRestorer = Callable[..., Response]
DRAFT_RESTORERS: list[tuple["re.Pattern[str]", DraftRestorer]] = []


def restores_drafts(pattern: str) -> Callable[[DraftRestorer], DraftRestorer]:
    """Decorator: `restorer(request, db, staff, match, draft, **said)` for paths matching `pattern`,
    where `said` is what the page says above the form: `notice=...`, or `problem=..., status=...`."""
    def register(restorer: DraftRestorer) -> DraftRestorer:
        DRAFT_RESTORERS.append((re.compile(pattern), restorer))
        return restorer
    return register


def restore_draft(request: Request, db: Session, staff: StaffUser, path: str, draft: dict[str, str],
                  **said: str | int) -> Response | None:
    """The page at `path` with `draft` put back, by its restorer; None if no page restores it."""
    for pattern, restorer in DRAFT_RESTORERS:
        match = pattern.fullmatch(urlsplit(path).path)
        if match is not None:
            return restorer(request, db, staff, match, draft, **said)
    return None
