"""Choices that respect everyone, in Chromium, as a child meets them: the question set staff
chose is the first button (where focus lands) and the only longest one; stopping asks who may see
the answers in the same turn, and the end is said once, with one button."""
from __future__ import annotations

import pytest

from tests.browser.widget import Widget, stored_checkin

pytestmark = pytest.mark.browser

AXE_CONTEXT = {"bypass_csp": True, "reduced_motion": "reduce"}  # axe's script is injected inline
CONSENT = ["Only my school", "My school and my family", "Also the council, with no name"]
GOODBYE = "Bye for now. Thank you for talking to me."


def visible_buttons(widget: Widget) -> list[str]:
    """The chat's buttons a child can see, besides each message's Listen."""
    return widget.doc.evaluate("""() => [...document.querySelectorAll('#chat-page button')]
        .filter(b => b.getClientRects().length && !b.classList.contains('listen'))
        .map(b => b.innerText.trim())""")


@pytest.mark.parametrize(("invited", "offered"), [
    ("full", ["All of them", "Some", "A few"]), ("standard", ["Some", "A few"]),
])
def test_the_set_staff_chose_comes_first_and_nothing_longer_is_offered(open_widget, new_invite, invited, offered):
    widget: Widget = open_widget("/")
    widget.start(new_invite(question_set=invited))
    widget.tap("Tap buttons")
    widget.tap("No, thank you")
    assert widget.answer_labels() == offered
    widget.assert_focus_after_turn()  # on the first: staff's set, so Enter keeps it
    widget.page.keyboard.press("Enter")
    widget.page.wait_for_function("() => document.querySelector('#answers button')?.innerText.includes('On my own')")
    assert widget.my_texts()[-1] == f"You said: {offered[0]}"


def test_stop_asks_who_may_see_in_one_step_then_ends_once(open_widget, new_invite, stack):
    code = new_invite()
    widget: Widget = open_widget("/", width=320, height=640, **AXE_CONTEXT)
    widget.start(code)
    for label in ["Tap buttons", "No, thank you", "A few", "On my own", "No"]:
        widget.tap(label)
    widget.say("can we stop")
    assert widget.bot_texts()[-2:] == ["Okay, we will stop now. I have kept your answers.", "Who can see your answers?"]
    assert widget.answer_labels() == CONSENT
    widget.assert_focus_after_turn(typing=True)
    widget.assert_axe_clean("who may see, after stop")
    widget.tap("Only my school")
    assert widget.bot_texts()[-1] == GOODBYE and widget.bot_texts().count(GOODBYE) == 1
    assert visible_buttons(widget) == ["Close"]
    widget.assert_focus_after_turn()
    widget.assert_axe_clean("the end after stop")
    status, answers = stored_checkin(stack, code)
    assert status == "stopped" and answers == [("no", "tapped")]
