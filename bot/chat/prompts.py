"""The fixed words the bot says, gathered from where they live: domain.yml, the frameworks,
the buttons' data, the safeguarding support words and "you said, we did" (framework/we_did.yml).
Only these may be read aloud by gTTS."""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ruamel.yaml import YAML

from framework.answers import answer_scale
from framework.choices import choices
from framework.comment_cards import comment_cards
from framework.loader import all_frameworks
from framework import we_did
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


@dataclass(frozen=True)
class Support:
    messages: tuple[str, ...]
    buttons: tuple[str, ...]  # names of fixed buttons in framework/choices.yml


@lru_cache(maxsize=1)
def support() -> Support:
    data = _load(SUPPORT_FILE)
    return Support(tuple(data["messages"]), tuple(data["buttons"]))


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
    return frozenset(domain + _framework_texts() + _button_labels() + list(support().messages) + told)
