"""The answer scale every question uses: Yes / Sometimes / No / I don't know / Skip.

The words and symbols are data (answer_scale.yml); this module gives them types and
the lookups the chat needs (by value, by Rasa intent).
"""
from __future__ import annotations

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
