"""axe-core on every state of the widget, and the checks axe cannot make: the live log,
focus, reduced motion, the typing indicator, settings, progress, and the page's CSP."""
from __future__ import annotations

import re
import time

from datetime import date, timedelta

import httpx
import pytest

from framework import we_did
from framework.db import repository as repo
from framework.db.models import utcnow
from framework.loader import load_framework
from tests.browser.widget import (
    AXE_TAGS, MESSAGES_API, NO_MORE, OWN_WAY, SEND_CARDS, Widget, answer_to_the_end, choose_preferences,
)

pytestmark = pytest.mark.browser

# axe's script is injected inline, which the page's CSP rightly forbids; these contexts only.
AXE_CONTEXT = {"bypass_csp": True, "reduced_motion": "reduce"}
TINTS = ["white", "cream", "blue", "green", "pink", "yellow"]


def test_axe_finds_nothing_on_any_state(open_widget, new_invite):
    assert AXE_TAGS == ["wcag2a", "wcag2aa", "wcag21aa", "wcag22aa"]
    tablet: Widget = open_widget("/tablet", **AXE_CONTEXT)
    tablet.assert_axe_clean("tablet code page")

    widget: Widget = open_widget("/", **AXE_CONTEXT)
    widget.assert_axe_clean("code page")
    widget.start(new_invite())
    widget.assert_axe_clean("opening")
    widget.open_settings()
    widget.assert_axe_clean("settings")
    widget.close_settings()
    choose_preferences(widget.tap)
    assert "Sometimes" in widget.answer_labels()
    widget.assert_axe_clean("question")

    widget.say("my hamster is called biscuit")
    assert "Do you mean yes, sometimes or no?" in widget.bot_texts()
    widget.assert_axe_clean("clarify question")
    widget.tap("Sometimes")
    assert widget.answer_labels()[-2:] == [OWN_WAY, NO_MORE]
    widget.assert_axe_clean("comment prompt")
    widget.card("too noisy").click()
    assert widget.answer_labels()[-1] == SEND_CARDS
    widget.assert_axe_clean("comment prompt with a card chosen")
    widget.tap(SEND_CARDS)
    widget.assert_axe_clean("second comment prompt")

    def at_each_turn():
        if "Yes, that is right" in widget.answer_labels():
            widget.assert_axe_clean("read-back")

    answer_to_the_end(widget, widget.tap, at_each_turn)
    widget.assert_axe_clean("end")


def test_axe_finds_nothing_while_the_school_says_what_it_did(open_widget, stack):
    """ "You said, we did": the bubbles with the area's symbol, and "Did that help?" with its buttons."""
    safe = load_framework("york").questions("children_young_people", "core")[0]
    with stack.sessions.begin() as db:
        school = repo.create_school(db, "We Did School")
        repo.create_staff(db, "dsl@wedid.example", "not-a-login", "dsl", school)
        senco = repo.create_staff(db, "senco@wedid.example", "not-a-login", "senco", school)
        pupil = repo.create_pupil(db, school, "Widget Pupil", year_group="Year 4")
        before = repo.start_or_resume_session(db, repo.create_invite(db, pupil, "york", question_set="core")).session
        before.started_at = utcnow() - timedelta(days=14)
        answer = repo.record_answer(db, before, safe.id, "york.safe", "no", "tapped")
        repo.set_status(db, before, "finished")
        action = we_did.record(db, senco, before, answer=answer, what="Quiet lunch", who="TA", due_on=date.today(),
                               child_words="you can eat in the quiet room")
        we_did.mark_done(db, action, senco)
        code = repo.create_invite(db, pupil, "york", question_set="standard").code  # "How many questions?" is asked
    widget: Widget = open_widget("/", **AXE_CONTEXT)
    widget.start(code)
    choose_preferences(widget.tap)
    assert widget.bot_texts()[-2:] == ["Now you can eat in the quiet room.", "Did that help?"]
    assert widget.answer_labels() == ["Yes", "A bit", "No", "Skip"]
    widget.assert_axe_clean("you said, we did")
    widget.tap("A bit")
    assert "Thank you for telling me." in widget.bot_texts() and "Sometimes" in widget.answer_labels()
    widget.assert_axe_clean("the first question after it")


