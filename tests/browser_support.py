"""Real-browser helpers: the app served on localhost, Debian's Chromium, screenshots.

Never a downloaded browser: Playwright is pointed at ``/usr/bin/chromium``. The flags keep
Chromium off the network (this machine has none beyond localhost).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from flask import Flask
from playwright.sync_api import Page
from werkzeug.serving import BaseWSGIServer, make_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[1] / "build" / "screenshots"


@dataclass
class LiveServer:
    """The app served by a threaded Werkzeug server on a free localhost port."""

    app: Flask
    server: BaseWSGIServer

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def serve(app: Flask) -> LiveServer:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return LiveServer(app, server)


def screenshot(page: Page, name: str) -> Path:
    """Save a screenshot under build/screenshots/ (kept by the test run for people to look at)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
