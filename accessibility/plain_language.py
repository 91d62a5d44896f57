"""Is a sentence plain enough for a child who reads at age 6 to 9 (or, for adults, plain English)?

One function, `problems(text)`, serves the framework loader, `heard framework check`
and the test that sweeps every child-facing sentence, so all three apply the same bar:
- at most 12 words a sentence;
- common words (by their frequency in everyday English, from `wordfreq`), where a long
  word must be very common;
- a reading age of 9 or under (Flesch-Kincaid grade + 5, the usual UK conversion).
Words for adults (parent carers, partners) pass `problems(text, ADULTS)`: the same common
words, at most 20 words a sentence, a reading age of 11 or under.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ruamel.yaml import YAML
from wordfreq import zipf_frequency



@dataclass(frozen=True)
class Bar:
    """How plain words must be for one kind of reader."""

    max_words: int  # a sentence
    max_reading_age: int


CHILDREN = Bar(max_words=12, max_reading_age=9)
ADULTS = Bar(max_words=20, max_reading_age=11)
MAX_WORDS = CHILDREN.max_words
MAX_READING_AGE = CHILDREN.max_reading_age
# Zipf 3.5 is about once in 300,000 words: "worried" 4.6, "safe" 5.1, "aspirations" 3.7.
MIN_ZIPF = 3.5
MIN_ZIPF_LONG_WORD = 4.5  # for words of three or more syllables
# Reading-age formulas mean nothing on a button label: grade texts of this many words or more.
MIN_WORDS_FOR_READING_AGE = 5
ALLOWED_WORDS_FILE = Path(__file__).parent / "plain_words.yml"

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
_WORD = re.compile(r"[A-Za-z][A-Za-z'’\-]*")
_VOWEL_GROUPS = re.compile(r"[aeiouy]+")


@lru_cache(maxsize=1)
def allowed_words() -> frozenset[str]:
    """Names and service words children meet here that a frequency list rates as rare."""
    data = YAML(typ="safe").load(ALLOWED_WORDS_FILE.read_text(encoding="utf-8")) or {}
    return frozenset(w.lower() for w in data.get("allowed", []))


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text.strip()) if s.strip()]


def words(sentence: str) -> list[str]:
    return _WORD.findall(sentence)


def syllables(word: str) -> int:
    """Vowel groups, less a silent final e: good enough for grading short sentences."""
    total = 0
    for part in word.lower().replace("’", "'").split("-"):
        part = part.strip("'")
        if not part:
            continue
        count = len(_VOWEL_GROUPS.findall(part))
        # a silent final e ("make"), also before s or d ("makes", "liked")
        if count > 1 and re.search(r"[^aeiouy]e[sd]?$", part) and not re.search(r"(le|[cgsxz]es|[td]ed)$", part):
            count -= 1
        total += max(count, 1)
    return max(total, 1)


def reading_age(text: str) -> float:
    """Flesch-Kincaid grade + 5. Text with no words reads at any age."""
    sents = sentences(text)
    all_words = [w for s in sents for w in words(s)]
    if not all_words:
        return 0.0
    syl = sum(syllables(w) for w in all_words)
    grade = 0.39 * len(all_words) / len(sents) + 11.8 * syl / len(all_words) - 15.59
    return max(grade, 0.0) + 5


def _is_common(word: str) -> bool:
    w = word.lower().replace("’", "'")
    if w in allowed_words():
        return True
    parts = [p for p in w.split("-") if p]
    for part in parts:
        zipf = zipf_frequency(part, "en")
        need = MIN_ZIPF_LONG_WORD if syllables(part) >= 3 else MIN_ZIPF
        if zipf < need:
            return False
    return True


def problems(text: str, bar: Bar = CHILDREN) -> list[str]:
    """What makes this text hard for its reader (a young one unless `bar` says); empty when it is plain."""
    found = []
    for sentence in sentences(text):
        n = len(words(sentence))
        if n > bar.max_words:
            found.append(f"'{sentence}' has {n} words; use {bar.max_words} or fewer a sentence")
        rare = [w for w in words(sentence) if not _is_common(w)]
        if rare:
            found.append(f"'{sentence}' uses uncommon words: {', '.join(rare)}; choose everyday words")
    age = reading_age(text)
    if len(words(text)) >= MIN_WORDS_FOR_READING_AGE and age > bar.max_reading_age:
        found.append(
            f"'{text}' has a reading age of {age:.1f}; aim for {bar.max_reading_age} or under (shorter words and sentences)"
        )
    return found
