"""Exports of a unit's month: the rating sheet as xlsx and as a printable PDF (province header,
table, charts, the head's signature block); the province's raw anonymised answers as CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io
import textwrap
from collections.abc import Iterator
from typing import Any

import matplotlib
from flask import Response, abort, request, stream_with_context
from flask_babel import gettext
from flask_login import current_user
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from openpyxl import Workbook
from openpyxl.drawing.image import Image as XlImage
from openpyxl.styles import Alignment, Font
from sqlalchemy import select

from ..extensions import db
from ..forms_registry import survey_forms
from ..models import Counter as CounterModel
from ..models import Officer, Unit, response_officers, utcnow
from ..models import Response as Answer
from ..services.rating_job import parse_month
from ..timeutil import LOCAL_TZ, month_bounds
from . import bp, charts
from .access import get_unit_or_404, role_required
from .explain import band_label, flag_label, format_metric, group_label
from .queries import MonthView, month_view

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
A4 = (8.27, 11.69)
ROWS_FIRST_PAGE = 26
ROWS_PER_PAGE = 48


def _month(text: str) -> dt.date:
    try:
        return parse_month(text)
    except ValueError:
        abort(404)


def _province(unit: Unit) -> Unit:
    root = unit
    while root.parent is not None:
        root = root.parent
    return root


def _columns() -> list[str]:
    return [
        gettext("No."),
        gettext("Full name"),
        gettext("Code"),
        gettext("Group"),
        gettext("Forms"),
        gettext("Satisfied rate"),
        gettext("Dissatisfied"),
        gettext("On-time rate"),
        gettext("Band"),
        gettext("Flags"),
    ]


def _rows(view: MonthView) -> list[list[Any]]:
    rows = []
    for number, row in enumerate(view.rows, start=1):
        rating = row.rating
        metrics = rating.metrics if rating else {}
        rows.append(
            [
                number,
                row.officer.name,
                row.officer.code,
                group_label(rating.group if rating else row.officer.group),
                metrics.get("forms"),
                metrics.get("satisfied_pct"),
                metrics.get("dissatisfied"),
                metrics.get("on_time_pct"),
                band_label(row.band),
                "; ".join(flag_label(flag) for flag in (rating.flags if rating else [])),
            ]
        )
    return rows


def _filename(view: MonthView, extension: str) -> str:
    return f"xep-loai-{view.unit.code}-{view.month.strftime('%Y-%m')}.{extension}"


def _state_text(view: MonthView) -> str:
    if view.approved and view.state is not None and view.state.approved_at is not None:
        who = view.state.approved_by.display_name if view.state.approved_by else ""
        when = view.state.approved_at.astimezone(LOCAL_TZ).strftime("%d/%m/%Y")
        return str(gettext("Approved by %(name)s on %(when)s", name=who, when=when))
    return str(gettext("Not approved yet (provisional)"))


def _title(view: MonthView) -> str:
    return str(
        gettext("ONE-STOP STAFF RATING SHEET, MONTH %(month)s", month=view.month.strftime("%m/%Y"))
    )


def build_xlsx(view: MonthView) -> bytes:
    """The rating sheet: header, one row per officer, the state, and the band chart."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = gettext("Ratings")
    sheet.append([_province(view.unit).name.upper()])
    sheet.append([view.unit.name])
    sheet.append([_title(view)])
    sheet.append([_state_text(view)])
    sheet.append([])
    sheet.append(_columns())
    for cell in sheet[6]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for row in _rows(view):
        sheet.append(row)
    sheet["A3"].font = Font(bold=True, size=13)
    for column, width in zip("ABCDEFGHIJ", (6, 28, 10, 30, 8, 11, 11, 11, 28, 30), strict=True):
        sheet.column_dimensions[column].width = width
    for cells in sheet.iter_rows(min_row=7, min_col=6, max_col=8):
        for cell in cells:
            if cell.column in (6, 8):
                cell.number_format = "0.0"
    sheet.freeze_panes = "C7"
    charts_sheet = workbook.create_sheet(gettext("Charts"))
    for anchor, figure in (
        ("A1", charts.band_distribution(view.history, gettext("Bands over the last 12 months"))),
        (
            "A20",
            charts.satisfaction_trend(view.satisfaction, gettext("Satisfaction over 12 months")),
        ),
    ):
        image = XlImage(io.BytesIO(charts.to_png(figure, dpi=100)))
        charts_sheet.add_image(image, anchor)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _page(pdf: PdfPages) -> Figure:
    return Figure(figsize=A4)


