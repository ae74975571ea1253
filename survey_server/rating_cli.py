"""``flask --app survey_server rating run --month YYYY-MM [--unit CODE]``."""

from __future__ import annotations

import datetime as dt

import click
from flask.cli import AppGroup

from rating import RuleSetError

from .extensions import db
from .models import utcnow
from .services import rating_job

rating_cli = AppGroup("rating", help="The monthly rating of officers.")


def _month(_ctx: click.Context, _param: click.Parameter, value: str) -> dt.date:
    try:
        return rating_job.parse_month(value)
    except ValueError:
        raise click.BadParameter("cần dạng YYYY-MM, ví dụ 2026-10") from None


@rating_cli.command("run")
@click.option("--month", required=True, callback=_month, help="The month, YYYY-MM.")
@click.option("--unit", "units", multiple=True, metavar="CODE", help="Only this unit (repeatable).")
def rating_run(month: dt.date, units: tuple[str, ...]) -> None:
    """Compute the month's bands; store a new revision only where something changed."""

    def progress(outcome: rating_job.UnitOutcome) -> None:
        if outcome.locked:
            state = "đã phê duyệt, khóa: không tính lại"
        else:
            state = f"{outcome.stored} kết quả mới"
        officers = f"{outcome.officers} công chức"
        click.echo(f"{outcome.unit_code}: {officers}, {state} (quy tắc {outcome.ruleset})")

    try:
        summary = rating_job.run_month(
            db.session, month, utcnow(), unit_codes=list(units) or None, progress=progress
        )
    except rating_job.UnknownUnit as error:
        raise click.ClickException(f"Không có đơn vị mã: {error}") from None
    except RuleSetError as error:
        raise click.ClickException(f"Bộ quy tắc xếp loại: {error}") from None
    label = summary.month.strftime("%Y-%m")
    click.echo(
        f"Tháng {label}: {len(summary.units)} đơn vị, {summary.stored} kết quả mới được lưu."
    )
