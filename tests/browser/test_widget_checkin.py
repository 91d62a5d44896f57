"""Whole check-ins in Chromium, as children do them: by mouse, by keyboard only, on a 320 px
phone, with read-aloud on, and by typing. Each ends with what the database stored."""
from __future__ import annotations

import pytest

from tests.browser.widget import (
    CORE_ANSWERS, MAX_TURNS, NO_MORE, STORED_VALUE, Widget, choose_preferences, complete_core_checkin,
    stored_checkin,
)

pytestmark = pytest.mark.browser

QUESTION_LABELS = [f"Question {n} of 7" for n in range(1, 8)]


def test_a_whole_checkin_by_mouse(open_widget, new_invite, stack):
    code = new_invite()
    widget: Widget = open_widget("/")
    widget.start(code)
    widget.assert_log_is_live()

    def after_turn():
        widget.assert_focus_after_turn()
        widget.assert_targets_big_enough()

    asked = complete_core_checkin(widget, widget.tap, after_turn)
    assert asked == QUESTION_LABELS
    # The child's bubbles show the button words, never the payloads sent.
    mine = widget.my_texts()
    assert mine[:4] == ["You said: Tap buttons", "You said: No, thank you", "You said: A few", "You said: On my own"]
    assert not any("/" in text for text in mine)
    status, answers = stored_checkin(stack, code)
    assert status == "finished"
    assert answers == [(STORED_VALUE[label], "tapped") for label in CORE_ANSWERS]
    widget.page.click("#finish")  # a shared computer at home: the next person sees nothing
    assert widget.page.is_visible("#code-page") and widget.page.is_hidden("#chat-page")
    assert widget.page.locator("#log > *").count() == 0


def test_a_whole_checkin_by_keyboard_only(open_widget, new_invite, stack):
    code = new_invite()
    widget: Widget = open_widget("/", width=1280, height=800)
    keyboard = widget.page.keyboard
    for _ in range(5):
        keyboard.press("Tab")
        if widget.page.evaluate("() => document.activeElement.id") == "code-input":
            break
    keyboard.type(code)
    keyboard.press("Enter")
    widget.wait_for_chat()
    widget.assert_focus_after_turn()

    presses = iter(["Enter", "Space"] * 40)  # both keys work a native button

    def answer(label: str) -> None:
        widget.choose_by_keyboard(label, next(presses))

    asked = complete_core_checkin(widget, answer, widget.assert_focus_after_turn)
    assert asked == QUESTION_LABELS
    # Focus is always visible: the focused button draws an outline.
    outline = widget.page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"
    status, answers = stored_checkin(stack, code)
    assert status == "finished"
    assert answers == [(STORED_VALUE[label], "tapped") for label in CORE_ANSWERS]


def test_a_whole_checkin_at_320_px_never_scrolls_sideways(open_widget, new_invite, stack):
    widget: Widget = open_widget("/", width=320, height=640)
    widget.assert_no_horizontal_scroll()
    widget.start(new_invite())

    read_backs = []

    def after_turn():
        widget.assert_no_horizontal_scroll()
        widget.assert_targets_big_enough()
        if "Yes, that is right" in widget.answer_labels():
            widget.assert_readback_in_view()
            read_backs.append(True)

    after_turn()
    assert complete_core_checkin(widget, widget.tap, after_turn) == QUESTION_LABELS
    assert read_backs == [True]


def test_the_biggest_text_and_easy_read_letters_still_fit_320_px(open_widget, new_invite):
    widget: Widget = open_widget("/", width=320, height=640)
    widget.open_settings()
    widget.page.check("input[name=size][value=bigger]")
    widget.page.check("input[name=easyFont]")
    widget.assert_no_horizontal_scroll()
    widget.close_settings()
    widget.assert_no_horizontal_scroll()
    widget.start(new_invite())
    choose_preferences(widget.tap)
    assert "Sometimes" in widget.answer_labels()
    widget.assert_no_horizontal_scroll()
    widget.assert_targets_big_enough()


RECORD_BROWSER_VOICE = """() => {
    window.spoken = [];
    const speak = speechSynthesis.speak.bind(speechSynthesis);
    speechSynthesis.speak = (utterance) => { window.spoken.push(utterance.text); speak(utterance); };
}"""


class AudioAskedFor:
    """The read-aloud audio the page asks the server for, in order."""

    def __init__(self, widget: Widget):
        self.widget = widget
        self.paths: list[str] = []
        widget.page.on("request", lambda r: "/api/audio/" in r.url and self.paths.append(r.url.removeprefix(widget.base_url)))

    def wait_for(self, expected: list[str], since: int) -> None:
        """Until `expected` has been asked for, in this order, after request number `since`."""
        for _ in range(300):
            if in_order(expected, self.paths[since:]):
                return
            self.widget.page.wait_for_timeout(100)
        raise AssertionError(f"read aloud: expected {expected} in order, the page asked for {self.paths[since:]}")


