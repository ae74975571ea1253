"""The kiosk with the network really cut (the server stopped, or the answer lost on the way back):
the app still starts from its service worker, answers wait in IndexedDB across a reload and are
stored exactly once, in order, when the server is back."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from flask import Flask
from playwright.sync_api import Browser, BrowserContext, Page, Route, expect
from sqlalchemy import func, select

from browser_support import LiveServer, serve
from builders import World
from survey_server.extensions import db
from survey_server.models import Counter, Officer, Response, utcnow
from survey_server.services import kiosk as service

FAST = {
    "KIOSK_IDLE_SECONDS": 5,
    "KIOSK_THANKS_SECONDS": 0.1,
    "KIOSK_MIN_INTERVAL_SECONDS": 0,
    "KIOSK_STATE_SECONDS": 0.5,
    "KIOSK_HEARTBEAT_SECONDS": 0.5,
    "KIOSK_RETRY_MAX_SECONDS": 0.2,
}
RATINGS = 20


@pytest.fixture
def kiosk_app(app: Flask, world: World) -> Flask:
    app.config.update(FAST)
    with app.app_context():
        officer = db.session.scalar(select(Officer).where(Officer.code == "R1"))
        service.open_shift(
            db.session, db.session.scalar(select(Counter)), officer, "desk", utcnow()
        )
    return app


@pytest.fixture
def server(kiosk_app: Flask) -> Iterator[list[LiveServer]]:
    """The live server, in a list so a test can stop it and start another on the same port."""
    servers = [serve(kiosk_app)]
    yield servers
    for live in servers:
        live.stop()


def restart(servers: list[LiveServer], app: Flask) -> None:
    servers.append(serve(app, servers[-1].server.server_port))


def stored(app: Flask) -> list[tuple[str, int, dt.datetime]]:
    with app.app_context():
        rows = db.session.scalars(select(Response).order_by(Response.id)).all()
        return [(r.client_id, r.overall, r.answered_at) for r in rows]


def count(app: Flask) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(Response)) or 0)


def wait_until(page: Page, condition: object, message: str, tries: int = 150) -> None:
    for _ in range(tries):
        if callable(condition) and condition():
            return
        page.wait_for_timeout(100)
    raise AssertionError(message)


def rate_once(page: Page, level: int) -> None:
    page.click("#invite")
    page.locator(f".face[data-value='{level}']").click()
    page.click("#more-no")
    expect(page.locator("#invite")).to_be_visible()


def test_twenty_offline_ratings_survive_a_reload_and_arrive_once_in_order(
    kiosk_app: Flask, world: World, server: list[LiveServer], page: Page
) -> None:
    base = server[0].url
    page.goto(f"{base}/kiosk/#pair={world.device_token}")
    expect(page.locator("#officer-name")).to_have_text("Lò Thị Hoa")
    # (page.evaluate, not wait_for_function: the app's CSP forbids evaluating strings)
    wait_until(
        page,
        lambda: page.evaluate("navigator.serviceWorker.controller !== null"),
        "the service worker does not control the page",
    )

    server[0].stop()  # the network is really gone: nothing answers on that port
    page.reload()  # a reboot with no network: the service worker serves the app
    expect(page.locator("#officer-name")).to_have_text("Lò Thị Hoa")

    for index in range(RATINGS):
        rate_once(page, index % 5 + 1)
    wait_until(
        page,
        lambda: page.evaluate("kiosk.queued().then(q => q.length)") == RATINGS,
        "the 20 answers are not all in the queue",
    )
    page.reload()  # the queue lives in IndexedDB: a reload keeps it
    expect(page.locator("#invite")).to_be_visible()
    queued = page.evaluate(
        "kiosk.queued().then(q => q.map(i => [i.body.id, i.body.answers.overall,"
        " i.body.answered_at]))"
    )
    assert len(queued) == RATINGS
    assert count(kiosk_app) == 0

    restart(server, kiosk_app)
    wait_until(page, lambda: count(kiosk_app) >= RATINGS, "the queue did not drain")
    wait_until(
        page,
        lambda: page.evaluate("kiosk.queued().then(q => q.length)") == 0,
        "the kiosk still holds answers",
    )
    rows = stored(kiosk_app)
    assert [(client_id, overall) for client_id, overall, _ in rows] == [
        (client_id, overall) for client_id, overall, _ in queued
    ]
    assert [at for _, _, at in rows] == [
        dt.datetime.fromisoformat(at).astimezone(dt.UTC) for _, _, at in queued
    ]
    assert [at for _, _, at in rows] == sorted(at for _, _, at in rows)
    assert page.evaluate("kiosk.refused().then(r => r.length)") == 0


@pytest.fixture
def no_sw_context(browser: Browser) -> Iterator[BrowserContext]:
    # Requests a service worker handles are invisible to page.route; this test needs to see them.
    context = browser.new_context(
        locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh", service_workers="block"
    )
    yield context
    context.close()


def test_an_answer_whose_reply_was_lost_is_stored_once(
    kiosk_app: Flask, world: World, server: list[LiveServer], no_sw_context: BrowserContext
) -> None:
    page = no_sw_context.new_page()
    attempts: list[int] = []

    def lose_the_first_reply(route: Route) -> None:
        attempts.append(1)
        if len(attempts) == 1:
            reply = route.fetch()  # the request reaches the server, which stores the answer...
            assert reply.status == 201
            route.abort("connectionreset")  # ...and its answer never reaches the kiosk
        else:
            route.continue_()

    page.route("**/api/v1/responses", lose_the_first_reply)
    page.goto(f"{server[0].url}/kiosk/#pair={world.device_token}")
    expect(page.locator("#officer-name")).to_have_text("Lò Thị Hoa")
    rate_once(page, 4)
    wait_until(
        page,
        lambda: len(attempts) >= 2 and page.evaluate("kiosk.queued().then(q => q.length)") == 0,
        "the kiosk did not retry",
    )
    assert count(kiosk_app) == 1
    assert page.evaluate("kiosk.refused().then(r => r.length)") == 0


def test_refused_answers_are_kept_in_the_local_refused_list(
    kiosk_app: Flask, world: World, server: list[LiveServer], page: Page
) -> None:
    page.goto(f"{server[0].url}/kiosk/#pair={world.device_token}")
    expect(page.locator("#officer-name")).to_have_text("Lò Thị Hoa")
    # An answer the server refuses (422: an unknown officer) must not block the queue.
    page.evaluate(
        """() => new Promise((resolve) => {
          const req = indexedDB.open('kiosk', 1);
          req.onsuccess = () => {
            const t = req.result.transaction('queue', 'readwrite');
            t.objectStore('queue').add({queued_at: new Date().toISOString(), body: {
              id: '6f0c1f7e-8a4f-4b8e-9c3a-2a8d1b0f4e11', form: 'phieu1', dossier_code: null,
              officer: 'NOBODY', answers: {overall: 3}, answered_at: new Date().toISOString(),
              lang: 'vi'}});
            t.oncomplete = resolve;
          };
        })"""
    )
    rate_once(page, 5)
    wait_until(page, lambda: count(kiosk_app) == 1, "the good answer behind it was not sent")
    assert page.evaluate("kiosk.refused().then(r => r.map(i => [i.status, i.error]))") == [
        [422, "invalid_response"]
    ]
    page.click("#staff-button")
    expect(page.locator("#staff-refused li")).to_have_count(1)
