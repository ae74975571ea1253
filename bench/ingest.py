"""Benchmark of ``POST /api/v1/responses`` under gunicorn on SQLite, beside its floor.

Run by ``make bench`` (never by the tests):

    .venv/bin/python bench/ingest.py                # 10 s per phase
    .venv/bin/python bench/ingest.py --seconds 30

Two servers, each gunicorn with 2 sync workers on a fresh SQLite file (WAL, synchronous=FULL),
measured in the same run on the same machine:

- ``floor``: a minimal Flask app that does one INSERT into SQLite per request: the most that
  Flask + SQLite can do here;
- ``survey``: the real survey server (device token, rate limit, validation, idempotency check,
  the shift rule with an officer on duty, the response and its officer link, one commit), each
  run on its own copy of the prepared database.

Phases: ``saturated``: closed loop, CONNECTIONS clients sending back to back, for each server;
then ``half``: the survey server driven open-loop at half the floor's saturated rate, latency
measured from each request's scheduled time (no coordinated omission).

Target (issue 9): the survey server's saturated rate ≥ 50% of the floor's, and its p99 under
100 ms at half the floor's rate.

Exits 1, printing the statuses it got, if any request (warm-ups included) did not get a 201.
Prints a table and appends one JSON line per figure to ``bench/results.jsonl`` (or
``$BENCH_RESULTS``); bench/README.md documents the format.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from http.client import HTTPConnection
from pathlib import Path
from typing import Any

from _support import ROOT, Gunicorn, Results, machine

CLIENT_PROCESSES = 2
THREADS_PER_PROCESS = 4
CONNECTIONS = CLIENT_PROCESSES * THREADS_PER_PROCESS
# The shift covers every answer the clients send (answered_at below), as at a real counter.
SHIFT_OPENED_AT = dt.datetime(2026, 10, 5, 0, 0, tzinfo=dt.UTC)
FLOOR_TABLE = "CREATE TABLE responses (id INTEGER PRIMARY KEY, client_id TEXT UNIQUE, body TEXT)"


# -- the floor: one INSERT per request ---------------------------------------------------------


def create_floor_app() -> Any:
    """The baseline app, loaded by gunicorn as ``ingest:create_floor_app()``."""
    from flask import Flask, jsonify, request

    app = Flask("floor")
    path = os.environ["FLOOR_DATABASE"]
    local = threading.local()

    def connection() -> sqlite3.Connection:
        if not hasattr(local, "connection"):
            opened = sqlite3.connect(path, isolation_level=None)
            opened.execute("PRAGMA journal_mode=WAL")
            opened.execute("PRAGMA synchronous=FULL")
            opened.execute("PRAGMA busy_timeout=30000")
            local.connection = opened
        return local.connection  # type: ignore[no-any-return]

    @app.post("/api/v1/responses")
    def insert() -> Any:
        body = request.get_json(force=True)
        connection().execute(
            "INSERT INTO responses (client_id, body) VALUES (?, ?)",
            (body["id"], request.get_data(as_text=True)),
        )
        return jsonify({"id": body["id"], "status": "stored", "flags": []}), 201

    @app.get("/healthz")
    def healthz() -> Any:
        return jsonify({"status": "ok"})

    return app


# -- setup -------------------------------------------------------------------------------------


def prepare_survey(folder: Path) -> tuple[str, dict[str, str]]:
    """A migrated survey database with one counter, its officer and a kiosk; returns the token."""
    sys.path.insert(0, str(ROOT))
    instance = folder / "instance"
    os.environ["INSTANCE_PATH"] = str(instance)
    from flask_migrate import upgrade

    from survey_server import create_app
    from survey_server.extensions import db
    from survey_server.models import Centre, Counter, Officer, Unit
    from survey_server.services import credentials, kiosk

    url = f"sqlite:///{folder / 'survey.db'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "LOG_LEVEL": "ERROR"})
    with app.app_context():
        upgrade()
        unit = Unit(code="U-BENCH", name="UBND phường Đo Tải", level="commune")
        centre = Centre(code="C-BENCH", name="Trung tâm Phục vụ hành chính công", unit=unit)
        counter = Counter(code="K-BENCH", name="Quầy 1", centre=centre)
        officer = Officer(code="CB001", name="Lò Thị Hoa", unit=unit, group="reception")
        db.session.add_all([unit, centre, counter, officer])
        db.session.commit()
        _, token = credentials.register_device(db.session, "K-BENCH", None, actor="bench")
        # The officer is on duty at the counter: without a shift every kiosk rating is refused
        # (422 no_shift, KIOSK_REQUIRE_SHIFT), and the benchmark would time refusals.
        kiosk.open_shift(db.session, counter, officer, "kiosk", SHIFT_OPENED_AT)
        db.session.remove()
        db.engine.dispose()
    env = {
        "DATABASE_URL": url,
        "INSTANCE_PATH": str(instance),
        "SECRET_KEY": "bench",
        "LOG_LEVEL": "WARNING",
        "RATELIMIT_DEVICE": "10000000 per minute",
    }
    return token, env


def prepare_floor(folder: Path) -> dict[str, str]:
    path = folder / "floor.db"
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute(FLOOR_TABLE)
    return {"FLOOR_DATABASE": str(path)}


# -- load --------------------------------------------------------------------------------------


def body() -> bytes:
    return json.dumps(
        {
            "id": str(uuid.uuid4()),
            "form": "phieu1",
            "dossier_code": None,
            "officer": "CB001",
            "answers": {"overall": 4, "courtesy": 5, "guidance": 4, "comment": "Cán bộ nhiệt tình"},
            "answered_at": "2026-10-05T08:41:07+07:00",
            "lang": "vi",
        },
        ensure_ascii=False,
    ).encode()


def post(port: int, token: str) -> int:
    connection = HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    connection.request("POST", "/api/v1/responses", body(), headers)
    reply = connection.getresponse()
    reply.read()
    connection.close()
    return reply.status


def client(
    port: int, token: str, start: float, seconds: float, rate: float | None
) -> dict[str, Any]:
    """One client process: THREADS_PER_PROCESS threads, closed loop or at ``rate`` per second.

    Returns the latencies (seconds) of the requests sent within [start, start + seconds).
    """
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    lock = threading.Lock()
    slot = iter(range(10**9))

    def next_time() -> float | None:
        if rate is None:
            now = time.monotonic()
            return now if now < start + seconds else None
        with lock:
            scheduled = start + next(slot) / rate
        return scheduled if scheduled < start + seconds else None

    def run() -> None:
        while (scheduled := next_time()) is not None:
            delay = scheduled - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            status = post(port, token)
            elapsed = time.monotonic() - scheduled
            with lock:
                latencies.append(elapsed)
                statuses[status] += 1

    while time.monotonic() < start:
        time.sleep(0.001)
    threads = [threading.Thread(target=run) for _ in range(THREADS_PER_PROCESS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"latencies": latencies, "statuses": statuses}


def measure(port: int, token: str, seconds: float, rate: float | None = None) -> dict[str, Any]:
    """Requests per second, latency percentiles (ms) and answers by status over ``seconds``."""
    start = time.monotonic() + 0.5
    share = None if rate is None else rate / CLIENT_PROCESSES
    with ProcessPoolExecutor(CLIENT_PROCESSES) as pool:
        futures = [
            pool.submit(client, port, token, start, seconds, share) for _ in range(CLIENT_PROCESSES)
        ]
        results = [future.result() for future in futures]
    latencies = sorted(ms for result in results for ms in result["latencies"])
    wall = max(seconds, time.monotonic() - start)
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    statuses = sum((result["statuses"] for result in results), Counter[int]())
    return {
        "requests": len(latencies),
        "statuses": statuses,
        "errors": sum(n for status, n in statuses.items() if status != 201),
        "rps": len(latencies) / wall,
        "p50_ms": cuts[49] * 1000,
        "p99_ms": cuts[98] * 1000,
    }


def with_server(
    app: str, env: dict[str, str], folder: Path, work: Callable[[int], dict[str, Any]]
) -> dict[str, Any]:
    # Only the floor is loaded from bench/; the survey server gets the repository alone on its
    # path (the last --pythonpath wins), so that no bench/*.py module shadows one of its
    # packages (bench/kiosk.py vs the kiosk blueprint).
    extra = () if app.startswith("ingest:") else ("--pythonpath", str(ROOT))
    with Gunicorn(app, env, folder / "gunicorn.log", extra=extra) as server:
        return work(server.port)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each phase")
    args = parser.parse_args()
    print(
        f"ingest: {machine()}, Python {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}; "
        f"gunicorn 2 workers, {CONNECTIONS} connections, {args.seconds:g} s per phase"
    )
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as temporary:
        folder = Path(temporary)
        token, survey_env = prepare_survey(folder)
        floor_env = prepare_floor(folder)

        def warm_then_measure(port: int, rate: float | None = None) -> dict[str, Any]:
            warm = measure(port, token, min(2.0, args.seconds), rate)  # workers warm, files cached
            figures = measure(port, token, args.seconds, rate)
            # A refused request is a failure whenever it happens, warm-up included.
            figures["statuses"].update(warm["statuses"])
            figures["errors"] += warm["errors"]
            return figures

        def fresh(phase: str) -> dict[str, str]:
            """Each survey server on its own copy of the prepared database, as the floor is."""
            path = folder / f"survey-{phase}.db"
            shutil.copyfile(folder / "survey.db", path)
            return {**survey_env, "DATABASE_URL": f"sqlite:///{path}"}

        floor = with_server("ingest:create_floor_app()", floor_env, folder, warm_then_measure)
        survey = with_server(
            "survey_server:create_app()", fresh("saturated"), folder, warm_then_measure
        )
        half_rate = floor["rps"] / 2
        half = with_server(
            "survey_server:create_app()",
            fresh("half-floor"),
            folder,
            lambda port: warm_then_measure(port, half_rate),
        )
        # Context for the reader: the latency when the survey server is not overloaded.
        own_half_rate = survey["rps"] / 2
        own_half = with_server(
            "survey_server:create_app()",
            fresh("half-own"),
            folder,
            lambda port: warm_then_measure(port, own_half_rate),
        )

    ratio = survey["rps"] / floor["rps"]
    print(f"{'':28}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}")
    rows = [
        ("floor (1 INSERT), saturated", floor),
        ("survey server, saturated", survey),
        (f"survey server at {half_rate:.0f} req/s", half),
        (f"survey server at {own_half_rate:.0f} req/s", own_half),
    ]
    for label, figures in rows:
        print(
            f"{label:28}{figures['rps']:9.0f}{figures['p50_ms']:9.1f}{figures['p99_ms']:9.1f}"
            f"{figures['errors']:8.0f}"
        )
    rate_ok, p99_ok = ratio >= 0.5, half["p99_ms"] < 100
    print(
        f"ratio survey/floor: {ratio:.0%} (target ≥ 50%: {'met' if rate_ok else 'NOT met'}); "
        f"p99 at half the floor's rate: {half['p99_ms']:.1f} ms "
        f"(target < 100 ms: {'met' if p99_ok else 'NOT met'})"
    )
    results = Results("ingest")
    for name, figures in (("floor", floor), ("survey", survey)):
        results.add(f"{name}_rps", round(figures["rps"], 1), "req/s")
        results.add(f"{name}_p50", round(figures["p50_ms"], 2), "ms")
        results.add(f"{name}_p99", round(figures["p99_ms"], 2), "ms")
    results.add("ratio", round(ratio, 3), "", target=">= 0.5")
    results.add(
        "survey_p99_at_half_floor_rate",
        round(half["p99_ms"], 2),
        "ms",
        target="< 100",
        rate=round(half_rate, 1),
    )
    results.add(
        "survey_p99_at_half_own_rate",
        round(own_half["p99_ms"], 2),
        "ms",
        rate=round(own_half_rate, 1),
    )
    errors = sum(figures["errors"] for _, figures in rows)
    if errors:
        for label, figures in rows:
            if figures["errors"]:
                other = {status: n for status, n in figures["statuses"].items() if status != 201}
                print(f"{label}: answers other than 201: {other}", file=sys.stderr)
        print(f"{errors:.0f} requests did not get a 201", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
