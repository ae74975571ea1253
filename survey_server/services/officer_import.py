"""Import officers from an xlsx sheet: all rows or none.

The sheet's first row names the columns (:data:`COLUMNS`, Vietnamese headers, any order; extra
columns are ignored). Each following row creates an officer or updates the one with that code.
Any problem refuses the whole file, with every problem named by row and column, so that a
province never ends up with half a staff list.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from typing import Any

from flask_babel import LazyString, lazy_gettext
from openpyxl import Workbook, load_workbook
from openpyxl.worksheet.datavalidation import DataValidation
from sqlalchemy import select

from ..extensions import DbSession
from ..models import Officer, Unit
from . import audit
from .admin import CODE_PATTERN

MAX_ROWS = 5000

#: field → column header in the sheet (the file format: keep these stable).
COLUMNS: dict[str, str] = {
    "code": "Mã cán bộ",
    "name": "Họ và tên",
    "unit": "Mã đơn vị",
    "group": "Nhóm",
    "title": "Chức vụ",
    "active": "Đang làm việc",
}
REQUIRED = ("code", "name", "unit", "group")
#: What the "Nhóm" column may say → staff group.
GROUPS = {
    "tiếp nhận": "reception",
    "tiep nhan": "reception",
    "reception": "reception",
    "giải quyết": "resolver",
    "giai quyet": "resolver",
    "resolver": "resolver",
}
YES = {"có", "co", "x", "1", "yes", "true"}
NO = {"không", "khong", "0", "no", "false"}

PROBLEMS: dict[str, LazyString] = {
    "not_xlsx": lazy_gettext("The file is not an Excel workbook (.xlsx)."),
    "empty": lazy_gettext("The sheet has no officers."),
    "too_many_rows": lazy_gettext("The sheet has more than %(value)s rows."),
    "missing_column": lazy_gettext("the column is missing"),
    "required": lazy_gettext("empty"),
    "bad_code": lazy_gettext("not a valid code: %(value)s"),
    "duplicate_code": lazy_gettext("code %(value)s appears twice in the file"),
    "unknown_unit": lazy_gettext("there is no unit with code %(value)s"),
    "bad_group": lazy_gettext("%(value)s is not a group (write: tiếp nhận or giải quyết)"),
    "bad_active": lazy_gettext("%(value)s is not yes or no (write: có or không)"),
    "too_long": lazy_gettext("longer than 255 characters"),
}


@dataclass(frozen=True)
class Problem:
    """Row (as numbered in the spreadsheet, 0 for the whole file), column header and code."""

    row: int
    column: str
    code: str
    value: str = ""

    @property
    def message(self) -> str:
        from flask_babel import gettext

        problem = str(PROBLEMS[self.code] % {"value": self.value})
        if self.row == 0 and not self.column:
            return problem
        if self.row == 0:
            return str(
                gettext("Column %(column)s: %(problem)s", column=self.column, problem=problem)
            )
        return str(
            gettext(
                "Row %(row)s, column %(column)s: %(problem)s",
                row=self.row,
                column=self.column,
                problem=problem,
            )
        )


class ImportRefused(ValueError):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(f"{p.row}:{p.column}:{p.code}" for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class ImportSummary:
    created: int
    updated: int
    unchanged: int


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def read_rows(data: bytes) -> list[tuple[int, dict[str, str]]]:
    """The sheet's rows as ``(row number, {field: text})``; raises ImportRefused."""
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError):
        raise ImportRefused([Problem(0, "", "not_xlsx")]) from None
    try:
        sheet = workbook.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = [_cell(value).lower() for value in next(rows, ())]
        positions: dict[str, int] = {}
        for field, label in COLUMNS.items():
            if label.lower() in header:
                positions[field] = header.index(label.lower())
        missing = [
            Problem(0, COLUMNS[field], "missing_column")
            for field in REQUIRED
            if field not in positions
        ]
        if missing:
            raise ImportRefused(missing)
        result: list[tuple[int, dict[str, str]]] = []
        for number, values in enumerate(rows, start=2):
            if number > MAX_ROWS + 1:
                raise ImportRefused([Problem(0, "", "too_many_rows", str(MAX_ROWS))])
            cells = {
                field: _cell(values[index]) if index < len(values) else ""
                for field, index in positions.items()
            }
            if any(cells.values()):
                result.append((number, cells))
    finally:
        workbook.close()
    if not result:
        raise ImportRefused([Problem(0, "", "empty")])
    return result


def import_officers(session: DbSession, data: bytes, actor: str) -> ImportSummary:
    """Create or update the officers of the sheet (one commit), or refuse the whole file."""
    rows = read_rows(data)
    units: dict[str, int] = {
        code: ident for code, ident in session.execute(select(Unit.code, Unit.id))
    }
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    parsed: list[dict[str, Any]] = []
    for number, cells in rows:

        def problem(field: str, code: str, value: str = "", row: int = number) -> None:
            problems.append(Problem(row, COLUMNS[field], code, value))

        for field in REQUIRED:
            if not cells.get(field):
                problem(field, "required")
        for field in ("name", "title"):
            if len(cells.get(field, "")) > 255:
                problem(field, "too_long")
        code = cells.get("code", "")
        if code and not CODE_PATTERN.fullmatch(code):
            problem("code", "bad_code", code)
        elif code in seen:
            problem("code", "duplicate_code", code)
        seen.setdefault(code, number)
        unit_code = cells.get("unit", "")
        if unit_code and unit_code not in units:
            problem("unit", "unknown_unit", unit_code)
        group_text = cells.get("group", "")
        group = GROUPS.get(group_text.lower())
        if group_text and group is None:
            problem("group", "bad_group", group_text)
        active_text = cells.get("active", "").lower()
        if active_text and active_text not in YES | NO:
            problem("active", "bad_active", cells["active"])
        parsed.append(
            {
                "code": code,
                "name": cells.get("name", ""),
                "unit_id": units.get(unit_code),
                "group": group,
                "title": cells.get("title") or None,
                "active": active_text not in NO,
            }
        )
    if problems:
        raise ImportRefused(problems)
    existing = {
        officer.code: officer
        for officer in session.scalars(select(Officer).where(Officer.code.in_(list(seen))))
    }
    created = updated = unchanged = 0
    for values in parsed:
        officer = existing.get(values["code"])
        if officer is None:
            session.add(Officer(**values))
            created += 1
            continue
        changed = {key: value for key, value in values.items() if getattr(officer, key) != value}
        if not changed:
            unchanged += 1
            continue
        for key, value in changed.items():
            setattr(officer, key, value)
        updated += 1
    audit.record(
        session,
        actor,
        "import",
        "officers",
        None,
        created=created,
        updated=updated,
        unchanged=unchanged,
    )
    session.commit()
    return ImportSummary(created, updated, unchanged)


def template_workbook() -> bytes:
    """An empty sheet with the headers, one example row and a drop-down for the group."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Cán bộ"
    sheet.append(list(COLUMNS.values()))
    sheet.append(["CB001", "Nguyễn Văn A", "U1", "tiếp nhận", "Chuyên viên", "có"])
    for column, width in zip("ABCDEF", (14, 30, 14, 14, 24, 14), strict=True):
        sheet.column_dimensions[column].width = width
    groups = DataValidation(type="list", formula1='"tiếp nhận,giải quyết"', allow_blank=False)
    sheet.add_data_validation(groups)
    groups.add(f"D2:D{MAX_ROWS + 1}")
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()
