"""Burst benchmark: 200 kiosks reconnect at once, each flushing the 50 ratings it queued offline.

Run by ``make bench`` (never by the tests):

    .venv/bin/python bench/burst.py                          # 200 kiosks x 50 ratings
    .venv/bin/python bench/burst.py --kiosks 20 --queued 10  # a quick look

Each kiosk is its own device, built with the services: its own counter, an officer on duty with
a shift open since before its queue began, its own token. The kiosks are modelled on
``kiosk/static/kiosk.js`` ("sending: in order, with backoff"): a kiosk sends its queue in order,
one request at a time; 201/200 is done, 409/422 is a final refusal, 401/403 stops the kiosk
(revoked), anything else (429, 5xx, a network error) is retried after
``min(retry_max_seconds, 2^(n-1))`` s (n: failures in a row), at least ``Retry-After``, plus up
to 250 ms of jitter. The answers are what a kiosk queues over a week offline: ``answered_at``
spread over the office hours of the past seven days, in order, some with a comment in
Vietnamese. One connection per request, as in bench/ingest.py, straight to gunicorn (no nginx).

Two servers, measured in the same run with the same client code and the same request bodies, on
fresh SQLite files (WAL, synchronous=FULL):

- ``floor``: bench/ingest.py's minimal Flask app (one INSERT per request);
- ``survey``: the real survey server with its real default configuration (per-device rate
  limit "120 per minute", KIOSK_REQUIRE_SHIFT, flags), under gunicorn with
  deploy/server/gunicorn.conf.py (its workers and threads; the floor gets the same).

Figures: the time to drain all the queues, requests per second, p50/p99 latency of one request,
the retries and their reasons, and the checks afterwards (every rating acknowledged, exactly
kiosks x queued rows, no duplicate, each with its original ``answered_at``). Target (issue 9):
no error. Exits non-zero on an error status (5xx, a final refusal, a revoked kiosk), a network
error, a lost or duplicated row or a changed ``answered_at``; 429s are retried like the kiosk
does and reported, not fatal.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import importlib
import json
import multiprocessing
import os
import random
import runpy
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from http.client import HTTPConnection
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _support import ROOT, Gunicorn, Results, machine, survey_database, survey_env  # noqa: E402
from ingest import prepare_floor  # noqa: E402

CLIENT_PROCESSES = 2
GUNICORN_CONF = ROOT / "deploy" / "server" / "gunicorn.conf.py"
LOCAL = dt.timezone(dt.timedelta(hours=7))  # the kiosks' clocks: Asia/Ho_Chi_Minh
REQUEST_TIMEOUT = 120.0
# A real kiosk retries for ever; a benchmark must end: past this, a kiosk gives up (an error).
GIVE_UP_SECONDS = 900.0
COMMENTS = (
    "Cán bộ nhiệt tình, hướng dẫn rõ ràng.",
    "Phải chờ hơi lâu, mong bố trí thêm quầy vào buổi sáng.",
    "Chị tiếp nhận rất lịch sự, cảm ơn!",
    "Thủ tục nhanh gọn hơn lần trước.",
    "Nên có thêm ghế ngồi chờ và nước uống.",
    "Anh cán bộ giải thích kỹ, một lần là xong hồ sơ.",
    "Máy lấy số thứ tự bị hỏng, phải hỏi bảo vệ.",
    "Rất hài lòng với thái độ phục vụ.",
)


# -- setup -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Kiosk:
    token: str
    officer: str


def prepare_survey(
    folder: Path, kiosks: int, now: dt.datetime
) -> tuple[list[Kiosk], dict[str, str]]:
    """A migrated survey database with ``kiosks`` counters, each with its officer on duty (a
    shift open for eight days) and its registered kiosk; returns the kiosks and the server env.
    """
    app, url = survey_database(folder, "bench")
    from survey_server.extensions import db
    from survey_server.models import Centre, Counter, Officer, Unit
    from survey_server.services import credentials
    from survey_server.services import kiosk as kiosk_service

    made: list[Kiosk] = []
    with app.app_context():
        session = db.session()  # the request-less scoped session's Session
        province = Unit(code="T-BENCH", name="UBND tỉnh Bến Tre", level="province")
        session.add(province)
        counters: list[tuple[Counter, Officer]] = []
        per_centre = 10
        for first in range(0, kiosks, per_centre):
            n = first // per_centre + 1
            unit = Unit(code=f"X{n:03}", name=f"UBND xã Phước Long {n}", level="commune")
            unit.parent = province
            centre = Centre(code=f"C{n:03}", name=f"Bộ phận một cửa xã {n}", unit=unit)
            for index in range(first, min(first + per_centre, kiosks)):
                counter = Counter(
                    code=f"K{index + 1:04}", name=f"Quầy {index - first + 1}", centre=centre
                )
                officer = Officer(
                    code=f"CB{index + 1:04}",
                    name=f"Nguyễn Thị Hồng {index + 1}",
                    unit=unit,
                    group="reception",
                )
                counters.append((counter, officer))
            session.add(centre)
        session.commit()
        for counter, officer in counters:
            # On duty since before the kiosk lost its connection (the queue spans a week).
            kiosk_service.open_shift(session, counter, officer, "kiosk", now - dt.timedelta(days=8))
            _, token = credentials.register_device(session, counter.code, None, actor="bench")
            made.append(Kiosk(token, officer.code))
        db.session.remove()
        db.engine.dispose()
    return made, survey_env(folder, url, "bench")


def queue_of(rng: random.Random, officer: str, queued: int, now: dt.datetime) -> list[bytes]:
    """What one kiosk queued while offline: ``queued`` answers over the office hours of the past
    week, oldest first, in the JSON the kiosk sends."""
    local_now = now.astimezone(LOCAL)
    times: list[dt.datetime] = []
    while len(times) < queued:
        day = (local_now - dt.timedelta(days=rng.randrange(7))).date()
        if day.weekday() == 6:  # no service on Sundays
            continue
        minute = rng.choice(
            (rng.randrange(7 * 60 + 30, 11 * 60 + 30), rng.randrange(13 * 60 + 30, 17 * 60))
        )
        moment = dt.datetime.combine(day, dt.time(), LOCAL) + dt.timedelta(
            minutes=minute, seconds=rng.randrange(60), milliseconds=rng.randrange(1000)
        )
        if moment < local_now - dt.timedelta(minutes=1):
            times.append(moment)
    times.sort()
    bodies = []
    for moment in times:
        overall = rng.choices((5, 4, 3, 2, 1), weights=(50, 30, 10, 6, 4))[0]
        answers: dict[str, Any] = {"overall": overall}
        if rng.random() < 0.6:
            answers["courtesy"] = max(1, min(5, overall + rng.choice((-1, 0, 0, 1))))
            answers["guidance"] = max(1, min(5, overall + rng.choice((-1, 0, 0, 1))))
            answers["contacts"] = rng.choice(("0", "0", "0", "1", "2+"))
            answers["misconduct"] = "co" if rng.random() < 0.02 else "khong"
        if rng.random() < 0.2:
            answers["comment"] = rng.choice(COMMENTS)
        body = {
            "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "form": "phieu1",
            "dossier_code": None,
            "officer": officer,
            "answers": answers,
            "answered_at": moment.isoformat(timespec="milliseconds"),
            "lang": "vi" if rng.random() < 0.9 else "en",
        }
        bodies.append(json.dumps(body, ensure_ascii=False).encode())
    return bodies


# -- the kiosks --------------------------------------------------------------------------------

_acknowledged: Any = None  # a multiprocessing.Value shared with the main process (progress)


def _init_client(acknowledged: Any) -> None:
    global _acknowledged
    _acknowledged = acknowledged


def _post(port: int, token: str, body: bytes) -> tuple[int | str, str | None]:
    """One request on a fresh connection: (status or the network error's name, Retry-After)."""
    connection = HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
    try:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        connection.request("POST", "/api/v1/responses", body, headers)
        reply = connection.getresponse()
        reply.read()
        return reply.status, reply.getheader("Retry-After")
    except OSError as exc:
        return type(exc).__name__, None
    finally:
        connection.close()


def clients(
    port: int, kiosks: list[tuple[str, list[bytes]]], start: float, retry_max: float, seed: int
) -> dict[str, Any]:
    """One client process: a thread per kiosk, each draining its queue like kiosk.js does."""
    latencies: list[float] = []
    attempts: collections.Counter[str] = collections.Counter()
    final: collections.Counter[str] = collections.Counter()
    finished: list[float] = []
    retries = 0
    lock = threading.Lock()

    def kiosk(token: str, queue: list[bytes], rng: random.Random) -> None:
        nonlocal retries
        failures = 0
        for index, body in enumerate(queue):
            first = True
            while True:
                if not first:
                    with lock:
                        retries += 1
                first = False
                sent = time.monotonic()
                status, retry_after = _post(port, token, body)
                took = time.monotonic() - sent
                with lock:
                    latencies.append(took)
                    attempts[str(status)] += 1
                if status in (200, 201, 409, 422):
                    failures = 0
                    with lock:
                        final[str(status)] += 1
                    with _acknowledged.get_lock():
                        _acknowledged.value += 1
                    break
                if status in (401, 403):  # revoked: the kiosk stops sending
                    with lock:
                        final[str(status)] += len(queue)
                        finished.append(time.monotonic())
                    return
                failures += 1
                wait_s = min(retry_max, 2 ** (failures - 1))
                if retry_after and retry_after.isdigit():
                    wait_s = max(wait_s, int(retry_after))
                if time.monotonic() + wait_s > start + GIVE_UP_SECONDS:
                    with lock:
                        final["gave_up"] += len(queue) - index
                        finished.append(time.monotonic())
                    return
                time.sleep(wait_s + rng.random() * 0.25)
        with lock:
            finished.append(time.monotonic())

    rng = random.Random(seed)
    threads = [
        threading.Thread(target=kiosk, args=(token, queue, random.Random(rng.random())))
        for token, queue in kiosks
    ]
    while time.monotonic() < start:
        time.sleep(0.001)
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {
        "latencies": latencies,
        "attempts": dict(attempts),
        "final": dict(final),
        "retries": retries,
        "last": max(finished, default=start),
    }


def burst(
    port: int, label: str, fleet: list[tuple[str, list[bytes]]], retry_max: float
) -> dict[str, Any]:
    """Every kiosk of ``fleet`` starts draining at the same instant; returns the figures."""
    total = sum(len(queue) for _, queue in fleet)
    context = multiprocessing.get_context("spawn")
    acknowledged = context.Value("i", 0)
    start = time.monotonic() + 2.0  # the client processes are up and their threads made
    shares = [fleet[index::CLIENT_PROCESSES] for index in range(CLIENT_PROCESSES)]
    with ProcessPoolExecutor(
        CLIENT_PROCESSES, mp_context=context, initializer=_init_client, initargs=(acknowledged,)
    ) as pool:
        futures: set[Future[dict[str, Any]]] = {
            pool.submit(clients, port, share, start, retry_max, seed)
            for seed, share in enumerate(shares)
        }
        pending = set(futures)
        while pending:
            done, pending = wait(pending, timeout=10, return_when=FIRST_COMPLETED)
            if not done and time.monotonic() > start:
                print(
                    f"  {label}: {acknowledged.value}/{total} acknowledged after "
                    f"{time.monotonic() - start:.0f} s",
                    flush=True,
                )
        results = [future.result() for future in futures]
    drain = max(result["last"] for result in results) - start
    latencies = sorted(s for result in results for s in result["latencies"])
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    attempts: collections.Counter[str] = collections.Counter()
    final: collections.Counter[str] = collections.Counter()
    for result in results:
        attempts.update(result["attempts"])
        final.update(result["final"])
    return {
        "drain_s": drain,
        "requests": len(latencies),
        "rps": len(latencies) / drain,
        "p50_ms": cuts[49] * 1000,
        "p99_ms": cuts[98] * 1000,
        "max_ms": latencies[-1] * 1000,
        "attempts": attempts,
        "final": final,
        "retries": sum(result["retries"] for result in results),
    }


# -- checks ------------------------------------------------------------------------------------


def check_survey(path: Path, sent: dict[str, str], kiosks: int, queued: int) -> list[str]:
    """What must hold in the survey database after the burst; returns the problems found."""
    with sqlite3.connect(path) as connection:
        rows = connection.execute(
            "SELECT client_id, answered_at, device_id FROM responses"
        ).fetchall()
        linked = connection.execute(
            "SELECT count(*) FROM response_officers JOIN responses ON responses.id = response_id"
        ).fetchone()[0]
    problems = []
    if len(rows) != len(sent):
        problems.append(f"{len(rows)} rows in responses, {len(sent)} expected")
    ids = collections.Counter(client_id for client_id, _, _ in rows)
    duplicated = sum(1 for count in ids.values() if count > 1)
    if duplicated:
        problems.append(f"{duplicated} client ids stored more than once")
    missing = len(set(sent) - set(ids))
    if missing:
        problems.append(f"{missing} ratings missing")
    moved = 0
    for client_id, stored, _ in rows:
        original = dt.datetime.fromisoformat(sent.get(client_id, "1970-01-01T00:00:00+00:00"))
        if dt.datetime.fromisoformat(stored).replace(tzinfo=dt.UTC) != original:
            moved += 1
    if moved:
        problems.append(f"{moved} rows without their original answered_at")
    per_device = collections.Counter(device for _, _, device in rows)
    if len(per_device) != kiosks or set(per_device.values()) != {queued}:
        problems.append(f"ratings per device not {queued} each: {sorted(set(per_device.values()))}")
    if linked != len(sent):
        problems.append(f"{linked} officer links for {len(sent)} ratings")
    return problems


def check_floor(path: Path, sent: dict[str, str]) -> list[str]:
    with sqlite3.connect(path) as connection:
        count, distinct = connection.execute(
            "SELECT count(*), count(DISTINCT client_id) FROM responses"
        ).fetchone()
    if count != len(sent) or distinct != len(sent):
        return [f"{count} rows ({distinct} distinct) in the floor's table, {len(sent)} expected"]
    return []


# -- main --------------------------------------------------------------------------------------


def server_cpu_seconds(group: int) -> float:
    """CPU time used so far by a gunicorn process group: its live processes plus the workers the
    master has reaped (recycled after max_requests), from /proc."""
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process has gone meanwhile
            continue
        if int(fields[2]) == group:  # pgrp; then utime, stime, cutime, cstime (fields 14-17)
            ticks += sum(int(value) for value in fields[11:15])
    return ticks / os.sysconf("SC_CLK_TCK")


def measured(
    server: Gunicorn, label: str, fleet: list[tuple[str, list[bytes]]], retry_max: float
) -> dict[str, Any]:
    """The burst against ``server``, with the server's CPU time during it."""
    before = server_cpu_seconds(server.process.pid)
    figures = burst(server.port, label, fleet, retry_max)
    figures["cpu_s"] = server_cpu_seconds(server.process.pid) - before
    return figures


def run_both(
    fleet: list[tuple[str, list[bytes]]],
    floor_env: dict[str, str],
    survey_env: dict[str, str],
    log: Path,
    workers: int,
    threads: int,
    conf: dict[str, Any],
    retry_max: float,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The burst against the floor, then against the survey server (same workers)."""
    same_workers = ("--threads", str(threads), "--max-requests", str(conf["max_requests"]),
                    "--max-requests-jitter", str(conf["max_requests_jitter"]))  # fmt: skip
    with Gunicorn(
        "ingest:create_floor_app()", floor_env, log, workers=workers, extra=same_workers
    ) as server:
        floor = measured(server, "floor", fleet, retry_max)
    with Gunicorn(
        "survey_server:create_app()",
        survey_env,
        log,
        workers=workers,
        # The last --pythonpath wins: the repository, not bench/ (whose kiosk.py would shadow
        # the kiosk package the survey server imports).
        extra=(
            "--config",
            str(GUNICORN_CONF),
            "--threads",
            str(threads),
            "--pythonpath",
            str(ROOT),
        ),
    ) as server:
        survey = measured(server, "survey", fleet, retry_max)
    return floor, survey


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kiosks", type=int, default=200, help="kiosks reconnecting at once")
    parser.add_argument("--queued", type=int, default=50, help="ratings each kiosk queued")
    parser.add_argument("--seed", type=int, default=9, help="seed of the generated answers")
    parser.add_argument(
        "--workers", type=int, help="gunicorn workers of both servers (default: the deploy's)"
    )
    parser.add_argument(
        "--threads", type=int, help="threads per worker of both servers (default: the deploy's)"
    )
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))  # the app's kiosk package, not bench/kiosk.py
    kiosk_package = importlib.import_module("kiosk")
    assert Path(kiosk_package.__file__ or "").parent == ROOT / "kiosk", kiosk_package
    retry_max = float(kiosk_package.DEFAULTS["KIOSK_RETRY_MAX_SECONDS"])
    conf = runpy.run_path(str(GUNICORN_CONF))
    workers = args.workers or int(conf["workers"])
    threads = args.threads or int(conf["threads"])
    total = args.kiosks * args.queued
    print(
        f"burst: {machine()}, Python {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}; "
        f"{args.kiosks} kiosks x {args.queued} queued ratings = {total}, "
        f"{CLIENT_PROCESSES} client processes; gunicorn {workers} workers x {threads} threads "
        f"(deploy/server/gunicorn.conf.py)",
        flush=True,
    )
    now = dt.datetime.now(dt.UTC)
    with tempfile.TemporaryDirectory(prefix="bench-burst-") as temporary:
        folder = Path(temporary)
        made = time.monotonic()
        kiosks, survey_env = prepare_survey(folder, args.kiosks, now)
        floor_env = prepare_floor(folder / "floor.db")
        rng = random.Random(args.seed)
        fleet = [(k.token, queue_of(rng, k.officer, args.queued, now)) for k in kiosks]
        sent = {}
        for _, queue in fleet:
            for body in queue:
                parsed = json.loads(body)
                sent[parsed["id"]] = parsed["answered_at"]
        print(
            f"  setup: {len(kiosks)} kiosks, {len(sent)} ratings in {time.monotonic() - made:.1f} s"
        )

        log = folder / "gunicorn.log"
        try:
            floor, survey = run_both(fleet, floor_env, survey_env, log, workers, threads, conf,
                                     retry_max)  # fmt: skip
        except RuntimeError:
            print(log.read_text(errors="replace")[-4000:], file=sys.stderr)
            raise
        problems = [f"floor: {p}" for p in check_floor(Path(floor_env["FLOOR_DATABASE"]), sent)]
        problems += [
            f"survey: {p}"
            for p in check_survey(folder / "survey.db", sent, args.kiosks, args.queued)
        ]
        server_errors = [
            line for line in log.read_text(errors="replace").splitlines() if "Traceback" in line
        ]

    ratio = survey["drain_s"] / floor["drain_s"]
    print(
        f"{'':10}{'drain s':>9}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}{'requests':>10}"
        f"{'retries':>9}{'server CPU ms/req':>19}"
    )
    for label, figures in (("floor", floor), ("survey", survey)):
        print(
            f"{label:10}{figures['drain_s']:9.1f}{figures['rps']:9.0f}{figures['p50_ms']:9.1f}"
            f"{figures['p99_ms']:9.1f}{figures['max_ms']:9.0f}{figures['requests']:10}"
            f"{figures['retries']:9}"
            f"{figures['cpu_s'] * 1000 / figures['requests']:19.1f}"
        )
    print(f"drain time survey/floor: {ratio:.1f}x")
    cpus = os.cpu_count() or 1
    print(
        "server CPU use during the drain (of this machine's "
        f"{cpus} CPUs): floor {floor['cpu_s'] / floor['drain_s'] / cpus:.0%}, "
        f"survey {survey['cpu_s'] / survey['drain_s'] / cpus:.0%}"
    )
    for label, figures in (("floor", floor), ("survey", survey)):
        statuses = ", ".join(f"{k}: {v}" for k, v in sorted(figures["attempts"].items()))
        print(f"{label} statuses of all {figures['requests']} requests: {statuses}")

    for label, figures in (("floor", floor), ("survey", survey)):
        final = figures["final"]
        if final.get("201", 0) != total:
            refused = {k: v for k, v in final.items() if k != "201"}
            problems.append(f"{label}: {final.get('201', 0)}/{total} ratings got a 201 ({refused})")
        errors = {k: v for k, v in figures["attempts"].items() if k not in ("200", "201", "429")}
        if errors:
            problems.append(f"{label}: error answers on the way: {errors}")
    if server_errors:
        problems.append(f"{len(server_errors)} tracebacks in the gunicorn log")
    print(f"no error (target): {'met' if not problems else 'NOT met'}")
    if survey["attempts"].get("429"):
        print(
            f"finding: {survey['attempts']['429']} requests refused with 429 (the per-device "
            "limit, RATELIMIT_DEVICE) and retried after their Retry-After"
        )

    results = Results("burst")
    setting = {"kiosks": args.kiosks, "queued": args.queued, "workers": workers, "threads": threads}
    for label, figures in (("floor", floor), ("survey", survey)):
        results.add(f"{label}_drain", round(figures["drain_s"], 2), "s", **setting)
        results.add(f"{label}_rps", round(figures["rps"], 1), "req/s", **setting)
        results.add(f"{label}_p50", round(figures["p50_ms"], 2), "ms", **setting)
        results.add(f"{label}_p99", round(figures["p99_ms"], 2), "ms", **setting)
        results.add(f"{label}_max", round(figures["max_ms"], 2), "ms", **setting)
        results.add(
            f"{label}_cpu_per_request",
            round(figures["cpu_s"] * 1000 / figures["requests"], 2),
            "ms",
            **setting,
        )
        results.add(
            f"{label}_retries", figures["retries"], "requests",
            statuses=dict(figures["attempts"]), **setting,
        )  # fmt: skip
    results.add("drain_ratio", round(ratio, 2), "", **setting)
    results.add("errors", len(problems), "", target="== 0", **setting)
    if problems:
        for problem in problems:
            print(problem, file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
