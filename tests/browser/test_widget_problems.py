"""When things go wrong: kind words that say what to do, and nothing lost or sent twice."""
from __future__ import annotations

import json

import pytest

from bot.chat import texts
from tests.browser.widget import MESSAGES_API, Widget

pytestmark = pytest.mark.browser


def test_a_lost_reply_is_retried_with_the_same_message_id(open_widget, new_invite):
    widget: Widget = open_widget("/", expect_console_errors=True, bypass_csp=True, reduced_motion="reduce")
    widget.start(new_invite())
    sent: list[dict] = []

    def lose_the_first_reply(route):
        sent.append(json.loads(route.request.post_data))
        if len(sent) == 1:
            route.fetch()  # the server gets and stores the message; its reply never arrives
            route.fulfill(status=503, json={"error": texts.LOST_CONNECTION, "stored": True})
        else:
            route.continue_()

    widget.page.route(MESSAGES_API, lose_the_first_reply)
    before = widget.bot_count()
    widget.answer_button("Tap buttons").click()
    widget.page.wait_for_selector("#problem:not([hidden])")
    assert widget.page.inner_text("#problem-text") == "I lost connection. Your answers are saved. Tap to try again."
    assert widget.focused_text() == "Try again"
    assert widget.bot_count() == before
    widget.assert_axe_clean("lost connection problem")

    with widget.page.expect_response(MESSAGES_API) as retried:
        widget.page.keyboard.press("Enter")
    widget.wait_for_reply(before)
    assert retried.value.json()["duplicate"] is True
    assert [s["client_message_id"] for s in sent] == [sent[0]["client_message_id"]] * 2
    assert widget.page.is_hidden("#problem")
    assert widget.bot_texts()[before:] == ["Shall I read the questions out loud?"]
    assert widget.my_texts() == ["You said: Tap buttons"]
    widget.assert_focus_after_turn()


def test_no_connection_at_all_then_it_comes_back(open_widget, new_invite):
    widget: Widget = open_widget("/", expect_console_errors=True)
    widget.start(new_invite())
    attempts: list[str] = []

    def offline_once(route):
        attempts.append(json.loads(route.request.post_data)["client_message_id"])
        if len(attempts) == 1:
            route.abort("internetdisconnected")
        else:
            route.continue_()

    widget.page.route(MESSAGES_API, offline_once)
    widget.answer_button("Type").click()
    widget.page.wait_for_selector("#problem:not([hidden])")
    # Nothing reached the server, so nothing may be called saved.
    assert widget.page.inner_text("#problem-text") == texts.NOT_SENT
    before = widget.bot_count()
    widget.page.click("#problem-action")
    widget.wait_for_reply(before)
    assert attempts[0] == attempts[1]
    widget.assert_focus_after_turn(typing=True)  # the child chose to type


def test_a_wrong_code_gets_kind_words_and_another_go(open_widget):
    widget: Widget = open_widget("/")
    widget.page.click("button.go")
    assert widget.page.inner_text("#code-error") == texts.CODE_MISSING
    widget.page.fill("#code-input", "ABCD-EFGH")
    with widget.page.expect_response("**/api/sessions"):
        widget.page.click("button.go")
    widget.page.wait_for_function("() => document.getElementById('code-error').innerText.length > 0")
    assert widget.page.inner_text("#code-error") == texts.CODE_NOT_FOUND
    assert widget.page.get_attribute("#code-error", "role") == "alert"
    assert widget.page.evaluate("() => document.activeElement.id") == "code-input"
    assert widget.page.is_hidden("#chat-page")
    widget.errors.clear()  # the 404 of a wrong code is the browser's own console line
