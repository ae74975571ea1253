"""Benchmark of the monthly rating job on SQLite (run by ``make bench``, never by the tests).

Builds a synthetic month (default: 1,000,000 forms, 20,000 officers, 1,500,000 dossiers, and the
same at one tenth of that size), then measures, each in its own process so that the peak memory
is its own:

- ``bare``: one bare GROUP BY over the same forms table (valid forms of the month per officer),
  reading the forms the way the job does (by id from the month's first form),
- ``bare_index_plan`` (context): the same query as SQLite plans it alone (answered_at index),
- ``job``: the rating job for the month (every unit, results stored), and
- ``rerun``: the job again on the same data (nothing changed, nothing stored; exit 1 otherwise).

Figures go to bench/results.jsonl (``Results("rating_job")``, see bench/README.md). The build
and every measurement run in child processes (a forked child inherits its parent's peak RSS).
The job's peak memory includes its banding process's peak RSS (``rating_job._BandingProcess``,
forked at the start of the run: an upper bound, since it counts the pages both share), and its
CPU time both processes'.

    .venv/bin/python bench/rating_job.py                 # full size and one tenth
    .venv/bin/python bench/rating_job.py --scale 0.01    # 10,000 forms … and 1,000 forms

Target (issue 5): the job within 3x the bare GROUP BY, peak memory under 1 GB.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.append(str(Path(__file__).parent))  # after the project: bench/kiosk.py is not kiosk

from _support import Results  # noqa: E402

MONTH = dt.date(2026, 10, 1)
# October 2026 in Asia/Ho_Chi_Minh, as naive UTC the way the models store it on SQLite.
MONTH_START_UTC = "2026-09-30 17:00:00"
MONTH_SECONDS = 31 * 24 * 3600
OFFICERS_PER_UNIT = 100
RECEPTION_PER_UNIT = 40  # the other 60 resolve dossiers
TARGET_FORMS = 1_000_000  # issue 5: for a month of this size (20,000 officers) …
TARGET_RATIO = 3.0  # … the job within 3x the bare GROUP BY…
TARGET_PEAK_MB = 1024  # … and under 1 GB of peak memory
ROUNDS = 3  # bare GROUP BY and job, alternating; medians compared


def _app(db_path: Path, instance: Path) -> object:
    os.environ["INSTANCE_PATH"] = str(instance)
    from survey_server import create_app

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_path}",
            "SECRET_KEY": "bench",
            "LOG_LEVEL": "WARNING",
        }
    )


def build(db_path: Path, forms: int, officers: int, dossiers: int) -> None:
    """Migrate an empty database, then fill it with INSERT … SELECT (no Python loop per row)."""
    from flask_migrate import upgrade

    app = _app(db_path, db_path.parent / "instance")
    with app.app_context():  # type: ignore[attr-defined]
        upgrade()
        from survey_server.extensions import db

        db.engine.dispose()
    units = max(1, officers // OFFICERS_PER_UNIT)
    connection = sqlite3.connect(db_path)
    # The build connection only: no journal, no fsync, a large cache, one transaction; the
    # secondary indexes are dropped first and built once at the end (a sort, not 1.5 M random
    # inserts). The database ends in WAL mode, with statistics, as the app leaves it.
    for pragma in (
        "journal_mode=OFF",
        "synchronous=OFF",
        "locking_mode=EXCLUSIVE",
        "temp_store=MEMORY",
        "cache_size=-524288",
    ):
        connection.execute(f"PRAGMA {pragma}")
    indexes = connection.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
    ).fetchall()
    for name, _ in indexes:
        connection.execute(f"DROP INDEX {name}")
    seq = "WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < ?)"
    start = MONTH_START_UTC
    run = connection.execute
    run(
        f"{seq} INSERT INTO units (id, code, name, level, active) "
        "SELECT n, printf('U%04d', n), printf('Đơn vị %d', n), 'commune', 1 FROM seq",
        (units,),
    )
    run(
        "INSERT INTO centres (id, code, name, unit_id, networks) "
        "SELECT id, 'C' || code, 'Trung tâm ' || code, id, '[]' FROM units"
    )
    # Officer n belongs to unit (n-1)/100 + 1; the first 40 of each unit are at the desk.
    run(
        f"{seq} INSERT INTO officers (id, code, name, unit_id, staff_group, active) "
        "SELECT n, printf('CB%06d', n), printf('Cán bộ %d', n), (n - 1) / ? + 1, "
        "CASE WHEN (n - 1) % ? < ? THEN 'reception' ELSE 'resolver' END, 1 FROM seq",
        (officers, OFFICERS_PER_UNIT, OFFICERS_PER_UNIT, RECEPTION_PER_UNIT),
    )
    per_unit_resolvers = OFFICERS_PER_UNIT - RECEPTION_PER_UNIT
    # Dossier n: unit n % units; returned in the month except 1 in 20; 1 in 12 is late.
    # Every other choice uses n / units, so that it does not depend on the unit.
    run(
        seq.replace("?", ":n")
        + " INSERT INTO dossiers (id, code, procedure, unit_id, centre_id, received_at, "
        "due_at, returned_at, reception_officer_id, created_at, updated_at) "
        "SELECT n, printf('HS%08d', n), 'Đăng ký khai sinh', n % :units + 1, n % :units + 1, "
        "datetime(:start, '+' || (n * 7919 % :secs) || ' seconds', '-3 days') || '.000000', "
        "datetime(:start, '+' || (n * 7919 % :secs) || ' seconds', "
        "  CASE WHEN n / :units % 12 = 0 THEN '-1 days' ELSE '+2 days' END) || '.000000', "
        "CASE WHEN n / :units % 20 = 19 THEN NULL ELSE "
        "  datetime(:start, '+' || (n * 7919 % :secs) || ' seconds') || '.000000' END, "
        "(n % :units) * :per_unit + 1 + (n / :units * 7 % :reception), "
        "datetime(:start) || '.000000', datetime(:start) || '.000000' FROM seq",
        {
            "n": dossiers,
            "units": units,
            "start": start,
            "secs": MONTH_SECONDS,
            "per_unit": OFFICERS_PER_UNIT,
            "reception": RECEPTION_PER_UNIT,
        },
    )
    first_resolver = f"(d.unit_id - 1) * {OFFICERS_PER_UNIT} + {RECEPTION_PER_UNIT} + 1"
    # Half the late dossiers name who was responsible: their first resolver.
    run(
        "INSERT INTO dossier_late_responsible (dossier_id, officer_id) "
        f"SELECT d.id, {first_resolver} + (d.id / {units} * 13 % {per_unit_resolvers}) "
        f"FROM dossiers d WHERE d.id / {units} % 24 = 0"
    )
    # A third of those name the receiving officer as well.
    run(
        "INSERT INTO dossier_late_responsible (dossier_id, officer_id) "
        f"SELECT d.id, d.reception_officer_id FROM dossiers d WHERE d.id / {units} % 72 = 0"
    )
    # Each dossier's local return month and lateness for its receiving officer (named), and
    # each link's for that resolver, as the app keeps them (models._sync_month_facts; Viet Nam
    # is UTC+7 all year).
    run(
        "UPDATE dossiers SET returned_month = CASE WHEN returned_at IS NOT NULL "
        "  THEN date(returned_at, '+7 hours', 'start of month') END, "
        "reception_late = coalesce(returned_at > due_at AND EXISTS ("
        "  SELECT 1 FROM dossier_late_responsible n "
        "  WHERE n.dossier_id = dossiers.id AND n.officer_id = dossiers.reception_officer_id"
        "), 0)"
    )
    link = (
        "INSERT INTO dossier_resolvers (dossier_id, officer_id, returned_month, late) "
        "SELECT d.id, d.officer_id, "
        "  CASE WHEN d.returned_at IS NOT NULL "
        "  THEN date(d.returned_at, '+7 hours', 'start of month') END, "
        "  coalesce(d.returned_at > d.due_at AND ("
        "    EXISTS (SELECT 1 FROM dossier_late_responsible n "
        "            WHERE n.dossier_id = d.id AND n.officer_id = d.officer_id) "
        "    OR NOT EXISTS (SELECT 1 FROM dossier_late_responsible n WHERE n.dossier_id = d.id)"
        "  ), 0) "
        "FROM (SELECT d.id, d.returned_at, d.due_at, {officer} AS officer_id "
        "      FROM dossiers d {where}) d"
    )
    run(
        link.format(
            officer=f"{first_resolver} + (d.id / {units} * 13 % {per_unit_resolvers})", where=""
        )
    )
    # A third of the dossiers have a second resolver.
    run(
        link.format(
            officer=f"{first_resolver} + ((d.id / {units} * 13 + 1) % {per_unit_resolvers})",
            where=f"WHERE d.id / {units} % 3 = 0",
        )
    )
    # Forms: 2 in 5 are phieu2 about dossier n (one per dossier), the others phieu1 naming a
    # desk officer. overall: 3 % ones, 3 % twos, 8 % threes, 26 % fours, 60 % fives.
    overall = (
        "CASE WHEN n * 37 % 100 < 3 THEN 1 WHEN n * 37 % 100 < 6 THEN 2 "
        "WHEN n * 37 % 100 < 14 THEN 3 WHEN n * 37 % 100 < 40 THEN 4 ELSE 5 END"
    )
    run(
        seq.replace("?", ":n")
        + " INSERT INTO responses (id, client_id, form, form_version, dossier_id, channel, "
        "answers, overall, answered_at, received_at, lang, valid, flags, content_hash) "
        "SELECT n, printf('%036d', n), "
        "CASE WHEN n / :units % 5 < 2 THEN 'phieu2' ELSE 'phieu1' END, 1, "
        "CASE WHEN n / :units % 5 < 2 THEN n ELSE NULL END, 'kiosk', "
        f"'{{\"overall\": ' || ({overall}) || '}}', {overall}, "
        "datetime(:start, '+' || (n * 104729 % :secs) || ' seconds') || '.000000', "
        "datetime(:start, '+' || (n * 104729 % :secs) || ' seconds') || '.000000', "
        "'vi', n % 97 <> 0, '[]', printf('%064d', n) FROM seq",
        {"n": forms, "start": start, "secs": MONTH_SECONDS, "units": units},
    )
    run(
        "INSERT INTO response_officers (response_id, officer_id) "
        "SELECT r.id, dr.officer_id FROM responses r "
        "JOIN dossier_resolvers dr ON dr.dossier_id = r.dossier_id WHERE r.form = 'phieu2'"
    )
    run(
        "INSERT INTO response_officers (response_id, officer_id) "
        f"SELECT r.id, (r.id % {units}) * {OFFICERS_PER_UNIT} + 1 + (r.id / {units} * 11 % "
        f"{RECEPTION_PER_UNIT}) FROM responses r WHERE r.form = 'phieu1'"
    )
    # A misconduct report for 1 form in 2,000: a third pending, a third confirmed.
    run(
        "INSERT INTO misconduct_reports (response_id, officer_id, status, created_at) "
        "SELECT ro.response_id, ro.officer_id, "
        "CASE ro.response_id / 7 % 3 WHEN 0 THEN 'pending' WHEN 1 THEN 'confirmed' "
        "ELSE 'rejected' END, r.received_at "
        "FROM response_officers ro JOIN responses r ON r.id = ro.response_id "
        f"WHERE ro.response_id / {units} % 2000 = 0"
    )
    run(
        "INSERT INTO officer_month_records (officer_id, month, violations, disciplined, "
        "recorded_at) SELECT id, ?, id / 50 % 4, id % 200 = 0, datetime('now') || '.000000' "
        "FROM officers WHERE id % 50 = 0",
        (MONTH.isoformat(),),
    )
    for _, sql in indexes:
        run(sql)
    connection.commit()
    run("ANALYZE")
    connection.execute("PRAGMA locking_mode=NORMAL")
    connection.execute("PRAGMA journal_mode=WAL")
    connection.close()


#: The baselines: valid forms of the month per officer, the join and filter the job needs for
#: forms with nothing else. ``bare`` reads them the way the job does (by id from the month's
#: first form; ``+`` keeps SQLite's planner off the answered_at index, see
#: rating_job.in_month_by_key); ``bare_index_plan`` is the same query as SQLite plans it on its
#: own (answered_at index, then each form in random order): slower, so not the baseline.
BARE = {
    "bare": (
        "SELECT ro.officer_id, count(*) FROM responses r "
        "JOIN response_officers ro ON ro.response_id = r.id "
        "WHERE r.valid AND r.id >= (SELECT min(id) FROM responses "
        "  WHERE answered_at >= :start AND answered_at < :end) "
        "AND +r.answered_at >= :start AND +r.answered_at < :end "
        "GROUP BY +ro.officer_id"
    ),
    "bare_index_plan": (
        "SELECT ro.officer_id, count(*) FROM responses r "
        "JOIN response_officers ro ON ro.response_id = r.id "
        "WHERE r.valid AND r.answered_at >= :start AND r.answered_at < :end "
        "GROUP BY ro.officer_id"
    ),
}


#: The resolver facts of the month derived from the dossiers themselves (the join the job made
#: before migration 0009), to check the build's link columns against (``check_links``).
RESOLVERS_BY_JOIN = (
    "SELECT dr.officer_id, count(*), sum(CASE WHEN d.returned_at > d.due_at AND ("
    "  EXISTS (SELECT 1 FROM dossier_late_responsible n"
    "          WHERE n.dossier_id = d.id AND n.officer_id = dr.officer_id)"
    "  OR NOT EXISTS (SELECT 1 FROM dossier_late_responsible n WHERE n.dossier_id = d.id)"
    ") THEN 1 ELSE 0 END) FROM dossier_resolvers dr JOIN dossiers d ON d.id = dr.dossier_id "
    "WHERE d.returned_at >= :start AND d.returned_at < :end GROUP BY dr.officer_id"
)
RESOLVERS_BY_LINK = (
    "SELECT officer_id, count(*), sum(late) FROM dossier_resolvers "
    "WHERE returned_month = :month GROUP BY officer_id"
)


RECEPTION_BY_TIMES = (
    "SELECT d.reception_officer_id, count(*), sum(CASE WHEN d.returned_at > d.due_at AND "
    "  EXISTS (SELECT 1 FROM dossier_late_responsible n"
    "          WHERE n.dossier_id = d.id AND n.officer_id = d.reception_officer_id)"
    " THEN 1 ELSE 0 END) FROM dossiers d "
    "WHERE d.returned_at >= :start AND d.returned_at < :end GROUP BY d.reception_officer_id"
)
RECEPTION_BY_MONTH = (
    "SELECT reception_officer_id, count(*), sum(reception_late) FROM dossiers "
    "WHERE returned_month = :month GROUP BY reception_officer_id"
)


def check_links(db_path: Path) -> str:
    """Exit 1 unless the copied months and lateness (resolver links, reception columns) give
    the same facts as the dossiers' own times do."""
    connection = sqlite3.connect(db_path)
    bounds = {"start": MONTH_START_UTC, "end": "2026-10-31 17:00:00", "month": MONTH.isoformat()}
    checked = []
    for by_times, by_copies, what in (
        (RESOLVERS_BY_JOIN, RESOLVERS_BY_LINK, "resolvers"),
        (RECEPTION_BY_TIMES, RECEPTION_BY_MONTH, "desk officers"),
    ):
        expected = connection.execute(by_times, bounds).fetchall()
        found = connection.execute(by_copies, bounds).fetchall()
        if expected != found or not expected:
            raise SystemExit(f"the build's copied {what} facts disagree with its dossiers")
        checked.append(f"{len(found):,} {what} ({sum(row[2] for row in found):,} late)")
    connection.close()
    return f"month and lateness of {' and '.join(checked)}: the same as the dossiers say"


