"""Rasa hands back the tracker it kept only while the database holds exactly its events, whichever
of two Rasa servers saved last (rasa_server/kept_trackers.py), in Rasa's own environment."""
from __future__ import annotations

import json
import os

import pytest

from tests.rasa_probe import run_in_rasa

pytestmark = pytest.mark.integration

PROBE = os.path.join(os.path.dirname(__file__), "kept_trackers_probe.py")


def test_a_kept_tracker_holds_what_reading_the_database_gives(tmp_path):
    result = json.loads(run_in_rasa(PROBE, str(tmp_path), timeout=600))
    assert result["checks"] > 500  # turns read back, by either server
    assert result["served_kept"] > 150  # most turns' trackers were the ones kept...
    assert result["differs"] == 0  # ...and every one held what Rasa's own reading gives
