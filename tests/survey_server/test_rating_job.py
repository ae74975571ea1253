"""The monthly rating job on the database: facts, revisions, locking, crashes, rule set files."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import signal
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from rating_job_support import (
    AFTER_OCTOBER,
    OCTOBER,
    add_dossier,
    add_form,
    add_unit,
    at,
    officer,
    ratings,
    unit_id,
)
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from builders import BACKENDS, World, executed
from survey_server import READ_SNAPSHOT_BEGIN
from survey_server.extensions import db
from survey_server.models import Officer, OfficerMonthRecord, OfficerRating, UnitMonth
from survey_server.services import rating_job
from survey_server.services.rating_job import current_ratings, officer_history, run_month

#: The banding process needs a second CPU: with one, the run bands its units itself.
TWO_CPUS = pytest.mark.skipif(
    (os.cpu_count() or 1) < 2, reason="one CPU: the run bands its units itself"
)


@pytest.fixture(params=["inline", pytest.param("process", marks=TWO_CPUS)])
def banding(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each unit banded by the run itself, or in the banding process (any size of run)."""
    if request.param == "process":
        monkeypatch.setattr(rating_job, "BANDING_PROCESS_MIN_OFFICERS", 1)
    return str(request.param)


def _october_facts() -> None:
    """World U1 (R1 reception; S1, S2 resolvers) plus R2 (no data) and X9 (inactive, no data).

    Forms of R1 in October (local time): 5 5 5 5 5 4 4 3 2 1 and 5 (with a misconduct report)
    → 11 forms, 8 satisfied (72.7 %), 2 dissatisfied (18.2 %); an invalid form and a form of
    1 November 00:30 local do not count; S1's phieu1 does not count for a resolver. Dossiers
    returned in October: D1 on time; D2 late naming nobody (→ both resolvers, not reception);
    D3 late naming S2. D4 returned in November, D5 not returned.
    """
    session = db.session
    u1 = officer(session, "R1").unit
    session.add_all(
        [
            Officer(code="R2", name="R2", unit=u1, group="reception"),
            Officer(code="X9", name="X9", unit=u1, group="reception", active=False),
        ]
    )
    session.commit()
    d1 = add_dossier(session, "D1", returned_at=at(10))
    add_dossier(session, "D2", returned_at=at(12), due_at=at(11))
    add_dossier(session, "D3", returned_at=at(14), due_at=at(13), late_responsible=("S2",))
    add_dossier(session, "D4", returned_at=at(3, month=11))
    add_dossier(session, "D5", returned_at=None)
    # 1 October 00:30 local is 30 September 17:30 UTC: it belongs to October.
    add_form(session, "phieu1", 5, ["R1"], dt.datetime(2026, 9, 30, 17, 30, tzinfo=dt.UTC))
    for overall in (5, 5, 5, 5, 4, 4, 3, 2, 1):
        add_form(session, "phieu1", overall, ["R1"], at(15))
    add_form(session, "phieu1", 1, ["R1"], at(16), valid=False)
    add_form(session, "phieu1", 1, ["R1"], dt.datetime(2026, 10, 31, 17, 30, tzinfo=dt.UTC))
    add_form(session, "phieu1", 1, ["S1"], at(17))  # a resolver is rated on phieu2 only
    add_form(session, "phieu2", 4, ["S1", "S2"], at(18), dossier=d1)
    add_form(session, "phieu1", 5, ["R1"], at(19), misconduct=True)  # pending report
    session.add(
        OfficerMonthRecord(officer_id=officer(session, "S1").id, month=OCTOBER, violations=1)
    )
    session.commit()