LOOKS = [
    *({"tint": tint} for tint in TINTS),
    {"contrast": True},
    {"contrast": True, "tint": "pink"},  # high contrast wins over a tint
    {"contrast": True, "easyFont": True, "size": "bigger"},
    {"tint": "cream", "easyFont": True, "size": "big"},
]


def test_every_look_a_child_can_choose_passes_axe(open_widget, new_invite):
    """Colour contrast and spacing in each setting, on a page showing every kind of part:
    bot and child bubbles, progress, answers, Listen buttons, the text box and a problem."""
    widget: Widget = open_widget("/", **AXE_CONTEXT)
    widget.start(new_invite())
    choose_preferences(widget.tap)
    widget.page.press("#say-input", "Enter")  # nothing typed: a kind problem shows
    assert widget.page.inner_text("#problem-text") == "Please type something, or tap a button."
    for look in LOOKS:
        widget.open_settings()
        choose_look(widget, look)
        widget.assert_axe_clean(f"settings with {look}")
        widget.close_settings()
        widget.assert_axe_clean(f"question with {look}")


def choose_look(widget: Widget, look: dict) -> None:
    page = widget.page
    page.check(f"input[name=size][value={look.get('size', 'normal')}]")
    page.check(f"input[name=tint][value={look.get('tint', 'white')}]")
    for switch in ("easyFont", "contrast"):
        page.set_checked(f"input[name={switch}]", look.get(switch, False))


def test_focus_after_each_turn_and_the_live_log(open_widget, new_invite):
    widget: Widget = open_widget("/")
    widget.start(new_invite())
    widget.assert_log_is_live()
    assert widget.page.get_attribute("[role=log]", "aria-relevant") == "additions"
    widget.assert_focus_after_turn()
    widget.tap("Tap buttons")
    widget.assert_focus_after_turn()
    # New bot messages are added to the log; answers stay outside it, so they are not re-read.
    assert widget.page.locator("[role=log] #answers, [role=log] button.answer").count() == 0
    widget.say("yes please")
    widget.assert_focus_after_turn(typing=True)


def test_the_typing_indicator_is_announced_once(open_widget, new_invite):
    widget: Widget = open_widget("/")
    widget.start(new_invite())
    widget.page.evaluate("""() => {
        window.announced = [];
        new MutationObserver(() => {
            const words = document.getElementById('typing').innerText.trim();
            if (words) window.announced.push(words);
        }).observe(document.getElementById('typing'), {childList: true, subtree: true, characterData: true});
    }""")

    def slow_reply(route):
        time.sleep(1.5)  # a slow school network: long enough to see the dots
        route.continue_()

    widget.page.route(MESSAGES_API, slow_reply)
    widget.tap("Tap buttons")
    assert widget.page.evaluate("() => window.announced") == ["Heard is writing."]
    assert widget.page.get_attribute("#typing", "role") == "status"
    assert widget.page.inner_text("#typing") == ""


def test_reduced_motion_is_respected(open_widget, new_invite):
    still: Widget = open_widget("/", reduced_motion="reduce")
    still.start(new_invite())
    assert still.page.evaluate("() => getComputedStyle(document.querySelector('.msg')).animationName") == "none"
    moving: Widget = open_widget("/", reduced_motion="no-preference")
    moving.start(new_invite())
    assert moving.page.evaluate("() => getComputedStyle(document.querySelector('.msg')).animationName") == "arrive"


