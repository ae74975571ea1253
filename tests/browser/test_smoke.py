"""The browser fixtures themselves: Debian's Chromium renders a page of the app."""

from __future__ import annotations

from playwright.sync_api import Page

from browser_support import LiveServer


def test_chromium_renders_the_vietnamese_home_page(live_server: LiveServer, page: Page) -> None:
    page.goto(f"{live_server.url}/healthz")
    assert page.locator("body").inner_text().strip() != ""
    page.goto(f"{live_server.url}/")
    assert page.evaluate("document.documentElement.lang") == "vi"
