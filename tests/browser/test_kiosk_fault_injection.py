"""Fault injection with a real kiosk: 1,000 ratings in Chromium while the server is killed with
SIGKILL and restarted at random moments and the kiosk's network is cut and restored at random.

How the ratings are made: every rating goes through the kiosk's own screens, one tap on the idle
screen, one on a face, one on "No, I am done", exactly as a citizen does it. The first
``REAL_TAPS`` ratings are Playwright clicks (real input events); the rest are the same taps
dispatched from inside the page (``element.click()`` on the very buttons the citizen sees, run
by ``page.evaluate``), because 3,000 Playwright round trips do not fit in the time. Both paths
run the kiosk's own handlers: ``rate`` → ``finish`` → ``commit`` → the IndexedDB queue → ``drain``.
The thank-you and minimum-interval timeouts are made short through their KIOSK_* settings.

The server is a real gunicorn (2 workers, --preload) on a SQLite database (WAL,
``synchronous=FULL``); a kill is ``killpg(SIGKILL)`` of the master and its workers, so whatever
was in flight is cut wherever it was. The network is cut with ``context.set_offline``.

What the test knows of the kiosk: an init script records every answer the page puts in its
IndexedDB queue (a wrapper around ``IDBObjectStore.add``, which does not change what is stored).
At the end the queue is empty and the database holds exactly those 1,000 answers: the same
client ids, no duplicates, each with the ``answered_at`` the kiosk recorded when the citizen
finished. The random schedule comes from a seed printed on failure; set KIOSK_FAULT_SEED to
replay one.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import select

from builders import World
from gunicorn_support import Gunicorn, running
from survey_server.extensions import db
from survey_server.models import Counter, Officer, Response, utcnow
from survey_server.services import kiosk as service

RATINGS = 1000
REAL_TAPS = 30  # the first ratings with Playwright's own clicks
KILLS = 6  # at least five SIGKILLs of the whole server
MIN_OFFLINE_PERIODS = 5

FAST = {
    "KIOSK_IDLE_SECONDS": 5,
    "KIOSK_THANKS_SECONDS": 0.01,
    "KIOSK_MIN_INTERVAL_SECONDS": 0.005,
    "KIOSK_STATE_SECONDS": 2,
    "KIOSK_HEARTBEAT_SECONDS": 5,
    "KIOSK_RETRY_MAX_SECONDS": 0.2,
}

# Keeps a copy of every answer the kiosk puts in its queue (test instrumentation only).
RECORD_QUEUED = """
(() => {
  const add = IDBObjectStore.prototype.add;
  window.__queued = [];
  IDBObjectStore.prototype.add = function (value) {
    if (this.name === 'queue' && value && value.body) {
      window.__queued.push(JSON.parse(JSON.stringify(value.body)));
    }
    return add.apply(this, arguments);
  };
})();
"""

# n ratings through the kiosk's screens, each tap repeated until the next screen shows (a state
# refresh may redraw the idle screen between finding the element and tapping it).
TAP_RATINGS = """
async ([n, first]) => {
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  async function tap(selector, next) {
    for (let i = 0; i < 3000; i++) {
      const target = document.querySelector(selector);
      if (target) target.click();
      for (let j = 0; j < 5; j++) {
        if (document.querySelector(next)) return;
        await sleep(2);
      }
    }
    const screen = document.getElementById('app').className;
    throw new Error('stuck at ' + selector + ' on ' + screen);
  }
  for (let i = 0; i < n; i++) {
    await tap('#invite', '.face');
    await tap(".face[data-value='" + (1 + (first + i) % 5) + "']", '#more-no');
    await tap('#more-no', '.screen-thanks, #invite');
    while (!document.querySelector('#invite')) await sleep(2);
  }
}
"""


@pytest.fixture
def server(app: Flask, world: World, database_url: str, tmp_path: Path) -> Iterator[Gunicorn]:
    with app.app_context():
        officer = db.session.scalars(select(Officer).where(Officer.code == "R1")).one()
        counter = db.session.scalars(select(Counter)).one()
        service.open_shift(db.session, counter, officer, "desk", utcnow())
        db.session.remove()
        db.engine.dispose()
    # The KIOSK_* settings are not read from the environment: the factory gets them.
    server = Gunicorn(
        database_url,
        tmp_path,
        app=f"survey_server:create_app({FAST!r})",
        env={"RATELIMIT_DEVICE": "1000000 per minute"},
    )
    with running(server):
        yield server


def queue_length(page: Page) -> int:
    return int(page.evaluate("kiosk.queued().then(q => q.length)"))


def stored(app: Flask) -> list[tuple[str, dt.datetime]]:
    with app.app_context():
        rows = db.session.execute(select(Response.client_id, Response.answered_at)).all()
        db.session.remove()
        return [(client_id, answered_at) for client_id, answered_at in rows]


def test_a_thousand_kiosk_ratings_survive_sigkills_and_network_cuts(
    app: Flask, world: World, server: Gunicorn, context: BrowserContext, page: Page
) -> None:
    seed = int(os.environ.get("KIOSK_FAULT_SEED") or random.randrange(2**32))
    print(f"KIOSK_FAULT_SEED={seed}")
    rng = random.Random(seed)
    # After these numbers of ratings the server is killed (then restarted in the background).
    kill_points = sorted(rng.sample(range(REAL_TAPS, RATINGS - 50), KILLS))
    log: list[str] = []

    page.add_init_script(RECORD_QUEUED)
    page.goto(f"{server.base}/kiosk/#pair={world.device_token}")
    expect(page.locator("#officer-name")).to_have_text("Lò Thị Hoa")

    restarting: threading.Thread | None = None
    restart_errors: list[BaseException] = []

    def restart_after(pause: float) -> None:
        try:
            time.sleep(pause)
            server.start()
        except BaseException as error:  # reported by the main thread
            restart_errors.append(error)

    offline = False
    offline_periods = 0
    rated = 0
    started = time.monotonic()
    while rated < RATINGS:
        batch = min(RATINGS - rated, rng.randint(1, 30))
        if rated < REAL_TAPS:
            batch = min(batch, REAL_TAPS - rated)
            for n in range(rated, rated + batch):
                page.click("#invite")
                page.locator(f".face[data-value='{1 + n % 5}']").click()
                page.click("#more-no")
                expect(page.locator("#invite")).to_be_visible()
        else:
            page.evaluate(TAP_RATINGS, [batch, rated])
        rated += batch

        if kill_points and rated >= kill_points[0]:
            kill_points.pop(0)
            if restarting is not None:
                restarting.join()
            page.wait_for_timeout(rng.uniform(0, 40))  # somewhere among the kiosk's sends
            server.kill()
            log.append(f"kill after {rated} ({'offline' if offline else 'online'})")
            restarting = threading.Thread(target=restart_after, args=(rng.uniform(0, 0.8),))
            restarting.start()
        # Cuts come often and stay short (about two batches): a long one only makes the test
        # slower, not harder.
        if rng.random() < (0.5 if offline else 0.2):
            offline = not offline
            context.set_offline(offline)
            offline_periods += offline
            log.append(f"{'offline' if offline else 'online'} after {rated}")
        page.wait_for_timeout(rng.uniform(0, 60))
    rating_seconds = time.monotonic() - started

    # At least MIN_OFFLINE_PERIODS cuts in all: the ones still missing come now, while the
    # kiosk is still sending its backlog.
    while offline_periods < MIN_OFFLINE_PERIODS:
        context.set_offline(True)
        offline_periods += 1
        page.wait_for_timeout(rng.uniform(50, 400))
        context.set_offline(False)
        page.wait_for_timeout(rng.uniform(50, 400))
    context.set_offline(False)
    if restarting is not None:
        restarting.join()
    assert not restart_errors, restart_errors
    about = f"seed {seed}; {'; '.join(log)}"

    for _ in range(600):  # up to 60 s for the backlog to drain
        if queue_length(page) == 0:
            break
        page.wait_for_timeout(100)
    drained_seconds = time.monotonic() - started
    print(
        f"{RATINGS} ratings in {rating_seconds:.1f} s, drained at {drained_seconds:.1f} s, "
        f"{server.kills} kills, {offline_periods} offline periods; {about}"
    )
    assert queue_length(page) == 0, about
    assert page.evaluate("kiosk.refused().then(r => r.length)") == 0, about
    assert server.kills >= 5, about

    queued: list[dict[str, Any]] = page.evaluate("window.__queued")
    assert len(queued) == RATINGS, about  # one tap on a face, one answer
    expected = {body["id"]: dt.datetime.fromisoformat(body["answered_at"]) for body in queued}
    assert len(expected) == RATINGS, about

    rows = stored(app)
    assert len(rows) == RATINGS, about
    assert len({client_id for client_id, _ in rows}) == RATINGS, about  # no duplicates
    assert dict(rows) == expected, about  # every answer, with its original answered_at
