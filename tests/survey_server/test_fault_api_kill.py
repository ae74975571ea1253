"""Fault injection: gunicorn killed with SIGKILL during a stream of kiosk submissions.

Kiosk-like senders post answers to a real server (gunicorn, 2 workers) and retry each one until
they get a 201 or a 200, as the kiosk's offline queue does. Meanwhile the whole server (master
and workers) is killed with SIGKILL at random points of the stream, at least five times, and
started again. Afterwards every acknowledged answer is in the database exactly once, with its
own ``answered_at``, and no request ever got a 5xx or a 409. On SQLite (WAL, ``synchronous=FULL``)
and PostgreSQL.

SIGKILL kills the process, not the machine: what this proves is that an acknowledged answer
was committed before the acknowledgement was sent, and that retries never duplicate.
"""

from __future__ import annotations

import datetime as dt
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from builders import BACKENDS, RECEIVED, World, response_body
from gunicorn_support import Gunicorn, post_json, running
from survey_server.extensions import db
from survey_server.models import Response

pytestmark = BACKENDS

SUBMISSIONS = 100
SENDERS = 4
KILLS = 5


@pytest.fixture
def server(app: Flask, world: World, database_url: str, tmp_path: Path) -> Iterator[Gunicorn]:
    gunicorn = Gunicorn(database_url, tmp_path, env={"RATELIMIT_DEVICE": "100000 per minute"})
    with running(gunicorn):
        yield gunicorn


def send(url: str, body: dict[str, Any], token: str) -> int | None:
    """The status, or None when the server did not answer (killed, restarting)."""
    try:
        return post_json(url, body, token, timeout=30)
    except OSError:
        return None


def test_every_acknowledged_answer_survives_sigkill(
    app: Flask, world: World, server: Gunicorn
) -> None:
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    bodies = [
        response_body(
            id=str(uuid.uuid4()),
            answers={"overall": 1 + n % 5, "comment": f"phiếu #{n}"},
            answered_at=(RECEIVED + dt.timedelta(minutes=n)).isoformat(),
        )
        for n in range(SUBMISSIONS)
    ]
    # Kill after these numbers of acknowledged answers, so that every kill lands mid-stream.
    kill_points = sorted(rng.sample(range(10, SUBMISSIONS - 10), KILLS))
    acknowledged: list[str] = []
    statuses: Counter[int | None] = Counter()
    lock = threading.Lock()
    progress = threading.Condition(lock)
    url = f"{server.base}/api/v1/responses"

    def sender(share: list[dict[str, Any]]) -> None:
        for body in share:
            while True:  # the kiosk's queue: the same body again until it is acknowledged
                status = send(url, body, world.device_token)
                with progress:
                    statuses[status] += 1
                    if status in (200, 201):
                        acknowledged.append(body["id"])
                        progress.notify_all()
                if status in (200, 201):
                    break
                if status is not None and status != 429:
                    return  # an answer the server refused: the assertions below report it
                time.sleep(0.05)

    def killer() -> None:
        for point in kill_points:
            with progress:
                progress.wait_for(lambda p=point: len(acknowledged) >= p, timeout=120)
            time.sleep(rng.uniform(0, 0.05))  # somewhere inside the next requests
            server.kill()
            server.start()

    threads = [threading.Thread(target=sender, args=(bodies[n::SENDERS],)) for n in range(SENDERS)]
    killing = threading.Thread(target=killer)
    for thread in [*threads, killing]:
        thread.start()
    for thread in [*threads, killing]:
        thread.join(timeout=600)
    server.stop()

    context = f"seed {seed}, kills after {kill_points}, statuses {dict(statuses)}"
    assert statuses[None] > 0, context  # the kills did cut requests
    assert set(statuses) <= {None, 200, 201}, context  # never a 5xx, a 409 or a 422
    assert len(acknowledged) == SUBMISSIONS, context
    with app.app_context():
        rows = db.session.execute(select(Response.client_id, Response.answered_at)).all()
    stored = {client_id: answered_at for client_id, answered_at in rows}
    assert len(rows) == len(stored) == SUBMISSIONS, context  # no duplicates
    expected = {body["id"]: dt.datetime.fromisoformat(body["answered_at"]) for body in bodies}
    assert stored == expected, context  # every acknowledged answer, with its own time
