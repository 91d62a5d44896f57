"""Rasa still checks every action server response, with its schema checked once, not per call
(rasa_server/action_validation.py), in Rasa's own environment."""
from __future__ import annotations

import json
import os
import subprocess

import pytest

from bot.processes import RASA_BIN
from framework.settings import PROJECT_ROOT

pytestmark = pytest.mark.integration

PROBE = os.path.join(os.path.dirname(__file__), "action_validation_probe.py")


def test_rasa_accepts_a_good_action_response_and_refuses_a_bad_one_without_rechecking_its_schema():
    done = subprocess.run([str(RASA_BIN.parent / "python"), PROBE], capture_output=True, text=True, timeout=300,
                          cwd=PROJECT_ROOT, env={**os.environ, "RASA_TELEMETRY_ENABLED": "false"})
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["accepted"] is True
    assert result["rejected"].startswith("'not a list' is not of type 'array'. Failed to validate Action server response")