@BACKENDS
def test_job_gathers_the_facts_of_rating_rules_and_bands_each_officer(
    app: Flask, world: World
) -> None:
    with app.app_context():
        _october_facts()
        summary = run_month(db.session, OCTOBER, AFTER_OCTOBER)
        assert [(unit.unit_code, unit.officers, unit.stored) for unit in summary.units] == [
            ("U1", 4, 4)
        ]
        r1, r2, s1, s2 = (ratings(db.session, code)[0] for code in ("R1", "R2", "S1", "S2"))
        assert ratings(db.session, "X9") == []
        assert r1.metrics == {
            "forms": 11,
            "satisfied": 8,
            "dissatisfied": 2,
            "satisfied_pct": 72.7,
            "dissatisfied_pct": 18.2,
            "dossiers": 3,
            "late": 0,
            "on_time_pct": 100,
            "misconduct_confirmed": 0,
            "misconduct_pending": 1,
            "violations": 0,
            "disciplined": False,
        }
        assert (r1.group, r1.band, r1.flags) == ("reception", "hoan_thanh", ["pending_reports"])
        assert (r2.band, r2.flags) == ("hoan_thanh_tot", ["insufficient_forms", "no_data"])
        assert (s1.metrics["forms"], s1.metrics["satisfied"]) == (1, 1)
        assert (s1.metrics["dossiers"], s1.metrics["late"], s1.metrics["on_time_pct"]) == (
            3,
            1,
            66.7,
        )
        assert s1.metrics["violations"] == 1
        assert (s2.metrics["late"], s2.metrics["on_time_pct"]) == (2, 33.3)
        assert s1.band == s2.band == "khong_hoan_thanh"
        assert {r.ruleset_id for r in (r1, r2, s1, s2)} == {"reference"}
        assert {r.ruleset_version for r in (r1, r2, s1, s2)} == {1}
        assert not any(r.preview for r in (r1, r2, s1, s2))
        # The explanation is stored whole: every condition with value, threshold and result.
        missed_excellent = r1.reasons[0]
        assert missed_excellent["band"] == "hoan_thanh_xuat_sac"
        satisfied = next(
            item for item in missed_excellent["conditions"] if item["metric"] == "satisfied_pct"
        )
        assert satisfied == {
            "metric": "satisfied_pct",
            "op": ">=",
            "value": 72.7,
            "threshold": 95,
            "param": None,
            "undefined": False,
            "held": False,
        }
        # Every stored explanation (the digest's JSON text, stored as it is) reads back as the
        # engine's own, in full.
        ruleset = rating_job.ruleset_for_month(rating_job.load_rulesets(), OCTOBER)
        (officers,) = rating_job.gather_facts(db.session, OCTOBER).units.values()
        results = rating_job.evaluate_unit([facts for _, facts in officers], ruleset)
        for (_, facts), result in zip(officers, results, strict=True):
            (stored,) = ratings(db.session, facts.code)
            assert stored.reasons == result.to_dict()["reasons"]
            assert (stored.metrics, stored.flags) == (result.metrics.to_dict(), list(result.flags))


@BACKENDS
def test_same_data_twice_stores_no_new_revision(app: Flask, world: World) -> None:
    with app.app_context():
        _october_facts()
        run_month(db.session, OCTOBER, AFTER_OCTOBER)
        again = run_month(db.session, OCTOBER, AFTER_OCTOBER + dt.timedelta(days=1))
        assert again.stored == 0
        assert db.session.scalar(select(func.max(OfficerRating.revision))) == 1
        assert db.session.scalar(select(func.count()).select_from(OfficerRating)) == 4


@BACKENDS
def test_a_changed_fact_stores_a_new_revision_and_keeps_the_old(app: Flask, world: World) -> None:
    with app.app_context():
        _october_facts()
        run_month(db.session, OCTOBER, AFTER_OCTOBER)
        for overall in (5,) * 30:
            add_form(db.session, "phieu1", overall, ["R1"], at(20))
        later = AFTER_OCTOBER + dt.timedelta(days=1)
        summary = run_month(db.session, OCTOBER, later)
        assert summary.stored == 1
        first, second = ratings(db.session, "R1")
        assert (first.revision, first.metrics["forms"], first.band) == (1, 11, "hoan_thanh")
        assert (second.revision, second.metrics["forms"], second.band) == (
            2,
            41,
            "hoan_thanh_tot",
        )
        assert second.computed_at == later
        assert [r.revision for r in ratings(db.session, "S1")] == [1]
        current = current_ratings(db.session, [unit_id(db.session, "U1")], OCTOBER)
        assert [(r.officer.code, r.revision) for r in current] == [
            ("R1", 2),
            ("R2", 1),
            ("S1", 1),
            ("S2", 1),
        ]


@BACKENDS
def test_an_approved_month_is_locked(app: Flask, world: World, banding: str) -> None:
    with app.app_context():
        _october_facts()
        run_month(db.session, OCTOBER, AFTER_OCTOBER)
        db.session.add(
            UnitMonth(unit_id=unit_id(db.session, "U1"), month=OCTOBER, state="approved")
        )
        db.session.commit()
        add_form(db.session, "phieu1", 1, ["R1"], at(21))
        summary = run_month(db.session, OCTOBER, AFTER_OCTOBER)
        assert [(unit.locked, unit.stored) for unit in summary.units] == [(True, 0)]
        assert [r.revision for r in ratings(db.session, "R1")] == [1]


