"""Benchmark of the annual index's criterion 8.3 over a year on SQLite (``make bench``, not tests).

Builds a synthetic province year (default: 200 units, 20,000 officers, 2,400,000 forms and the
dossiers they name; then the same at one tenth of the forms) with INSERT … SELECT over a
recursive CTE, then measures, each in its own process so that the peak memory is its own:

- ``bare``: one bare GROUP BY over the same forms table: the year's valid forms per unit and
  form, with the joins that find a form's unit (counter → centre, dossier → centre or unit);
- ``index``: criterion 8.3 (8.3.5–8.3.9 from our forms, 8.3.1–8.3.4 imported) for every unit,
  exactly as ``flask --app survey_server index satisfaction --year 2026`` computes it
  (``index_cli.satisfaction_rows`` → ``services.index.satisfaction_for_units``). The product
  computes 8.3 when it is read and stores nothing, so nothing is stored here either.

    .venv/bin/python bench/index_year.py                 # 2,400,000 forms, then 240,000
    .venv/bin/python bench/index_year.py --scale 0.1     # 240,000 forms, then 24,000

Target: none of its own in the issues. For reference, issue 5 asks the monthly rating job to run
within 3x its bare GROUP BY with a peak under 1 GB; the ratio is printed and recorded.
Budget: about 2 minutes with no arguments on a 2-CPU machine, the builds included (95 s on a
loaded machine, of which ~60 s build the 2,400,000 forms; ``--scale 0.1`` takes ~15 s).

Since 8.3 is counted by the database (``services.index.counts_by_unit``: one GROUP BY unit, a
CASE per question on the stored JSON text), the ratio is about 2x; the Python count it replaced
(``counts_in_python``, still used on other databases) was about 8x.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # ahead of bench/ (the script's folder), so packages win

from _support import Results  # noqa: E402

YEAR = 2026
# 1 January 2026 in Asia/Ho_Chi_Minh, as naive UTC the way the models store it on SQLite.
YEAR_START_UTC = "2025-12-31 17:00:00"
YEAR_SECONDS = 365 * 24 * 3600
LEAD_DAYS = 7  # the database also holds the last week of the previous year
UNITS = 200
OFFICERS_PER_UNIT = 100
COUNTERS_PER_UNIT = 4
FORMS = 12 * 200_000  # a year of a province's forms at full scale
IMPORTED = ("8.3.1", "8.3.2", "8.3.3", "8.3.4")


def _app(db_path: Path) -> Any:
    os.environ["INSTANCE_PATH"] = str(db_path.parent / "instance")
    from survey_server import create_app

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_path}",
            "SECRET_KEY": "bench",
            "LOG_LEVEL": "WARNING",
        }
    )


def _scale5(n: str, multiplier: int) -> str:
    """A 1..5 answer from ``n``: 3 % ones, 3 % twos, 8 % threes, 26 % fours, 60 % fives."""
    value = f"({n} * {multiplier} % 100)"
    return (
        f"CASE WHEN {value} < 3 THEN 1 WHEN {value} < 6 THEN 2 WHEN {value} < 14 THEN 3 "
        f"WHEN {value} < 40 THEN 4 ELSE 5 END"
    )


def build(db_path: Path, forms: int) -> None:
    """Migrate an empty database, then fill it with INSERT … SELECT (no Python loop per row).

    Form ``n`` (``k = n / units`` picks everything that should not depend on the unit):
    2 in 5 are ``phieu2`` about dossier ``n``; of the ``phieu1``, 1 in 5 comes from the QR page
    (dossier ``n``, no counter) and the others from a kiosk at a counter of unit ``n % units``.
    A third of the ``phieu1`` answer the detail questions; 7 in 10 ``phieu2`` say
    ``khong_phan_anh`` to feedback handling; 1 in 97 forms is invalid. The forms come in time
    order over the last week of the previous year and the year (ids follow the receipt time).
    Dossier ``n`` is received at the centre of unit ``n % units``; 1 in 10 is resolved by
    another unit (phieu2 counts for the resolving unit).
    """
    from flask_migrate import upgrade

    app = _app(db_path)
    with app.app_context():
        upgrade()
        from survey_server.extensions import db

        db.engine.dispose()
    connection = sqlite3.connect(db_path)
    connection.execute("PRAGMA synchronous=OFF")
    connection.execute("PRAGMA journal_mode=OFF")
    connection.execute("PRAGMA cache_size=-524288")  # 512 MB while building
    # The big tables' secondary indexes are dropped while the rows go in and made again after
    # (a sort instead of millions of random B-tree inserts); the same SQL as the migrations.
    indexes = connection.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
        "AND tbl_name IN ('responses', 'dossiers')"
    ).fetchall()
    for name, _sql in indexes:
        connection.execute(f'DROP INDEX "{name}"')
    seq = "WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < :n) "
    run = connection.execute
    run(
        seq + "INSERT INTO units (id, code, name, level, active) "
        "SELECT n, printf('U%04d', n), printf('Đơn vị %d', n), 'commune', 1 FROM seq",
        {"n": UNITS},
    )
    run(
        "INSERT INTO centres (id, code, name, unit_id, networks) "
        "SELECT id, 'C' || code, 'Trung tâm ' || code, id, '[]' FROM units"
    )
    run(
        seq + "INSERT INTO counters (id, code, name, centre_id, kind) "
        "SELECT n, printf('Q%05d', n), printf('Quầy %d', n), (n - 1) / :per + 1, 'both' FROM seq",
        {"n": UNITS * COUNTERS_PER_UNIT, "per": COUNTERS_PER_UNIT},
    )
    run(
        seq + "INSERT INTO officers (id, code, name, unit_id, staff_group, active) "
        "SELECT n, printf('CB%06d', n), printf('Cán bộ %d', n), (n - 1) / :per + 1, "
        "CASE WHEN (n - 1) % :per < 40 THEN 'reception' ELSE 'resolver' END, 1 FROM seq",
        {"n": UNITS * OFFICERS_PER_UNIT, "per": OFFICERS_PER_UNIT},
    )
    k = f"(n / {UNITS})"
    unit0 = f"(n % {UNITS})"  # the unit's id minus one
    has_dossier = f"({k} % 5 < 2 OR {k} % 5 = 4)"
    # Rows arrive in time order, as in production: form n is received at the n-th moment of
    # the last 7 days of the previous year and the whole year; 1 in 20 was answered up to six
    # hours before (a kiosk's offline queue).
    when = "datetime(:start, ((n - 1) * :span / :n - :lead) || ' seconds')"
    answered = (
        "datetime(:start, ((n - 1) * :span / :n - :lead "
        "- CASE WHEN n % 20 = 0 THEN n * 7919 % 21600 ELSE 0 END) || ' seconds')"
    )
    lead = LEAD_DAYS * 24 * 3600
    params = {"n": forms, "start": YEAR_START_UTC, "span": YEAR_SECONDS + lead, "lead": lead}
    run(
        seq + "INSERT INTO dossiers (id, code, procedure, unit_id, centre_id, received_at, "
        "due_at, returned_at, reception_officer_id, created_at, updated_at) "
        f"SELECT n, printf('HS%08d', n), 'Đăng ký khai sinh', "
        f"CASE WHEN {k} % 10 = 3 THEN ({unit0} + 1) % {UNITS} + 1 ELSE {unit0} + 1 END, "
        f"{unit0} + 1, datetime({when}, '-3 days') || '.000000', "
        f"datetime({when}, '+2 days') || '.000000', {when} || '.000000', "
        f"{unit0} * {OFFICERS_PER_UNIT} + 1 + {k} % 40, "
        f"{when} || '.000000', {when} || '.000000' FROM seq WHERE {has_dossier}",
        params,
    )
    detail = f"{k} % 3 = 0"
    phieu1 = (
        f"CASE WHEN {detail} THEN json_object('overall', {_scale5('n', 37)}, "
        f"'courtesy', {_scale5('n', 41)}, 'guidance', {_scale5('n', 43)}, "
        f"'contacts', CASE WHEN n % 7 = 0 THEN '1' ELSE '0' END, "
        f"'publicity', {_scale5('n', 47)}, 'facilities', {_scale5('n', 53)}, "
        "'misconduct', 'khong') "
        f"ELSE json_object('overall', {_scale5('n', 37)}) END"
    )
    phieu2 = (
        f"json_object('overall', {_scale5('n', 37)}, 'on_time', 'dung_hen', "
        f"'agencies', '1', 'result_quality', {_scale5('n', 59)}, "
        f"'officer_conduct', {_scale5('n', 61)}, 'feedback_handling', "
        f"CASE WHEN n % 10 < 7 THEN 'khong_phan_anh' ELSE {_scale5('n', 67)} END, "
        "'misconduct', 'khong')"
    )
    run(
        seq + "INSERT INTO responses (id, client_id, form, form_version, dossier_id, counter_id, "
        "channel, answers, overall, answered_at, received_at, lang, valid, flags, content_hash) "
        "SELECT n, printf('%036d', n), "
        f"CASE WHEN {k} % 5 < 2 THEN 'phieu2' ELSE 'phieu1' END, 1, "
        f"CASE WHEN {has_dossier} THEN n END, "
        f"CASE WHEN {has_dossier} THEN NULL ELSE {unit0} * {COUNTERS_PER_UNIT} + 1 + {k} % "
        f"{COUNTERS_PER_UNIT} END, "
        f"CASE WHEN {has_dossier} THEN 'qr' ELSE 'kiosk' END, "
        f"CASE WHEN {k} % 5 < 2 THEN {phieu2} ELSE {phieu1} END, {_scale5('n', 37)}, "
        f"{answered} || '.000000', {when} || '.000000', 'vi', n % 97 <> 0, '[]', "
        "printf('%064d', n) FROM seq",
        params,
    )
    # The province's survey figures for 8.3.1–8.3.4, imported for every unit.
    for position, code in enumerate(IMPORTED):
        run(
            "INSERT INTO index_survey_results (unit_id, year, code, percent_tenths, "
            "respondents, source, imported_at) SELECT id, :year, :code, "
            "700 + (id * 7 + :p * 13) % 300, 400 + id, 'bench', '2027-01-15 00:00:00.000000' "
            "FROM units",
            {"year": YEAR, "code": code, "p": position},
        )
    for _name, sql in indexes:
        run(sql)
    connection.commit()
    run("ANALYZE")
    connection.close()


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


BARE = """
SELECT CASE WHEN r.form = 'phieu1' THEN coalesce(cc.unit_id, dc.unit_id) ELSE d.unit_id END
         AS unit_id,
       r.form, count(*)
