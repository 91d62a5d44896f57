"""Security headers for staff pages: a strict Content-Security-Policy (no inline script or
style, nothing from other sites), no framing, no caching of pages that hold children's words."""
from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
))
STAFF_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",  # alert ids in URLs stay here
    "Cross-Origin-Opener-Policy": "same-origin",
}
NO_STORE = "no-store"


class StaffSecurityHeaders:
    """Adds STAFF_HEADERS to every response under `prefix`; pages (not static files) get no-store."""

    def __init__(self, app: ASGIApp, prefix: str = "/staff", static_prefix: str = "/staff/static/"):
        self.app = app
        self.prefix = prefix
        self.static_prefix = static_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not (path == self.prefix or path.startswith(self.prefix + "/")):
            await self.app(scope, receive, send)
            return
        is_page = not path.startswith(self.static_prefix)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in STAFF_HEADERS.items():
                    headers[name] = value
                if is_page:
                    headers["Cache-Control"] = NO_STORE
            await send(message)

        await self.app(scope, receive, send_with_headers)
