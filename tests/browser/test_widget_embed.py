"""The chat on another site, in Chromium: a page served from another origin on 127.0.0.1 (another
port) loads /widget/embed.js, and a young person completes a check-in through its launcher. axe
checks the host page, closed and open; nothing of the chat is left in the host page; and a page
from an origin not in HEARD_EMBED_ORIGINS gets no chat (the chat page's CSP frame-ancestors)."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from playwright.sync_api import Frame, Page

from bot.processes import web_process
from tests.browser.widget import (
    CORE_ANSWERS, FINISHED, STORED_VALUE, Widget, assert_axe_clean, complete_core_checkin, stored_checkin,
)
from tests.stack import RASA_START_TIMEOUT, free_port, start, wait_until_healthy

pytestmark = pytest.mark.browser

LAUNCHER = "Have your say"
FRAME_LOAD_MS = 30_000

# A school's page with a strict policy of its own: Heard's address is allowed for the script, the
# button's symbol and the frame, and nothing else (no inline style either).
HOST_PAGE = """<!doctype html>
<html lang="en-GB">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta http-equiv="Content-Security-Policy"
        content="default-src 'none'; script-src {heard}; img-src {heard}; frame-src {heard}">
  <title>Oak Tree School – Have your say</title>
</head>
<body>
  <header><p>Oak Tree School</p></header>
  <main>
    <h1>Have your say</h1>
    <p>Tell us how school is going for you. Your teacher will give you a code.</p>
    <script src="{heard}/widget/embed.js" defer></script>
  </main>
</body>
</html>
"""


@dataclass
class Sites:
    heard: str  # the web app, with HEARD_EMBED_ORIGINS naming `school` only
    school: str  # a page allowed to show the chat
    stranger: str  # the same page, from an origin not listed


def serve_host_page(heard: str) -> tuple[ThreadingHTTPServer, str]:
    body = HOST_PAGE.format(heard=heard).encode()

    class HostPage(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (the standard library's name)
            self.send_response(200 if self.path == "/" else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), HostPage)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


@pytest.fixture(scope="module")
def sites(stack) -> Iterator[Sites]:
    port = free_port()
    heard = f"http://127.0.0.1:{port}"
    school, school_url = serve_host_page(heard)
    stranger, stranger_url = serve_host_page(heard)
    settings = stack.settings.model_copy(update={
        "port": port, "public_url": heard, "outbox_every_seconds": 0, "embed_origins": school_url,
    })
    web = start(web_process(settings), settings, settings.var_dir)
    try:
        wait_until_healthy(web, RASA_START_TIMEOUT)
        yield Sites(heard, school_url, stranger_url)
    finally:
        web.stop()
        school.shutdown()
        stranger.shutdown()


@pytest.fixture
def host_page(browser) -> Iterator:
    """Opens a host page in a fresh context; any script error fails the test."""
    opened: list[tuple[Page, list[str]]] = []

    def open_page(url: str, width: int = 1024, height: int = 768) -> tuple[Page, list[str]]:
        context = browser.new_context(viewport={"width": width, "height": height}, locale="en-GB",
                                      reduced_motion="reduce")
        page = context.new_page()
        console: list[str] = []
        page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
        page.on("pageerror", lambda error: console.append(f"script error: {error}"))
        page.goto(url)
        page.get_by_role("button", name=LAUNCHER).wait_for()
        opened.append((page, console))
        return page, console

    yield open_page
    for page, _ in opened:
        page.context.close()


def chat_frame(page: Page, heard: str) -> Frame:
    """The launcher's frame, once Heard's page in it has run its script."""
    page.wait_for_function("() => document.querySelector('[data-heard=launcher]').shadowRoot.querySelector('iframe')")
    frame = page.locator("iframe[title='Heard chat']").element_handle().content_frame()
    frame.wait_for_selector("html.js", timeout=FRAME_LOAD_MS)
    assert frame.url == heard + "/", frame.url
    return frame


def focused_in_launcher(page: Page) -> str:
    """What has focus inside the launcher's shadow root: 'launcher', 'close', or something else."""
    return page.evaluate("""() => {
        const host = document.querySelector('[data-heard=launcher]');
        if (document.activeElement !== host) return 'outside: ' + document.activeElement.tagName;
        const active = host.shadowRoot.activeElement;
        return active ? (active.className || active.tagName) : 'none';
    }""")


def dialog_open(page: Page) -> bool:
    return page.evaluate("() => document.querySelector('[data-heard=launcher]').shadowRoot.querySelector('dialog').open")


def host_keeps(page: Page) -> str:
    """Everything the host page holds: its DOM (the launcher's shadow root too), storage, cookies and address."""
    return page.evaluate("""() => {
        const host = document.querySelector('[data-heard=launcher]');
        const storage = s => JSON.stringify(Object.entries(s));
        return [document.documentElement.outerHTML, host.shadowRoot.innerHTML, storage(localStorage),
                storage(sessionStorage), document.cookie, location.href].join('\\n');
    }""")