FROM responses r
LEFT JOIN counters c ON c.id = r.counter_id
LEFT JOIN centres cc ON cc.id = c.centre_id
LEFT JOIN dossiers d ON d.id = r.dossier_id
LEFT JOIN centres dc ON dc.id = d.centre_id
WHERE r.valid AND r.answered_at >= :start AND r.answered_at < :end
GROUP BY 1, 2
"""


def _expected_counts(session: Any, start: Any, end: Any) -> dict[tuple[str, str], tuple[int, int]]:
    """Per unit code and sub-criterion fed by our forms: (answered, satisfied), straight in SQL."""
    from sqlalchemy import text

    from rating.index import load_satisfaction_config

    # Each question read once per form (as an integer, or NULL for anything else), then summed.
    rules = [rule for rule in load_satisfaction_config().sub_criteria if not rule.imported]
    questions = sorted({question for rule in rules for question in rule.questions})
    columns = {question: f"q{position}" for position, question in enumerate(questions)}
    read = []
    for question, column in columns.items():
        form, _dot, name = question.partition(".")
        path = f"'$.{name}'"
        read.append(
            f"CASE WHEN r.form = '{form}' AND json_type(r.answers, {path}) = 'integer' "
            f"THEN json_extract(r.answers, {path}) END AS {column}"
        )
    sums = []
    for rule in rules:
        parts = [columns[question] for question in rule.questions]
        answered = " + ".join(f"coalesce({part} BETWEEN 1 AND 5, 0)" for part in parts)
        satisfied = " + ".join(f"coalesce({part} BETWEEN 4 AND 5, 0)" for part in parts)
        sums.append((rule.code, f"sum({answered})"))
        sums.append((rule.code, f"sum({satisfied})"))
    query = f"""
