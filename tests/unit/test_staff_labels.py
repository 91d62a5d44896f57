"""The staff site's labels are data (bot/staff/labels.yml): every value Heard stores has its
words, a label for a value it does not store is found, and a broken file says where it is broken."""
from __future__ import annotations

import pytest

from bot.staff.wording import LABELS_FILE, invite_use, load_labels, question_set_choice, role_label, who_spoke
from framework.loader import FrameworkError


def test_the_shipped_labels_give_words_for_stored_values():
    assert role_label("dsl") == "Designated safeguarding lead" and role_label("unknown") == "unknown"
    assert invite_use(None) == "Not used yet" and invite_use("stopped") == "Started, then stopped"
    assert question_set_choice("standard") == "Standard: the main questions about each area."
    assert who_spoke("with_support", "parent_carers") == "The parent carer, with someone helping"


def problems_in(tmp_path, text: str) -> tuple[str, dict[str, int]]:
    """The problems loading `text` as the labels file raises, and the line of each key (its first)."""
    path = tmp_path / "labels.yml"
    path.write_text(text, encoding="utf-8")
    lines: dict[str, int] = {}
    for n, row in enumerate(text.splitlines(), 1):
        if ":" in row and not row.lstrip().startswith("#"):
            lines.setdefault(row.split(":")[0].strip(), n)
    with pytest.raises(FrameworkError) as raised:
        load_labels(path)
    return "\n".join(raised.value.problems), lines


def test_a_stored_value_without_words_or_words_for_no_stored_value_is_found_with_its_line(tmp_path):
    problems, line = problems_in(tmp_path, LABELS_FILE.read_text(encoding="utf-8")
                                 .replace('  la_officer: "Local authority officer"\n', "")
                                 .replace("  health:", "  heath:"))
    assert f"labels.yml:{line['roles']}: at roles: 'la_officer' has no words" in problems
    assert f"labels.yml:{line['heath']}: at partner_roles.heath: Heard stores no 'heath' here" in problems
    assert "'health' has no words" in problems


def test_a_long_label_is_found_with_its_line(tmp_path):
    long = "Best for " + " ".join(["an annual review"] * 7) + "."
    problems, line = problems_in(tmp_path, LABELS_FILE.read_text(encoding="utf-8").replace(
        '"Best for an annual review with time to spare."', f'"{long}"'))
    assert f"labels.yml:{line['full']}: at question_sets.full: '{long}' is longer than 20 words" in problems


def test_staff_answers_may_leave_values_to_the_scale(tmp_path):
    problems, _ = problems_in(tmp_path, LABELS_FILE.read_text(encoding="utf-8")
                              .replace('  skipped: "Skipped"', '  skip: "Skipped"'))
    assert "at staff_answers.skip: Heard stores no 'skip' here" in problems and "staff_answers: 'yes'" not in problems
