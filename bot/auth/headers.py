"""Security headers. Every response: HTTPS only from the first visit on (HSTS, which browsers
heed only over HTTPS), no camera, microphone or location for any page, and no framing unless the
response says otherwise (only the chat page does, for the sites in HEARD_EMBED_ORIGINS). Staff
pages also: a strict Content-Security-Policy (no inline script or style, nothing from other
sites), no caching of pages that hold children's words."""
from __future__ import annotations

from collections.abc import Iterable

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# No site may frame the page; also all of the policy of a response that sets none of its own.
NOT_FRAMED = "frame-ancestors 'none'"
CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "form-action 'self'",
    NOT_FRAMED,
    "base-uri 'none'",
))
EVERY_RESPONSE = {
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",  # a year
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()",
}
STAFF_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",  # alert ids in URLs stay here
    "Cross-Origin-Opener-Policy": "same-origin",
}
NO_STORE = "no-store"


def frame_ancestors(origins: Iterable[str]) -> str:
    """The CSP directive that lets exactly these origins (checked by framework.settings) frame a page."""
    allowed = " ".join(origins)
    return f"frame-ancestors {allowed}" if allowed else NOT_FRAMED


class SecurityHeaders:
    """Adds EVERY_RESPONSE to every response, and STAFF_HEADERS to those under `prefix`, where
    pages (not static files) also get no-store; a response with no Content-Security-Policy of its
    own gets NOT_FRAMED."""

    def __init__(self, app: ASGIApp, prefix: str = "/staff", static_prefix: str = "/staff/static/"):
        self.app = app
        self.prefix = prefix
        self.static_prefix = static_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        added = dict(EVERY_RESPONSE)
        if path == self.prefix or path.startswith(self.prefix + "/"):
            added |= STAFF_HEADERS
            if not path.startswith(self.static_prefix):
                added["Cache-Control"] = NO_STORE

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in added.items():
                    headers[name] = value
                headers.setdefault("Content-Security-Policy", NOT_FRAMED)
            await send(message)

        await self.app(scope, receive, send_with_headers)
