"""The action server: rasa-sdk's app, answering only Rasa.

rasa-sdk 3.6.2 has no authentication and allows every browser origin (CORS "*"), so any
process on this machine, or a web page open in a browser on it, could run our actions and
write to the database. Here every request but /health must carry Rasa's key (endpoints.yml
sends it in a header), no origin is allowed, and an error never echoes the request (it can
hold a child's words). Run: python -m actions.server --port 5055
"""
from __future__ import annotations

import argparse
import asyncio
import hmac
import logging

from rasa_sdk import endpoint, utils
from rasa_sdk.executor import ActionExecutor
from sanic import Sanic, response
from sanic.request import Request

from framework import we_did
from framework.answers import answer_scale
from framework.choices import choices
from framework.comment_cards import comment_cards
from framework.followups import adult_follow_ups
from framework.leaving import leaving_words
from framework.loader import framework_files, load_framework
from framework.mapping import mapper_for
from framework.safeguarding import safeguarding_categories
from framework.settings import get_settings
from framework.worry import worry_signal

log = logging.getLogger(__name__)

HOST = "127.0.0.1"  # never beyond this machine
OPEN_PATHS = frozenset({"/health"})  # for health checks, which hold no key


class ActionsInThreads(ActionExecutor):
    """rasa-sdk's executor, running each action call in a worker thread, on an event loop of its own.
    Our actions use the database synchronously: on the server's one event loop, a call waiting for
    SQLite's write lock (while the web app wrote) held up every call behind it, and a class's turns
    queued there (py-spy, 50 pupils: 20-40 % of the server's time). The actions keep nothing of a
    call on themselves, so one instance of each serves calls side by side."""

    async def run(self, action_call):
        return await asyncio.to_thread(asyncio.run, super().run(action_call))


def action_app(authorization: str) -> Sanic:
    endpoint.ActionExecutor = ActionsInThreads  # the executor rasa-sdk's create_app makes
    app = endpoint.create_app("actions", cors_origins=None)
    expected = authorization.encode()

    @app.middleware("request")
    async def only_rasa(request: Request):
        if request.path in OPEN_PATHS:
            return None
        if not hmac.compare_digest(request.headers.get("authorization", "").encode(), expected):
            return response.json({"error": "Not authorised."}, status=401)
        return None

    @app.exception(Exception)
    async def failed(request: Request, exception: Exception):
        log.error("action call failed: %s", type(exception).__name__, exc_info=exception)
        return response.json({"error": "The action failed."}, status=500)

    return app


def load_what_turns_use() -> None:
    """Load now what the actions would load in a child's turn: the frameworks, a comment mapper
    for each perspective (about 2 s each: examples, vectors, word lists), the worry signal and
    the words of the check-in. A load in a turn (pure Python, holding the interpreter) held up
    every turn in flight: the slowest 1-2 % of a class's turns in `make bench`."""
    for framework_id in framework_files():
        for perspective in load_framework(framework_id).perspectives:
            mapper_for(framework_id, perspective).map("warming up")
    worry_signal().hear("warming up")
    for loaded_once in (answer_scale, choices, comment_cards, adult_follow_ups, leaving_words, we_did.words,
                        safeguarding_categories):
        loaded_once()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Heard's action server")
    parser.add_argument("--port", type=int, default=5055)
    args = parser.parse_args(argv)
    utils.configure_colored_logging("INFO")
    utils.update_sanic_log_level()
    app = action_app(get_settings().action_server_authorization)
    load_what_turns_use()  # before /health answers, so no child's turn waits for it
    app.run(HOST, args.port, workers=1, access_log=False)


if __name__ == "__main__":
    main()
