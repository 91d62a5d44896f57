"""Comment cards (framework/comment_cards.yml): checked when loaded, with the file and line of
each problem; plain, never a worry on their own; sent as one payload that names known cards."""
from __future__ import annotations

import pytest

from bot.chat.gateway import known_payload
from bot.safeguarding.screen import screen
from framework.comment_cards import CARDS_FILE, chosen_in, comment_cards, load_comment_cards, payload
from framework.loader import FrameworkError, all_frameworks, load_framework
from framework.survey import COMMENT_KINDS


def broken(tmp_path, old: str, new: str):
    text = CARDS_FILE.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "cards.yml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(FrameworkError) as raised:
        load_comment_cards(path)
    return raised.value.problems, path


def line_of(path, words: str) -> int:
    return next(n for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if words in line)


def test_the_bundled_cards_load_and_every_card_is_on_a_board():
    data = comment_cards()
    on_boards = {card for board in [data.boards.every_area, *data.boards.areas.values()]
                 for kind in COMMENT_KINDS for card in getattr(board, kind)}
    assert on_boards == set(data.cards)


@pytest.mark.parametrize("framework_id", sorted(all_frameworks()))
def test_every_area_has_a_small_board_for_each_prompt(framework_id):
    framework = load_framework(framework_id)
    for area in framework.areas:
        for kind in COMMENT_KINDS:
            board = comment_cards().board(framework, area.id, kind)
            own = [card_id for card_id, _ in board if card_id not in getattr(comment_cards().boards.every_area, kind)]
            assert own or kind == "what_would_help", f"{area.id} {kind} has only the cards every area has"
            assert 3 <= len(board) <= 8, f"{area.id} {kind}: {len(board)} cards"


@pytest.mark.parametrize("card_id", sorted(comment_cards().cards))
def test_no_card_is_a_worry_on_its_own(card_id):
    """Cards do not pass the safeguarding screen (they are not typed words), so none may say
    something the screen would stop: harm is for a young person's own, screened, words."""
    assert not screen(comment_cards().cards[card_id].words).risk


def test_an_unknown_symbol_is_named_with_its_line(tmp_path):
    problems, path = broken(tmp_path, '"1F4E2"}', '"XYZ"}')
    assert any(f"{path}:{line_of(path, 'too_noisy:')}: at cards.too_noisy.symbol" in p for p in problems), problems


def test_hard_words_on_a_card_are_named(tmp_path):
    problems, path = broken(tmp_path, '"too noisy"', '"an unacceptable cacophony"')
    assert any("cards.too_noisy.words" in p and "uncommon words" in p for p in problems), problems


def test_a_board_naming_no_card_is_refused(tmp_path):
    problems, path = broken(tmp_path, "[people_kind, people_mean, too_noisy]", "[people_kind, too_noisey]")
    assert any("boards.areas.york.safe.anything_else" in p and "no card 'too_noisey'" in p for p in problems), problems


def test_a_board_for_an_unknown_area_is_refused(tmp_path):
    problems, path = broken(tmp_path, "    york.heard:", "    york.herd:")
    assert any(f"{path}:{line_of(path, 'york.herd:')}:" in p and "'york.herd' is not an area" in p
               for p in problems), problems


def test_a_missing_control_is_named(tmp_path):
    problems, _ = broken(tmp_path, '  no_more: {words: "No more", symbol: "1F6D1"}', "")
    assert any("controls.no_more" in p and "missing" in p for p in problems), problems


def test_the_payload_names_known_cards_once_each():
    sent = payload(["too_noisy", "like_it"])
    assert sent == '/comment_cards{"cards":"too_noisy like_it"}'
    assert chosen_in(sent) == ["too_noisy", "like_it"]
    assert chosen_in('/comment_cards{"cards":"like_it like_it"}') == ["like_it"]
    for bad in ('/comment_cards{"cards":"like_it hack"}', '/comment_cards{"cards":""}', '/comment_cards{"cards":["like_it"]}',
                '/comment_cards{"cards":"like_it","consent":"school"}', "/comment_cards", "like_it", "/comment_cards{oops"):
        assert chosen_in(bad) is None, bad


def test_the_web_app_passes_only_payloads_of_known_cards_to_rasa():
    york = load_framework("york")
    assert known_payload(' /comment_cards{"cards": "like_it  too_noisy"} ', york) == '/comment_cards{"cards":"like_it too_noisy"}'
    assert known_payload('/comment_cards{"cards":"like_it","input_mode":"tap"}', york) is None
    assert known_payload('/comment_cards{"cards":"not_a_card"}', york) is None
