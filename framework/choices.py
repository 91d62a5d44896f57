"""Choices made with buttons or words outside the questions (preferences, consent).

The options are data (choices.yml). A button sends a payload that sets the slot
directly; a typed reply is matched to an option by its intent or its words.
"""
from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from framework.conversation import CHOICE_SLOTS, CHOOSE
from framework.loader import load_yaml_model
from framework.schema import SYMBOL_PATTERN

CHOICES_FILE = Path(__file__).parent / "choices.yml"


class Option(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    value: str = Field(min_length=1)
    label: str = Field(min_length=1)
    symbol: str = Field(pattern=SYMBOL_PATTERN)
    intents: tuple[str, ...] = ()
    words: tuple[str, ...] = ()


class FixedButton(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    label: str = Field(min_length=1)
    payload: str = Field(pattern=r"^/[a-z_]+$")
    symbol: str = Field(pattern=SYMBOL_PATTERN)


class Choices(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    choices: dict[str, tuple[Option, ...]]
    buttons: dict[str, FixedButton] = {}

    @model_validator(mode="after")
    def _one_list_per_choice_slot(self) -> "Choices":
        if set(self.choices) != set(CHOICE_SLOTS):
            raise ValueError(f"list the options of exactly these slots: {', '.join(CHOICE_SLOTS)}")
        return self

    def options(self, slot: str) -> tuple[Option, ...]:
        return self.choices[slot]


@lru_cache(maxsize=1)
def choices() -> Choices:
    data, _ = load_yaml_model(CHOICES_FILE, Choices)
    return data


def choose_payload(slot: str, value: str) -> str:
    """The payload a button sends to set `slot` (Rasa's intent-with-entities syntax)."""
    return f"/{CHOOSE}" + json.dumps({slot: value}, separators=(",", ":"))


def button(slot: str, option: Option) -> dict:
    return {"title": option.label, "payload": choose_payload(slot, option.value), "symbol": option.symbol}


def fixed_button(name: str) -> dict:
    b = choices().buttons[name]
    return {"title": b.label, "payload": b.payload, "symbol": b.symbol}


def buttons(slot: str, values: list[str] | None = None) -> list[dict]:
    """A button per option of `slot`, or per option in `values`, in their order."""
    options = {option.value: option for option in choices().options(slot)}
    return [button(slot, options[value]) for value in (values if values is not None else options)]


def _words(text: str) -> str:
    return " " + " ".join(re.findall(r"[a-z0-9']+", text.lower())) + " "


def option_for_reply(slot: str, text: str, intent: str | None) -> str | None:
    """The option a typed reply picks, or None when it picks none, or two equally well."""
    padded = _words(text)
    scored = []
    for option in choices().options(slot):
        matched = [w for w in option.words if f" {w} " in padded]
        if matched:
            # more of its words, then a longer phrase, is the more specific match
            scored.append(((len(matched), max(len(w) for w in matched)), option.value))
    if scored:
        scored.sort(reverse=True)
        if len(scored) == 1 or scored[0][0] > scored[1][0]:
            return scored[0][1]
        return None
    by_intent = [o.value for o in choices().options(slot) if intent and intent in o.intents]
    return by_intent[0] if len(by_intent) == 1 else None
