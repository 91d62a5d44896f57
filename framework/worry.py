"""The safeguarding screen's second opinion: how much a message means what a worry means.

The screen's rules (bot/safeguarding/) catch the phrasings someone wrote a pattern for; children
say the same things in endless other words ("theres never food in the house"). Rasa's `concern`
intent hears meaning, but fires on ordinary life too ("im scared of thunder" 0.98). This signal
compares the message, as a sentence vector (framework/encoder.py), with labelled examples of
worries and of their harmless look-alikes (safeguarding_examples.yml), and with children's
comments filed under the outcome areas where worries are not filed (framework/examples/: what
Heard hears most): the mean similarity to its `nearest` closest worries minus the same for the
closest look-alikes. Nearest neighbours, not a trained weight vector, so a new example counts at
once and a score can be explained by the examples it was closest to.

The alert rule (thresholds in the data file, chosen on tests/data/eval/safeguarding_dev.yml):
  the rules fire, or the signal alone reaches `alone` (`alone_long` for a message of
  `long_from` words or more), or Rasa's concern intent is confident (framework.answers.CONFIDENT)
  and the signal reaches `with_concern`. A short message gives the encoder little to go on, and
  short harmless ones ("he makes me laugh", "i took my tablets") sit near worries; a longer
  message's meaning is surer, so the bar for it is lower.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from framework.comment_examples import NONE, load_examples
from framework.encoder import SentenceEncoder
from framework.loader import framework_files, load_yaml_model
from framework.mapping import cached_vectors
from framework.nlp import text_speak
from framework.onnx_encoder import sentence_encoder
from framework.settings import get_settings

EXAMPLES_FILE = Path(__file__).with_name("safeguarding_examples.yml")
# Fewer words than this are answers, greetings or control words ("yes", "not really", "wdym"):
# not worth the encoder's time, and the rules still screen them.
MIN_WORDS = 3
_WORD = re.compile(r"[a-z0-9']+")


class Thresholds(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    alone: float = Field(gt=-1, lt=1, description="The signal alone raises an alert at this score or above.")
    alone_long: float = Field(gt=-1, lt=1, description="The same, for a message of `long_from` words or more.")
    long_from: int = Field(gt=MIN_WORDS, description="How many words (chat spellings spelled out) make a message long.")
    with_concern: float = Field(gt=-1, lt=1, description="A confident `concern` intent raises one only at this score or above.")

    @model_validator(mode="after")
    def _alone_is_stricter(self) -> "Thresholds":
        if self.with_concern > min(self.alone, self.alone_long):
            raise ValueError("'with_concern' must not be above 'alone' or 'alone_long': the intent's agreement can only lower the bar")
        if self.alone_long > self.alone:
            raise ValueError("'alone_long' must not be above 'alone': a longer message's meaning is the surer one")
        return self

    def alone_for(self, words: int) -> float:
        """The bar for the signal alone on a message of `words` words."""
        return self.alone_long if words >= self.long_from else self.alone


class WorryExamples(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    thresholds: Thresholds
    nearest: int = Field(ge=1, le=20, description="How many closest examples of each side are averaged.")
    borrowed_look_alikes: tuple[str, ...] = Field(
        default=(), description="Outcome areas (the part after the framework's id, or 'none') whose comment examples count as look-alikes.")
    worry: dict[str, list[str]] = Field(min_length=1)
    benign: dict[str, list[str]] = Field(min_length=1)

    @model_validator(mode="after")
    def _clean_lists(self) -> "WorryExamples":
        seen: dict[str, str] = {}
        for side in ("worry", "benign"):
            for topic, texts in getattr(self, side).items():
                if not texts:
                    raise ValueError(f"{side} topic '{topic}' has no examples")
                for text in texts:
                    key = " ".join(_WORD.findall(text.lower()))
                    if not key:
                        raise ValueError(f"{side} topic '{topic}': an empty example")
                    if key in seen:
                        raise ValueError(f"'{text}' is listed twice ({seen[key]} and {side}/{topic})")
                    seen[key] = f"{side}/{topic}"
        if min(self.count("worry"), self.count("benign")) < self.nearest:
            raise ValueError(f"each side needs at least 'nearest' ({self.nearest}) examples")
        return self

    def count(self, side: str) -> int:
        return sum(len(texts) for texts in getattr(self, side).values())

    def texts(self, side: str) -> list[str]:
        return [text for texts in getattr(self, side).values() for text in texts]


def borrowed_comments(areas: tuple[str, ...]) -> list[str]:
    """Every framework's comment examples filed under one of `areas` ("goals" is york.goals and
    shropshire.goals; "none" is off-topic), in file order."""
    texts = []
    for framework_id in framework_files():
        examples = load_examples(framework_id)
        for example in examples.examples if examples else ():
            area = NONE if example.area == NONE else example.area.split(".", 1)[1]
            if area in areas:
                texts.append(example.text)
    return texts


@dataclass(frozen=True)
class Heard:
    """What the signal made of one message."""

    score: float  # nearest worries' similarity minus nearest look-alikes' (0.0 for a text too short to judge)
    words: int  # the message's words, chat spellings spelled out
    alone: bool  # sure enough to alert on its own
    agrees: bool  # sure enough to confirm a confident `concern` intent


class WorrySignal:
    """Loads the examples' vectors once (cached on disk by content); then one encode per message."""

    def __init__(self, examples: WorryExamples, encoder: SentenceEncoder, cache_dir: Path | None = None):
        self.examples = examples
        self.thresholds = examples.thresholds
        self._encoder = encoder
        self._speak = text_speak()
        worry = examples.texts("worry")
        benign = examples.texts("benign") + borrowed_comments(examples.borrowed_look_alikes)
        vectors = cached_vectors([self.plain(t) for t in worry + benign], encoder, cache_dir)
        self._worry, self._benign = vectors[: len(worry)], vectors[len(worry):]
        # The action server may ask twice about one message (the form, then the alert).
        self.hear = lru_cache(maxsize=256)(self._hear)

    def plain(self, text: str) -> str:
        """Lower case, chat spellings spelled out ("kms" -> "kill myself"): what is encoded."""
        return " ".join(self._speak.get(word, word) for word in _WORD.findall(text.lower()))

    def scores(self, texts: list[str]) -> np.ndarray:
        """The score of each text (0.0 for texts too short to judge)."""
        plain = [self.plain(t) for t in texts]
        judged = [i for i, p in enumerate(plain) if len(p.split()) >= MIN_WORDS]
        out = np.zeros(len(texts), dtype=np.float32)
        if judged:
            vectors = self._encoder.encode([plain[i] for i in judged])
            out[judged] = self._nearest(vectors @ self._worry.T) - self._nearest(vectors @ self._benign.T)
        return out

    def words(self, text: str) -> int:
        """How many words the message has, chat spellings spelled out (what `long_from` counts)."""
        return len(self.plain(text).split())

    def _hear(self, text: str) -> Heard:
        score = float(self.scores([text])[0])
        words = self.words(text)
        return Heard(score=score, words=words, alone=score >= self.thresholds.alone_for(words),
                     agrees=score >= self.thresholds.with_concern)

    def _nearest(self, similarities: np.ndarray) -> np.ndarray:
        k = self.examples.nearest
        return np.sort(np.partition(similarities, -k, axis=1)[:, -k:], axis=1).mean(axis=1)


def load_worry_examples(path: Path = EXAMPLES_FILE) -> WorryExamples:
    examples, _ = load_yaml_model(path, WorryExamples)
    return examples


@lru_cache(maxsize=1)
def worry_signal() -> WorrySignal:
    """The process's one signal, loaded on first use."""
    return WorrySignal(load_worry_examples(), sentence_encoder(), cache_dir=get_settings().model_dir)
