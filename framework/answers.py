"""Turn one reply to a question into an answer, or decide to ask back.

The bot never guesses: a typed reply becomes an answer only when the language model is
confident it is one; otherwise the young person is asked "Do you mean yes, sometimes or
no?" and their own words are kept with whatever they then choose.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from framework.scale import answer_scale

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
