"""Rasa still checks every action server response, with its schema checked once, not per call
(rasa_server/action_validation.py), in Rasa's own environment."""
from __future__ import annotations

import json
import os

import pytest

from tests.rasa_probe import run_in_rasa

pytestmark = pytest.mark.integration

PROBE = os.path.join(os.path.dirname(__file__), "action_validation_probe.py")


def test_rasa_accepts_a_good_action_response_and_refuses_a_bad_one_without_rechecking_its_schema():
    result = json.loads(run_in_rasa(PROBE))
    assert result["accepted"] is True
    assert result["rejected"].startswith("'not a list' is not of type 'array'. Failed to validate Action server response")