def test_a_whole_checkin_with_read_aloud_on(open_widget, new_invite):
    widget: Widget = open_widget("/")
    widget.page.evaluate(RECORD_BROWSER_VOICE)
    audio = AudioAskedFor(widget)
    widget.start(new_invite())

    def answer(label: str) -> None:
        since = len(audio.paths)
        reply = widget.tap(label)
        messages = reply["messages"]
        if label == "Tap buttons":
            widget.page.wait_for_timeout(1000)
            assert audio.paths == [], "read-aloud is off until the young person turns it on"
        elif label == "Yes, read to me" or widget.finished():
            # Left alone, every new message is read in order, then the words on the answers.
            buttons = [b["audio_url"] for m in messages for b in m["buttons"]]
            if buttons:  # what a child notices: the Listen button says Stop while it reads
                widget.page.wait_for_selector(f'[data-message-id="{messages[-1]["id"]}"] .listen[data-playing="true"]')
            audio.wait_for([m["audio_url"] for m in messages] + buttons, since)
        else:
            audio.wait_for([messages[0]["audio_url"]], since)  # each turn starts being read; a tap stops it

    asked = complete_core_checkin(widget, answer, read_aloud=True)
    assert asked == QUESTION_LABELS
    assert widget.page.evaluate("() => window.spoken") == []  # the mp3s played: no fallback was needed
    assert widget.page.evaluate("() => JSON.parse(sessionStorage.getItem('heard-settings')).readAloud") is True


def test_read_aloud_uses_the_browser_voice_when_the_audio_fails(open_widget, new_invite):
    widget: Widget = open_widget("/", expect_console_errors=True)
    widget.page.evaluate(RECORD_BROWSER_VOICE)
    widget.page.route("**/api/audio/**", lambda route: route.abort())
    widget.start(new_invite())
    question = widget.bot_texts()[-1]
    widget.page.locator("#log .msg.bot .listen").last.click()
    widget.page.wait_for_function("text => window.spoken.includes(text)", arg=question)
    # However the voice ends (some never say), the button comes back to Listen.
    widget.page.wait_for_function(
        "() => [...document.querySelectorAll('.listen')].every(b => b.innerText.trim() === 'Listen')")


def test_a_young_person_who_types(open_widget, new_invite, stack):
    code = new_invite()
    widget: Widget = open_widget("/", width=390, height=844)
    widget.start(code)
    widget.tap("Type")
    widget.assert_focus_after_turn(typing=True)
    for words in ["yes pls", "just a few", "on my own"]:
        widget.say(words)
        widget.assert_focus_after_turn(typing=True)
    typed = iter(["yh", "nah", "kinda", "idk", "yess", "noo", "sometimes i guess"])
    comment = "i like art <img src=x id=injected> and <b>music</b> 😕"
    commented = False
    for _ in range(30):
        if NO_MORE not in widget.answer_labels():
            words = next(typed, None)
            if words is None:
                break
        else:
            words = "no" if commented else comment
            commented = True
        widget.say(words)
        widget.assert_focus_after_turn(typing=True)
    assert widget.bot_texts()[-1] == "Is that right?"
    # Children's words are text, never markup: shown exactly, nothing made from them.
    assert f"You said: {comment}" in widget.my_texts()
    assert widget.page.locator("#injected, #log b").count() == 0
    status, answers = stored_checkin(stack, code)
    assert [a for a, _ in answers] == ["yes", "no", "sometimes", "dont_know", "yes", "no", "sometimes"]
    assert {method for _, method in answers} == {"typed"}


def in_order(expected: list[str], asked: list[str]) -> bool:
    """Each of `expected` was asked for, in that order (a player may ask for a file more than once)."""
    remaining = iter(asked)
    return all(any(path == wanted for path in remaining) for wanted in expected)


def test_an_answer_changes_in_one_tap_on_its_read_back_line(open_widget, new_invite, stack):
    code = new_invite()
    widget: Widget = open_widget("/", width=320, height=640)
    widget.start(code)
    choose_preferences(widget.tap)
    for _ in range(MAX_TURNS):
        labels = widget.answer_labels()
        if "Yes, that is right" in labels:
            break
        widget.tap("Yes" if "Sometimes" in labels else NO_MORE)
    lines = widget.page.locator("#log .line-change")
    assert lines.count() == 7 and widget.page.locator("#log .line-change[tabindex='0']").count() == 1
    first = widget.page.locator("#log").get_by_role("button", name="Change: Do you feel safe at school? Yes.")
    assert first.count() == 1
    before = widget.bot_count()
    first.click()
    widget.wait_for_reply(before)
    assert widget.bot_texts()[-1] == "Do you feel safe at school?"
    widget.tap("No")
    assert "Yes, that is right" in widget.answer_labels()
    widget.assert_readback_in_view()
    # Only the newest read-back's lines change answers; the first one's are plain lines now.
    assert lines.count() == 7
    assert widget.page.locator("#log").get_by_role("button", name="Change: Do you feel safe at school? No.").count() == 1
    widget.tap("Yes, that is right")
    widget.tap("Only my school")
    status, answers = stored_checkin(stack, code)
    assert status == "finished" and sorted(answers) == [("no", "tapped")] + [("yes", "tapped")] * 6
