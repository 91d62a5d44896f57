"""The chat widget as a young person meets it, for the browser tests: open it, type a code,
answer by mouse or keyboard, and the checks every state must pass."""
from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Frame, Page
from sqlalchemy import select

from framework.db import repository as repo
from framework.db.codes import normalise_code
from framework.db.models import Invite, SurveySession
from framework.settings import PROJECT_ROOT

AXE_SCRIPT = PROJECT_ROOT / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21aa", "wcag22aa"]
MIN_TARGET_PX = 44
REPLY_TIMEOUT_MS = 60_000  # Rasa on 2 busy cores

MESSAGES_API = "**/api/sessions/current/messages"
# The answers given to York's seven core questions, as the buttons say them, and as stored.
CORE_ANSWERS = ["Yes", "Sometimes", "No", "I don't know", "Skip", "Yes", "No"]
STORED_VALUE = {"Yes": "yes", "Sometimes": "sometimes", "No": "no", "I don't know": "dont_know", "Skip": "skipped"}
FINISHED = "You have finished. You can close this now."
NO_MORE, SEND_CARDS, OWN_WAY = "No more", "Send my cards", "Say it my own way"  # under a comment prompt
MAX_TURNS = 40  # York's core check-in takes 24 after the preferences


class Widget:
    """The widget in `page`, or in one of its frames (`frame`: on another site, through the launcher)."""

    def __init__(self, page: Page, base_url: str, expect_console_errors: bool = False, frame: Frame | None = None):
        self.page = page
        self.doc = frame or page.main_frame  # where the widget's elements are
        self.base_url = base_url
        self.expect_console_errors = expect_console_errors
        self.errors: list[str] = []
        page.on("pageerror", lambda error: self.errors.append(f"script error: {error}"))
        page.on("console", lambda message: message.type == "error" and self.errors.append(f"console: {message.text}"))

    def page_problems(self) -> list[str]:
        if self.expect_console_errors:
            return [e for e in self.errors if e.startswith("script error")]
        return self.errors

    # ---- moving around ------------------------------------------------------------------------

    def open(self, path: str = "/") -> None:
        self.page.goto(self.base_url + path)
        self.doc.wait_for_selector("html.js")  # the widget's script has run

    def start(self, code: str) -> dict:
        """Type the code and press Go; the API's answer."""
        self.doc.fill("#code-input", code)
        with self.page.expect_response("**/api/sessions") as started:
            self.doc.click("button.go")
        self.wait_for_chat()
        return started.value.json()

    def wait_for_chat(self) -> None:
        self.doc.wait_for_selector("#answers button, #problem:not([hidden])", timeout=REPLY_TIMEOUT_MS)

    def bot_count(self) -> int:
        return self.doc.locator("#log .msg.bot").count()

    def wait_for_reply(self, bot_messages_before: int) -> None:
        self.doc.wait_for_function(
            """before => document.querySelectorAll('#log .msg.bot').length > before
                        || !document.getElementById('problem').hidden""",
            arg=bot_messages_before, timeout=REPLY_TIMEOUT_MS,
        )

    def answer_button(self, label: str):
        return self.doc.locator("#answers").get_by_role("button", name=label, exact=True)

    def tap(self, label: str) -> dict:
        """Click an answer with the mouse; the API's reply."""
        before = self.bot_count()
        with self.page.expect_response(MESSAGES_API, timeout=REPLY_TIMEOUT_MS) as reply:
            self.answer_button(label).click()
        self.wait_for_reply(before)
        return reply.value.json()

    def say(self, words: str) -> dict:
        """Type into the text box and press Enter; the API's reply."""
        before = self.bot_count()
        self.doc.fill("#say-input", words)
        with self.page.expect_response(MESSAGES_API, timeout=REPLY_TIMEOUT_MS) as reply:
            self.doc.press("#say-input", "Enter")
        self.wait_for_reply(before)
        return reply.value.json()

    def focused_text(self) -> str:
        return self.doc.evaluate("() => (document.activeElement.innerText || '').trim()")

    def arrow_to(self, label: str, limit: int = 15) -> None:
        """Move with the right arrow key to the answer that says `label`."""
        for _ in range(limit):
            if self.focused_text() == label:
                return
            self.page.keyboard.press("ArrowRight")
        raise AssertionError(f"the arrows never reached {label!r}; focus is on {self.focused_text()!r}")

    def choose_by_keyboard(self, label: str, key: str = "Enter") -> None:
        self.arrow_to(label)
        before = self.bot_count()
        with self.page.expect_response(MESSAGES_API, timeout=REPLY_TIMEOUT_MS):
            self.page.keyboard.press(key)
        self.wait_for_reply(before)

    def open_settings(self) -> None:
        self.doc.click("#open-settings")
        self.doc.wait_for_selector("#settings[open]")

    def close_settings(self) -> None:
        self.doc.locator("#settings").get_by_role("button", name="Done").click()
        self.doc.wait_for_selector("#settings:not([open])", state="attached")

    # ---- what the child sees ----------------------------------------------------------------------

    def card(self, label: str):
        return self.doc.locator("#answers .card").filter(has_text=label)

    def chosen_cards(self) -> list[str]:
        return [t.strip() for t in self.doc.locator("#answers .card[aria-pressed=true]").all_inner_texts()]

    def answer_labels(self) -> list[str]:
        return [label.strip() for label in self.doc.locator("#answers button").all_inner_texts()]

    def bot_texts(self) -> list[str]:
        return self.doc.locator("#log .msg.bot .msg-text").all_inner_texts()

    def my_texts(self) -> list[str]:
        return [t.strip() for t in self.doc.locator("#log .msg.me .msg-text").all_text_contents()]

    def progress_label(self) -> str:
        return self.doc.inner_text("#progress-label")

    def finished(self) -> bool:
        return self.doc.is_visible("#finish")

    # ---- checks every state must pass --------------------------------------------------------------

    def assert_focus_after_turn(self, typing: bool = False) -> None:
        """Focus is on the first new answer, or the text box for a child who types."""
        where = self.doc.evaluate("""() => {
            const active = document.activeElement;
            if (active === document.getElementById('say-input')) return 'text box';
            if (active === document.getElementById('finish')) return 'finish';
            if (active === document.querySelector('#answers button')) return 'first answer';
            return active.outerHTML.slice(0, 120);
        }""")
        if self.finished():
            assert where == "finish", where
        else:
            assert where == ("text box" if typing else "first answer"), where

    def assert_no_horizontal_scroll(self) -> None:
        widths = self.doc.evaluate(
            "() => [document.scrollingElement.scrollWidth, document.scrollingElement.clientWidth]")
        assert widths[0] <= widths[1], f"the page scrolls sideways: {widths[0]} px of content in {widths[1]} px"

    def assert_readback_in_view(self) -> None:
        """The newest read-back shows from its start with its buttons on screen, each line with a symbol."""
        place = self.doc.evaluate("""() => {
            const start = [...document.querySelectorAll('#log .kind-readback')].pop().getBoundingClientRect();
            const buttons = [...document.querySelectorAll('#answers button')].map(b => b.getBoundingClientRect());
            const lines = [...document.querySelectorAll('#log .readback-lines li')];
            return {start: start.top, height: innerHeight, buttons: buttons.map(b => [b.top, b.bottom]),
                    lines: lines.length, bare: lines.filter(li => !li.querySelector('img[src^="/symbols/"]')).length};
        }""")
        assert 0 <= place["start"] < place["height"] / 2, place
        assert all(0 <= top and bottom <= place["height"] for top, bottom in place["buttons"]), place
        assert place["lines"] >= 7 and place["bare"] == 0, place

    def assert_targets_big_enough(self) -> None:
        small = self.doc.evaluate("""min => [...document.querySelectorAll('button')]
            .filter(b => b.getClientRects().length)
            .map(b => [b.innerText.trim() || b.outerHTML.slice(0, 60), b.getBoundingClientRect()])
            .filter(([, r]) => r.width < min || r.height < min)
            .map(([name, r]) => `${name}: ${Math.round(r.width)}x${Math.round(r.height)}`)""", MIN_TARGET_PX)
        assert not small, f"buttons smaller than {MIN_TARGET_PX}x{MIN_TARGET_PX} px: {small}"

    def assert_log_is_live(self) -> None:
        log = self.doc.locator("[role=log]")
        assert log.count() == 1
        assert log.get_attribute("aria-live") == "polite"

    def assert_axe_clean(self, state: str) -> None:
        assert_axe_clean(self.page, state)


