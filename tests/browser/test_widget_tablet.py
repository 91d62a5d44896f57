"""School tablet mode (/tablet): the code pad, and handing the tablet on to the next child
with nothing of the last one left in the page or the browser."""
from __future__ import annotations

import pytest

from framework.db.codes import format_code, normalise_code
from tests.browser.widget import Widget, answer_to_the_end, choose_preferences, stored_checkin

pytestmark = pytest.mark.browser

LEFT_BEHIND = """() => ({
    log: document.querySelectorAll('#log > *').length,
    answers: document.querySelectorAll('#answers > *').length,
    progressHidden: document.getElementById('progress').hidden,
    codePage: !document.getElementById('code-page').hidden,
    code: document.getElementById('code-input').value,
    localStorage: localStorage.length,
    sessionStorage: sessionStorage.length,
})"""
NOTHING_LEFT = {"log": 0, "answers": 0, "progressHidden": True, "codePage": True, "code": "",
                "localStorage": 0, "sessionStorage": 0}


def type_on_pad(widget: Widget, characters: str) -> None:
    pad = widget.page.locator(".pad")
    for character in characters:
        pad.get_by_role("button", name=character, exact=True).click()


def test_code_pad_then_the_end_leaves_nothing_for_the_next_child(open_widget, new_invite, stack):
    code = new_invite()
    widget: Widget = open_widget("/tablet?end=6&warn=2", width=768, height=1024)
    widget.assert_targets_big_enough()
    shown = format_code(normalise_code(code))  # ABCD-EFGH, as on the child's card
    type_on_pad(widget, code)
    assert widget.page.input_value("#code-input") == shown
    type_on_pad(widget, "A")  # a code is 8 long: the pad stops there
    assert widget.page.input_value("#code-input") == shown
    widget.page.locator(".pad").get_by_role("button", name="Delete").click()
    assert widget.page.input_value("#code-input") == shown[:-1]
    type_on_pad(widget, code[-1])
    assert widget.page.input_value("#code-input") == shown
    widget.page.click("button.go")
    widget.wait_for_chat()

    widget.open_settings()
    widget.page.check("input[name=contrast]")  # this child's look
    widget.close_settings()
    choose_preferences(widget.tap)
    answer_to_the_end(widget, widget.tap)
    assert widget.focused_text() == "Close"
    # Nobody touches it: soon after the end, a warning, then the code page for the next child.
    widget.page.wait_for_selector("#idle-warning[open]", timeout=10_000)
    widget.page.wait_for_selector("#code-page:not([hidden])", timeout=10_000)

    assert widget.page.evaluate(LEFT_BEHIND) == NOTHING_LEFT
    assert "contrast" not in widget.page.evaluate("() => document.documentElement.className")
    assert widget.page.evaluate("() => document.activeElement.id") == "code-title"
    assert "safe" not in widget.page.inner_text("body")
    assert stored_checkin(stack, code)[0] == "finished"  # the answers are on the server


def test_the_idle_warning_can_be_dismissed(open_widget, new_invite):
    widget: Widget = open_widget("/tablet?idle=2&warn=60", bypass_csp=True, reduced_motion="reduce")
    widget.start(new_invite())
    warning = widget.page.locator("#idle-warning")
    warning.wait_for(state="visible", timeout=10_000)
    assert warning.get_by_role("heading").inner_text() == "Are you still there?"
    assert widget.focused_text() == "Yes, I'm here"
    widget.assert_axe_clean("idle warning")
    widget.page.keyboard.press("Enter")
    warning.wait_for(state="hidden")
    assert widget.page.is_visible("#chat-page")
    assert widget.answer_labels() == ["Tap buttons", "Type"]
    warning.wait_for(state="visible", timeout=10_000)  # idle again: asked again, never silently closed
    widget.page.keyboard.press("Escape")  # Escape means "I'm here" too
    warning.wait_for(state="hidden")
    assert widget.page.is_visible("#chat-page")


def test_an_idle_tablet_goes_back_to_the_code_page_and_keeps_the_answers(open_widget, new_invite, stack):
    code = new_invite()
    widget: Widget = open_widget("/tablet?idle=10&warn=2")
    widget.start(code)
    choose_preferences(widget.tap)
    widget.tap("No")
    widget.page.wait_for_selector("#idle-warning[open]", timeout=20_000)
    widget.page.wait_for_selector("#code-page:not([hidden])", timeout=10_000)
    assert widget.page.evaluate(LEFT_BEHIND) == NOTHING_LEFT
    assert stored_checkin(stack, code)[1] == [("no", "tapped")]

    # The same child comes back later: the check-in carries on from where it stopped.
    widget.start(code)
    assert "Welcome back. Let's carry on from where you stopped." in widget.bot_texts()


def test_a_slips_qr_code_fills_in_the_code_but_starts_nothing(open_widget, new_invite):
    code = new_invite()
    sent: list[str] = []
    widget: Widget = open_widget(f"/?code={code}")
    widget.page.on("request", lambda request: "/api/" in request.url and sent.append(request.url))
    assert widget.page.input_value("#code-input") == code
    assert "code=" not in widget.page.url  # not kept in the address bar or its history
    assert sent == [] and widget.page.is_visible("#code-page")
    widget.page.click("button.go")  # the young person starts it themselves
    widget.wait_for_chat()
    assert widget.answer_labels()
