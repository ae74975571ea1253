"""The yearly index scores as a spreadsheet laid out like the printed table, both ways.

One sheet per unit, named by the unit's code. Rows 1–4 say which table, unit and year; row 6
holds the column titles; from row 7 one row per line of the table in printed order: code, title,
max, ĐTXHH, self-assessed, appraised, source, note. Parents carry their totals (ignored on
import); a leaf's score cells hold a number, "không đánh giá", or nothing (not entered yet).
For the 8.3 leaves, which are filled from the satisfaction survey, a changed figure is an
override and the note column must say why.

Import checks every sheet before storing anything: a refused file names the sheet, row and
column of each problem, and nothing of it is stored.
"""

from __future__ import annotations

import io
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, Any

from flask_babel import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import select

from rating.index import IndexTable

from ..extensions import DbSession
from ..models import Unit
from .index import (
    NOT_ASSESSED_ENTRY,
    IndexInputError,
    LeafEntry,
    UnitIndex,
    messages_locale,
    save_scores,
    unit_index,
)

NOT_ASSESSED_TEXT = "không đánh giá"
HEADER_ROW = 6
FIRST_ROW = 7
COLUMNS = ("code", "title", "max", "survey", "self_assessed", "appraised", "source", "note")
SCORE_COLUMNS = {"self_assessed": 5, "appraised": 6}
NOTE_COLUMN = 8


def _titles() -> list[str]:
    return [
        _("Code"),
        _("Criterion"),
        _("Max points"),
        _("Survey (ĐTXHH)"),
        _("Self-assessed"),
        _("Appraised"),
        _("Source"),
        _("Note"),
    ]


def source_label(source: str | None) -> str:
    labels: dict[str, str] = {
        "entered": _("entered"),
        "imported": _("imported"),
        "satisfaction": _("automatic (satisfaction survey)"),
        "override": _("overridden"),
    }
    return labels.get(source or "", "")


@dataclass(frozen=True)
class XlsxProblem:
    sheet: str
    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        with messages_locale():
            return self._text()

    def _text(self) -> str:
        if self.row is None:
            return str(_("Sheet %(sheet)s: %(message)s", sheet=self.sheet, message=self.message))
        return str(
            _(
                "Sheet %(sheet)s, row %(row)s, column %(column)s: %(message)s",
                sheet=self.sheet,
                row=self.row,
                column=self.column or "-",
                message=self.message,
            )
        )


class XlsxImportError(ValueError):
    def __init__(self, problems: list[XlsxProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(problem) for problem in problems))


# -- export ----------------------------------------------------------------------------------


def export_workbook(indices: Iterable[UnitIndex]) -> bytes:
    """An xlsx with one sheet per unit's year."""
    with messages_locale():
        return _export_workbook(indices)


def _export_workbook(indices: Iterable[UnitIndex]) -> bytes:
    workbook = Workbook()
    default = workbook.active
    written = 0
    for index in indices:
        sheet = workbook.create_sheet(index.unit_code[:31])
        _write_sheet(sheet, index)
        written += 1
    if default is not None and written:
        workbook.remove(default)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _write_sheet(sheet: Worksheet, index: UnitIndex) -> None:
    table = index.table
    sheet["A1"] = table.title
    sheet["A1"].font = Font(bold=True, size=13)
    sheet["A2"], sheet["B2"] = _("Table"), table.id
    sheet["A3"], sheet["B3"], sheet["C3"] = _("Unit"), index.unit_code, index.unit_name
    sheet["A4"], sheet["B4"] = _("Year"), index.year
    for column, title in enumerate(_titles(), start=1):
        cell = sheet.cell(row=HEADER_ROW, column=column, value=title)
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDE7F0")
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    rows = {row.code: row for row in index.rows}
    nodes = index.result.nodes if index.result else {}
    position = FIRST_ROW
    for node in table.criteria():
        sheet.cell(row=position, column=1, value=node.code)
        sheet.cell(row=position, column=2, value=node.title)
        sheet.cell(row=position, column=3, value=node.max)
        sheet.cell(row=position, column=4, value="ĐTXHH" if node.survey else None)
        if node.is_leaf:
            row = rows[node.code]
            if row.not_assessed:
                values: tuple[Any, Any] = (NOT_ASSESSED_TEXT, NOT_ASSESSED_TEXT)
            else:
                values = (row.self_assessed, row.appraised)
            sheet.cell(row=position, column=5, value=values[0])
            sheet.cell(row=position, column=6, value=values[1])
            sheet.cell(row=position, column=7, value=source_label(row.source))
            sheet.cell(row=position, column=8, value=row.reason)
        else:
            for column in range(1, 7):
                sheet.cell(row=position, column=column).font = Font(bold=True)
            total = nodes.get(node.code)
            if total is not None:
                sheet.cell(row=position, column=5, value=total.self_assessed)
                sheet.cell(row=position, column=6, value=total.appraised)
        position += 1
    if index.result is not None:
        position += 1
        summary = [
            (_("Total"), index.result.self_total, index.result.appraised_total),
            (_("Points assessed"), index.result.denominator, index.result.denominator),
            (_("Index (%)"), index.result.self_percent, index.result.index_percent),
        ]
        for label, own, appraised in summary:
            sheet.cell(row=position, column=2, value=label).font = Font(bold=True)
            sheet.cell(row=position, column=5, value=own)
            sheet.cell(row=position, column=6, value=appraised)
            position += 1
        sheet.cell(row=position, column=2, value=_("Band")).font = Font(bold=True)
        sheet.cell(row=position, column=6, value=index.result.band.label)
    for column, width in zip(range(1, 9), (9, 70, 10, 9, 12, 12, 22, 30), strict=True):
        sheet.column_dimensions[get_column_letter(column)].width = width
    sheet.freeze_panes = sheet.cell(row=FIRST_ROW, column=3).coordinate


