"""``flask --app survey_server tt01 report``: the TT 01/2018 quarterly report as xlsx."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import select

from rating.tt01_report import Quarter

from .extensions import db
from .models import Unit
from .services import tt01_report as service

tt01_cli = AppGroup("tt01", help="The TT 01/2018 quarterly report.")


@tt01_cli.command("report")
@click.option("--quarter", "quarter_text", required=True, help="e.g. 2026-Q3")
@click.option("--unit", "unit_code", default=None, help="one unit's code (default: every unit)")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
def report(quarter_text: str, unit_code: str | None, out: Path) -> None:
    """Write the quarter's per-agency and per-officer report to an xlsx file."""
    try:
        quarter = Quarter.parse(quarter_text)
    except ValueError:
        raise click.BadParameter("YYYY-Qn, ví dụ 2026-Q3", param_hint="--quarter") from None
    query = select(Unit).order_by(Unit.code)
    if unit_code is None:
        query = query.where(Unit.active.is_(True))
    else:
        query = query.where(Unit.code == unit_code)
    units = list(db.session.scalars(query))
    if unit_code is not None and not units:
        raise click.ClickException(f"Không có đơn vị mã '{unit_code}'.")
    reports = service.unit_reports(db.session, quarter, units)
    out.write_bytes(service.report_workbook(reports, quarter))
    click.echo(f"{out}: {len(reports)} đơn vị, {sum(len(r.officers) for r in reports)} công chức.")
