"""Comment cards: a young person who does not type can still say more, by tapping cards.

The cards and the boards they sit on are data (comment_cards.yml), checked when loaded:
every card named on a board exists, every symbol is one OpenMoji draws, every word is
plain, and every area a board is for is an area of a bundled framework. The widget sends
the chosen cards as one payload, `/comment_cards{"cards":"too_noisy people_kind"}`.
"""
from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from accessibility import plain_language
from accessibility.symbols import known_symbols
from framework.conversation import CARDS, CARDS_ENTITY, payload_entities
from framework.loader import all_frameworks, load_checked
from framework.schema import ID_PATTERN, SYMBOL_PATTERN, Framework
from framework.settings import get_settings
from framework.survey import COMMENT_KINDS

CARDS_FILE = Path(__file__).parent / "comment_cards.yml"
PAYLOAD_PREFIX = f"/{CARDS}"
MAX_CHOSEN = 12  # more than any board holds; a longer payload is not ours


class Card(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    words: str = Field(min_length=2)
    symbol: str = Field(pattern=SYMBOL_PATTERN)


class Board(BaseModel):
    """The cards under each comment prompt of one area, by prompt kind."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    anything_else: tuple[str, ...]
    what_would_help: tuple[str, ...]


class Boards(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    every_area: Board
    areas: dict[str, Board]


class Controls(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    send: Card
    own_way: Card
    no_more: Card


class CommentCards(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    cards: dict[str, Card]
    boards: Boards
    controls: Controls

    def board(self, framework: Framework, area_id: str, kind: str) -> list[tuple[str, Card]]:
        """(id, card) pairs shown under one area's prompt: the area's own, then every area's."""
        own = self.boards.areas.get(area_id) or self.boards.areas.get(framework.crosswalk.get(area_id, ""))
        ids = [*(getattr(own, kind) if own else ()), *getattr(self.boards.every_area, kind)]
        return [(card_id, self.cards[card_id]) for card_id in dict.fromkeys(ids)]


def _content_problems(data: CommentCards):
    """What the typed models cannot know, as (YAML location, problem)."""
    symbols = known_symbols(get_settings().openmoji_dir)
    for where, card in [*((("cards", i), c) for i, c in data.cards.items()),
                        *((("controls", n), c) for n, c in data.controls)]:
        if card.symbol not in symbols:
            yield where + ("symbol",), f"unknown symbol '{card.symbol}'; use an OpenMoji hexcode such as '1F44D'"
        for problem in plain_language.problems(card.words):
            yield where + ("words",), problem
    for card_id in data.cards:
        if not re.match(ID_PATTERN, card_id):
            yield ("cards", card_id), f"card id '{card_id}' must be lower case letters, digits and '_'"
    areas = {area.id for fw in all_frameworks().values() for area in fw.areas}
    boards = [(("boards", "every_area"), data.boards.every_area)]
    for area_id, board in data.boards.areas.items():
        if area_id not in areas:
            yield ("boards", "areas", area_id), f"'{area_id}' is not an area of any framework in framework/frameworks/"
        boards.append((("boards", "areas", area_id), board))
    for where, board in boards:
        for kind in COMMENT_KINDS:
            for card_id in getattr(board, kind):
                if card_id not in data.cards:
                    yield where + (kind,), f"no card '{card_id}'; add it under 'cards' or check its spelling"


def load_comment_cards(path: Path = CARDS_FILE) -> CommentCards:
    return load_checked(path, CommentCards, _content_problems)


@lru_cache(maxsize=1)
def comment_cards() -> CommentCards:
    return load_comment_cards()


def payload(card_ids: list[str]) -> str:
    return PAYLOAD_PREFIX + json.dumps({CARDS_ENTITY: " ".join(card_ids)}, separators=(",", ":"))


def chosen_in(text: str) -> list[str] | None:
    """The card ids a cards payload names, in order and once each; None when `text` is not a
    payload of known cards."""
    sent = payload_entities(text, CARDS)
    if sent is None or set(sent) != {CARDS_ENTITY} or not isinstance(sent[CARDS_ENTITY], str):
        return None
    ids = list(dict.fromkeys(sent[CARDS_ENTITY].split()))
    if not ids or len(ids) > MAX_CHOSEN or any(i not in comment_cards().cards for i in ids):
        return None
    return ids