def assert_axe_clean(page: Page, state: str) -> None:
    """axe-core with the WCAG 2.2 AA tags finds nothing on the page as it is now."""
    if not AXE_SCRIPT.is_file():
        raise AssertionError(f"axe-core is missing at {AXE_SCRIPT}: run 'make setup'")
    if not page.evaluate("() => typeof window.axe === 'object'"):
        # Evaluated by the browser's debugger, which a page's Content-Security-Policy does not bind.
        page.evaluate(AXE_SCRIPT.read_text(encoding="utf-8"))
    # axe leaves a contrast it measured but doubts "to review" (1:1 looks like text hidden on
    # purpose); these pages hide no text that way, so those count too. Text scrolled under the
    # sticky progress cannot be measured at all: that is left out.
    violations = page.evaluate("""async tags => {
        const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
        const measured = n => n.any.some(check => /contrast ratio/.test(check.message));
        const unsure = result.incomplete.filter(v => v.id === 'color-contrast')
            .map(v => ({...v, nodes: v.nodes.filter(measured)})).filter(v => v.nodes.length);
        const describe = n => `    ${n.target.join(' ')}: ` +
            (n.failureSummary || n.any.map(check => check.message).join('; ')).replace(/\\n/g, ' ');
        return [...result.violations, ...unsure].map(v =>
            `${v.id} (${v.impact}): ${v.help}\\n` + v.nodes.map(describe).join('\\n'));
    }""", AXE_TAGS)
    assert not violations, f"axe found {len(violations)} problem(s) on the {state}:\n" + "\n".join(violations)


