"""Benchmark of the dashboard's month page (issue 6), never run by the tests.

Builds a unit of 200 officers with a year of monthly results (12 × 200 results made by the real
rating engine from random facts) and a month of forms (20 per officer), logs a head in and
measures, for each page and export: the SQL queries one request issues and its p50/p95 time
over ``--repeat`` requests (exports: a third of that, at least 3). Beside them, two baselines
measured in the same run: the floor of one request through this app (``GET /healthz``, no query),
and the same month data loaded the naive way, one query per officer (what the page must not do).

    .venv/bin/python bench/dashboard_month.py [--officers 200] [--repeat 20]

Prints a table and records each figure with ``Results("dashboard_month")`` (bench/README.md).
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MONTH = dt.date(2026, 10, 1)
PASSWORD = "bench password 123"  # noqa: S105


def _months(count: int) -> list[dt.date]:
    months = [MONTH]
    while len(months) < count:
        previous = months[-1] - dt.timedelta(days=1)
        months.append(previous.replace(day=1))
    return list(reversed(months))


def build(session: Any, officers: int, seed: int = 6) -> dict[str, int]:
    from rating.engine import evaluate_unit
    from rating.metrics import OfficerFacts
    from survey_server.auth import hash_password
    from survey_server.models import (
        Centre,
        MisconductReport,
        Officer,
        OfficerRating,
        Response,
        Unit,
        User,
    )
    from survey_server.services.rating_job import load_rulesets, ruleset_for_month

    rng = random.Random(seed)
    unit = Unit(code="BENCH", name="UBND phường Đo Tải", level="commune")
    session.add_all([unit, Centre(code="C-BENCH", name="Trung tâm", unit=unit)])
    staff = []
    for index in range(officers):
        group = "reception" if index < officers * 2 // 5 else "resolver"
        staff.append(Officer(code=f"B{index:04d}", name=f"Công chức {index}", unit=unit,
                             group=group))  # fmt: skip
    session.add_all(staff)
    password_hash = hash_password(PASSWORD)
    session.add(User(username="head", display_name="Thủ trưởng", password_hash=password_hash,
                     role="head", unit=unit, session_version=0, failed_logins=0))  # fmt: skip
    session.flush()
    rulesets = load_rulesets()
    for month in _months(12):
        facts = [
            OfficerFacts(
                code=officer.code,
                group=officer.group,
                overall=tuple(rng.choice((5, 5, 5, 4, 4, 3, 2)) for _ in range(rng.randint(0, 40))),
                dossiers=rng.randint(2, 60),
                late=rng.randint(0, 2),
                misconduct_confirmed=int(rng.random() < 0.02),
                misconduct_pending=0,
                violations=int(rng.random() < 0.05),
                disciplined=False,
            )
            for officer in staff
        ]
        ruleset = ruleset_for_month(rulesets, month)
        for officer, result in zip(staff, evaluate_unit(facts, ruleset), strict=True):
            data = result.to_dict()
            session.add(OfficerRating(officer_id=officer.id, unit_id=unit.id, month=month,
                revision=1, group=result.group, band=result.band, metrics=data["metrics"],
                flags=data["flags"], reasons=data["reasons"], ruleset_id=result.ruleset_id,
                ruleset_version=result.ruleset_version, preview=False, digest="bench"))  # fmt: skip
    local = dt.timezone(dt.timedelta(hours=7))
    for officer in staff:
        for index in range(20):
            overall = rng.choice((5, 5, 4, 4, 3, 2))
            answered = dt.datetime(2026, 10, 1 + index, 9, tzinfo=local)
            response = Response(client_id=str(uuid.uuid4()), form="phieu1", channel="kiosk",
                answers={"overall": overall, "courtesy": overall, "guidance": 4,
                         "comment": "Tốt" if index % 5 == 0 else ""},
                overall=overall, answered_at=answered, valid=True, flags=[],
                content_hash=uuid.uuid4().hex, officers=[officer])  # fmt: skip
            session.add(response)
            if index == 0 and officer.code.endswith("7"):
                session.add(MisconductReport(response=response, officer=officer))
    session.commit()
    return {"unit_id": unit.id, "officer_id": staff[0].id}


def naive_month(session: Any, unit_id: int, month: dt.date) -> list[Any]:
    """The baseline: the same rows, one query per officer for this month and the last."""
    from sqlalchemy import select

    from survey_server.models import Officer, OfficerRating
    from survey_server.services.rating_job import previous_month

    rows = []
    for officer in session.scalars(select(Officer).where(Officer.unit_id == unit_id)):
        for wanted in (month, previous_month(month)):
            rows.append(
                session.scalars(
                    select(OfficerRating)
                    .where(OfficerRating.officer_id == officer.id, OfficerRating.month == wanted)
                    .order_by(OfficerRating.revision.desc())
                    .limit(1)
                ).first()
            )
    return rows


def measure(action: Callable[[], Any], counter: list[int], repeat: int) -> tuple[int, float, float]:
    """Queries of one run, and the p50 and p95 of ``repeat`` runs (seconds), after one warm-up."""
    action()
    times = []
    queries = 0
    for _ in range(repeat):
        counter[0] = 0
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
        queries = counter[0]
    times.sort()
    p95 = times[min(len(times) - 1, math.ceil(0.95 * len(times)) - 1)]
    return queries, statistics.median(times), p95


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--officers", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()

    from flask_migrate import upgrade
    from sqlalchemy import event

    from survey_server import create_app
    from survey_server.extensions import db

    with tempfile.TemporaryDirectory() as directory:
        os.environ["INSTANCE_PATH"] = str(Path(directory) / "instance")
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{directory}/bench.db",
                          "SECRET_KEY": "bench", "LOG_LEVEL": "WARNING",
                          "WTF_CSRF_ENABLED": False})  # fmt: skip
        with app.app_context():
            upgrade()
            started = time.perf_counter()
            ids = build(db.session, args.officers)
            print(f"built {args.officers} officers × 12 months in "
                  f"{time.perf_counter() - started:.1f}s")  # fmt: skip
            counter = [0]

            @event.listens_for(db.engine, "before_cursor_execute")
            def _count(*_: Any) -> None:
                counter[0] += 1

            client = app.test_client()
            login = client.post("/dashboard/login", data={"username": "head", "password": PASSWORD})
            assert login.status_code == 302, login.status_code
            month = MONTH.strftime("%Y-%m")
            unit, officer = ids["unit_id"], ids["officer_id"]

            def get(path: str) -> Callable[[], Any]:
                def run() -> None:
                    response = client.get(path)
                    assert response.status_code == 200, (path, response.status_code)

                return run

            from _support import Results

            from survey_server.dashboard.queries import month_view
            from survey_server.models import Unit

            unit_row = db.session.get(Unit, unit)
            slow = max(3, args.repeat // 3)
            cases: list[tuple[str, Callable[[], Any], str, int]] = [
                ("floor: GET /healthz", get("/healthz"), "floor", args.repeat),
                ("month page (HTML, 2 SVG charts)", get(f"/dashboard/units/{unit}/{month}"),
                 "month_page", args.repeat),
                ("month page, filtered", get(f"/dashboard/units/{unit}/{month}?group=resolver"),
                 "month_page_filtered", args.repeat),
                ("officer page", get(f"/dashboard/officers/{officer}/{month}"), "officer_page",
                 args.repeat),
                ("export xlsx", get(f"/dashboard/units/{unit}/{month}/export.xlsx"), "export_xlsx",
                 slow),
                ("export PDF", get(f"/dashboard/units/{unit}/{month}/export.pdf"), "export_pdf",
                 slow),
                ("month data only (month_view)", lambda: month_view(db.session, unit_row, MONTH),
                 "month_view", args.repeat),
                ("baseline: naive per-officer load",
                 lambda: naive_month(db.session, unit, MONTH), "naive_load", args.repeat),
            ]  # fmt: skip
            results = Results("dashboard_month")
            print(f"{'case':40} {'queries':>8} {'p50':>9} {'p95':>9}")
            for name, action, figure, repeat in cases:
                queries, p50, p95 = measure(action, counter, repeat)
                print(f"{name:40} {queries:>8} {p50 * 1000:>7.0f}ms {p95 * 1000:>7.0f}ms")
                context = {"officers": args.officers, "runs": repeat}
                results.add(f"{figure}_queries", queries, "", **context)
                results.add(f"{figure}_p50", round(p50 * 1000, 1), "ms", **context)
                results.add(f"{figure}_p95", round(p95 * 1000, 1), "ms", **context)
            db.engine.dispose()


if __name__ == "__main__":
    main()
