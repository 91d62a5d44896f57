"""Rasa reads a long conversation as it always did, with what it worked out kept and its event
classes remembered (rasa_server/tracker_replay.py), in Rasa's own environment."""
from __future__ import annotations

import json
import os
import subprocess

import pytest

from bot.processes import RASA_BIN
from framework.settings import PROJECT_ROOT

pytestmark = pytest.mark.integration

PROBE = os.path.join(os.path.dirname(__file__), "tracker_replay_probe.py")


def test_rasa_finds_the_same_applied_events_and_reads_the_same_events_as_without_the_change():
    done = subprocess.run([str(RASA_BIN.parent / "python"), PROBE], capture_output=True, text=True, timeout=300,
                          cwd=PROJECT_ROOT, env={**os.environ, "RASA_TELEMETRY_ENABLED": "false"})
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["calls"] > 10_000  # every prefix of 40 conversations of 300 events, some asked twice
    assert result["undo_same"] is True
    assert result["read_twice_same"] is True
    assert result["read_back"] == [True] * 5
    assert result["unknown_gets_default"] is True