def test_settings_change_the_page_and_last_only_this_session(open_widget, new_invite):
    widget: Widget = open_widget("/")
    page = widget.page
    page.keyboard.press("Tab")
    assert widget.focused_text() == "Settings"
    page.keyboard.press("Enter")
    page.wait_for_selector("#settings[open]")
    page.check("input[name=size][value=big]")
    page.check("input[name=tint][value=cream]")
    page.check("input[name=easyFont]")
    size, background, font, spaced = page.evaluate("""() => {
        const html = getComputedStyle(document.documentElement), body = getComputedStyle(document.body);
        return [html.fontSize, body.backgroundColor, body.fontFamily, parseFloat(body.letterSpacing) > 0];
    }""")
    assert (size, background, spaced) == ("21px", "rgb(251, 244, 226)", True)
    assert font.startswith("Verdana")
    page.check("input[name=contrast]")
    assert page.evaluate("() => getComputedStyle(document.body).backgroundColor") == "rgb(0, 0, 0)"
    page.keyboard.press("Escape")
    page.wait_for_selector("#settings:not([open])", state="attached")
    assert widget.focused_text() == "Settings"  # focus comes back to where it was

    widget.open("/")  # the same tab: the settings stay
    root = page.evaluate("() => [document.documentElement.dataset.size, [...document.documentElement.classList]]")
    assert root[0] == "big" and {"easy-font", "contrast"} <= set(root[1])
    widget.start(new_invite())
    widget.tap("Tap buttons")
    stored = page.evaluate("() => [localStorage.length, Object.keys(sessionStorage), sessionStorage.getItem('heard-settings')]")
    assert stored[:2] == [0, ["heard-settings"]]
    assert "Tap" not in stored[2] and "Heard" not in stored[2]  # settings only, never words of the chat

    fresh: Widget = open_widget("/")  # another session starts with the usual look
    assert fresh.page.evaluate("() => document.documentElement.dataset.size") == "normal"


def test_progress_shows_words_and_area_icons(open_widget, new_invite):
    widget: Widget = open_widget("/")
    widget.start(new_invite())
    assert widget.page.is_hidden("#progress")  # nothing to count yet
    choose_preferences(widget.tap)
    assert widget.progress_label() == "Question 1 of 7"
    areas = widget.page.locator("#progress-areas li")
    assert areas.count() == 7
    assert widget.page.locator("#progress-areas [aria-current=step]").count() == 1
    first_area = areas.first.inner_text()
    assert first_area.endswith(": now")
    assert widget.page.inner_text("#progress-area").strip(" ·") == first_area.removesuffix(": now")
    widget.tap("Yes")
    widget.tap(NO_MORE)
    assert widget.progress_label() == "Question 2 of 7"
    assert areas.first.inner_text().endswith(": done")
    assert "done" in areas.first.get_attribute("class")


def test_the_pages_forbid_inline_script(web_url):
    for path in ("/", "/tablet"):
        response = httpx.get(web_url + path, timeout=10)
        assert response.status_code == 200
        policy = response.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy
        assert response.headers["cache-control"] == "no-store"
        assert not re.search(r"<script(?![^>]*\ssrc=)", response.text), "a script without src"
        assert not re.search(r"\son[a-z]+=", response.text), "an inline event handler"


def test_tablet_timings_come_from_the_query_within_bounds(web_url):
    def timings(query: str) -> tuple[str, ...]:
        page = httpx.get(f"{web_url}/tablet{query}", timeout=10).text
        return tuple(re.search(rf'data-{name}-seconds="(\d+)"', page)[1] for name in ("idle", "end", "warning"))

    # 3 minutes (30 s once finished), then 30 s to answer "Are you still there?"
    assert timings("") == ("180", "30", "30")
    assert timings("?idle=5&end=2&warn=20") == ("5", "2", "20")
    assert timings("?idle=0&warn=99999") == ("1", "30", "3600")
    assert timings("?idle=-5&end=²&warn=soon") == ("180", "30", "30")
