"""Chromium for the widget tests: Debian's own build, driven by Playwright, against the real
stack (`web_url`: uvicorn, Rasa and the action server, from tests/stack.py)."""
from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.browser.widget import Widget

CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    chromium = shutil.which("chromium")
    if chromium is None:
        reason = "Chromium is not installed: scripts/system-deps installs Debian's chromium"
        if os.environ.get("CI"):
            pytest.fail(reason)  # CI must never pass by skipping the browser
        pytest.skip(reason)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def open_widget(browser, web_url) -> Iterator:
    """Opens the widget in a fresh browser context: `open_widget("/tablet", width=320)`.
    Any script error, or a console error the test did not expect, fails the test."""
    opened: list[Widget] = []

    def open_page(path: str = "/", *, width: int = 1024, height: int = 768, expect_console_errors: bool = False,
                  **context_options) -> Widget:
        context = browser.new_context(viewport={"width": width, "height": height}, locale="en-GB", **context_options)
        widget = Widget(context.new_page(), web_url, expect_console_errors=expect_console_errors)
        opened.append(widget)
        widget.open(path)
        return widget

    yield open_page
    problems = [problem for widget in opened for problem in widget.page_problems()]
    for widget in opened:
        widget.page.context.close()
    assert not problems, "the page reported errors:\n" + "\n".join(problems)
