"""Comments without typing: a whole check-in in Chromium with taps only, comment cards included,
ending with what the database kept."""
from __future__ import annotations

import pytest

from framework.db import repository as repo
from tests.browser.widget import (
    CORE_ANSWERS, NO_MORE, OWN_WAY, SEND_CARDS, STORED_VALUE, Widget, answer_to_the_end, choose_preferences,
    stored_checkin,
)

pytestmark = pytest.mark.browser


def comments_of(stack, code: str) -> list[tuple[str, str, list[str] | None, str]]:
    from sqlalchemy import select

    from framework.db.codes import normalise_code
    from framework.db.models import Invite, SurveySession

    with stack.sessions() as db:
        session = db.scalar(select(SurveySession).join(Invite, SurveySession.invite_id == Invite.id)
                            .where(Invite.code == normalise_code(code)))
        return [(c.area_id, c.kind, c.cards, c.text) for c in repo.comments_for(db, session)]


def test_a_whole_checkin_with_comments_by_taps_only(open_widget, new_invite, stack):
    code = new_invite()
    widget: Widget = open_widget("/", width=390, height=844)
    widget.start(code)
    choose_preferences(widget.tap)
    widget.tap(CORE_ANSWERS[0])

    # "Is there more you want to say about feeling safe?": cards, a way to type, and No more.
    labels = widget.answer_labels()
    assert {"too noisy", "people are kind", "I like it", "I need more help"} <= set(labels)
    assert labels[-2:] == [OWN_WAY, NO_MORE]
    widget.assert_focus_after_turn()
    widget.card("too noisy").click()
    widget.card("people are kind").click()
    assert sorted(widget.chosen_cards()) == ["people are kind", "too noisy"]
    assert widget.answer_labels()[-1] == SEND_CARDS  # in the place of No more
    widget.card("people are kind").click()  # a second tap takes a card back
    widget.card("I need more help").click()
    assert sorted(widget.chosen_cards()) == ["I need more help", "too noisy"]
    widget.tap(SEND_CARDS)
    assert "You said: too noisy, I need more help" in widget.my_texts()
    assert "Thank you. I have kept your cards." in widget.bot_texts()

    # There was more, so "What would help you feel safe?" comes, with its own cards.
    assert widget.bot_texts()[-1] == "What would help you feel safe?"
    widget.card("a quiet place").click()
    widget.tap(SEND_CARDS)

    # "Say it my own way" goes to the text box; the child can still tap instead.
    widget.tap(CORE_ANSWERS[1])
    widget.page.locator("#answers").get_by_role("button", name=OWN_WAY).click()
    assert widget.page.evaluate("() => document.activeElement.id") == "say-input"
    widget.tap(NO_MORE)  # and nothing more: the next area's question follows
    assert "Sometimes" in widget.answer_labels()

    read_back: list[str] = []

    def at_each_turn():
        if "Yes, that is right" in widget.answer_labels():
            read_back.extend(widget.bot_texts())

    answer_to_the_end(widget, widget.tap, at_each_turn, answers=CORE_ANSWERS[2:])
    assert any("You chose: too noisy, I need more help." in text and "You chose: a quiet place." in text
               for text in read_back), read_back

    status, answers = stored_checkin(stack, code)
    assert status == "finished"
    assert answers == [(STORED_VALUE[label], "tapped") for label in CORE_ANSWERS]
    assert [(area, kind, cards) for area, kind, cards, _ in comments_of(stack, code)] == [
        ("york.safe", "anything_else", ["too noisy", "I need more help"]),
        ("york.safe", "what_would_help", ["a quiet place"]),
    ]
