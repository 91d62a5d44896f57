"""The import rules of docs/ARCHITECTURE.md: which of our folders may import which.

The web app (bot/) and the action server (actions/) are separate processes that share only
framework/; nothing imports the web app; framework/ knows neither process; our Rasa component
and our start-up and channel for the Rasa server run inside Rasa's own environment and import
nothing of ours."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from framework.settings import PROJECT_ROOT

OURS = ("accessibility", "actions", "bot", "framework", "nlu_components", "rasa_server", "scripts")
# folder -> the folders of ours it may import (besides itself)
MAY_IMPORT = {
    "accessibility": set(),  # a leaf: callers pass it what it needs (e.g. where OpenMoji is)
    "framework": {"accessibility"},
    "actions": {"framework"},
    "bot": {"framework", "accessibility"},
    "scripts": {"framework"},
    "nlu_components": set(),
    "rasa_server": set(),
}


def imported(path: Path) -> set[str]:
    """The top-level packages of ours that one file imports."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found & set(OURS)


def imports_of(folder: str) -> dict[str, set[str]]:
    return {str(path.relative_to(PROJECT_ROOT)): imported(path)
            for path in sorted((PROJECT_ROOT / folder).rglob("*.py")) if "migrations" not in path.parts}


@pytest.mark.parametrize("folder", sorted(MAY_IMPORT))
def test_each_folder_imports_only_what_it_may(folder):
    allowed = MAY_IMPORT[folder] | {folder}
    broken = {path: sorted(found - allowed) for path, found in imports_of(folder).items() if found - allowed}
    assert broken == {}


def test_nothing_imports_the_web_app_or_the_actions_but_themselves():
    for folder in OURS:
        for path, found in imports_of(folder).items():
            assert "bot" not in found or folder == "bot", path
            assert "actions" not in found or folder == "actions", path


def test_the_rule_sees_imports():
    """Guards the tests above against reading nothing."""
    assert "framework" in imports_of("actions")["actions/common.py"]
    assert imports_of("bot")["bot/app.py"] & {"bot"}
