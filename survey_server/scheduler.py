"""The scheduler process: ``flask --app survey_server scheduler``.

Jobs are declared as data (:data:`JOBS`): a name, a cron schedule in Asia/Ho_Chi_Minh time and a
plain function ``(session, now)`` that the CLI can call too. Each run gets a fresh app context
and session, commits or rolls back, and is logged. The scheduler runs as its own process (one
per installation, never inside the web workers, where it would run once per worker).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import click
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from flask import Flask, current_app
from flask.cli import with_appcontext

from .extensions import DbSession, db
from .models import utcnow
from .services import alerts, rating_job, retention
from .timeutil import LOCAL_TZ

log = logging.getLogger(__name__)


def rate_previous_month(session: DbSession, now: dt.datetime) -> rating_job.RunSummary:
    """The final run of the month that just ended."""
    month = rating_job.previous_month(rating_job.local_month(now))
    return rating_job.run_month(session, month, now)


def preview_current_month(session: DbSession, now: dt.datetime) -> rating_job.RunSummary:
    """The nightly preview of the month in progress (stored only when something changed)."""
    return rating_job.run_month(session, rating_job.local_month(now), now)


def apply_retention(session: DbSession, now: dt.datetime) -> retention.RetentionSummary:
    return retention.apply_retention(session, now)


@dataclass(frozen=True)
class Job:
    """A scheduled job: ``func(session, now)`` on a cron schedule (local time)."""

    id: str
    func: Callable[[DbSession, dt.datetime], object]
    cron: Mapping[str, Any]
    description: str

    def trigger(self) -> CronTrigger:
        return CronTrigger(timezone=LOCAL_TZ, **self.cron)


JOBS: tuple[Job, ...] = (
    Job(
        "rating-previous-month",
        rate_previous_month,
        {"day": 1, "hour": 2, "minute": 0},
        "rate the month that just ended (1st of the month, 02:00)",
    ),
    Job(
        "rating-preview",
        preview_current_month,
        {"hour": 1, "minute": 0},
        "preview the current month (nightly, 01:00)",
    ),
    Job(
        "retention",
        apply_retention,
        {"hour": 3, "minute": 30},
        "retention: refused submissions > 12 months, contacts of closed reports (03:30)",
    ),
    Job(
        "alerts",
        alerts.run_alerts_job,
        {"minute": "*/5"},
        "raise (and e-mail) alerts: misconduct reports, dissatisfied counters (every 5 min)",
    ),
)


def run_job(app: Flask, job: Job, now: dt.datetime | None = None) -> bool:
    """Run one job in a fresh app context; commit on success, roll back and log on failure."""
    with app.app_context():
        started = utcnow()
        try:
            job.func(db.session, now or started)
            db.session.commit()
        except Exception:
            db.session.rollback()
            log.exception("job %s failed", job.id)
            return False
        finally:
            db.session.remove()
        log.info("job %s done in %.1fs", job.id, (utcnow() - started).total_seconds())
        return True


def build_scheduler(app: Flask, scheduler: BaseScheduler | None = None) -> BaseScheduler:
    """Add every job of :data:`JOBS` to ``scheduler`` (default: a BlockingScheduler)."""
    scheduler = scheduler or BlockingScheduler(timezone=LOCAL_TZ)
    for job in JOBS:
        scheduler.add_job(
            run_job,
            job.trigger(),
            args=[app, job],
            id=job.id,
            name=job.description,
            # After a restart or a long pause run once, not once per missed time.
            coalesce=True,
            max_instances=1,
            misfire_grace_time=6 * 3600,
        )
    return scheduler


@click.command("scheduler")
@click.option("--list", "list_jobs", is_flag=True, help="Print the jobs and their next run.")
@click.option("--run", "run_now", metavar="JOB", help="Run one job now and exit.")
@with_appcontext
def scheduler_command(list_jobs: bool, run_now: str | None) -> None:
    """Run the scheduled jobs (its own process: start exactly one)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if list_jobs:
        now = utcnow().astimezone(LOCAL_TZ)
        for job in JOBS:
            upcoming = job.trigger().get_next_fire_time(None, now)
            click.echo(f"{job.id:24} {upcoming:%Y-%m-%d %H:%M %z}  {job.description}")
        return
    if run_now is not None:
        chosen = {job.id: job for job in JOBS}.get(run_now)
        if chosen is None:
            names = ", ".join(job.id for job in JOBS)
            raise click.BadParameter(f"unknown job '{run_now}' (jobs: {names})", param_hint="--run")
        if not run_job(app, chosen):
            raise click.ClickException(f"job {run_now} failed (see the log)")
        click.echo(f"{run_now}: done")
        return
    scheduler = build_scheduler(app)
    click.echo("Scheduler started (Asia/Ho_Chi_Minh): " + ", ".join(job.id for job in JOBS))
    with contextlib.suppress(KeyboardInterrupt, SystemExit):
        scheduler.start()