def choose_preferences(answer: Callable[[str], object], read_aloud: bool = False) -> None:
    for label in ["Tap buttons", "Yes, read to me" if read_aloud else "No, thank you", "A few", "On my own"]:
        answer(label)


def complete_core_checkin(widget: Widget, answer: Callable[[str], object], after_turn: Callable[[], None] = lambda: None,
                          read_aloud: bool = False) -> list[str]:
    """A whole check-in: the preferences, York's core questions answered with CORE_ANSWERS,
    nothing more said at each comment prompt, the read-back confirmed, then consent. Returns the progress
    label shown at each question."""
    choose_preferences(lambda label: (answer(label), after_turn()), read_aloud)
    return answer_to_the_end(widget, answer, after_turn)


def answer_to_the_end(widget: Widget, answer: Callable[[str], object], after_turn: Callable[[], None] = lambda: None,
                      answers: list[str] = CORE_ANSWERS) -> list[str]:
    """From wherever the check-in is, on to its end (see complete_core_checkin), giving
    `answers` to the questions still to come."""
    asked: list[str] = []
    for _ in range(MAX_TURNS):
        if widget.finished():
            break
        labels = widget.answer_labels()
        if "Sometimes" in labels:
            asked.append(widget.progress_label())
            answer(answers[len(asked) - 1])
        elif NO_MORE in labels:
            answer(NO_MORE)
        elif "Yes, that is right" in labels:
            answer("Yes, that is right")
        elif "Only my school" in labels:
            answer("Only my school")
        else:
            raise AssertionError(f"unexpected answers {labels}; the bot said {widget.bot_texts()[-3:]}")
        after_turn()
    else:
        raise AssertionError(f"no end after {MAX_TURNS} turns; the bot said {widget.bot_texts()[-3:]}")
    assert widget.bot_texts()[-1] == FINISHED
    return asked


def stored_checkin(stack, code: str) -> tuple[str, list[tuple[str, str]]]:
    """The check-in of an invite code as the database has it: status and (value, method) per answer."""
    with stack.sessions() as db:
        session = db.scalar(
            select(SurveySession).join(Invite, SurveySession.invite_id == Invite.id)
            .where(Invite.code == normalise_code(code)).order_by(SurveySession.id.desc())
        )
        assert session is not None, f"no check-in for {code}"
        return session.status, [(a.value, a.method) for a in repo.current_answers(db, session)]
