"""Every sentence the bot says to a child is plain: <= 12 words, common words, reading age <= 9.

Swept over all child-facing text: the domain's responses, every framework's questions
and area prompts, the words on every button and comment card, and the chat page's and
widget script's own words.
"""
from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import pytest
from ruamel.yaml import YAML

from accessibility.plain_language import problems, reading_age
from framework import we_did
from framework.answers import answer_scale
from framework.choices import choices
from framework.comment_cards import comment_cards
from framework.loader import all_frameworks

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"^\{[a-z_]+\}$")  # filled at run time from framework data, checked below


def _domain_texts() -> list[tuple[str, str]]:
    domain = YAML(typ="safe").load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    texts = []
    for name, variants in domain["responses"].items():
        for variant in variants:
            text = variant.get("text", "")
            if not PLACEHOLDER.match(text):
                texts.append((name, text))
    return texts


def _framework_texts() -> list[tuple[str, str]]:
    texts = []
    for fw in all_frameworks().values():
        for area in fw.areas:
            texts.append((f"{area.id} plain_title", area.plain_title))
            for perspective, prompts in area.prompts.items():
                for field in ("intro", "anything_else", "what_would_help"):
                    texts.append((f"{area.id} {perspective} {field}", getattr(prompts, field)))
            texts += [(f"{st.id} {field}", getattr(st, field)) for st in area.statements
                      for field in ("question", "reworded", "example") if getattr(st, field)]
    return texts


def _button_texts() -> list[tuple[str, str]]:
    data = choices()
    texts = [(f"{slot} {o.value}", o.label) for slot, options in data.choices.items() for o in options]
    texts += [(f"button {name}", b.label) for name, b in data.buttons.items()]
    texts += [(f"answer {a.value}", a.label) for a in answer_scale().answers]
    texts += [(f"readback {a.value}", a.readback) for a in answer_scale().answers]
    cards = comment_cards()
    texts += [(f"card {card_id}", card.words) for card_id, card in cards.cards.items()]
    texts += [(f"card control {name}", control.words) for name, control in cards.controls]
    return texts


def _support_texts() -> list[tuple[str, str]]:
    support = YAML(typ="safe").load((ROOT / "bot" / "safeguarding" / "support.yml").read_text(encoding="utf-8"))
    return [(f"support {i}", text) for i, text in enumerate(support["messages"])]


class _PageText(HTMLParser):
    """The words a page shows or names (aria-label), outside scripts, the title and <noscript>
    (which speaks to an adult)."""

    SKIPPED = {"script", "style", "title", "noscript"}

    def __init__(self):
        super().__init__()
        self.texts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag, attrs):
        self.skipping += tag in self.SKIPPED
        self.texts += [value for name, value in attrs if name == "aria-label" and value]

    def handle_endtag(self, tag):
        self.skipping -= tag in self.SKIPPED

    def handle_data(self, data):
        if not self.skipping and data.strip():
            self.texts.append(" ".join(data.split()))


def _widget_texts() -> list[tuple[str, str]]:
    """The chat page's own words (its template, Jinja removed) and the widget script's WORDS."""
    page = (ROOT / "bot" / "templates" / "widget" / "chat.html").read_text(encoding="utf-8")
    page = re.sub(r"\{\{.*?\}\}", "8", re.sub(r"\{%.*?%\}", "", page, flags=re.S))
    parser = _PageText()
    parser.feed(page)
    script = (ROOT / "bot" / "static" / "widget" / "widget.js").read_text(encoding="utf-8")
    words = re.search(r"const WORDS = \{(.*?)\n\};", script, re.S)[1]
    return ([(f"chat page {i}", text) for i, text in enumerate(parser.texts)]
            + [(f"widget {name}", text) for name, text in re.findall(r'(\w+): "([^"]*)"', words)])


def _we_did_texts() -> list[tuple[str, str]]:
    """"You said, we did" (framework/we_did.yml): the bot's own words, the cards said back, and
    every recap it composes: each question with each answer, each comment prompt."""
    data = we_did.words()
    texts = [(f"we_did {name}", text) for name, text in data.fixed_texts()]
    texts += [(f"we_did you_chose {card_id}", data.you_chose.format(cards=card.words))
              for card_id, card in comment_cards().cards.items()]
    for fw in all_frameworks().values():
        for area in fw.areas:
            for perspective in area.prompts:
                texts += [(f"we_did recap {st.id} {value}",
                           we_did.recap(fw.id, perspective, SimpleNamespace(statement_id=st.id, value=value), None))
                          for st in area.asked(perspective, "full") for value in data.you_said]
                texts += [(f"we_did recap {area.id} {perspective} {kind}",
                           we_did.recap(fw.id, perspective, None, SimpleNamespace(area_id=area.id, kind=kind, cards=None)))
                          for kind in ("anything_else", "what_would_help")]
    return texts


ALL_TEXTS = (_domain_texts() + _framework_texts() + _button_texts() + _support_texts() + _widget_texts()
             + _we_did_texts())


def test_the_sweep_covers_every_source():
    names = {name for name, _ in ALL_TEXTS}
    assert any(n.startswith("utter_") for n in names)
    assert any(n.startswith("york.") for n in names)
    assert any(n.startswith("shropshire.") for n in names)
    assert any(n.endswith(" reworded") for n in names) and any(n.endswith(" example") for n in names)
    assert any(n.startswith("answer ") for n in names)
    assert any(n.startswith("support ") for n in names)
    assert any(n.startswith("card ") for n in names) and any(n.startswith("card control ") for n in names)
    assert ("chat page", "Two switches") in {(n.rsplit(" ", 1)[0], t) for n, t in ALL_TEXTS}
    assert any(n.startswith("widget ") for n in names)
    assert {"we_did did_it_help", "we_did reply a_bit", "we_did you_said no"} <= names
    assert any(n.startswith("we_did recap york.") for n in names) and any(n.startswith("we_did you_chose ") for n in names)
    assert len(ALL_TEXTS) > 100


@pytest.mark.parametrize("where,text", ALL_TEXTS, ids=[n for n, _ in ALL_TEXTS])
def test_child_facing_text_is_plain(where, text):
    assert problems(text) == [], f"{where}: {text!r}"


def test_the_checker_catches_hard_text():
    hard = "I am given an opportunity to create, review and contribute to plans relating to my education."
    found = problems(hard)
    assert any("words; use 12 or fewer" in p for p in found)
    assert any("uncommon words" in p and "contribute" in p for p in found)
    assert any("reading age" in p for p in found)
    assert reading_age("Do you feel safe at school?") <= 9


def test_names_children_meet_here_are_allowed():
    assert problems("You can call Childline on 0800 1111.") == []