SELECT code, {", ".join(expression for _code, expression in sums)}
FROM (
  SELECT u.code AS code, {", ".join(read)}
  FROM responses r
  LEFT JOIN counters c ON c.id = r.counter_id
  LEFT JOIN centres cc ON cc.id = c.centre_id
  LEFT JOIN dossiers d ON d.id = r.dossier_id
  LEFT JOIN centres dc ON dc.id = d.centre_id
  JOIN units u ON u.id =
    CASE WHEN r.form = 'phieu1' THEN coalesce(cc.unit_id, dc.unit_id) ELSE d.unit_id END
  WHERE r.valid AND r.answered_at >= :start AND r.answered_at < :end
)
GROUP BY code
"""
    expected: dict[tuple[str, str], tuple[int, int]] = {}
    bounds = {"start": start.replace(tzinfo=None), "end": end.replace(tzinfo=None)}
    for row in session.execute(text(query), bounds):
        for index in range(0, len(sums), 2):
            answered_count, satisfied_count = int(row[1 + index]), int(row[2 + index])
            if answered_count:
                expected[(str(row[0]), sums[index][0])] = (answered_count, satisfied_count)
    return expected


def measure(kind: str, db_path: Path, check: bool = True) -> dict[str, float]:
    """Run one measurement in this (fresh) process: seconds, peak memory, rows and forms."""
    app = _app(db_path)
    from sqlalchemy import text

    from survey_server.extensions import db
    from survey_server.index_cli import _units, satisfaction_rows
    from survey_server.services.index import year_bounds

    with app.app_context():
        start, end = year_bounds(YEAR)
        began = time.perf_counter()
        cpu_began = time.process_time()
        check_seconds = 0.0
        if kind == "bare":
            found = db.session.execute(
                text(BARE),
                {"start": start.replace(tzinfo=None), "end": end.replace(tzinfo=None)},
            ).all()
            rows = len(found)
            counted = sum(int(row[2]) for row in found if row[0] is not None)
        else:
            table = satisfaction_rows(YEAR, _units(None))
            rows = len(table)
            counted = sum(int(row[6]) for row in table if row[10] == "forms")
        seconds = time.perf_counter() - began
        cpu_seconds = time.process_time() - cpu_began
        if kind == "index" and check:
            # Not timed: every count the index gave equals what SQL finds in the JSON itself.
            check_began = time.perf_counter()
            expected = _expected_counts(db.session, start, end)
            got = {
                (str(row[0]), str(row[3])): (int(row[6]), int(row[7]))
                for row in table
                if row[10] == "forms"
            }
            if got != expected:
                wrong = sorted(set(got.items()) ^ set(expected.items()))[:5]
                raise SystemExit(f"the index's counts differ from SQL's, e.g. {wrong}")
            check_seconds = time.perf_counter() - check_began
        db.session.remove()
        db.engine.dispose()
    return {
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "peak_mb": _peak_mb(),
        "rows": rows,
        "forms": counted,
        "check_seconds": check_seconds,
    }


def _child(kind: str, db_path: Path, forms: int = 0, check: bool = True) -> dict[str, float]:
    """Run ``--measure kind`` (or ``--build``) in a fresh process; its JSON result."""
    command = [sys.executable, __file__, "--db", str(db_path)]
    command += ["--build", str(forms)] if kind == "build" else ["--measure", kind]
    command += [] if check else ["--no-check"]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"the {kind} step failed (exit {done.returncode})")
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def bench(scale: float, folder: Path, results: Results, reuse: bool, check: bool) -> bool:
    """Build, measure and print one size; False if the index did not give a row per unit."""
    forms = round(FORMS * scale)
    db_path = folder / f"index-year-{forms}.db"
    if reuse and db_path.exists():
        print(f"reusing {db_path}", flush=True)
    else:
        print(f"building {forms:,} forms for {UNITS} units ...", flush=True)
        db_path.unlink(missing_ok=True)
        built = _child("build", db_path, forms)["seconds"]
        size = db_path.stat().st_size / 2**20
        print(f"  built in {built:.1f} s, {size:.0f} MB", flush=True)
        results.add("build_s", round(built, 1), "s", forms=forms, units=UNITS, mb=round(size))
    # The file was just written (or is reused): the OS page cache holds it for both children.
    bare = _child("bare", db_path)
    print(
        f"  bare GROUP BY : {bare['seconds']:7.2f} s (CPU {bare['cpu_seconds']:6.2f} s)  "
        f"peak {bare['peak_mb']:5.0f} MB  ({bare['forms']:,.0f} valid forms of {YEAR})",
        flush=True,
    )
    index = _child("index", db_path, check=check)
    checked = (
        f"the same as SQL counts them ({index['check_seconds']:.0f} s to check)"
        if check
        else "not checked"
    )
    ratio = index["seconds"] / bare["seconds"]
    cpu_ratio = index["cpu_seconds"] / bare["cpu_seconds"]
    memory_ratio = index["peak_mb"] / bare["peak_mb"]
    print(
        f"  8.3, all units: {index['seconds']:7.2f} s (CPU {index['cpu_seconds']:6.2f} s)  "
        f"peak {index['peak_mb']:5.0f} MB  ({index['rows']:,.0f} rows, "
        f"{index['forms']:,.0f} answers; {checked}; nothing stored)"
    )
    print(
        f"  ratio         : {ratio:7.2f}x     (CPU {cpu_ratio:6.2f}x)       "
        f"{memory_ratio:5.2f}x memory"
    )
    context = {"forms": forms, "units": UNITS, "scale": scale}
    results.add("bare_s", round(bare["seconds"], 3), "s", **context)
    results.add("bare_cpu_s", round(bare["cpu_seconds"], 3), "s", **context)
    results.add("bare_peak_mb", round(bare["peak_mb"]), "MB", **context)
    results.add("index_s", round(index["seconds"], 3), "s", **context)
    results.add("index_cpu_s", round(index["cpu_seconds"], 3), "s", **context)
    results.add("index_peak_mb", round(index["peak_mb"]), "MB", **context)
    results.add("ratio", round(ratio, 2), "", **context)
    results.add("cpu_ratio", round(cpu_ratio, 2), "", **context)
    results.add("memory_ratio", round(memory_ratio, 2), "", **context)
    expected_rows = UNITS * 10  # nine sub-criteria and the total per unit
    ok = index["rows"] == expected_rows
    if not ok:
        print(f"  ERROR: the index gave {index['rows']:,.0f} rows, not {expected_rows:,}")
    sys.stdout.flush()
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--scale", type=float, default=1.0, help="1.0 = 2,400,000 forms (then a tenth of it)"
    )
    parser.add_argument(
        "--keep", type=Path, help="build the databases in this folder (and reuse them next time)"
    )
    parser.add_argument(
        "--check-all",
        action="store_true",
        help="also check the full size's counts against SQL (by default only the tenth's)",
    )
    parser.add_argument("--measure", choices=("bare", "index"), help=argparse.SUPPRESS)
    parser.add_argument("--no-check", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--build", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.db, check=not args.no_check)))
        return
    if args.build is not None:
        began = time.perf_counter()
        build(args.db, args.build)
        print(json.dumps({"seconds": time.perf_counter() - began}))
        return
    print(
        f"SQLite {sqlite3.sqlite_version}, Python {sys.version.split()[0]}, {os.cpu_count()} CPUs"
    )
    results = Results("index_year")
    run_began = time.perf_counter()
    ok = True
    with tempfile.TemporaryDirectory() as temporary:
        folder = args.keep or Path(temporary)
        folder.mkdir(parents=True, exist_ok=True)
        for scale in (args.scale, args.scale / 10):
            check = args.check_all or scale != args.scale
            ok = bench(scale, folder, results, args.keep is not None, check) and ok
            if not args.keep:
                for stale in folder.glob("index-year-*.db*"):
                    stale.unlink()
    run_seconds = time.perf_counter() - run_began
    results.add("run_s", round(run_seconds, 1), "s", scale=args.scale)
    print(f"whole run: {run_seconds:.0f} s")
    if not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
