"""The first load of a freshly paired kiosk, counted at the server (what bench/kiosk.py found):
the page and its assets are downloaded once (the service worker keeps the copies the page already
received), the state is asked for once, nothing answers 404 (the shared icon replaces
/favicon.ico), and the app still starts from the service worker with the server gone. The phone
page (its icon inline) and the dashboard ask for no /favicon.ico either."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import BrowserContext, Page, expect
from qr_support import push_dossier, token_of
from sqlalchemy import select
from werkzeug.serving import BaseWSGIServer

from browser_support import start_server
from builders import World
from survey_server.extensions import db
from survey_server.models import Counter, Officer, utcnow
from survey_server.services import kiosk as service

ICON = "/static/favicon.svg"
Hit = tuple[str, str, int]  # method, path, status


class CountingServer:
    """The app on a free localhost port, recording every request it answers."""

    def __init__(self, app: Flask) -> None:
        self.hits: list[Hit] = []
        self.lock = threading.Lock()

        def counted(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            def recording_start(status: str, headers: Any, *args: Any) -> Any:
                with self.lock:
                    hit = (environ["REQUEST_METHOD"], environ["PATH_INFO"], int(status[:3]))
                    self.hits.append(hit)
                return start_response(status, headers, *args)

            return app.wsgi_app(environ, recording_start)

        self.server: BaseWSGIServer = start_server(counted)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def snapshot(self) -> list[Hit]:
        with self.lock:
            return list(self.hits)

    def count(self, path: str, method: str = "GET") -> int:
        return sum(1 for m, p, _ in self.snapshot() if (m, p) == (method, path))

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def counting(app: Flask) -> Iterator[CountingServer]:
    # No periodic refresh of the state during the test: the one request counted is pairing's.
    app.config.update(KIOSK_STATE_SECONDS=3600, KIOSK_HEARTBEAT_SECONDS=3600)
    server = CountingServer(app)
    yield server
    server.stop()


def wait_until(page: Page, condition: Callable[[], bool], message: str) -> None:
    for _ in range(150):
        if condition():
            return
        page.wait_for_timeout(100)
    raise AssertionError(message)


def test_the_first_load_downloads_the_app_once_and_it_still_starts_offline(
    app: Flask, world: World, counting: CountingServer, page: Page
) -> None:
    with app.app_context():
        officer = db.session.scalar(select(Officer).where(Officer.code == world.desk_officer))
        counter = db.session.scalar(select(Counter).where(Counter.code == world.counter))
        service.open_shift(db.session, counter, officer, "desk", utcnow())
    page.goto(f"{counting.url}/kiosk/#pair={world.device_token}")
    expect(page.locator("#officer-name")).to_be_visible()
    wait_until(
        page,
        lambda: page.evaluate("navigator.serviceWorker.controller !== null"),
        "the service worker does not control the page",
    )  # its install (the cache filled) is over once it controls the page
    wait_until(page, lambda: counting.count(ICON) >= 1, "the icon was not asked for")
    wait_until(
        page,
        lambda: counting.count("/kiosk/api/heartbeat", "POST") >= 1,
        "the first heartbeat was not sent",
    )

    hits = counting.snapshot()
    assert [hit for hit in hits if hit[2] >= 400] == []
    assert counting.count("/kiosk/") == 1  # the navigation only: the worker kept that copy
    assert counting.count("/kiosk/static/kiosk.js") == 1
    assert counting.count("/kiosk/static/kiosk.css") == 1
    assert counting.count("/kiosk/api/state") == 1  # pairing's, not again when the app starts
    assert counting.count("/favicon.ico") == 0

    counting.stop()  # the server is gone: the app starts from the worker's copies
    page.reload()
    expect(page.locator("#officer-name")).to_have_text("Lò Thị Hoa")
    expect(page.locator("#invite")).to_be_visible()


def test_the_phone_page_and_the_dashboard_have_an_icon_and_no_404(
    app: Flask, world: World, counting: CountingServer, context: BrowserContext
) -> None:
    client = app.test_client()
    push_dossier(client, world, "DBP.261005.00031")
    page = context.new_page()
    page.goto(f"{counting.url}/q/{token_of(app, 'DBP.261005.00031')}")
    expect(page.locator("h1")).to_be_visible()
    wait_until(page, lambda: page.evaluate("document.readyState") == "complete", "not loaded")
    # The phone page's icon is inline (data:): one request, no icon fetched, no /favicon.ico.
    assert page.locator("link[rel=icon]").get_attribute("href").startswith("data:image/svg+xml,")
    assert counting.count(ICON) == 0

    page.goto(f"{counting.url}/dashboard/login")
    wait_until(page, lambda: page.evaluate("document.readyState") == "complete", "not loaded")
    icon = page.locator("link[rel=icon]")
    assert icon.get_attribute("href") == ICON

    with client.get(ICON) as answer:
        assert answer.status_code == 200
        assert answer.mimetype == "image/svg+xml"
    hits = counting.snapshot()
    assert [hit for hit in hits if hit[2] >= 400] == []
    assert counting.count("/favicon.ico") == 0


def test_an_update_of_the_app_fetches_fresh_copies_not_the_http_cache(
    app: Flask, world: World, counting: CountingServer, page: Page, monkeypatch: pytest.MonkeyPatch
) -> None:
    page.goto(f"{counting.url}/kiosk/#pair={world.device_token}")
    expect(page.locator("#pair-note")).to_have_count(0)
    wait_until(
        page,
        lambda: page.evaluate("navigator.serviceWorker.controller !== null"),
        "the service worker does not control the page",
    )
    before = counting.count("/kiosk/static/kiosk.js")

    # A new build is deployed (the cache is named after it: APP_VERSION + the code's hash).
    monkeypatch.setattr("kiosk.views.app_build", lambda: "9.9.9-test")
    app.config["KIOSK_IDLE_SECONDS"] = 7
    page.reload()
    page.evaluate("navigator.serviceWorker.getRegistration().then((r) => r.update())")
    wait_until(
        page,
        lambda: page.evaluate("caches.keys()") == ["kiosk-9.9.9-test"],
        "the new worker did not replace the old cache",
    )
    # The update asked the server again (a revalidation) instead of trusting the HTTP cache...
    assert counting.count("/kiosk/static/kiosk.js") == before + 1
    # ...and the new cache holds the new page.
    cached = page.evaluate(
        "caches.open('kiosk-9.9.9-test').then((c) => c.match('/kiosk/')).then((r) => r.text())"
    )
    assert '"idle_seconds": 7.0' in cached
    assert '"version": "9.9.9-test"' in cached
