"""What the staff site says in its notice and problem boxes and in its emails, as data:
`messages.yml`, one section a part of the site. Checked on load, each problem with its file and
line: at most 20 words a sentence (the adults' bar), and `{name}` placeholders only, which the
code fills.

Routers (and the outbox) take a message by its key when they are imported,
`message("pupils.erased")`, so a key that is not in the file stops the web app starting; a
message nothing takes fails tests/unit/test_staff_messages.py.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from string import Formatter

from pydantic import BaseModel, ConfigDict, create_model

from accessibility import plain_language
from framework.loader import load_checked

MESSAGES_FILE = Path(__file__).with_name("messages.yml")
MAX_WORDS = plain_language.ADULTS.max_words

_taken: set[str] = set()  # the keys routers have taken, for the test that finds unused messages


# One section a part of the site, in the order of the file; each maps a message's name to its text.
SECTIONS = ("sign_in", "forms", "accounts", "schools", "councils", "audit", "alerts", "council", "pupils", "checkins",
            "warnings", "emails")


class _Sections(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt section is an unknown field, with its line

    def keys(self) -> list[str]:
        return [f"{section}.{name}" for section in SECTIONS for name in getattr(self, section)]


StaffMessages = create_model("StaffMessages", __base__=_Sections,
                             **{section: (dict[str, str], ...) for section in SECTIONS})


def too_long(text: str):
    """A problem for each sentence of `text` over the adults' bar (staff labels share it)."""
    for sentence in plain_language.sentences(text):
        if len(plain_language.words(sentence)) > MAX_WORDS:
            yield f"'{sentence}' is longer than {MAX_WORDS} words; split it or say less"


def _content_problems(data: StaffMessages):
    for key in data.keys():
        section, name = key.split(".")
        text = getattr(data, section)[name]
        for problem in too_long(text):
            yield (section, name), problem
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
    found = getattr(messages(), section).get(name) if section in SECTIONS else None
    if found is None:
        raise KeyError(f"{MESSAGES_FILE.name} has no message {key!r}")
    _taken.add(key)
    return found


def taken() -> frozenset[str]:
    return frozenset(_taken)
