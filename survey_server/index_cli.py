"""``flask --app survey_server index …``: criterion 8.3, yearly scores, ranking, consequences."""

from __future__ import annotations

import csv
import io
from decimal import Decimal, InvalidOperation
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup
from openpyxl import Workbook
from sqlalchemy import select

from rating.index import IndexTable, available_tables
from rating.index.sonla import LABELS as SONLA_LABELS
from rating.index.sonla import consequences

from .extensions import db
from .models import IndexAssessment, Unit
from .services import index as service
from .services import index_daklak as daklak
from .services import index_xlsx

index_cli = AppGroup("index", help="The annual administrative-reform index (criterion 8.3...).")

SATISFACTION_COLUMNS = [
    "unit",
    "unit_name",
    "year",
    "code",
    "max",
    "method",
    "answered",
    "satisfied",
    "percent",
    "points",
    "source",
]


def init_app(app: Flask) -> None:
    app.cli.add_command(index_cli)


def _units(code: str | None) -> list[Unit]:
    query = select(Unit).order_by(Unit.code)
    if code is not None:
        query = query.where(Unit.code == code)
    else:
        query = query.where(Unit.active.is_(True))
    units = list(db.session.scalars(query))
    if code is not None and not units:
        raise click.ClickException(f"Không có đơn vị mã '{code}'.")
    return units


def _table(table_id: str) -> IndexTable:
    try:
        return service.table_for(table_id)
    except service.IndexInputError:
        known = ", ".join(available_tables())
        raise click.ClickException(f"Không có bảng '{table_id}' (có: {known}).") from None


def satisfaction_rows(year: int, units: list[Unit]) -> list[list[object]]:
    """One row per unit and sub-criterion, then the unit's 8.3 total."""
    rows: list[list[object]] = []
    for found in service.satisfaction_for_units(db.session, year, units):
        for sub in found.result.sub_criteria:
            if sub.percent is None:
                source = "no data"
            elif sub.imported:
                source = "imported"
            else:
                source = "forms"
            answered: object = found.respondents.get(sub.code) if sub.imported else sub.answered
            rows.append(
                [
                    found.unit_code,
                    found.unit_name,
                    year,
                    sub.code,
                    sub.max,
                    sub.method,
                    answered,
                    None if sub.imported else sub.satisfied,
                    sub.percent,
                    sub.points,
                    source,
                ]
            )
        result = found.result
        rows.append(
            [
                found.unit_code,
                found.unit_name,
                year,
                result.criterion,
                result.max_with_data,
                "",
                None,
                None,
                None,
                result.total_points,
                "total",
            ]
        )
    return rows


@index_cli.command("satisfaction")
@click.option("--year", type=int, required=True)
@click.option("--unit", "unit_code", default=None, help="One unit's code (default: all).")
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), default=None, help=".csv or .xlsx"
)
def satisfaction_command(year: int, unit_code: str | None, out: Path | None) -> None:
    """Criterion 8.3 per unit for a year: percent, answer count and points per sub-criterion."""
    rows = satisfaction_rows(year, _units(unit_code))
    if out is not None and out.suffix.lower() == ".xlsx":
        workbook = Workbook()
        sheet = workbook.active
        assert sheet is not None
        sheet.title = f"8.3 {year}"
        sheet.append(SATISFACTION_COLUMNS)
        for row in rows:
            sheet.append(row)
        workbook.save(out)
        click.echo(f"Đã ghi {out}")
        return
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(SATISFACTION_COLUMNS)
    writer.writerows(["" if value is None else value for value in row] for row in rows)
    if out is None:
        click.echo(buffer.getvalue(), nl=False)
    else:
        out.write_text(buffer.getvalue(), encoding="utf-8")
        click.echo(f"Đã ghi {out}")


@index_cli.command("import-survey")
@click.option("--year", type=int, required=True)
@click.option(
    "--file",
    "path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="CSV with columns unit,code,percent[,respondents] (e.g. 8.3.1-8.3.4).",
)
def import_survey_command(year: int, path: Path) -> None:
    """Import the province's annual survey sub-indices; all rows or none."""
    rows: list[tuple[str, str, Decimal, int | None]] = []
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for line, record in enumerate(csv.DictReader(handle), start=2):
            try:
                percent = Decimal((record.get("percent") or "").strip())
                respondents_text = (record.get("respondents") or "").strip()
                respondents = int(respondents_text) if respondents_text else None
            except (InvalidOperation, ValueError):
                raise click.ClickException(f"Dòng {line}: số không hợp lệ.") from None
            unit = (record.get("unit") or "").strip()
            code = (record.get("code") or "").strip()
            rows.append((unit, code, percent, respondents))
    try:
        stored = service.import_survey_results(
            db.session, year, rows, actor="cli", source=path.name
        )
    except service.IndexInputError as error:
        details = "; ".join(
            f"{where.replace('row ', 'dòng dữ liệu ')}: {why}"
            for where, why in error.problems.items()
        )
        raise click.ClickException(f"Không nhập gì: {details}") from None
    click.echo(f"Đã nhập {stored} kết quả khảo sát năm {year}.")


