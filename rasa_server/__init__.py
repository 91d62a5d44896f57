"""Heard's side of the Rasa server: runs in Rasa's environment (.venv-rasa) and imports nothing of ours.

Rasa takes its secrets on the command line, which every user of the machine can read (ps), and
its REST channel answers anyone. `python -m rasa_server run ...` starts Rasa with the secret
from the environment, and `channels.SignedRestInput` makes the REST channel ask for it too.
`failed_actions` makes a turn whose custom action Rasa could not run say so, and
`action_validation` makes Rasa's check of each action response cheaper, `tracker_replay` keeps
a turn late in a long conversation as cheap as an early one, and `sqlite_pool` keeps the
conversation store's SQLite connections open: each changes methods of Rasa's (`patch.py`). This module imports no Rasa: the web app's tests read TURN_FAILED here.
"""

SECRET_VARIABLE = "HEARD_RASA_TOKEN"  # signs (HS256) the JWTs the web app sends in its Authorization header
# The kind of the reply element that says a turn failed (framework.conversation.TURN_FAILED: this
# package imports nothing of ours; tests/unit/test_rasa_silence.py checks they agree).
TURN_FAILED = "turn_failed"


def rasa_argv(args: list[str], secret: str) -> list[str]:
    """`rasa ARGS` with the secret that signs the web app's JWTs. "=" keeps a secret that starts
    with "-" (one random secret in 64) from being read as an option."""
    return ["rasa", *args, f"--jwt-secret={secret}", "--jwt-method", "HS256"]
