"""Does a typed message really ask to stop or take a break? (see leaving_words.yml)"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from framework.loader import load_yaml_model

WORDS_FILE = Path(__file__).parent / "leaving_words.yml"


class LeavingWords(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    leaving: dict[str, tuple[str, ...]]


@lru_cache(maxsize=1)
def leaving_words() -> LeavingWords:
    words, _ = load_yaml_model(WORDS_FILE, LeavingWords)
    return words


# At a comment prompt a young person says what they think, in as many words as they like: a typed
# message this long is their comment, whatever else it sounds like ("i get tired in the
# afternoon" is not a break, "i want to learn to cook pasta" not a question). Shorter ones can
# still stop, pause or ask for help; a worry is always heard as one.
COMMENT_MIN_WORDS = 6


def is_a_comment(text: str) -> bool:
    """True when typed words at a comment prompt are long enough to be the comment itself."""
    return len(re.findall(r"[a-z0-9']+", text.lower())) >= COMMENT_MIN_WORDS


def asks_to_leave(intent: str | None, text: str) -> bool:
    """True when `intent` is stop or take_break and the words say so too."""
    words = leaving_words().leaving.get(intent or "")
    if not words:
        return False
    padded = " " + " ".join(re.findall(r"[a-z']+", text.lower().replace("'", ""))) + " "
    return any(f" {w} " in padded for w in words)