# -- import ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SheetScores:
    unit: Unit
    entries: dict[str, LeafEntry]
    reasons: dict[str, str]
    rows: dict[str, int]


def read_workbook(
    session: DbSession,
    stream: IO[bytes] | bytes,
    year: int,
    table: IndexTable,
    appraise: bool = True,
    unit_ids: Collection[int] | None = None,
) -> list[SheetScores]:
    """Read and check every sheet; raise ``XlsxImportError`` listing each problem.

    ``appraise`` False (a unit head): a leaf may carry its self-assessed score alone.
    ``unit_ids``: the units the importer may score; any other sheet is not a unit code to them.
    """
    with messages_locale():
        return _read_workbook(session, stream, year, table, appraise, unit_ids)


def _read_workbook(
    session: DbSession,
    stream: IO[bytes] | bytes,
    year: int,
    table: IndexTable,
    appraise: bool,
    unit_ids: Collection[int] | None,
) -> list[SheetScores]:
    data = stream if isinstance(stream, bytes) else stream.read()
    try:
        workbook = load_workbook(io.BytesIO(data), data_only=True, read_only=False)
    except Exception:  # openpyxl raises many kinds for a file that is not xlsx
        raise XlsxImportError([XlsxProblem("-", None, None, _("not an xlsx file"))]) from None
    units = {
        unit.code: unit
        for unit in session.scalars(select(Unit))
        if unit_ids is None or unit.id in unit_ids
    }
    problems: list[XlsxProblem] = []
    found: list[SheetScores] = []
    for sheet in workbook.worksheets:
        result = _read_sheet(sheet, units, year, table, problems, appraise)
        if result is not None:
            found.append(result)
    if not found and not problems:
        problems.append(XlsxProblem("-", None, None, _("no sheet named by a unit code")))
    if problems:
        raise XlsxImportError(problems)
    return found


def import_workbook(
    session: DbSession,
    stream: IO[bytes] | bytes,
    year: int,
    table: IndexTable,
    actor: str,
    appraise: bool = True,
    unit_ids: Collection[int] | None = None,
) -> list[str]:
    """Check the whole file, then store every sheet in one transaction. Returns unit codes.

    ``appraise`` False is a unit head's import: self-assessed scores only (see ``save_scores``).
    """
    sheets = read_workbook(session, stream, year, table, appraise, unit_ids)
    sheet = sheets[0]
    try:
        for sheet in sheets:
            plain = {c: e for c, e in sheet.entries.items() if c not in sheet.reasons}
            save_scores(
                session,
                sheet.unit,
                year,
                table,
                plain,
                actor,
                "imported",
                commit=False,
                appraise=appraise,
            )
            for code, reason in sheet.reasons.items():
                save_scores(
                    session,
                    sheet.unit,
                    year,
                    table,
                    {code: sheet.entries[code]},
                    actor,
                    "imported",
                    reason=reason,
                    commit=False,
                    appraise=appraise,
                )
    except IndexInputError as error:
        session.rollback()
        with messages_locale():
            raise _refused(sheet, error) from None
    session.commit()
    return [sheet.unit.code for sheet in sheets]


