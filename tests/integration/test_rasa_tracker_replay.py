"""Rasa reads a long conversation as it always did, with what it worked out kept and its event
classes remembered (rasa_server/tracker_replay.py), in Rasa's own environment."""
from __future__ import annotations

import json
import os

import pytest

from tests.rasa_probe import run_in_rasa

pytestmark = pytest.mark.integration

PROBE = os.path.join(os.path.dirname(__file__), "tracker_replay_probe.py")


def test_rasa_finds_the_same_applied_events_and_reads_the_same_events_as_without_the_change():
    result = json.loads(run_in_rasa(PROBE))
    assert result["calls"] > 10_000  # every prefix of 40 conversations of 300 events, some asked twice
    assert result["undo_same"] is True
    assert result["read_twice_same"] is True
    assert result["read_back"] == [True] * 5
    assert result["unknown_gets_default"] is True
