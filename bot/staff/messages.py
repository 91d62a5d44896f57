"""What the staff site says in its notice and problem boxes, as data: `messages.yml`, one section
a part of the site. Checked on load, each problem with its file and line: at most 20 words a
sentence (the adults' bar), and `{name}` placeholders only, which the code fills.

Routers take a message by its key when they are imported, `message("pupils.erased")`, so a key
that is not in the file stops the web app starting; a message no router takes fails
tests/unit/test_staff_messages.py.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from string import Formatter

from pydantic import BaseModel, ConfigDict

from accessibility import plain_language
from framework.loader import load_checked

MESSAGES_FILE = Path(__file__).with_name("messages.yml")
MAX_WORDS = plain_language.ADULTS.max_words

_taken: set[str] = set()  # the keys routers have taken, for the test that finds unused messages


class StaffMessages(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sign_in: dict[str, str]
    forms: dict[str, str]
    accounts: dict[str, str]
    schools: dict[str, str]
    councils: dict[str, str]
    audit: dict[str, str]
    alerts: dict[str, str]
    council: dict[str, str]
    pupils: dict[str, str]
    checkins: dict[str, str]
    warnings: dict[str, str]

    def keys(self) -> list[str]:
        return [f"{section}.{name}" for section in type(self).model_fields for name in getattr(self, section)]


def _content_problems(data: StaffMessages):
    for key in data.keys():
        section, name = key.split(".")
        text = getattr(data, section)[name]
        for sentence in plain_language.sentences(text):
            if len(plain_language.words(sentence)) > MAX_WORDS:
                yield (section, name), f"'{sentence}' is longer than {MAX_WORDS} words; split it or say less"
        try:
            fields = [field for _, field, _, _ in Formatter().parse(text) if field is not None]
        except ValueError as exc:
            yield (section, name), f"a brace is not closed ({exc}); write {{name}} for a placeholder"
            continue
        for field in fields:
            if not field.isidentifier():
                yield (section, name), f"'{{{field}}}' is not a placeholder; use a plain name such as {{email}}"


def load_messages(path: Path = MESSAGES_FILE) -> StaffMessages:
    return load_checked(path, StaffMessages, _content_problems)


@lru_cache(maxsize=1)
def messages() -> StaffMessages:
    return load_messages()


def message(key: str) -> str:
    """The message `section.name`, its placeholders still to fill with `.format(...)`."""
    section, _, name = key.partition(".")
    found = getattr(messages(), section, {}).get(name) if section in StaffMessages.model_fields else None
    if found is None:
        raise KeyError(f"{MESSAGES_FILE.name} has no message {key!r}")
    _taken.add(key)
    return found


def taken() -> frozenset[str]:
    return frozenset(_taken)