def _refused(sheet: SheetScores, error: IndexInputError) -> XlsxImportError:
    problems = []
    for where, why in error.problems.items():
        code = where.split(" ")[0]
        row = sheet.rows.get(code)
        column = None
        if row is not None:
            number = SCORE_COLUMNS[
                "self_assessed" if where.endswith("self_assessed") else "appraised"
            ]
            column = f"{get_column_letter(number)} ({_titles()[number - 1]})"
        problems.append(XlsxProblem(sheet.unit.code, row, column, f"{code}: {why}"))
    return XlsxImportError(problems)


def _read_sheet(
    sheet: Worksheet,
    units: dict[str, Unit],
    year: int,
    table: IndexTable,
    problems: list[XlsxProblem],
    appraise: bool = True,
) -> SheetScores | None:
    name = sheet.title
    before = len(problems)

    def problem(row: int | None, column: int | None, message: str) -> None:
        letter = get_column_letter(column) if column else None
        if column is not None and row is not None and row >= FIRST_ROW:
            letter = f"{letter} ({_titles()[column - 1]})"
        problems.append(XlsxProblem(name, row, letter, message))

    unit = units.get(name)
    if unit is None:
        problem(None, None, _("the sheet name is not a unit code"))
        return None
    if str(sheet["B2"].value or "").strip() != table.id:
        problem(2, 2, _("expected table %(table)s", table=table.id))
    if str(sheet["B3"].value or "").strip() != unit.code:
        problem(3, 2, _("expected the unit code %(unit)s", unit=unit.code))
    if _as_int(sheet["B4"].value) != year:
        problem(4, 2, _("expected the year %(year)s", year=year))
    if len(problems) > before:
        return None

    entries: dict[str, LeafEntry] = {}
    reasons: dict[str, str] = {}
    seen: dict[str, int] = {}
    row_number = FIRST_ROW
    for row in sheet.iter_rows(min_row=FIRST_ROW, max_col=NOTE_COLUMN, values_only=True):
        code_cell = row[0]
        if code_cell is None or str(code_cell).strip() == "":
            break
        code = str(code_cell).strip()
        node = table.get(code)
        if node is None:
            problem(row_number, 1, _("unknown code %(code)s", code=code))
        elif code in seen:
            problem(row_number, 1, _("code %(code)s listed twice", code=code))
        elif node.is_leaf:
            seen[code] = row_number
            values: list[Decimal | None] = []
            texts = 0
            empty = 0
            for column in (5, 6):
                cell = row[column - 1]
                if cell is None or (isinstance(cell, str) and not cell.strip()):
                    empty += 1
                    values.append(None)
                elif isinstance(cell, str) and cell.strip().lower() == NOT_ASSESSED_TEXT:
                    texts += 1
                    values.append(None)
                else:
                    number = _as_number(cell)
                    if number is None:
                        problem(row_number, column, _("%(value)r is not a number", value=cell))
                    elif number < 0 or number > node.max:
                        problem(
                            row_number,
                            column,
                            _("%(value)s is outside 0..%(max)s", value=number, max=node.max),
                        )
                    elif number != number.quantize(Decimal("0.01")):
                        problem(row_number, column, _("more than two decimals"))
                    values.append(number)
            if empty == 2:
                pass  # not entered yet
            elif texts == 2:
                entries[code] = NOT_ASSESSED_ENTRY
            elif not appraise and empty == 1 and not texts:
                # A head's row: the self-assessed score alone, or an appraised one that the
                # service refuses unless it is the one already stored.
                entries[code] = LeafEntry(values[0], values[1])
            elif texts or empty:
                problem(row_number, 5, _("give both scores, or “không đánh giá” in both columns"))
            else:
                entries[code] = LeafEntry(values[0], values[1])
            note = row[NOTE_COLUMN - 1]
            if code in entries and node.satisfaction and note is not None and str(note).strip():
                reasons[code] = str(note).strip()
        else:
            seen[code] = row_number
        row_number += 1
    if len(problems) > before:
        return None
    return SheetScores(unit=unit, entries=entries, reasons=reasons, rows=seen)


def _as_number(value: object) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | Decimal):
        return Decimal(value)
    if isinstance(value, float):
        # Spreadsheet numbers are binary floats: read them back as the decimal they display.
        return Decimal(repr(value)).normalize() if value == value else None
    return None


def _as_int(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None


def export_units(session: DbSession, units: Iterable[Unit], year: int, table: IndexTable) -> bytes:
    return export_workbook(unit_index(session, unit, year, table) for unit in units)


__all__ = [
    "XlsxImportError",
    "XlsxProblem",
    "export_units",
    "export_workbook",
    "import_workbook",
    "read_workbook",
]