def _two_units() -> None:
    session = db.session
    add_unit(session, "U2", {"R5": "reception", "R6": "reception"})
    for code in ("R5", "R6", "R1"):
        add_form(session, "phieu1", 4, [code], at(8))


@BACKENDS
def test_a_crash_half_way_leaves_no_partial_month_and_the_next_run_completes_it(
    app: Flask, world: World, monkeypatch: pytest.MonkeyPatch, banding: str
) -> None:
    with app.app_context():
        _two_units()
        real_store = rating_job.store_unit
        calls: list[str] = []

        def crash_on_second_unit(*args: Any, **kwargs: Any) -> rating_job.UnitOutcome:
            outcome = real_store(*args, **kwargs)  # the unit's rows are written, not committed
            calls.append(outcome.unit_code)
            if len(calls) == 2:
                raise RuntimeError("power cut")
            return outcome

        monkeypatch.setattr(rating_job, "store_unit", crash_on_second_unit)
        with pytest.raises(RuntimeError, match="power cut"):
            run_month(db.session, OCTOBER, AFTER_OCTOBER)
        assert calls == ["U1", "U2"]
        assert len(ratings(db.session, "R1")) == 1
        assert ratings(db.session, "R5") == ratings(db.session, "R6") == []

        monkeypatch.setattr(rating_job, "store_unit", real_store)
        summary = run_month(db.session, OCTOBER, AFTER_OCTOBER)
        assert [(unit.unit_code, unit.stored) for unit in summary.units] == [("U1", 0), ("U2", 2)]
        assert [len(ratings(db.session, code)) for code in ("R1", "R5", "R6")] == [1, 1, 1]


@BACKENDS
def test_a_crash_keeps_the_previous_results_of_the_unit_intact(
    app: Flask, world: World, monkeypatch: pytest.MonkeyPatch, banding: str
) -> None:
    with app.app_context():
        _two_units()
        run_month(db.session, OCTOBER, AFTER_OCTOBER)
        for code in ("R1", "R5", "R6"):
            add_form(db.session, "phieu1", 1, [code], at(9))

        def crash_in_u2(session: Any, unit: int, *args: Any, **kwargs: Any) -> Any:
            outcome = real_store(session, unit, *args, **kwargs)
            if outcome.unit_code == "U2":
                raise RuntimeError("disk full")
            return outcome

        real_store = rating_job.store_unit
        monkeypatch.setattr(rating_job, "store_unit", crash_in_u2)
        with pytest.raises(RuntimeError):
            run_month(db.session, OCTOBER, AFTER_OCTOBER)
        assert [len(ratings(db.session, code)) for code in ("R1", "R5", "R6")] == [2, 1, 1]
        assert ratings(db.session, "R5")[0].metrics["forms"] == 1


def _stored(session: Any) -> list[tuple[Any, ...]]:
    columns = OfficerRating.__table__.c
    query = select(
        columns.officer_id,
        columns.unit_id,
        columns.month,
        columns.revision,
        columns.staff_group,
        columns.band,
        columns.metrics,
        columns.flags,
        columns.reasons,
        columns.ruleset_id,
        columns.ruleset_version,
        columns.preview,
        columns.digest,
    ).order_by(columns.officer_id, columns.revision)
    return [tuple(row) for row in session.execute(query)]


