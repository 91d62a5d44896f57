"""The Rasa assistant's own checks, as the issue asks: data validation and the test stories."""
from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from framework.conversation import CARDS, INTENTS

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
RASA = ROOT / ".venv-rasa" / "bin" / "rasa"
MODEL = ROOT / "models" / "heard.tar.gz"
# Sent only by our buttons and the web app (see domain.yml), so they have no typed examples.
BUTTON_ONLY_INTENTS = {intent.name for intent in INTENTS if not intent.typed}
# Read only by the survey form's validation, which takes every message while the form is open,
# so no story or rule needs to name it.
FORM_ONLY_INTENTS = {CARDS}


def rasa(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false"}
    return subprocess.run([str(RASA), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=900)


def responses_sent_by_code() -> set[str]:
    """Response names our actions send: named in the code, or asked for by a choice form."""
    from actions.forms import AskChoice

    sources = "\n".join(p.read_text() for folder in ("actions", "framework") for p in (ROOT / folder).rglob("*.py"))
    named = set(re.findall(r"[\"'](utter_[a-z_]+)[\"']", sources))
    return named | {f"utter_ask_{cls.slot}" for cls in AskChoice.__subclasses__()}


def test_rasa_data_validate_is_clean():
    result = rasa("data", "validate", "--domain", "domain.yml", "--data", "data")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "No story structure conflicts found" in output
    # Rasa cannot see responses that custom actions send: those are the only warnings allowed,
    # and each such response must really be sent by our code.
    warnings = re.findall(r"UserWarning: (.*)", output)
    unused = re.compile(r"The utterance '(utter_[a-z_]+)' is not used in any story or rule\.")
    untyped = re.compile(r"The intent '([a-z_]+)' is listed in the domain file, but is not found in the NLU training data\.")
    in_no_flow = re.compile(r"The intent '([a-z_]+)' is not used in any story or rule\.")
    sent = responses_sent_by_code()
    for warning in warnings:
        if (button_only := untyped.fullmatch(warning.strip())) and button_only.group(1) in BUTTON_ONLY_INTENTS:
            continue
        if (form_only := in_no_flow.fullmatch(warning.strip())) and form_only.group(1) in FORM_ONLY_INTENTS:
            continue
        match = unused.fullmatch(warning.strip())
        assert match, f"unexpected warning: {warning}"
        assert match.group(1) in sent, f"{match.group(1)} is never sent"


def test_the_dialogue_test_stories_pass(tmp_path):
    result = rasa("test", "core", "--model", str(MODEL), "--stories", "tests/stories",
                  "--fail-on-prediction-errors", "--out", str(tmp_path))
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    failed = (tmp_path / "failed_test_stories.yml").read_text()
    assert "None of the test stories failed" in failed, failed
