"""The staff site's messages are data (bot/staff/messages.yml): each one is used, each is plain
enough for a busy adult, and a broken file says where it is broken."""
from __future__ import annotations

import pytest

import bot.app  # noqa: F401  (every router takes its messages as it is imported)
from bot.staff.messages import MESSAGES_FILE, load_messages, message, messages, taken
from framework.loader import FrameworkError


def test_every_message_in_the_file_is_used():
    assert set(messages().keys()) - taken() == set()


def test_a_key_that_is_not_in_the_file_stops_the_app():
    with pytest.raises(KeyError, match="pupils.no_such_message"):
        message("pupils.no_such_message")


def problems_in(tmp_path, text: str) -> tuple[str, dict[str, int]]:
    """The problems loading `text` as the message file raises, and the line of each key."""
    path = tmp_path / "messages.yml"
    path.write_text(text, encoding="utf-8")
    lines = {row.split(":")[0].strip(): n for n, row in enumerate(text.splitlines(), 1) if ":" in row}
    with pytest.raises(FrameworkError) as raised:
        load_messages(path)
    return "\n".join(raised.value.problems), lines


def test_a_long_sentence_or_a_placeholder_that_is_not_a_name_is_found_with_its_line(tmp_path):
    long = "Please " + " ".join(["check"] * 20) + "."
    problems, line = problems_in(tmp_path, MESSAGES_FILE.read_text(encoding="utf-8")
                                 .replace('"You are signed out."', f'"{long}"')
                                 .replace('"{email} can sign in again."', '"{email.__class__} can sign in again."'))
    assert f"messages.yml:{line['signed_out']}: at sign_in.signed_out: " in problems and "longer than 20" in problems
    assert f"messages.yml:{line['reactivate']}: at accounts.reactivate: '{{email.__class__}}'" in problems


def test_a_misspelt_section_is_found_with_its_line(tmp_path):
    problems, line = problems_in(tmp_path, MESSAGES_FILE.read_text(encoding="utf-8").replace("checkins:", "check_ins:"))
    assert f"messages.yml:{line['check_ins']}: at check_ins: unknown field" in problems
