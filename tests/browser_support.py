"""Real-browser helpers: the app served on localhost, Debian's Chromium, screenshots.

Never a downloaded browser: Playwright is pointed at ``/usr/bin/chromium``. The flags keep
Chromium off the network (this machine has none beyond localhost).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def closed_on_drop(wsgi: WSGIApp) -> WSGIApp:
    """Werkzeug's development server skips the response's ``close()`` when the browser resets the
    connection while the server drains it (a page that navigates away during an audio download):
    the static file stays open until the garbage collector finds it, and the test that happens to
    be running then fails with a ResourceWarning. This wrapper's generator is closed when it is
    collected, and closes the response with it. gunicorn, in production, always closes it."""

    def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterator[bytes]:
        response = wsgi(environ, start_response)
        try:
            yield from response
        finally:
            close = getattr(response, "close", None)
            if close is not None:
                close()

    return wrapped


def start_server(wsgi: WSGIApp, port: int = 0) -> BaseWSGIServer:
    """A threaded Werkzeug server on localhost (a free port unless given), already serving."""
    server = make_server("127.0.0.1", port, closed_on_drop(wsgi), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def serve(app: Flask, port: int = 0) -> LiveServer:
    return LiveServer(app, start_server(app, port))


def screenshot(page: Page, name: str) -> Path:
    """Save a screenshot under build/screenshots/ (kept by the test run for people to look at)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