@TWO_CPUS
@BACKENDS
def test_the_banding_process_stores_what_the_run_stores_banding_itself(
    app: Flask, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """From BANDING_PROCESS_MIN_OFFICERS officers on, a second process bands the units while the
    run stores them: the rows are the same, byte for byte, as when the run bands them itself."""
    with app.app_context():
        _october_facts()
        _two_units()
        run_month(db.session, OCTOBER, AFTER_OCTOBER)
        inline = _stored(db.session)
        db.session.execute(OfficerRating.__table__.delete())
        db.session.commit()

        sent: list[int] = []
        real_results = rating_job._BandingProcess.results

        def results(process: Any, work: Any) -> Any:
            sent.extend(unit for unit, _ in work)
            return real_results(process, work)

        monkeypatch.setattr(rating_job._BandingProcess, "results", results)
        monkeypatch.setattr(rating_job, "BANDING_PROCESS_MIN_OFFICERS", 7)  # 7 officers, 6 rated
        summary = run_month(db.session, OCTOBER, AFTER_OCTOBER)
        assert sent == [unit_id(db.session, "U1"), unit_id(db.session, "U2")]
        assert summary.stored == len(inline) == 6 and _stored(db.session) == inline

        sent.clear()
        monkeypatch.setattr(rating_job, "BANDING_PROCESS_MIN_OFFICERS", 8)
        db.session.execute(OfficerRating.__table__.delete())
        db.session.commit()
        run_month(db.session, OCTOBER, AFTER_OCTOBER)
        assert sent == [] and _stored(db.session) == inline


def _fail_in_banding(monkeypatch: pytest.MonkeyPatch, failure: Callable[[], None]) -> None:
    """``failure`` runs where unit U2 is banded (the process inherits the patch)."""
    real_band = rating_job.band_unit
    u2 = unit_id(db.session, "U2")

    def band_unit(unit: int, *args: Any) -> Any:
        if unit == u2:
            failure()
        return real_band(unit, *args)

    monkeypatch.setattr(rating_job, "band_unit", band_unit)


def _raise() -> None:
    raise ZeroDivisionError("a bug in the rules")


def _killed() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


@TWO_CPUS
@BACKENDS
@pytest.mark.parametrize(
    ("failure", "message"),
    [(_raise, "ZeroDivisionError: a bug in the rules"), (_killed, r"exit code -9\) before unit")],
)
def test_a_failed_banding_process_fails_the_run_at_its_unit_and_the_next_run_completes_it(
    app: Flask,
    world: World,
    monkeypatch: pytest.MonkeyPatch,
    failure: Callable[[], None],
    message: str,
) -> None:
    monkeypatch.setattr(rating_job, "BANDING_PROCESS_MIN_OFFICERS", 1)
    with app.app_context():
        _two_units()
        _fail_in_banding(monkeypatch, failure)
        with pytest.raises(rating_job.BandingFailed, match=message):
            run_month(db.session, OCTOBER, AFTER_OCTOBER)
        assert len(ratings(db.session, "R1")) == 1  # U1, stored before
        assert ratings(db.session, "R5") == ratings(db.session, "R6") == []

        monkeypatch.undo()
        summary = run_month(db.session, OCTOBER, AFTER_OCTOBER)
        assert [(unit.unit_code, unit.stored) for unit in summary.units] == [("U1", 0), ("U2", 2)]


def _ended(pid: int) -> bool:
    """Whether process ``pid`` has exited (gone, or a zombie nobody has reaped yet)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state in ("Z", "X")


@TWO_CPUS
def test_a_killed_run_leaves_no_banding_process_behind(
    app: Flask, world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CLI or the scheduler killed in the middle of a run (SIGKILL, out of memory): its
    banding process finds the run's ends of its pipes closed and exits, instead of banding on
    for nobody."""
    with app.app_context():
        _two_units()
    banding_pid = tmp_path / "banding.pid"
    real_band = rating_job.band_unit

    def slow_band_unit(*args: Any) -> Any:
        banding_pid.write_text(str(os.getpid()))
        time.sleep(0.3)
        return real_band(*args)

    monkeypatch.setattr(rating_job, "band_unit", slow_band_unit)
    monkeypatch.setattr(rating_job, "BANDING_PROCESS_MIN_OFFICERS", 1)

    def run() -> None:  # the run's own process, forked from this one
        with app.app_context():
            db.engine.dispose(close=False)  # the pool's connections are this test's
            run_month(db.session, OCTOBER, AFTER_OCTOBER)
        os._exit(0)

    runner = multiprocessing.get_context("fork").Process(target=run)
    runner.start()
    deadline = time.monotonic() + 30
    while not banding_pid.exists():
        assert runner.is_alive() and time.monotonic() < deadline
        time.sleep(0.01)
    banding = int(banding_pid.read_text())
    assert banding != runner.pid and not _ended(banding)
    os.kill(runner.pid, signal.SIGKILL)  # in the middle of banding the first unit
    runner.join()
    deadline = time.monotonic() + 10
    while not _ended(banding):
        assert time.monotonic() < deadline, "the banding process outlived its run"
        time.sleep(0.05)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(OfficerRating)) == 0


