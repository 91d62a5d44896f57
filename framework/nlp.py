"""Shared English text handling for what children type: one spaCy pipeline, its lemma table,
the one text-speak list (text_speak.yml), chat-text clean-up, and a spelling fallback against a
small vocabulary.

There is no internet at run time, so no downloaded model: a blank English pipeline plus the
lookup lemmatizer from spacy-lookups-data. Everything here is general; the comment mapper and
the safeguarding screen both build on it.
"""
from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import spacy
import spacy_lookups_data
import srsly
from pydantic import BaseModel, ConfigDict, field_validator
from spacy.lang.en.stop_words import STOP_WORDS
from spacy.language import Language
from spacy.tokens import Doc

from framework.loader import load_yaml_model

TEXT_SPEAK_FILE = Path(__file__).parent / "text_speak.yml"

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'"})
_LONG_RUN = re.compile(r"([a-z])\1{2,}")  # a letter typed 3+ times: "sooooo" (digits are left alone)
_GLUED_SENTENCE = re.compile(r"([.!?,;])(?=[a-z])")  # "ok.i'm" -> "ok. i'm"


@lru_cache(maxsize=1)
def english() -> Language:
    """The shared pipeline: tokenizer + lookup lemmatizer, built once per process (~0.4 s)."""
    nlp = spacy.blank("en")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    return nlp


def normalise(text: str) -> str:
    """Chat text made comparable: lower case, straight apostrophes, a space after glued
    punctuation, and any letter repeated 3+ times cut to two ("sooooo" -> "soo", "goood" ->
    "good"; two, not one, because many words have double letters).

    The lemma lookup table is lower case, so lower-casing is required for lemmas to work.
    The child's own words are stored elsewhere, unchanged; this text is only for matching.
    """
    text = text.translate(_APOSTROPHES).lower()
    text = _GLUED_SENTENCE.sub(r"\1 ", text)
    return _LONG_RUN.sub(r"\1\1", text)


@lru_cache(maxsize=1)
def lemma_table() -> dict[str, str]:
    """Word form -> lemma, as strings (the pipeline's own table is keyed by hashes)."""
    return srsly.read_gzip_json(spacy_lookups_data.get_file("en_lemma_lookup.json.gz"))


@lru_cache(maxsize=1)
def _known_lemmas() -> frozenset[str]:
    return frozenset(lemma_table().values())


class TextSpeak(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    text_speak: dict[str, str]

    @field_validator("text_speak")
    @classmethod
    def _plain_lower_case_words(cls, spellings: dict[str, str]) -> dict[str, str]:
        for spelling, meaning in spellings.items():
            if spelling != spelling.lower() or spelling != " ".join(spelling.split()) or not meaning.split():
                raise ValueError(f"'{spelling}: {meaning}': write the spelling in lower case, single-spaced, with its words")
        return spellings


@lru_cache(maxsize=1)
def text_speak() -> dict[str, str]:
    """Chat spellings ("kms", "skool", "no one") -> the plain words they mean (text_speak.yml)."""
    data, _ = load_yaml_model(TEXT_SPEAK_FILE, TextSpeak)
    return data.text_speak


@lru_cache(maxsize=1)
def _one_word_spellings() -> dict[str, str]:
    """The spellings of one word that mean one word, -> that word's lemma: what read() uses."""
    return {spelling: lemma_of(meaning) for spelling, meaning in text_speak().items()
            if " " not in spelling and " " not in meaning}


def is_known_word(word: str) -> bool:
    """True for a word form that English lemma data or our text-speak list knows.

    The lookup data only lists forms that change ("bullied" -> "bully") and their lemmas, so
    a rare base word without inflections counts as unknown; that only matters for spelling repair.
    """
    return word in STOP_WORDS or word in text_speak() or word in _known_lemmas() or word in lemma_table()


@lru_cache(maxsize=1)
def _forms_by_lemma() -> dict[str, tuple[str, ...]]:
    forms: dict[str, list[str]] = {}
    for form, lemma in lemma_table().items():
        forms.setdefault(lemma, []).append(form)
    return {lemma: tuple(f) for lemma, f in forms.items()}


def lemma_of(word: str) -> str:
    """The lookup lemma of one lower-case word (the word itself when it does not change)."""
    return lemma_table().get(word, word)


def inflections(lemma: str) -> tuple[str, ...]:
    """The word forms whose lemma is `lemma` ("bully" -> "bullied", "bullies", …), lemma excluded."""
    return _forms_by_lemma().get(lemma, ())


def read(text: str) -> Doc:
    """Normalise and lemmatise chat text; text-speak and over-long letters get fixed lemmas.

    Token text stays as typed (lower-cased), so evidence shows the child's spelling.
    """
    doc = english()(normalise(text))
    spellings = _one_word_spellings()
    for token in doc:
        word = token.text
        if word in spellings:
            token.lemma_ = spellings[word]
        elif not is_known_word(word):
            # "noo", "helpp": a doubled letter kept by normalise() may still be a stretched word.
            single = re.sub(r"(\w)\1", r"\1", word)
            if single != word and is_known_word(single):
                token.lemma_ = lemma_of(single)
    return doc


def _skeleton(word: str) -> str:
    """A rough sound key: first letter, then consonants with common spellings merged, so that
    "skool"/"school", "teachr"/"teacher", "freind"/"friend" agree."""
    word = word.replace("sch", "sk").replace("ph", "f").replace("ck", "k")
    word = word.translate(str.maketrans({"c": "k", "q": "k", "z": "s"}))
    head, tail = word[0], re.sub(r"[aeiouyhw]", "", word[1:])
    return re.sub(r"(.)\1+", r"\1", head + tail)


class SpellingFallback:
    """Maps a misspelt word to a lemma from a small vocabulary, or None.

    Only words of `min_length`+ letters that English lemma data does not know are tried, so
    real words are never "corrected". Each vocabulary lemma is compared with all of its
    inflected forms ("bulied" is close to "bullied", not to "bully"): a match is either a
    close spelling (difflib ratio >= cutoff) or the same sound skeleton (see _skeleton).
    """

    def __init__(self, vocabulary: Iterable[str], min_length: int = 5, cutoff: float = 0.8):
        self._lemma_of: dict[str, str] = {}
        for lemma in vocabulary:
            for form in (lemma, *inflections(lemma)):
                self._lemma_of.setdefault(form, lemma)
        self._forms = sorted(self._lemma_of)
        self._skeletons: dict[str, list[str]] = {}
        for form in self._forms:
            if len(form) >= 4:
                self._skeletons.setdefault(_skeleton(form), []).append(form)
        self.min_length = min_length
        self.cutoff = cutoff
        # Bounded: a long-running chat server sees an endless stream of new words.
        self.correct = lru_cache(maxsize=20_000)(self._correct)

    def _correct(self, word: str) -> str | None:
        if len(word) < self.min_length or not word.isalpha() or is_known_word(word) or word in self._lemma_of:
            return None
        close = difflib.get_close_matches(word, self._forms, n=1, cutoff=self.cutoff)
        if close:
            return self._lemma_of[close[0]]
        key = _skeleton(word)
        same_sound = [f for f in self._skeletons.get(key, ()) if len(key) >= 3 and abs(len(f) - len(word)) <= 2]
        if same_sound:
            best = max(same_sound, key=lambda f: difflib.SequenceMatcher(None, word, f).ratio())
            return self._lemma_of[best]
        return None
