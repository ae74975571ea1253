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
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from builders import BACKENDS, RECEIVED, World, response_body
from pg_support import free_port
from survey_server.extensions import db
from survey_server.models import Response

pytestmark = BACKENDS

SUBMISSIONS = 100
SENDERS = 4
KILLS = 5


class Server:
    """A gunicorn server that can be killed outright and started again on the same port."""

    def __init__(self, database_url: str, directory: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = directory / "gunicorn.log"
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "INSTANCE_PATH": str(directory / "server-instance"),
            "SECRET_KEY": "fault-test",
            "LOG_LEVEL": "WARNING",
            "RATELIMIT_DEVICE": "100000 per minute",
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        # --preload as in deploy/: the app is imported once, then forked (create_app opens no
        # database connection, so the workers share none); it also halves each restart.
        command = [
            sys.executable, "-m", "gunicorn", "--workers", "2", "--threads", "4", "--preload",
            "--bind", f"127.0.0.1:{self.port}", "survey_server:create_app()",
        ]  # fmt: skip
        with self.log.open("ab") as sink:
            # Its own process group, so that one killpg reaches the master and every worker.
            self.process = subprocess.Popen(
                command, env=self.env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{self.base}/healthz", timeout=2) as reply:
                    if reply.status == 200:
                        return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"gunicorn did not start:\n{self.log.read_text()}") from None
                time.sleep(0.1)

    def kill(self) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.kill()


@pytest.fixture
def server(app: Flask, world: World, database_url: str, tmp_path: Path) -> Iterator[Server]:
    server = Server(database_url, tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def send(url: str, body: dict[str, Any], token: str) -> int | None:
    """The status, or None when the server did not answer (killed, restarting)."""
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            return int(reply.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
    except (OSError, urllib.error.URLError):
        return None


def test_every_acknowledged_answer_survives_sigkill(
    app: Flask, world: World, server: Server
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
