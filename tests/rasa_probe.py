"""Run Python in Rasa's own environment (.venv-rasa), where Rasa's classes can be checked directly."""
from __future__ import annotations

import os
import subprocess

from bot.processes import RASA_BIN
from framework.settings import PROJECT_ROOT


def run_in_rasa(*args: str, timeout: int = 300) -> str:
    """The last line the program printed; a failure shows the end of what it wrote to stderr."""
    done = subprocess.run([str(RASA_BIN.parent / "python"), *args], capture_output=True, text=True, timeout=timeout,
                          cwd=PROJECT_ROOT, env={**os.environ, "RASA_TELEMETRY_ENABLED": "false"})
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip().splitlines()[-1]
