"""`python -m rasa_server run ARGS`: `rasa run ARGS` with Heard's secret for Rasa's HTTP API taken
from the environment. A process's environment is private to its user; its command line is not."""
from __future__ import annotations

import os
import sys

# TensorFlow 2.12 imports jax if it can (for its TFLite converter, which Rasa never runs), and
# requires it installed: ~65 MB of each Rasa server. A None here makes that import fail, as if absent.
sys.modules.setdefault("jax", None)

from rasa.__main__ import main  # noqa: E402

from rasa_server import (  # noqa: E402
    SECRET_VARIABLE,
    action_validation,
    failed_actions,
    kept_trackers,
    rasa_argv,
    sqlite_pool,
    tracker_replay,
)

if __name__ == "__main__":
    secret = os.environ.get(SECRET_VARIABLE, "")
    if not secret:
        sys.exit(f"{SECRET_VARIABLE} is empty: Rasa would answer anyone on this machine.")
    # Set in this process only: /proc/PID/cmdline keeps the arguments it was started with.
    sys.argv = rasa_argv(sys.argv[1:], secret)
    failed_actions.install()
    action_validation.install()
    tracker_replay.install()
    kept_trackers.install()
    sqlite_pool.install()
    main()