def _peak_mb() -> float:
    """This process's peak RSS plus its largest child's: the job's banding process (forked, so
    its RSS counts the pages it shares with the job too: an upper bound)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return (own + resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024


def _cpu_seconds() -> float:
    """CPU time used so far by this process and its children (waited for)."""
    return sum(
        usage.ru_utime + usage.ru_stime
        for usage in map(resource.getrusage, (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    )


def measure(kind: str, db_path: Path) -> dict[str, float]:
    """Run one measurement in this (fresh) process; print its seconds and peak memory."""
    app = _app(db_path, db_path.parent / "instance")
    from sqlalchemy import text

    from survey_server.extensions import db
    from survey_server.services import rating_job
    from survey_server.timeutil import month_bounds

    with app.app_context():  # type: ignore[attr-defined]
        start, end = month_bounds(MONTH.year, MONTH.month)
        stored = 0
        cpu = _cpu_seconds()
        began = time.perf_counter()
        if kind in BARE:
            rating_job.widen_sqlite_cache(db.session)  # the same connection settings as the job
            rows = db.session.execute(
                text(BARE[kind]),
                {"start": start.replace(tzinfo=None), "end": end.replace(tzinfo=None)},
            ).all()
            stored = len(rows)
        else:
            now = dt.datetime(2026, 11, 1, 2, 0, tzinfo=dt.UTC)
            summary = rating_job.run_month(db.session, MONTH, now)
            stored = summary.stored
        seconds = time.perf_counter() - began
        cpu = _cpu_seconds() - cpu
        db.session.remove()
        db.engine.dispose()
    banding_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {
        "seconds": seconds,
        "cpu_s": cpu,
        "peak_mb": _peak_mb(),
        "banding_mb": banding_mb,
        "rows": stored,
    }


def _child(kind: str, db_path: Path) -> dict[str, float]:
    output = subprocess.run(
        [sys.executable, __file__, "--measure", kind, "--db", str(db_path)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    result: dict[str, float] = json.loads(output.strip().splitlines()[-1])
    return result


def clear_results(db_path: Path) -> None:
    """Delete the stored results, so that the next job stores every officer's again."""
    connection = sqlite3.connect(db_path)
    connection.execute("DELETE FROM officer_ratings")
    connection.commit()
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()


