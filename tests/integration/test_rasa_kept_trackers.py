"""Rasa hands back the tracker it kept only while the database holds exactly its events, whichever
of two Rasa servers saved last (rasa_server/kept_trackers.py), in Rasa's own environment."""
from __future__ import annotations

import json
import os
import subprocess

import pytest

from bot.processes import RASA_BIN
from framework.settings import PROJECT_ROOT

pytestmark = pytest.mark.integration

PROBE = os.path.join(os.path.dirname(__file__), "kept_trackers_probe.py")


def test_a_kept_tracker_holds_what_reading_the_database_gives(tmp_path):
    done = subprocess.run([str(RASA_BIN.parent / "python"), PROBE, str(tmp_path)], capture_output=True, text=True,
                          timeout=600, cwd=PROJECT_ROOT, env={**os.environ, "RASA_TELEMETRY_ENABLED": "false"})
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["checks"] > 500  # turns read back, by either server
    assert result["served_kept"] > 150  # most turns' trackers were the ones kept...
    assert result["differs"] == 0  # ...and every one held what Rasa's own reading gives
