"""The fixed words the bot says, gathered from where they live: domain.yml, the frameworks,
the buttons' data, the safeguarding support words and "you said, we did" (framework/we_did.yml).
Only these may be read aloud by gTTS."""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator
from ruamel.yaml import YAML

from accessibility import plain_language
from framework.answers import answer_scale
from framework.choices import choices
from framework.comment_cards import comment_cards
from framework.db.models import DEFAULT_PERSPECTIVE, PERSPECTIVES
from framework.loader import FrameworkError, all_frameworks, load_yaml_model, located
from framework import we_did
from framework.schema import Perspective, Readers
from framework.settings import PROJECT_ROOT

DOMAIN_FILE = PROJECT_ROOT / "domain.yml"
SUPPORT_FILE = Path(__file__).resolve().parent.parent / "safeguarding" / "support.yml"
FILL_IN = re.compile(r"\{[a-z_]+\}")


def _load(path: Path) -> dict:
    return YAML(typ="safe").load(path.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def domain_responses() -> dict[str, list[str]]:
    """Each domain response's texts, by name."""
    return {name: [v["text"] for v in variants if v.get("text")] for name, variants in _load(DOMAIN_FILE)["responses"].items()}


def domain_text(name: str) -> str:
    return domain_responses()[name][0]


class SupportWords(BaseModel):
    """One perspective's words after a worry, held to its readers' plain-language bar."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    readers: Readers
    messages: tuple[str, ...] = Field(min_length=1)

    @property
    def bar(self) -> plain_language.Bar:
        return plain_language.ADULTS if self.readers == "adults" else plain_language.CHILDREN


class SupportFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    buttons: tuple[str, ...] = Field(min_length=1)  # names of fixed buttons in framework/choices.yml
    by_perspective: dict[Perspective, SupportWords]

    @model_validator(mode="after")
    def _every_perspective(self) -> "SupportFile":
        missing = [p for p in PERSPECTIVES if p not in self.by_perspective]
        if missing:
            raise ValueError(f"'by_perspective' needs words for {', '.join(missing)}: anyone may say a worry")
        return self


@dataclass(frozen=True)
class Support:
    messages: tuple[str, ...]
    buttons: tuple[str, ...]  # names of fixed buttons in framework/choices.yml


def _support_problems(data: SupportFile):
    known_buttons = choices().buttons
    for i, name in enumerate(data.buttons):
        if name not in known_buttons:
            yield ("buttons", i), f"unknown button '{name}'; use one of {', '.join(known_buttons)}"
    for perspective, words in data.by_perspective.items():
        for i, text in enumerate(words.messages):
            for problem in plain_language.problems(text, words.bar):
                yield ("by_perspective", perspective, "messages", i), problem


def load_support(path: Path = SUPPORT_FILE) -> SupportFile:
    data, tree = load_yaml_model(path, SupportFile)
    problems = located(path, tree, _support_problems(data))
    if problems:
        raise FrameworkError(path, problems)
    return data


@lru_cache(maxsize=1)
def support_file() -> SupportFile:
    return load_support()


def support(perspective: str = DEFAULT_PERSPECTIVE) -> Support:
    """The words after a worry for whoever is answering: a child's, or an adult's."""
    data = support_file()
    return Support(data.by_perspective[perspective].messages, data.buttons)


def _framework_texts() -> list[str]:
    texts = []
    for framework in all_frameworks().values():
        for area in framework.areas:
            texts.append(area.plain_title)
            for prompts in area.prompts.values():
                texts += [prompts.intro, prompts.anything_else, prompts.what_would_help]
            texts += [st.question for st in area.statements if st.question]
    return texts


def _button_labels() -> list[str]:
    data = choices()
    labels = [option.label for options in data.choices.values() for option in options]
    labels += [b.label for b in data.buttons.values()]
    labels += [a.label for a in answer_scale().answers]
    cards = comment_cards()
    labels += [card.words for card in cards.cards.values()] + [control.words for _, control in cards.controls]
    return labels


@lru_cache(maxsize=1)
def fixed_prompts() -> frozenset[str]:
    """Every text the bot says exactly as written in our data. A response with a fill-in
    ({question}, {lines}) is not one: its filled text may carry anyone's words."""
    domain = [t for texts in domain_responses().values() for t in texts if not FILL_IN.search(t)]
    told = [text for _, text in we_did.words().fixed_texts() + we_did.every_recap_without_cards()]
    support_words = [text for words in support_file().by_perspective.values() for text in words.messages]
    return frozenset(domain + _framework_texts() + _button_labels() + support_words + told)
