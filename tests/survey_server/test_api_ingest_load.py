"""The kiosk API under load (issue 9, bench/ingest.py): slow when loaded, never wrong.

- many distinct ratings from one kiosk token, sent back to back from several connections to a
  real gunicorn (2 workers) on a SQLite file: every one is stored (201), once;
- a database lock held longer than the busy timeout: 503 with ``Retry-After`` (the kiosk sends
  the answer again), never a 500, and nothing half stored; the retry is then stored;
- the checks read without the write lock: a retry (200) is answered while another writes;
- the fast path's skipped surrogate check still refuses an escaped lone surrogate;
- the API's writers take turns on a lock file (writer_lock): a turn held past the busy timeout
  is 503 with nothing stored, a killed holder frees it at once, and two threads of one worker
  exclude each other as two workers do.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from builders import World, make_app, response_body, row_counts
from gunicorn_support import Gunicorn, post_json, running
from survey_server import writer_lock
from survey_server.extensions import db
from survey_server.models import Device, RefusedSubmission, Response, response_officers

CONNECTIONS = 8
PER_CONNECTION = 20


def test_load_from_one_kiosk_token_stores_every_rating(
    app: Flask, world: World, database_url: str, tmp_path: Path
) -> None:
    # The benchmark's load: one token, several connections, back to back (its limit raised).
    env = {"RATELIMIT_DEVICE": "1000000 per minute"}
    server = Gunicorn(database_url, tmp_path, workers=2, threads=1, preload=False, env=env)
    statuses: Counter[int] = Counter()
    lock = threading.Lock()

    def kiosk_connection(url: str) -> None:
        for _ in range(PER_CONNECTION):
            status = post_json(url, response_body(), world.device_token, 60)
            with lock:
                statuses[status] += 1

    with running(server):
        url = f"{server.base}/api/v1/responses"
        threads = [
            threading.Thread(target=kiosk_connection, args=(url,)) for _ in range(CONNECTIONS)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    sent = CONNECTIONS * PER_CONNECTION
    assert statuses == Counter({201: sent})
    stored = row_counts(app, responses=Response, links=response_officers, refused=RefusedSubmission)
    assert stored == {"responses": sent, "links": sent, "refused": 0}
    with app.app_context():
        assert db.session.get_one(Device, world.device_id).last_seen_at is not None


#: The busy timeout of the ``impatient`` client's app: a lock wait gives up quickly.
IMPATIENT_MS = 150


@pytest.fixture
def impatient(app: Flask, database_url: str, tmp_path: Path) -> Iterator[FlaskClient]:
    """A client of a second app on the same database whose lock waits give up after 150 ms."""
    impatient = make_app(database_url, tmp_path / "impatient", SQLITE_BUSY_TIMEOUT_MS=IMPATIENT_MS)
    yield impatient.test_client()


def test_a_lock_held_past_the_busy_timeout_is_503_then_the_retry_is_stored(
    app: Flask, world: World, database_url: str, impatient: FlaskClient
) -> None:
    body = response_body()
    blocker = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
    try:
        blocker.execute("BEGIN IMMEDIATE")  # another writer that does not let go
        busy = impatient.post("/api/v1/responses", json=body, headers=world.device_auth)
        assert busy.status_code == 503
        assert busy.headers["Retry-After"].isdigit()
        assert busy.json is not None
        assert busy.json["error"] == "busy" and busy.json["fields"] == {}
        assert busy.json["message"].startswith("Máy chủ đang bận")
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert row_counts(app, rows=Response)["rows"] == 0
    again = impatient.post("/api/v1/responses", json=body, headers=world.device_auth)
    assert again.status_code == 201
    assert (
        impatient.post("/api/v1/responses", json=body, headers=world.device_auth).status_code == 200
    )
    assert row_counts(app, rows=Response)["rows"] == 1


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "utf-32"])
def test_an_escaped_lone_surrogate_is_refused_in_any_json_encoding(
    app: Flask, world: World, encoding: str
) -> None:
    """The hot path skips the surrogate check only for UTF-8 text without a ``\\u`` escape."""
    body = response_body(answers={"overall": 5, "comment": "\ud800"})
    data = json.dumps(body).encode(encoding)  # ensure_ascii: the surrogate travels as \ud800
    reply = app.test_client().post(
        "/api/v1/responses",
        data=data,
        headers={**world.device_auth, "Content-Type": "application/json"},
    )
    assert reply.status_code == 422
    assert reply.json is not None and reply.json["fields"] == {"body": "invalid_unicode"}
    assert row_counts(app, rows=Response)["rows"] == 0


def test_the_checks_take_no_write_lock_so_a_retry_is_answered_while_another_writes(
    app: Flask, world: World, database_url: str, impatient: FlaskClient
) -> None:
    """The kiosk API's checks read without SQLite's write lock: only storing waits for it."""
    body = response_body()
    assert (
        impatient.post("/api/v1/responses", json=body, headers=world.device_auth).status_code == 201
    )
    blocker = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
    try:
        blocker.execute("BEGIN IMMEDIATE")
        retry = impatient.post("/api/v1/responses", json=body, headers=world.device_auth)
        assert retry.status_code == 200
        assert retry.json is not None and retry.json["status"] == "duplicate"
        new = impatient.post("/api/v1/responses", json=response_body(), headers=world.device_auth)
        assert new.status_code == 503
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert row_counts(app, rows=Response)["rows"] == 1


def _lock_file(database_url: str) -> str:
    path = writer_lock.lock_path_for(database_url.removeprefix("sqlite:///"))
    assert path is not None
    return path


def test_a_writer_turn_held_past_the_busy_timeout_is_503_and_stores_nothing(
    app: Flask,
    world: World,
    database_url: str,
    impatient: FlaskClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    body = response_body()
    holder = os.open(_lock_file(database_url), os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(holder, fcntl.LOCK_EX)  # another worker's turn that does not end
        began = time.monotonic()
        busy = impatient.post("/api/v1/responses", json=body, headers=world.device_auth)
        waited = time.monotonic() - began
        assert busy.status_code == 503
        assert busy.json is not None and busy.json["error"] == "busy"
        assert busy.headers["Retry-After"].isdigit()
        assert IMPATIENT_MS / 1000 <= waited < 5
        assert "writer lock" in caplog.text
    finally:
        os.close(holder)  # closing the file ends its lock
    assert row_counts(app, rows=Response)["rows"] == 0
    assert (
        impatient.post("/api/v1/responses", json=body, headers=world.device_auth).status_code == 201
    )


def test_a_killed_holder_of_the_writer_turn_blocks_nobody(
    app: Flask, world: World, database_url: str
) -> None:
    """A worker killed in the middle of its write (SIGKILL) loses its lock with its life."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, os, sys, time\n"
            "fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)\n"
            "fcntl.flock(fd, fcntl.LOCK_EX)\n"
            "print('held', flush=True)\n"
            "time.sleep(60)\n",
            _lock_file(database_url),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
        began = time.monotonic()
        reply = app.test_client().post(
            "/api/v1/responses", json=response_body(), headers=world.device_auth
        )
        assert reply.status_code == 201
        assert time.monotonic() - began < 5
    finally:
        holder.kill()
        holder.wait()
        assert holder.stdout is not None
        holder.stdout.close()
    assert row_counts(app, rows=Response)["rows"] == 1