def test_a_page_on_another_origin_completes_a_checkin_through_the_launcher(sites, host_page, new_invite, stack):
    page, console = host_page(sites.school)
    launcher = page.get_by_role("button", name=LAUNCHER)
    assert launcher.evaluate("b => b.tagName") == "BUTTON"
    assert_axe_clean(page, "host page with the launcher")

    # A visible focus indicator, reached by keyboard.
    page.keyboard.press("Tab")
    assert focused_in_launcher(page) == "launcher"
    ring = launcher.evaluate("b => { const s = getComputedStyle(b); return [s.outlineStyle, s.outlineWidth, s.boxShadow]; }")
    assert ring[0] == "solid" and float(ring[1].removesuffix("px")) >= 2 and ring[2] != "none", ring

    # Open: focus moves into the dialog; the chat is Heard's page, in a frame.
    page.keyboard.press("Enter")
    assert dialog_open(page) and focused_in_launcher(page) == "close"
    frame = chat_frame(page, sites.heard)
    assert_axe_clean(page, "host page with the chat open")

    code = new_invite()
    widget = Widget(page, sites.heard, frame=frame)
    started = widget.start(code)
    token = started["token"]
    asked = complete_core_checkin(widget, widget.tap)
    assert len(asked) == len(CORE_ANSWERS)
    # One clear ending: said once, and one button, Close (besides each message's Listen).
    assert widget.bot_texts().count(FINISHED) == 1
    assert frame.evaluate("""() => [...document.querySelectorAll('#chat-page button')]
        .filter(b => b.getClientRects().length && !b.classList.contains('listen'))
        .map(b => b.innerText.trim())""") == ["Close"]
    status, answers = stored_checkin(stack, code)
    assert status == "finished"
    assert answers == [(STORED_VALUE[label], "tapped") for label in CORE_ANSWERS]

    # Nothing of the chat is in the host page: not the code, the token, or a word of the chat.
    kept = host_keeps(page)
    said = [text for text in widget.bot_texts() + widget.my_texts() if len(text) > 3]
    for secret in (code, code.replace("-", ""), token, *said):
        assert secret not in kept, f"the host page holds {secret!r}"
    assert page.url == sites.school + "/"

    # Close at the chat's end closes the dialog and the chat, and focus is back on the launcher.
    frame.click("#finish")
    page.wait_for_function("() => !document.querySelector('[data-heard=launcher]').shadowRoot.querySelector('iframe')")
    assert not dialog_open(page) and focused_in_launcher(page) == "launcher"
    assert_axe_clean(page, "host page with the chat closed again")
    assert not [line for line in console if line.startswith(("error", "script error"))], console


def test_close_and_escape_close_the_chat_and_give_focus_back(sites, host_page):
    page, _ = host_page(sites.school, width=320, height=640)
    launcher = page.get_by_role("button", name=LAUNCHER)

    launcher.click()
    chat_frame(page, sites.heard)
    box = page.evaluate("() => document.querySelector('[data-heard=launcher]').shadowRoot.querySelector('dialog')"
                        ".getBoundingClientRect().toJSON()")
    assert box["width"] <= 320 and box["height"] <= 640, box  # the whole screen at 320 px, no more
    assert_axe_clean(page, "host page with the chat open at 320 px")
    page.get_by_role("button", name="Close").click()
    assert not dialog_open(page) and focused_in_launcher(page) == "launcher"

    # Escape in the host page (focus on Close) closes it.
    launcher.click()
    chat_frame(page, sites.heard)
    page.keyboard.press("Escape")
    assert not dialog_open(page) and focused_in_launcher(page) == "launcher"

    # Escape inside the chat closes it too, but first closes the chat's own Settings.
    launcher.click()
    frame = chat_frame(page, sites.heard)
    frame.click("#open-settings")
    frame.wait_for_selector("#settings[open]")
    page.keyboard.press("Escape")
    frame.wait_for_selector("#settings:not([open])", state="attached")
    assert dialog_open(page)
    frame.click("#code-input")
    page.keyboard.press("Escape")
    page.wait_for_function("() => !document.querySelector('[data-heard=launcher]').shadowRoot.querySelector('dialog').open")
    assert focused_in_launcher(page) == "launcher"


def test_a_page_from_an_origin_not_listed_gets_no_chat(sites, host_page):
    # The web app's own word: only the listed origin may frame the chat page, and nothing may
    # frame any other page.
    policies = {path: httpx.get(sites.heard + path, timeout=10).headers["content-security-policy"]
                for path in ("/", "/tablet", "/staff/login", "/widget/embed.js")}
    assert f"frame-ancestors {sites.school};" in policies["/"] + ";"
    assert sites.stranger not in policies["/"]
    for path in ("/tablet", "/staff/login", "/widget/embed.js"):
        assert "frame-ancestors 'none'" in policies[path], path

    # And Chromium's: the stranger's page shows the launcher, but its frame gets no chat.
    page, _ = host_page(sites.stranger)
    with page.expect_console_message(lambda m: "frame-ancestors" in m.text, timeout=FRAME_LOAD_MS) as refused:
        page.get_by_role("button", name=LAUNCHER).click()
    assert refused.value.type == "error" and "blocked" in refused.value.text, refused.value.text
    assert f"'{sites.heard}/'" in refused.value.text
    frame = page.locator("iframe[title='Heard chat']").element_handle().content_frame()
    assert frame is not None and not frame.url.startswith(sites.heard), frame.url
    assert not [f for f in page.frames if f.url.startswith(sites.heard)]
