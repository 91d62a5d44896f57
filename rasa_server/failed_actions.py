"""A custom action Rasa could not run makes its turn fail visibly.

Rasa 3.6 logs a custom action it could not run (the action server down, restarting or too slow)
and carries on without that action's events: the turn ends with whatever Rasa predicts next,
often its fallback ("Sorry, I did not get that") or nothing at all, and the child's answer is
never stored. `install()` has Rasa add a `turn_failed` element to its reply whenever that
happens: the element an action sends itself when it could not store its part (actions/common.py),
so the web app undoes the turn and keeps the message to send again.

Written against Rasa 3.6.21's RemoteAction.run; on any other Rasa version it changes nothing.
"""
from __future__ import annotations

import functools

from rasa.core.actions.action import ActionExecutionRejection, RemoteAction

from rasa_server import TURN_FAILED
from rasa_server.patch import patch_rasa


def _run_or_say_it_failed(run):
    @functools.wraps(run)
    async def run_or_say_it_failed(self, output_channel, nlg, tracker, domain):
        try:
            return await run(self, output_channel, nlg, tracker, domain)
        except ActionExecutionRejection:
            raise  # Rasa's own way for an action to decline: not a failure
        except Exception:
            await output_channel.send_custom_json(tracker.sender_id, {"kind": TURN_FAILED})
            raise
    return run_or_say_it_failed


def install() -> None:
    patch_rasa(RemoteAction, "run", _run_or_say_it_failed, "a custom action it cannot run is not reported.")