def _header(figure: Figure, view: MonthView, top: float) -> float:
    province = _province(view.unit)
    figure.text(0.22, top, province.name.upper(), ha="center", fontsize=9)
    figure.text(0.22, top - 0.018, view.unit.name.upper(), ha="center", fontsize=9, weight="bold")
    figure.text(0.70, top, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", ha="center", fontsize=9,
                weight="bold")  # fmt: skip
    figure.text(0.70, top - 0.018, "Độc lập - Tự do - Hạnh phúc", ha="center", fontsize=9,
                weight="bold")  # fmt: skip
    figure.text(0.5, top - 0.065, _title(view), ha="center", fontsize=11, weight="bold")
    figure.text(0.5, top - 0.085, _state_text(view), ha="center", fontsize=8, style="italic")
    return top - 0.1


def _table(figure: Figure, rows: list[list[Any]], top: float) -> None:
    """The rows as one multi-line text per column: the same font and line spacing keep the
    columns aligned, and a page draws in milliseconds (a matplotlib table cell per value is
    a hundred times slower)."""
    columns = _columns()[:9]  # flags do not fit the printed page; the xlsx has them
    widths = [0.04, 0.2, 0.07, 0.085, 0.06, 0.08, 0.08, 0.08, 0.205]
    right_aligned = {0, 4, 5, 6, 7}
    short = {group_label(code): label for code, label in _short_groups().items()}
    lines: list[list[str]] = [[] for _ in columns]
    for row in rows:
        values = [str(row[0]), str(row[1])[:34], str(row[2]), short.get(row[3], row[3]),
                  *(_cell(value) for value in row[4:9])]  # fmt: skip
        for index, value in enumerate(values):
            lines[index].append(value or " ")
    left = 0.05
    header_height = 0.035
    for index, (title, width) in enumerate(zip(columns, widths, strict=True)):
        aligned_right = index in right_aligned
        x = left + width - 0.008 if aligned_right else left + 0.004
        ha = "right" if aligned_right else "left"
        title = textwrap.fill(title, 12)
        figure.text(x, top, title, ha=ha, va="top", fontsize=7, weight="bold", multialignment=ha)
        if lines[index]:
            figure.text(x, top - header_height, "\n".join(lines[index]), ha=ha, va="top",
                        fontsize=7, linespacing=1.6, multialignment=ha)  # fmt: skip
        left += width
    rule = Line2D([0.05, 0.95], [top - header_height + 0.006] * 2, linewidth=0.6, color="black")
    figure.add_artist(rule)


def _short_groups() -> dict[str, str]:
    return {"reception": gettext("Reception"), "resolver": gettext("Resolution")}


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return format_metric(value)


def _signature(figure: Figure, bottom: float) -> None:
    today = utcnow().astimezone(LOCAL_TZ).date()
    figure.text(0.25, bottom + 0.06, gettext("PREPARED BY"), ha="center", fontsize=9,
                weight="bold")  # fmt: skip
    figure.text(
        0.72,
        bottom + 0.085,
        gettext(
            "Date %(day)s month %(month)s year %(year)s",
            day=f"{today.day:02d}",
            month=f"{today.month:02d}",
            year=today.year,
        ),
        ha="center",
        fontsize=8,
        style="italic",
    )
    figure.text(0.72, bottom + 0.06, gettext("HEAD OF THE UNIT"), ha="center", fontsize=9,
                weight="bold")  # fmt: skip
    figure.text(0.72, bottom + 0.042, gettext("(signature, full name and seal)"), ha="center",
                fontsize=8, style="italic")  # fmt: skip
    figure.text(0.25, bottom + 0.042, gettext("(signature and full name)"), ha="center",
                fontsize=8, style="italic")  # fmt: skip