@index_cli.command("export")
@click.option("--year", type=int, required=True)
@click.option("--table", "table_id", default=service.DEFAULT_TABLE, show_default=True)
@click.option("--unit", "unit_code", default=None, help="One unit's code (default: all).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
def export_command(year: int, table_id: str, unit_code: str | None, out: Path) -> None:
    """Write the year's scores as an xlsx laid out like the table (one sheet per unit)."""
    table = _table(table_id)
    out.write_bytes(index_xlsx.export_units(db.session, _units(unit_code), year, table))
    click.echo(f"Đã ghi {out}")


@index_cli.command("import")
@click.option("--year", type=int, required=True)
@click.option("--table", "table_id", default=service.DEFAULT_TABLE, show_default=True)
@click.option(
    "--file", "path", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True
)
def import_command(year: int, table_id: str, path: Path) -> None:
    """Read scores from an xlsx laid out like the export; the whole file or nothing."""
    table = _table(table_id)
    try:
        codes = index_xlsx.import_workbook(db.session, path.read_bytes(), year, table, "cli")
    except index_xlsx.XlsxImportError as error:
        raise click.ClickException(f"Không nhập gì:\n{error}") from None
    click.echo(f"Đã nhập điểm của {len(codes)} đơn vị: {', '.join(codes)}")


@index_cli.command("score")
@click.option("--year", type=int, required=True)
@click.option("--table", "table_id", default=service.DEFAULT_TABLE, show_default=True)
def score_command(year: int, table_id: str) -> None:
    """Index percent, band and rank of every unit scored for the year."""
    table = _table(table_id)
    rows, incomplete = service.ranking(db.session, year, table)
    for row in rows:
        click.echo(
            f"{row.rank:>3}  {row.unit_code:<12} {row.index_percent:>6}%  {row.band_label:<12} "
            f"{row.unit_name}"
        )
    for index in incomplete:
        missing = len(index.missing)
        click.echo(f"  -  {index.unit_code:<12} chưa đủ điểm ({missing} tiêu chí chưa chấm)")
    if not rows and not incomplete:
        click.echo(f"Chưa có đơn vị nào được chấm điểm năm {year} theo bảng {table.id}.")


@index_cli.command("consequences")
@click.option("--table", "table_id", default=service.DEFAULT_TABLE, show_default=True)
@click.option("--unit", "unit_code", default=None, help="One unit's code (default: all).")
def consequences_command(table_id: str, unit_code: str | None) -> None:
    """Sơn La (seed 003): consequences for each head from the yearly index scores."""
    table = _table(table_id)
    for unit in _units(unit_code):
        years = db.session.scalars(
            select(IndexAssessment.year).where(
                IndexAssessment.unit_id == unit.id, IndexAssessment.table_id == table.id
            )
        )
        scores: dict[int, Decimal] = {}
        for year in years:
            result = service.unit_index(db.session, unit, year, table).result
            if result is not None:
                scores[year] = result.index_percent
        for found in consequences(scores):
            years_text = ", ".join(str(year) for year in found.triggered_by)
            click.echo(
                f"{unit.code:<12} {found.year}  {found.score:>6}  "
                f"{SONLA_LABELS[found.consequence]} (năm: {years_text})"
            )


@index_cli.command("daklak")
@click.option(
    "--file",
    "path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="CSV: unit,group,c1,c2,c3,c4,c5,deductions,head_disciplined (empty = not assigned).",
)
def daklak_command(path: Path) -> None:
    """Đắk Lắk 2025 (seed 002): quality levels with the 20% cap, ties, reform result."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        text = handle.read()
    try:
        groups = daklak.read_units(text)
        for group, units in groups.items():
            _echo_daklak_group(daklak.assess_one(group, units))
    except daklak.DaklakFileError as error:
        raise click.ClickException(str(error)) from None


def _echo_daklak_group(report: daklak.GroupReport) -> None:
    click.echo(f"== {report.title}")
    click.echo(f"   {report.summary}")
    for outcome in report.result.outcomes:
        notes = daklak.notes(outcome)
        note = f" ({'; '.join(notes)})" if notes else ""
        click.echo(
            f"{outcome.rank:>3}  {outcome.unit:<12} {outcome.quality_percent:>6}%  "
            f"{daklak.level_text(outcome)}{note} | CCHC {outcome.reform_percent}% "
            f"{daklak.reform_text(outcome)}"
        )
    if report.cap_tie is not None:
        click.echo(f"   {report.cap_tie}")