def _median(runs: list[dict[str, float]]) -> dict[str, float]:
    """The run of median time (its own peak memory and rows with it)."""
    return sorted(runs, key=lambda run: run["seconds"])[len(runs) // 2]


def bench(scale: float, folder: Path, results: Results) -> None:
    forms, officers, dossiers = (round(n * scale) for n in (TARGET_FORMS, 20_000, 1_500_000))
    db_path = folder / f"bench-{forms}.db"
    began = time.perf_counter()
    if db_path.exists():  # kept from an earlier run (--keep): measure it again
        print(f"reusing {db_path}", flush=True)
    else:
        print(f"building {forms:,} forms …", flush=True)
        # In a child process: a forked measurement would inherit this process's peak memory.
        subprocess.run(
            [sys.executable, __file__, "--build", str(db_path), f"{forms},{officers},{dossiers}"],
            check=True,
        )
    built = time.perf_counter() - began
    size = db_path.stat().st_size / 2**20
    print(
        f"size: {forms:,} forms, {officers:,} officers, {dossiers:,} dossiers "
        f"({max(1, officers // OFFICERS_PER_UNIT)} units); built in {built:.1f} s, {size:.0f} MB"
    )
    if scale < 0.5:  # at full size the check's join alone takes seconds
        print(f"copied facts: {check_links(db_path)}", flush=True)
    print(
        f"measuring: index plan (warms the cache), then {ROUNDS} rounds of bare GROUP BY and "
        "job (results cleared before each), then the job again on its own results",
        flush=True,
    )
    index_plan = _child("bare_index_plan", db_path)  # reads every page the others read
    # Alternating rounds: this machine is shared and its speed drifts between seconds; a slow
    # spell then lands on both sides, and the medians are compared.
    bares, jobs = [], []
    for _ in range(ROUNDS):
        clear_results(db_path)
        bares.append(_child("bare", db_path))
        jobs.append(_child("job", db_path))
        if jobs[-1]["rows"] != officers:
            raise SystemExit(f"the job stored {jobs[-1]['rows']:,.0f} results, not {officers:,}")
    rerun = _child("job", db_path)
    if rerun["rows"] != 0:
        raise SystemExit(f"the job stored {rerun['rows']:,.0f} results again on the same data")
    print(
        "  rounds (bare / job, s): "
        + ", ".join(
            f"{b['seconds']:.2f} / {j['seconds']:.2f}" for b, j in zip(bares, jobs, strict=True)
        )
    )
    bare, job = _median(bares), _median(jobs)
    job["peak_mb"] = max(run["peak_mb"] for run in jobs)  # the worst of the rounds
    ratio = job["seconds"] / bare["seconds"]
    met = ratio <= TARGET_RATIO and job["peak_mb"] < TARGET_PEAK_MB
    full_size = forms == TARGET_FORMS  # the size the issue sets the target for
    print(
        f"  bare GROUP BY : {bare['seconds']:7.2f} s (median)  peak {bare['peak_mb']:6.0f} MB"
        f"  (CPU {bare['cpu_s']:.2f} s)"
    )
    print(
        f"  (index plan)  : {index_plan['seconds']:7.2f} s  peak {index_plan['peak_mb']:6.0f} MB"
        "  (the same query as SQLite plans it alone)"
    )
    print(
        f"  rating job    : {job['seconds']:7.2f} s (median)  peak {job['peak_mb']:6.0f} MB  "
        f"({job['rows']:,.0f} results stored; {ratio:.2f}x bare, "
        f"{job['seconds'] / index_plan['seconds']:.2f}x the index plan; "
        f"CPU {job['cpu_s']:.2f} s"
        + (
            f"; of the peak, {job['banding_mb']:.0f} MB the banding process's"
            * bool(job["banding_mb"])
        )
        + ")"
    )
    print(
        f"  job, same data: {rerun['seconds']:7.2f} s  peak {rerun['peak_mb']:6.0f} MB  "
        f"({rerun['rows']:,.0f} stored; {rerun['seconds'] / bare['seconds']:.2f}x bare)"
    )
    verdict = ("met" if met else "NOT met") if full_size else "set for the full size only"
    print(f"  target: job <= {TARGET_RATIO:g}x bare, peak < {TARGET_PEAK_MB} MB: {verdict}")
    size_context = {"forms": forms, "officers": officers, "dossiers": dossiers}
    results.add("build_s", round(built, 1), "s", **size_context)
    results.add("bare_s", round(bare["seconds"], 3), "s", **size_context)
    results.add("bare_index_plan_s", round(index_plan["seconds"], 3), "s", **size_context)
    results.add("job_s", round(job["seconds"], 3), "s", **size_context)
    results.add(
        "job_peak_mb",
        round(job["peak_mb"]),
        "MB",
        target=f"< {TARGET_PEAK_MB}",
        **size_context,
    )
    results.add("rerun_s", round(rerun["seconds"], 3), "s", **size_context)
    results.add("ratio", round(ratio, 2), "", target=f"<= {TARGET_RATIO:g}", **size_context)
    results.add(
        "ratio_vs_index_plan",
        round(job["seconds"] / index_plan["seconds"], 2),
        "",
        **size_context,
    )
    sys.stdout.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 1,000,000 forms")
    parser.add_argument("--keep", type=Path, help="build the databases in this folder")
    parser.add_argument("--measure", choices=(*BARE, "job"), help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--build", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build:
        forms, officers, dossiers = (int(n) for n in args.build[1].split(","))
        build(Path(args.build[0]), forms, officers, dossiers)
        return
    if args.measure:
        print(json.dumps(measure(args.measure, args.db)))
        return
    print(
        f"SQLite {sqlite3.sqlite_version}, Python {sys.version.split()[0]}, {os.cpu_count()} CPUs"
    )
    results = Results("rating_job")
    began = time.perf_counter()
    with tempfile.TemporaryDirectory() as temporary:
        folder = args.keep or Path(temporary)
        folder.mkdir(parents=True, exist_ok=True)
        for scale in (args.scale, args.scale / 10):
            bench(scale, folder, results)
    total = time.perf_counter() - began
    print(f"run time: {total:.0f} s")
    results.add("run_s", round(total), "s")


if __name__ == "__main__":
    main()