def build_pdf(view: MonthView) -> bytes:
    """A4 pages: header and the first rows; more rows; then the charts and the signatures."""
    rows = _rows(view)
    buffer = io.BytesIO()
    with (
        matplotlib.rc_context({**charts.FONT, "pdf.fonttype": 42}),
        PdfPages(buffer, metadata={"Title": _title(view), "Creator": "Mot cua"}) as pdf,
    ):
        figure = _page(pdf)
        top = _header(figure, view, 0.95)
        first, rest = rows[:ROWS_FIRST_PAGE], rows[ROWS_FIRST_PAGE:]
        _table(figure, first, top)
        pdf.savefig(figure)
        while rest:
            chunk, rest = rest[:ROWS_PER_PAGE], rest[ROWS_PER_PAGE:]
            figure = _page(pdf)
            _table(figure, chunk, 0.95)
            pdf.savefig(figure)
        figure = _page(pdf)
        figure.text(0.5, 0.95, gettext("Charts"), ha="center", fontsize=11, weight="bold")
        bands = figure.add_axes((0.1, 0.62, 0.6, 0.28))
        charts.plot_bands(bands, view.history, gettext("Bands over the last 12 months"))
        trend = figure.add_axes((0.1, 0.28, 0.6, 0.24))
        charts.plot_trend(trend, view.satisfaction, gettext("Satisfaction over 12 months"))
        _signature(figure, 0.05)
        pdf.savefig(figure)
    return buffer.getvalue()


def _view(unit_id: int, month_text: str) -> MonthView:
    unit = get_unit_or_404(current_user, unit_id)
    return month_view(db.session, unit, _month(month_text))


@bp.get("/units/<int:unit_id>/<month_text>/export.xlsx")
@role_required("admin", "head", "viewer")
def export_xlsx(unit_id: int, month_text: str) -> Response:
    view = _view(unit_id, month_text)
    return Response(
        build_xlsx(view),
        mimetype=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{_filename(view, "xlsx")}"'},
    )


@bp.get("/units/<int:unit_id>/<month_text>/export.pdf")
@role_required("admin", "head", "viewer")
def export_pdf(unit_id: int, month_text: str) -> Response:
    view = _view(unit_id, month_text)
    return Response(
        build_pdf(view),
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{_filename(view, "pdf")}"'},
    )


def answer_columns() -> list[str]:
    """Every non-free-text question of the forms, in form order (free text could identify)."""
    columns: list[str] = []
    for definition in survey_forms().values():
        for question in definition.questions:
            if question.kind != "text" and question.id not in columns:
                columns.append(question.id)
    return columns


def answer_rows(month: dt.date) -> Iterator[list[Any]]:
    """The month's valid answers, anonymised: the day (not the time), never the comment,
    never a contact; officers by code."""
    start, end = month_bounds(month.year, month.month)
    columns = answer_columns()
    yield ["form", "form_version", "date", "channel", "lang", "unit", "counter", "officers",
           *columns]  # fmt: skip
    codes: dict[int, list[str]] = {}
    unit_of: dict[str, str] = {}
    pairs = db.session.execute(
        select(response_officers.c.response_id, Officer.code, Unit.code)
        .join(Officer, Officer.id == response_officers.c.officer_id)
        .join(Unit, Unit.id == Officer.unit_id)
        .join(Answer, Answer.id == response_officers.c.response_id)
        .where(Answer.valid, Answer.answered_at >= start, Answer.answered_at < end)
    )
    for response_id, officer_code, unit_code in pairs:
        codes.setdefault(response_id, []).append(officer_code)
        unit_of[officer_code] = unit_code
    counters = {
        row.id: row.code for row in db.session.execute(select(CounterModel.id, CounterModel.code))
    }
    query = (
        select(Answer)
        .where(Answer.valid, Answer.answered_at >= start, Answer.answered_at < end)
        .order_by(Answer.answered_at, Answer.id)
        .execution_options(yield_per=500)
    )
    for answer in db.session.scalars(query):
        officers = sorted(codes.get(answer.id, []))
        yield [
            answer.form,
            answer.form_version,
            answer.answered_at.astimezone(LOCAL_TZ).date().isoformat(),
            answer.channel,
            answer.lang,
            unit_of.get(officers[0], "") if officers else "",
            counters.get(answer.counter_id, "") if answer.counter_id else "",
            ";".join(officers),
            *[_csv_value(answer.answers.get(column)) for column in columns],
        ]


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, list):
        return ";".join(str(item) for item in value)
    return value


@bp.get("/answers.csv")
@role_required("admin")
def answers_csv() -> Response:
    """The province's raw anonymised answers of a month (``?month=YYYY-MM``)."""
    month = _month(request.args.get("month", ""))

    def generate() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        for row in answer_rows(month):
            writer.writerow(row)
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()

    name = f"phieu-{month.strftime('%Y-%m')}.csv"
    return Response(
        stream_with_context(generate()),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