def test_two_threads_of_a_worker_take_turns_like_two_workers(
    app: Flask, world: World, database_url: str
) -> None:
    """gthread workers: each thread has its own open lock file, so their turns exclude each
    other (a lock shared through one open file would let both in)."""
    path = _lock_file(database_url)
    in_turn = threading.Event()
    leave = threading.Event()
    second_got_in = threading.Event()

    def first() -> None:
        with app.app_context():
            # As the API's checks leave it: no transaction open (SQLite, no BEGIN).
            connection = db.engine.raw_connection()
            try:
                begin = connection.cursor().execute
                with writer_lock.write_turn(connection.info, lambda: begin("BEGIN IMMEDIATE")):
                    in_turn.set()
                    leave.wait(10)
                    connection.rollback()
            finally:
                connection.close()

    def second() -> None:
        descriptor = writer_lock._file(path)
        fcntl.flock(descriptor, fcntl.LOCK_EX)  # blocks while the first thread's turn lasts
        second_got_in.set()
        fcntl.flock(descriptor, fcntl.LOCK_UN)

    one = threading.Thread(target=first)
    one.start()
    assert in_turn.wait(10)
    two = threading.Thread(target=second)
    two.start()
    assert not second_got_in.wait(0.3)
    leave.set()
    assert second_got_in.wait(10)
    one.join()
    two.join()