@BACKENDS
def test_a_run_keeps_and_counts_what_its_session_held_before_it(app: Flask, world: World) -> None:
    """A change added to the session but not committed before the run (a caller's record of
    violations: the session is then in a transaction, which the run reads in) is neither
    dropped by the run's reads nor left out of its facts."""
    with app.app_context():
        _october_facts()
        r1 = officer(db.session, "R1").id
        db.session.add(OfficerMonthRecord(officer_id=r1, month=OCTOBER, violations=2))
        run_month(db.session, OCTOBER, AFTER_OCTOBER)
        db.session.remove()
        stored = db.session.scalar(
            select(OfficerMonthRecord.violations).where(OfficerMonthRecord.officer_id == r1)
        )
        assert stored == 2 and ratings(db.session, "R1")[-1].metrics["violations"] == 2


def test_the_job_gathers_its_facts_without_holding_up_the_kiosks_writes(
    app: Flask, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite: while the month's GROUP BYs run (seconds for a province), another process can
    take the write lock at once, as a kiosk's submission does; the job then stores as usual."""
    with app.app_context():
        _october_facts()
        real_gather = rating_job.gather_facts
        path = db.engine.url.database
        assert path is not None

        def gather_while_a_kiosk_writes(*args: Any, **kwargs: Any) -> rating_job.MonthFacts:
            facts = real_gather(*args, **kwargs)
            kiosk = sqlite3.connect(path, timeout=0, isolation_level=None)
            try:
                kiosk.execute("BEGIN IMMEDIATE")  # "database is locked" if the job held it
                kiosk.execute("COMMIT")
            finally:
                kiosk.close()
            return facts

        monkeypatch.setattr(rating_job, "gather_facts", gather_while_a_kiosk_writes)
        summary = run_month(db.session, OCTOBER, AFTER_OCTOBER)
        assert summary.stored == 4


def test_the_two_readers_of_a_run_see_one_snapshot(
    app: Flask, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite with two CPUs: the month's GROUP BYs are shared between the session's connection
    and a second one (the forms in two halves of their ids, the dossiers beside them). Both
    read the snapshot taken when the run began: a form and a dossier committed after that
    count in neither half, and both count in the next run."""
    if (os.cpu_count() or 1) < 2:
        pytest.skip("one CPU: the job reads with one connection")
    with app.app_context():
        _october_facts()
        real_gather = rating_job.gather_facts
        helpers: list[Any] = []

        def gather_after_a_write(*args: Any, **kwargs: Any) -> rating_job.MonthFacts:
            helpers.append(kwargs.get("helper"))
            with Session(db.engine) as other:  # another writer, once the run has begun
                add_form(other, "phieu1", 5, ["R1"], at(20))
                late = {"returned_at": at(21), "due_at": at(20), "late_responsible": ("R1",)}
                add_dossier(other, "D6", **late)
            return real_gather(*args, **kwargs)

        monkeypatch.setattr(rating_job, "gather_facts", gather_after_a_write)
        run_month(db.session, OCTOBER, AFTER_OCTOBER)
        assert len(helpers) == 1 and helpers[0] is not None
        (first,) = ratings(db.session, "R1")
        facts = ("forms", "dossiers", "late")
        assert [first.metrics[name] for name in facts] == [11, 3, 0]

        monkeypatch.setattr(rating_job, "gather_facts", real_gather)
        run_month(db.session, OCTOBER, AFTER_OCTOBER)
        assert [ratings(db.session, "R1")[-1].metrics[name] for name in facts] == [12, 4, 1]


def test_an_error_of_the_second_reader_reaches_the_run(app: Flask, world: World) -> None:
    reading = {READ_SNAPSHOT_BEGIN: True}  # as the run's readers: no write lock (SQLite)
    with app.app_context(), db.engine.connect() as reader, db.engine.connect() as helper:
        reader, helper = reader.execution_options(**reading), helper.execution_options(**reading)
        statements = [select(func.count(Officer.id)), text("SELECT no_such_column FROM units")]
        with pytest.raises(OperationalError, match="no_such_column"):
            rating_job._read_all(reader, helper, statements)
        helper.rollback()
        assert rating_job._read_all(reader, helper, statements[:1] * 3) == [[(3,)]] * 3


def test_a_province_rule_set_file_changes_bands_with_no_code_change(
    app: Flask, world: World, tmp_path: Path
) -> None:
    """Điện Biên issues its own thresholds from 2026-10: min_forms 3, excellent from 75 %."""
    reference = (Path(rating_job.default_rulesets_dir()) / "reference-1.toml").read_text()
    province = (
        reference.replace('id = "reference"', 'id = "dien-bien"')
        .replace("effective_from = 2024-01-01", "effective_from = 2026-10-01")
        .replace("min_forms = 10", "min_forms = 3")
        .replace(
            '{ metric = "satisfied_pct", op = ">=", value = 95.0 }',
            '{ metric = "satisfied_pct", op = ">=", value = 75.0 }',
        )
        .replace(
            '{ metric = "dissatisfied", op = "==", value = 0 }',
            '{ metric = "dissatisfied", op = "<=", value = 1 }',
        )
    )
    assert province.count("dien-bien") == 1 and "min_forms = 3" in province
    assert "value = 75.0" in province and '"<=", value = 1 }' in province
    folder = tmp_path / "rulesets"
    folder.mkdir()
    (folder / "dien-bien-1.toml").write_text(province)
    with app.app_context():
        for overall in (5, 4, 4, 2):  # 75.0 % satisfied, one dissatisfied, 4 forms
            add_form(db.session, "phieu1", overall, ["R1"], at(6))
        september = dt.date(2026, 9, 1)
        for overall in (5, 4, 4, 2):
            add_form(db.session, "phieu1", overall, ["R1"], at(6, month=9))
        run_month(db.session, OCTOBER, AFTER_OCTOBER)
        run_month(db.session, september, AFTER_OCTOBER)
        app.config["RULESETS_DIR"] = str(folder)
        run_month(db.session, OCTOBER, AFTER_OCTOBER)
        run_month(db.session, september, AFTER_OCTOBER)
        reference_result, province_result = ratings(db.session, "R1")
        assert (reference_result.ruleset_id, reference_result.band) == ("reference", "hoan_thanh")
        assert (province_result.ruleset_id, province_result.ruleset_version) == ("dien-bien", 1)
        assert province_result.band == "hoan_thanh_xuat_sac"
        assert "insufficient_forms" not in province_result.flags
        # September is before the province's effective date: still the reference rule set.
        assert [(r.ruleset_id, r.band) for r in ratings(db.session, "R1", september)] == [
            ("reference", "hoan_thanh")
        ]


def test_the_current_month_is_a_preview_until_it_is_over(app: Flask, world: World) -> None:
    with app.app_context():
        add_form(db.session, "phieu1", 5, ["R1"], at(3))
        run_month(db.session, OCTOBER, at(20))
        run_month(db.session, OCTOBER, at(21))
        run_month(db.session, OCTOBER, AFTER_OCTOBER)
        assert [(r.revision, r.preview) for r in ratings(db.session, "R1")] == [
            (1, True),
            (2, False),
        ]


def test_a_run_for_one_unit_leaves_the_others_alone(app: Flask, world: World) -> None:
    with app.app_context():
        _two_units()
        summary = run_month(db.session, OCTOBER, AFTER_OCTOBER, unit_codes=["U2"])
        assert [unit.unit_code for unit in summary.units] == ["U2"]
        assert ratings(db.session, "R1") == []
        with pytest.raises(rating_job.UnknownUnit, match="NOPE"):
            run_month(db.session, OCTOBER, AFTER_OCTOBER, unit_codes=["NOPE"])


@BACKENDS
def test_current_ratings_is_one_query_and_history_lists_months(app: Flask, world: World) -> None:
    with app.app_context():
        _two_units()
        for month in (8, 9):
            add_form(db.session, "phieu1", 2, ["R1"], at(4, month=month))
            run_month(db.session, dt.date(2026, month, 1), AFTER_OCTOBER)
        run_month(db.session, OCTOBER, AFTER_OCTOBER)
        add_form(db.session, "phieu1", 1, ["R5"], at(5))
        run_month(db.session, OCTOBER, AFTER_OCTOBER)
        units = [unit_id(db.session, "U1"), unit_id(db.session, "U2")]
        db.session.expunge_all()
        with executed(app) as statements:
            current = current_ratings(db.session, units, OCTOBER)
            seen = [(r.officer.code, r.revision, r.metrics["forms"]) for r in current]
        assert len(statements) == 1
        assert seen == [("R1", 1, 1), ("S1", 1, 0), ("S2", 1, 0), ("R5", 2, 2), ("R6", 1, 1)]
        history = officer_history(db.session, officer(db.session, "R1").id, months=2)
        assert [(r.month, r.metrics["forms"]) for r in history] == [
            (dt.date(2026, 9, 1), 1),
            (OCTOBER, 1),
        ]
