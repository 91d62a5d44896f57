"""Answers to the questions: the answer scale every question uses (Yes / Sometimes / No /
I don't know / Skip), and how one reply becomes one of its answers, or is asked back.

The words and symbols are data (answer_scale.yml); this module gives them types and the
lookups the chat needs (by value, by Rasa intent). The bot never guesses: a typed reply
becomes an answer only when the language model is confident it is one; otherwise the young
person is asked "Do you mean yes, sometimes or no?" and their own words are kept with
whatever they then choose.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from framework.loader import load_yaml_model
from framework.schema import SYMBOL_PATTERN

SCALE_FILE = Path(__file__).parent / "answer_scale.yml"
AnswerValue = Literal["yes", "sometimes", "no", "dont_know", "skipped"]


class ScaleAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    value: AnswerValue
    intent: str = Field(min_length=2)
    label: str = Field(min_length=1)
    symbol: str = Field(pattern=SYMBOL_PATTERN)
    readback: str = Field(min_length=1)

    @property
    def payload(self) -> str:
        return f"/{self.intent}"


class AnswerScale(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    answers: tuple[ScaleAnswer, ...]

    @model_validator(mode="after")
    def _every_value_once(self) -> "AnswerScale":
        values = [a.value for a in self.answers]
        missing = set(AnswerValue.__args__) - set(values)
        if missing or len(values) != len(set(values)):
            raise ValueError(f"list each answer value exactly once: {', '.join(AnswerValue.__args__)}")
        return self

    def by_value(self, value: str) -> ScaleAnswer:
        return next(a for a in self.answers if a.value == value)

    def by_intent(self, intent: str) -> ScaleAnswer | None:
        return next((a for a in self.answers if a.intent == intent), None)


@lru_cache(maxsize=1)
def answer_scale() -> AnswerScale:
    scale, _ = load_yaml_model(SCALE_FILE, AnswerScale)
    return scale


# Below this intent confidence a typed answer is checked with the young person.
CONFIDENT = 0.70
HowGiven = Literal["tapped", "typed", "clarified"]


@dataclass(frozen=True)
class Reply:
    """What the young person sent, as the dialogue engine understood it."""

    text: str
    intent: str | None
    confidence: float | None
    tapped: bool  # a button payload rather than typed words


@dataclass(frozen=True)
class Answer:
    value: str
    how_given: HowGiven
    words: str | None  # the exact typed words, None when tapped
    confidence: float | None


@dataclass(frozen=True)
class Clarify:
    words: str


def interpret(reply: Reply, clarifying_words: str | None = None) -> Answer | Clarify:
    """An answer to the question on screen, or a request to ask back.

    `clarifying_words` are the typed words we asked about last turn; a clear reply now
    settles them, and those first words are the ones kept.
    """
    scale = answer_scale()
    option = scale.by_intent(reply.intent) if reply.intent else None
    if reply.tapped and option:
        if clarifying_words is not None:
            return Answer(option.value, "clarified", clarifying_words, 1.0)
        return Answer(option.value, "tapped", None, 1.0)
    confident = option is not None and (reply.confidence or 0.0) >= CONFIDENT
    if not confident:
        # keep every word they typed while we ask again
        words = reply.text if clarifying_words is None else f"{clarifying_words} / {reply.text}"
        return Clarify(words)
    if clarifying_words is not None:
        return Answer(option.value, "clarified", f"{clarifying_words} / {reply.text}", reply.confidence)
    return Answer(option.value, "typed", reply.text, reply.confidence)


def answer_buttons() -> list[dict]:
    """The buttons under every question and every "Do you mean…?": each way out is a tap away."""
    return [{"title": a.label, "payload": a.payload, "symbol": a.symbol} for a in answer_scale().answers]
