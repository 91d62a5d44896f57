"""A calm keyboard and switch access, in Chromium: the answers are one Tab stop that the arrow
keys move inside, one Listen (and the L key) for the current question, and whole check-ins
with only two switch keys, or one switch that scans by itself."""
from __future__ import annotations

import pytest

from tests.browser.widget import (
    CORE_ANSWERS, MESSAGES_API, NO_MORE, OWN_WAY, REPLY_TIMEOUT_MS, SEND_CARDS, STORED_VALUE, Widget, answer_to_the_end,
    choose_preferences, stored_checkin,
)

pytestmark = pytest.mark.browser

LONG_PRESS_MS = 800  # bot/static/widget/keys.js


def focused(widget: Widget) -> str:
    return widget.page.evaluate("""() => {
        const active = document.activeElement;
        if (active.closest('#answers')) return 'answer: ' + active.innerText.trim();
        return active.id || active.className || active.tagName;
    }""")


def test_arrow_keys_move_between_answers_and_each_group_is_one_tab_stop(open_widget, new_invite):
    widget: Widget = open_widget("/")
    widget.start(new_invite())
    for label in ["Tap buttons", "No, thank you", "A few"]:
        widget.tap(label)
    question = next(m for m in widget.tap("On my own")["messages"] if m["kind"] == "question")
    keyboard = widget.page.keyboard
    assert focused(widget) == "answer: Yes"
    for key, expected in [("ArrowRight", "Sometimes"), ("ArrowDown", "No"), ("ArrowLeft", "Sometimes"),
                          ("End", "Skip"), ("ArrowRight", "Yes"), ("ArrowUp", "Skip"), ("Home", "Yes")]:
        keyboard.press(key)
        assert focused(widget) == f"answer: {expected}", key
    # From Settings: the current question's Listen, then the answers, then the text box.
    widget.page.focus("#open-settings")
    stops = []
    for _ in range(4):
        keyboard.press("Tab")
        stops.append(focused(widget))
    assert stops == ["listen", "answer: Yes", "say-input", "send"]
    # Only the current question's Listen is a Tab stop; the arrows reach the others.
    listens = widget.page.locator("#log .listen")
    assert widget.page.locator("#log .listen[tabindex='0']").count() == 1
    assert listens.last.get_attribute("tabindex") == "0" and listens.last.get_attribute("aria-keyshortcuts") == "L"
    listens.last.focus()
    keyboard.press("ArrowUp")
    assert widget.page.evaluate("() => [...document.querySelectorAll('#log .listen')].indexOf(document.activeElement)") \
        == listens.count() - 2
    # L, from an answer, reads the question.
    widget.page.focus("#answers button")
    with widget.page.expect_request(lambda request: request.url.endswith(question["audio_url"])):
        keyboard.press("l")
    widget.assert_axe_clean("question, reached by keyboard")


def use_switches(widget: Widget, how: str, speed: str = "medium") -> None:
    """A teaching assistant sets the switches up in the settings."""
    widget.open_settings()
    settings = widget.page.locator("#settings")
    settings.get_by_label(how).check()
    settings.get_by_label(speed.title(), exact=True).check()
    widget.close_settings()


def highlighted(widget: Widget) -> list[str]:
    return [t.strip() for t in widget.page.locator(".scan-here").all_inner_texts()]


class TwoSwitches:
    """Space moves the highlight to the next answer, Enter chooses it; nothing else is pressed."""

    def __init__(self, widget: Widget):
        self.widget = widget

    def move_to(self, label: str, limit: int = 20) -> None:
        for _ in range(limit):
            [now] = highlighted(self.widget)
            assert now != OWN_WAY, "a switch cannot type: the text box is never in the scan"
            if now == label:
                assert focused(self.widget) in (f"answer: {label}", "finish")
                return
            self.widget.page.keyboard.press(" ")
        raise AssertionError(f"Space never reached {label!r}; the highlight is on {highlighted(self.widget)}")

    def choose(self, label: str) -> dict:
        self.move_to(label)
        before = self.widget.bot_count()
        with self.widget.page.expect_response(MESSAGES_API, timeout=REPLY_TIMEOUT_MS) as reply:
            self.widget.page.keyboard.press("Enter")
        self.widget.wait_for_reply(before)
        self.widget.page.wait_for_selector(".scan-here")
        return reply.value.json()

    def tick(self, label: str) -> None:
        """A card: Enter chooses it and the highlight stays."""
        self.move_to(label)
        self.widget.page.keyboard.press("Enter")
        assert highlighted(self.widget) == [label]


def test_a_whole_checkin_with_only_two_switch_keys(open_widget, new_invite, stack):
    code = new_invite()
    widget: Widget = open_widget("/", width=390, height=844)
    use_switches(widget, "Two switches")
    widget.start(code)  # the teaching assistant types the code
    switches = TwoSwitches(widget)
    assert highlighted(widget) == ["Tap buttons"]
    for label in ["Tap buttons", "No, thank you", "A few"]:
        switches.choose(label)
    question = next(m for m in switches.choose("On my own")["messages"] if m["kind"] == "question")

    # Each step says the answer's name: its audio is asked for.
    sometimes = next(b for b in question["buttons"] if b["label"] == "Sometimes")
    with widget.page.expect_request(lambda request: request.url.endswith(sometimes["audio_url"])):
        widget.page.keyboard.press(" ")
    assert highlighted(widget) == ["Sometimes"]
    widget.assert_axe_clean("question, a switch highlighting an answer")
    switches.choose(CORE_ANSWERS[0])

    # Comment cards by switch: choose two, then send them.
    switches.tick("too noisy")
    switches.tick("I need more help")
    assert sorted(widget.chosen_cards()) == ["I need more help", "too noisy"]
    switches.choose(SEND_CARDS)
    switches.choose(NO_MORE)  # nothing more about what would help

    # Holding the first switch down also chooses.
    switches.move_to(CORE_ANSWERS[1])
    before = widget.bot_count()
    with widget.page.expect_response(MESSAGES_API, timeout=REPLY_TIMEOUT_MS):
        widget.page.keyboard.down(" ")
        widget.page.wait_for_timeout(LONG_PRESS_MS + 400)  # a hold is a length of time, not a wait for the app
        widget.page.keyboard.up(" ")
    widget.wait_for_reply(before)
    widget.page.wait_for_selector(".scan-here")

    answer_to_the_end(widget, switches.choose, answers=CORE_ANSWERS[2:])
    status, answers = stored_checkin(stack, code)
    assert status == "finished"
    assert answers == [(STORED_VALUE[label], "tapped") for label in CORE_ANSWERS]
    assert highlighted(widget) == ["Close"]


def test_one_switch_scans_by_itself_and_a_press_chooses(open_widget, new_invite, stack):
    code = new_invite()
    widget: Widget = open_widget("/")
    use_switches(widget, "One switch", speed="slow")
    widget.start(code)
    choose_preferences(widget.tap)
    assert highlighted(widget) == ["Yes"]
    widget.page.wait_for_function("() => document.querySelector('.scan-here').innerText.trim() === 'Sometimes'",
                                  timeout=REPLY_TIMEOUT_MS)
    before = widget.bot_count()
    with widget.page.expect_response(MESSAGES_API, timeout=REPLY_TIMEOUT_MS):
        widget.page.keyboard.press(" ")
    widget.wait_for_reply(before)
    assert widget.my_texts()[-1] == "You said: Sometimes"
    _, answers = stored_checkin(stack, code)
    assert answers == [("sometimes", "tapped")]
