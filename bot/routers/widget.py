"""The young person's chat widget: `/` at home, `/tablet` on a shared school tablet, and the
snippet that shows `/` on another site (`/widget/embed.js`).

The pages are a server-rendered shell; bot/static/widget/ makes them talk to the chat API.
All script lives in files, so the pages carry a strict Content-Security-Policy. Only `/` may be
framed, and only by the sites in HEARD_EMBED_ORIGINS; the tablet page never is.
"""
from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.types import Scope

from bot.auth.headers import NOT_FRAMED, frame_ancestors
from bot.chat.schemas import MAX_MESSAGE_CHARS
from framework.db.codes import ALPHABET, CODE_LENGTH
from framework.settings import get_settings

BOT_DIR = Path(__file__).resolve().parent.parent
STATIC_DIR = BOT_DIR / "static" / "widget"
EMBED_SCRIPT = BOT_DIR / "static" / "embed" / "embed.js"
templates = Jinja2Templates(directory=BOT_DIR / "templates")

PAGE_POLICY = (
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "media-src 'self'",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
)
PAGE_HEADERS = {
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    # A shared tablet's back button or cache must never show the last child's page.
    "Cache-Control": "no-store",
}
EMBED_SCRIPT_HEADERS = {
    "Cache-Control": "no-cache",  # a school's page picks up a new launcher at once
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Resource-Policy": "cross-origin",  # it is loaded by other sites' pages
}

# School tablet: back to the code page after this long untouched, once the warning has had its time;
# sooner once the check-in is over. Query parameters idle, end and warn change them (tests do).
TABLET_IDLE_SECONDS = 180
TABLET_END_SECONDS = 30
# WCAG 2.2.1 asks for at least 20 seconds to answer "Are you still there?".
TABLET_WARNING_SECONDS = 30
MAX_SECONDS = 3600

router = APIRouter(include_in_schema=False)


class WidgetFiles(StaticFiles):
    """The widget's files, checked with the server on every load (cheap 304s), so a
    tablet never runs yesterday's script against today's API."""

    async def get_response(self, path: str, scope: Scope):
        response = await super().get_response(path, scope)
        response.headers["Cache-Control"] = "no-cache"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


def _seconds(request: Request, name: str, default: int) -> int:
    """A timing from the query string (tests and schools may shorten it), kept within bounds."""
    raw = request.query_params.get(name, "")
    return min(max(int(raw), 1), MAX_SECONDS) if raw.isascii() and raw.isdigit() else default


def page_headers(framing: str) -> dict[str, str]:
    """The widget page's headers, with who may frame it (a `frame-ancestors` directive)."""
    return {"Content-Security-Policy": "; ".join((*PAGE_POLICY, framing)), **PAGE_HEADERS}


def _page(request: Request, tablet: bool) -> HTMLResponse:
    context = {
        "tablet": tablet,
        "alphabet": ALPHABET,
        "code_length": CODE_LENGTH,
        "message_length": MAX_MESSAGE_CHARS,
        "idle_seconds": _seconds(request, "idle", TABLET_IDLE_SECONDS),
        "end_seconds": _seconds(request, "end", TABLET_END_SECONDS),
        "warning_seconds": _seconds(request, "warn", TABLET_WARNING_SECONDS),
    }
    # A shared tablet's page is never shown inside another site's.
    framing = NOT_FRAMED if tablet else frame_ancestors(get_settings().resolved_embed_origins)
    return templates.TemplateResponse(request, "widget/chat.html", context, headers=page_headers(framing))


@router.api_route("/", methods=["GET", "HEAD"], response_class=HTMLResponse)
async def home(request: Request) -> HTMLResponse:
    return _page(request, tablet=False)


@router.api_route("/tablet", methods=["GET", "HEAD"], response_class=HTMLResponse)
async def tablet(request: Request) -> HTMLResponse:
    return _page(request, tablet=True)


@router.api_route("/widget/embed.js", methods=["GET", "HEAD"], response_class=FileResponse)
async def embed_script() -> FileResponse:
    """The snippet's script (README: "The chat on your own site"): a launcher button on the host
    page that opens `/` in a frame."""
    return FileResponse(EMBED_SCRIPT, media_type="text/javascript", headers=EMBED_SCRIPT_HEADERS)
