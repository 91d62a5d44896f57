"""Heard's side of the Rasa server: runs in Rasa's environment (.venv-rasa) and imports nothing of ours.

Rasa takes its secrets on the command line, which every user of the machine can read (ps), and
its REST channel answers anyone. `python -m rasa_server run ...` starts Rasa with the secret
from the environment, and `channels.SignedRestInput` makes the REST channel ask for it too.
`failed_actions` makes a turn whose custom action Rasa could not run say so, and
`action_validation` makes Rasa's check of each action response cheaper: both change one method
of Rasa's, with `patch_rasa`.
"""
from __future__ import annotations

import logging
from collections.abc import Callable

import rasa

log = logging.getLogger(__name__)

RASA_VERSION = "3.6.21"  # the version whose methods our patches replace

SECRET_VARIABLE = "HEARD_RASA_TOKEN"  # signs (HS256) the JWTs the web app sends in its Authorization header
# The kind of the reply element that says a turn failed (framework.conversation.TURN_FAILED: this
# package imports nothing of ours; tests/unit/test_rasa_silence.py checks they agree).
TURN_FAILED = "turn_failed"


def rasa_argv(args: list[str], secret: str) -> list[str]:
    """`rasa ARGS` with the secret that signs the web app's JWTs. "=" keeps a secret that starts
    with "-" (one random secret in 64) from being read as an option."""
    return ["rasa", *args, f"--jwt-secret={secret}", "--jwt-method", "HS256"]


def patch_rasa(owner: type, name: str, replacement_of: Callable[[Callable], Callable], if_not: str) -> None:
    """Replace `owner.name` with `replacement_of(the method Rasa has)`, on the Rasa version the
    replacement was written against; on any other, change nothing and log what that leaves out
    (`if_not`)."""
    if rasa.__version__ != RASA_VERSION:
        log.warning("Rasa %s, not %s: %s", rasa.__version__, RASA_VERSION, if_not)
        return
    setattr(owner, name, replacement_of(getattr(owner, name)))
