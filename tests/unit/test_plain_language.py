"""Every sentence the bot says to a child is plain: <= 12 words, common words, reading age <= 9.

Swept over all child-facing text: the domain's responses, every framework's questions
and area prompts, the words on every button and comment card, and the chat page's and
widget script's own words. The questions and prompts for adults (parent carers, partners),
and their words after a worry, are swept too, at the adults' bar: <= 20 words a sentence, common words, reading age <= 11.
"""
from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from accessibility.plain_language import ADULTS, problems, reading_age
from framework import we_did
from framework.answers import answer_scale
from framework.choices import choices
from framework.comment_cards import comment_cards
from framework.loader import all_frameworks, plain_bar

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


def _framework_texts(for_adults: bool = False) -> list[tuple[str, str]]:
    """Every framework's words for children (area names included), or for adults."""
    texts = []
    for fw in all_frameworks().values():
        asked = {p for p in fw.perspectives if (plain_bar(fw, p) == ADULTS) == for_adults}
        for area in fw.areas:
            if not for_adults:
                texts.append((f"{area.id} plain_title", area.plain_title))
            for perspective, prompts in area.prompts.items():
                if perspective in asked:
                    texts += [(f"{area.id} {perspective} {field}", getattr(prompts, field))
                              for field in ("intro", "anything_else", "what_would_help")]
            texts += [(f"{st.id} {field}", getattr(st, field)) for st in area.statements if st.perspective in asked
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


def _support_texts(for_adults: bool = False) -> list[tuple[str, str]]:
    """The words after a worry (bot/safeguarding/support.yml), for children or for adults."""
    support = YAML(typ="safe").load((ROOT / "bot" / "safeguarding" / "support.yml").read_text(encoding="utf-8"))
    return [(f"support {perspective} {i}", text) for perspective, words in support["by_perspective"].items()
            if (words["readers"] == "adults") == for_adults for i, text in enumerate(words["messages"])]


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


def _we_did_texts(for_adults: bool = False) -> list[tuple[str, str]]:
    """"You said, we did" (framework/we_did.yml): the bot's own words, the cards said back, and
    every recap it composes: each question with each answer, each comment prompt (for the
    perspectives held to the children's bar, or the adults')."""
    data = we_did.words()
    texts = [] if for_adults else [(f"we_did {name}", text) for name, text in data.fixed_texts()]
    texts += [] if for_adults else [(f"we_did you_chose {card_id}", data.you_chose.format(cards=card.words))
                                    for card_id, card in comment_cards().cards.items()]
    return texts + [(f"we_did recap {where}", text)
                    for where, text in we_did.every_recap_without_cards(for_adults=for_adults)]


ALL_TEXTS = (_domain_texts() + _framework_texts() + _button_texts() + _support_texts() + _widget_texts()
             + _we_did_texts())
def _adult_follow_up_texts() -> list[tuple[str, str]]:
    """An adult's answers to "will you tell anyone?" and the like after a worry (framework/worry_follow_ups.yml)."""
    data = YAML(typ="safe").load((ROOT / "framework" / "worry_follow_ups.yml").read_text(encoding="utf-8"))
    return [(f"follow-up {perspective} {intent} {i}", text) for perspective, intents in data["by_perspective"].items()
            for intent, texts in intents.items() for i, text in enumerate(texts)]


ADULT_TEXTS = (_framework_texts(for_adults=True) + _we_did_texts(for_adults=True) + _support_texts(for_adults=True)
               + _adult_follow_up_texts())


def test_the_sweep_covers_every_source():
    names = {name for name, _ in ALL_TEXTS}
    assert any(n.startswith("utter_") for n in names)
    assert any(n.startswith("york.") for n in names)
    assert any(n.startswith("shropshire.") for n in names)
    assert any(n.endswith(" reworded") for n in names) and any(n.endswith(" example") for n in names)
    assert any(n.startswith("answer ") for n in names)
    assert any(n.startswith("support children_young_people ") for n in names)
    assert any(n.startswith("card ") for n in names) and any(n.startswith("card control ") for n in names)
    assert ("chat page", "Two switches") in {(n.rsplit(" ", 1)[0], t) for n, t in ALL_TEXTS}
    assert any(n.startswith("widget ") for n in names)
    assert {"we_did did_it_help", "we_did reply a_bit", "we_did you_said no"} <= names
    assert any(n.startswith("we_did recap york.") for n in names) and any(n.startswith("we_did you_chose ") for n in names)
    assert len(ALL_TEXTS) > 100


@pytest.mark.parametrize("where,text", ALL_TEXTS, ids=[n for n, _ in ALL_TEXTS])
def test_child_facing_text_is_plain(where, text):
    assert problems(text) == [], f"{where}: {text!r}"


def test_the_adult_sweep_covers_every_adult_question_and_prompt():
    names = {name for name, _ in ADULT_TEXTS}
    for fw in all_frameworks().values():
        for area in fw.areas:
            for st in area.statements:
                if st.question and plain_bar(fw, st.perspective) == ADULTS:
                    assert {f"{st.id} question", f"{st.id} reworded", f"{st.id} example"} <= names
    shropshire = all_frameworks()["shropshire"]
    assert sum(1 for n in names if n.endswith(" question")) == sum(
        len(shropshire.questions(p, "full")) for p in ("parent_carers", "partners")) == 40 + 37
    assert "shropshire.safe parent_carers intro" in names and "shropshire.safe partners what_would_help" in names
    assert {"support parent_carers 0", "support partners 0"} <= names  # the words after a worry
    assert {"follow-up parent_carers who_is_told 0", "follow-up partners talk_to_person 0"} <= names
    assert not names & {name for name, _ in ALL_TEXTS}  # each text is held to one bar


@pytest.mark.parametrize("where,text", ADULT_TEXTS, ids=[n for n, _ in ADULT_TEXTS])
def test_adult_facing_text_is_plain(where, text):
    assert problems(text, ADULTS) == [], f"{where}: {text!r}"


def test_the_adult_bar_allows_longer_sentences_but_not_hard_ones():
    seventeen_words = "Do you know who to speak to if your family needs some extra help from the school?"
    assert problems(seventeen_words) and problems(seventeen_words, ADULTS) == []
    hard = ("I have an opportunity to co-produce, review and contribute to plans relating to my child or "
            "young person's education, health and care.")
    found = problems(hard, ADULTS)
    assert any("words; use 20 or fewer" in p for p in found)
    assert any("reading age" in p and "aim for 11" in p for p in found)


def test_the_checker_catches_hard_text():
    hard = "I am given an opportunity to create, review and contribute to plans relating to my education."
    found = problems(hard)
    assert any("words; use 12 or fewer" in p for p in found)
    assert any("uncommon words" in p and "contribute" in p for p in found)
    assert any("reading age" in p for p in found)
    assert reading_age("Do you feel safe at school?") <= 9


def test_helpline_names_said_here_are_allowed():
    assert problems("You can call Childline on 0800 1111.") == []
    assert problems("If you are worried about a child, you can call the NSPCC free on 0808 800 5000.", ADULTS) == []
