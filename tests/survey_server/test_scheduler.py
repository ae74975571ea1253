"""The scheduler: jobs as data, their times in Asia/Ho_Chi_Minh, each run in a fresh context."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask
from flask.testing import FlaskCliRunner
from rating_job_support import OCTOBER, add_form, at, ratings
from sqlalchemy import func, select

from builders import World
from survey_server.extensions import db
from survey_server.models import MisconductReport, RefusedSubmission, ResponseContact
from survey_server.scheduler import JOBS, Job, build_scheduler, run_job
from survey_server.services.retention import months_before

HCM = ZoneInfo("Asia/Ho_Chi_Minh")


def _job(job_id: str) -> Job:
    return {job.id: job for job in JOBS}[job_id]


@pytest.mark.parametrize(
    ("job_id", "after", "next_run"),
    [
        # Previous month: on the 1st at 02:00 local (19:00 UTC the day before).
        ("rating-previous-month", dt.datetime(2026, 10, 5, 12, 0), dt.datetime(2026, 11, 1, 2, 0)),
        ("rating-previous-month", dt.datetime(2026, 11, 1, 1, 59), dt.datetime(2026, 11, 1, 2, 0)),
        ("rating-previous-month", dt.datetime(2026, 12, 1, 2, 1), dt.datetime(2027, 1, 1, 2, 0)),
        ("rating-preview", dt.datetime(2026, 10, 5, 12, 0), dt.datetime(2026, 10, 6, 1, 0)),
        ("retention", dt.datetime(2026, 10, 5, 3, 0), dt.datetime(2026, 10, 5, 3, 30)),
    ],
)
def test_each_job_runs_at_its_local_time(
    job_id: str, after: dt.datetime, next_run: dt.datetime
) -> None:
    trigger = _job(job_id).trigger()
    upcoming = trigger.get_next_fire_time(None, after.replace(tzinfo=HCM))
    assert upcoming == next_run.replace(tzinfo=HCM)


def test_build_scheduler_declares_every_job(app: Flask) -> None:
    scheduler = build_scheduler(app, BackgroundScheduler(timezone=HCM))
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {"rating-previous-month", "rating-preview", "retention", "alerts"}
    assert all(job.coalesce and job.max_instances == 1 for job in jobs.values())
    assert jobs["retention"].args[1] is _job("retention")


def test_the_jobs_rate_the_previous_and_the_current_month(app: Flask, world: World) -> None:
    with app.app_context():
        add_form(db.session, "phieu1", 5, ["R1"], at(10))
        add_form(db.session, "phieu1", 4, ["R1"], at(3, month=11))
    first_of_november = dt.datetime(2026, 11, 1, 2, 0, tzinfo=HCM)
    assert run_job(app, _job("rating-previous-month"), first_of_november)
    assert run_job(app, _job("rating-preview"), first_of_november + dt.timedelta(days=4))
    with app.app_context():
        [october] = ratings(db.session, "R1")
        [november] = ratings(db.session, "R1", dt.date(2026, 11, 1))
        assert (october.month, october.preview, october.metrics["forms"]) == (OCTOBER, False, 1)
        assert (november.preview, november.metrics["forms"]) == (True, 1)


def test_a_failing_job_is_rolled_back_and_logged(
    app: Flask, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(session: object, now: dt.datetime) -> None:
        db.session.add(RefusedSubmission(endpoint="x", status_code=400, error="x"))
        db.session.flush()
        raise RuntimeError("boom")

    assert not run_job(app, Job("broken", broken, {"hour": 1}, "always fails"))
    assert "job broken failed" in caplog.text
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(RefusedSubmission)) == 0


@pytest.mark.parametrize(
    ("now", "cutoff"),
    [
        (dt.datetime(2026, 10, 15, 10, 0), dt.datetime(2025, 10, 15, 10, 0)),
        (dt.datetime(2026, 2, 28, 0, 30), dt.datetime(2025, 2, 28, 0, 30)),
        (dt.datetime(2028, 2, 29, 8, 0), dt.datetime(2027, 2, 28, 8, 0)),
    ],
)
def test_twelve_months_before_is_counted_in_local_calendar_months(
    now: dt.datetime, cutoff: dt.datetime
) -> None:
    assert months_before(now.replace(tzinfo=HCM), 12) == cutoff.replace(tzinfo=HCM)


def test_retention_deletes_refused_submissions_older_than_twelve_months(
    app: Flask, runner: FlaskCliRunner
) -> None:
    now = dt.datetime(2026, 11, 24, 3, 30, tzinfo=HCM)
    with app.app_context():
        for days in (400, 366, 364, 1):
            db.session.add(
                RefusedSubmission(
                    endpoint="responses",
                    status_code=422,
                    error=f"age_{days}",
                    received_at=now - dt.timedelta(days=days),
                )
            )
        db.session.commit()
    assert run_job(app, _job("retention"), now)
    with app.app_context():
        kept = db.session.scalars(select(RefusedSubmission.error).order_by(RefusedSubmission.id))
        assert list(kept) == ["age_364", "age_1"]


def test_scheduler_command_lists_jobs_and_runs_one(app: Flask, runner: FlaskCliRunner) -> None:
    listed = runner.invoke(args=["scheduler", "--list"])
    assert listed.exit_code == 0, listed.output
    assert [line.split()[0] for line in listed.output.splitlines()] == [job.id for job in JOBS]
    ran = runner.invoke(args=["scheduler", "--run", "retention"])
    assert (ran.exit_code, ran.output) == (0, "retention: done\n")
    unknown = runner.invoke(args=["scheduler", "--run", "nope"])
    assert unknown.exit_code == 2
    assert "unknown job 'nope'" in unknown.output


def test_retention_erases_contacts_once_their_reports_are_closed(app: Flask, world: World) -> None:
    now = dt.datetime(2026, 11, 24, 3, 30, tzinfo=HCM)
    with app.app_context():
        for overall in (1, 2):
            response = add_form(db.session, "phieu1", overall, ["R1"], at(5), misconduct=True)
            db.session.add(
                ResponseContact(
                    response=response,
                    phone=f"091234567{overall}",
                    consent_at=at(5),
                    notice_version="2026-1",
                )
            )
        first = db.session.scalar(select(MisconductReport).order_by(MisconductReport.id))
        assert first is not None
        first.status = "rejected"
        db.session.commit()
    assert run_job(app, _job("retention"), now)
    with app.app_context():
        phones = db.session.scalars(select(ResponseContact.phone).order_by(ResponseContact.id))
        assert list(phones) == [None, "0912345672"]


def test_the_alerts_job_raises_an_alert_for_a_misconduct_report(app: Flask, world: World) -> None:
    """The scheduler, not a page visit, is what raises alerts in production."""
    from survey_server.models import Alert

    with app.app_context():
        add_form(db.session, "phieu1", 1, ["R1"], at(10), misconduct=True)
        assert db.session.query(Alert).count() == 0
    assert run_job(app, _job("alerts"), dt.datetime(2026, 10, 10, 12, 0, tzinfo=HCM))
    with app.app_context():
        assert db.session.query(Alert).count() >= 1
