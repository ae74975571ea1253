"""Benchmark of ``POST /api/v1/responses`` under gunicorn on SQLite, beside its floor.

Run by ``make bench`` (never by the tests):

    .venv/bin/python bench/ingest.py                # 3 rounds of 6 s per server and phase
    .venv/bin/python bench/ingest.py --seconds 20 --rounds 5

Two servers, each gunicorn with 2 sync workers on a fresh SQLite file (WAL, synchronous=FULL),
measured in the same run on the same machine:

- ``floor``: a minimal Flask app that does one INSERT into SQLite per request: the most that
  Flask + SQLite can do here;
- ``survey``: the real survey server (device token, rate limit, validation, idempotency check,
  the shift rule with an officer on duty, the response and its officer link, one commit), each
  run on its own copy of the prepared database.

Phases, each in rounds that alternate between the two servers (this machine is shared and its
speed drifts: a slow spell then lands on both, not on one): ``saturated``: closed loop,
CONNECTIONS clients sending back to back; the rate is the median of the rounds. Then ``half``:
both servers driven open-loop at half the floor's saturated rate, latency measured from each
request's scheduled time (no coordinated omission); the floor's p99 there is the machine's own
tail, the control for the survey server's. Last, for context, the survey server at half its
own rate.

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
from concurrent.futures import ProcessPoolExecutor
from http.client import HTTPConnection
from pathlib import Path
from typing import Any

from _support import ROOT, Gunicorn, Results, machine, one_counter, survey_database, survey_env

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
    app, url = survey_database(folder, "bench")
    from survey_server.extensions import db
    from survey_server.services import credentials, kiosk

    with app.app_context():
        _, _, counter, officer = one_counter(db.session)
        db.session.commit()
        _, token = credentials.register_device(db.session, "K-BENCH", None, actor="bench")
        # The officer is on duty at the counter: without a shift every kiosk rating is refused
        # (422 no_shift, KIOSK_REQUIRE_SHIFT), and the benchmark would time refusals.
        kiosk.open_shift(db.session, counter, officer, "kiosk", SHIFT_OPENED_AT)
        db.session.remove()
        db.engine.dispose()
    return token, survey_env(folder, url, "bench", RATELIMIT_DEVICE="10000000 per minute")


def prepare_floor(path: Path) -> dict[str, str]:
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute(FLOOR_TABLE)
    connection.commit()
    connection.close()
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
    """One round: requests per second, every latency (s) and the answers by status."""
    start = time.monotonic() + 0.5
    share = None if rate is None else rate / CLIENT_PROCESSES
    with ProcessPoolExecutor(CLIENT_PROCESSES) as pool:
        futures = [
            pool.submit(client, port, token, start, seconds, share) for _ in range(CLIENT_PROCESSES)
        ]
        results = [future.result() for future in futures]
    latencies = [latency for result in results for latency in result["latencies"]]
    wall = max(seconds, time.monotonic() - start)
    return {
        "latencies": latencies,
        "statuses": sum((result["statuses"] for result in results), Counter[int]()),
        "rps": len(latencies) / wall,
    }


def pooled(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """The figures of several rounds as one: rates by median, latencies over every request."""
    latencies = sorted(ms for figures in rounds for ms in figures["latencies"])
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    statuses = sum((figures["statuses"] for figures in rounds), Counter[int]())
    return {
        "requests": len(latencies),
        "statuses": statuses,
        "errors": sum(n for status, n in statuses.items() if status != 201),
        "rps": statistics.median(figures["rps"] for figures in rounds),
        "rounds_rps": [figures["rps"] for figures in rounds],
        "p50_ms": cuts[49] * 1000,
        "p99_ms": cuts[98] * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=6.0, help="length of each round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per server and phase")
    args = parser.parse_args()
    print(
        f"ingest: {machine()}, Python {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}; "
        f"gunicorn 2 workers, {CONNECTIONS} connections; {args.rounds} rounds of "
        f"{args.seconds:g} s per server and phase, the two servers alternating"
    )
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as temporary:
        folder = Path(temporary)
        token, survey_env = prepare_survey(folder)

        def survey_copy(phase: str) -> dict[str, str]:
            """Each survey phase on its own copy of the prepared database."""
            path = folder / f"survey-{phase}.db"
            shutil.copyfile(folder / "survey.db", path)
            return {**survey_env, "DATABASE_URL": f"sqlite:///{path}"}

        # Only the floor is loaded from bench/; the survey server gets the repository alone on
        # its path (the last --pythonpath wins), so that no bench/*.py module shadows one of its
        # packages (bench/kiosk.py vs the kiosk blueprint).
        def floor_server(phase: str) -> Gunicorn:
            env = prepare_floor(folder / f"floor-{phase}.db")
            return Gunicorn("ingest:create_floor_app()", env, folder / "floor.log")

        def survey_server(phase: str) -> Gunicorn:
            return Gunicorn(
                "survey_server:create_app()",
                survey_copy(phase),
                folder / "survey.log",
                extra=("--pythonpath", str(ROOT)),
            )

        def alternate(
            floor: Gunicorn, survey: Gunicorn, rates: tuple[float | None, float | None]
        ) -> tuple[dict[str, Any], dict[str, Any]]:
            """Rounds of floor then survey, so that a slow spell of this shared machine lands
            on both; each round after a warm-up (workers warm, files cached)."""
            results: tuple[list[dict[str, Any]], list[dict[str, Any]]] = ([], [])
            for round_number in range(args.rounds):
                for server, rate, sink in zip((floor, survey), rates, results, strict=True):
                    warm = measure(server.port, token, min(2.0, args.seconds), rate)
                    figures = measure(server.port, token, args.seconds, rate)
                    # A refused request is a failure whenever it happens, warm-up included.
                    figures["statuses"].update(warm["statuses"])
                    sink.append(figures)
                print(f"  round {round_number + 1} of {args.rounds} done", flush=True)
            return pooled(results[0]), pooled(results[1])

        print("saturated: closed loop, back to back", flush=True)
        with floor_server("saturated") as floor, survey_server("saturated") as survey:
            floor_saturated, survey_saturated = alternate(floor, survey, (None, None))
        half_rate = floor_saturated["rps"] / 2
        print(f"at {half_rate:.0f} req/s (half the floor's rate), both servers", flush=True)
        with floor_server("half") as floor, survey_server("half") as survey:
            floor_half, survey_half = alternate(floor, survey, (half_rate, half_rate))
        # Context: the survey server when not overloaded (half its own rate).
        own_half_rate = survey_saturated["rps"] / 2
        with survey_server("own-half") as survey:
            own_half = pooled([measure(survey.port, token, args.seconds, own_half_rate)])

    ratio = survey_saturated["rps"] / floor_saturated["rps"]
    print(f"{'':30}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}   req/s of each round")
    rows = [
        ("floor (1 INSERT), saturated", floor_saturated),
        ("survey server, saturated", survey_saturated),
        (f"floor at {half_rate:.0f} req/s", floor_half),
        (f"survey server at {half_rate:.0f} req/s", survey_half),
        (f"survey server at {own_half_rate:.0f} req/s", own_half),
    ]
    for label, figures in rows:
        rounds = " ".join(f"{rps:.0f}" for rps in figures["rounds_rps"])
        print(
            f"{label:30}{figures['rps']:9.0f}{figures['p50_ms']:9.1f}{figures['p99_ms']:9.1f}"
            f"{figures['errors']:8.0f}   {rounds}"
        )
    rate_ok, p99_ok = ratio >= 0.5, survey_half["p99_ms"] < 100
    print(
        f"ratio survey/floor (medians of the rounds): {ratio:.0%} (target ≥ 50%: "
        f"{'met' if rate_ok else 'NOT met'}); p99 at half the floor's rate: "
        f"{survey_half['p99_ms']:.1f} ms (target < 100 ms: {'met' if p99_ok else 'NOT met'}; "
        f"the floor's own p99 at that rate: {floor_half['p99_ms']:.1f} ms)"
    )
    results = Results("ingest")
    for name, figures in (("floor", floor_saturated), ("survey", survey_saturated)):
        results.add(f"{name}_rps", round(figures["rps"], 1), "req/s")
        results.add(f"{name}_p50", round(figures["p50_ms"], 2), "ms")
        results.add(f"{name}_p99", round(figures["p99_ms"], 2), "ms")
    results.add("ratio", round(ratio, 3), "", target=">= 0.5")
    results.add(
        "survey_p99_at_half_floor_rate",
        round(survey_half["p99_ms"], 2),
        "ms",
        target="< 100",
        rate=round(half_rate, 1),
    )
    results.add(
        "floor_p99_at_half_floor_rate",
        round(floor_half["p99_ms"], 2),
        "ms",
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
