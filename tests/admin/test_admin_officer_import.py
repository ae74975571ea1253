"""Officer import from xlsx: all rows or none, problems named by row and column."""

from __future__ import annotations

import io
from typing import Any

import pytest
from flask import Flask
from openpyxl import Workbook, load_workbook
from sqlalchemy import select

from builders import BACKENDS, World
from survey_server.extensions import db
from survey_server.models import AuditEntry, Officer
from survey_server.services import officer_import

HEADER = ["Mã cán bộ", "Họ và tên", "Mã đơn vị", "Nhóm", "Chức vụ", "Đang làm việc"]


def _xlsx(rows: list[list[Any]], header: list[str] = HEADER) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def _officers() -> dict[str, tuple[str, str, str | None, bool]]:
    return {
        o.code: (o.name, o.group, o.title, o.active)
        for o in db.session.scalars(select(Officer).order_by(Officer.code))
    }


@BACKENDS
def test_creates_and_updates_in_one_go(app: Flask, world: World) -> None:
    data = _xlsx(
        [
            ["CB100", "Nguyễn Thị Lan", "U1", "tiếp nhận", "Chuyên viên", "có"],
            ["R1", "Lò Thị Hoa", "U1", "Giải quyết", None, None],  # R1 moves to resolver
            ["S1", "Quàng Văn Nam", "U1", "giải quyết", None, "không"],  # S1 leaves
            ["S2", "Cầm Thị Mai", "U1", "resolver", None, None],  # unchanged
            [None, None, None, None, None, None],  # blank rows are skipped
        ]
    )
    with app.app_context():
        summary = officer_import.import_officers(db.session, data, "adm")
        assert summary == officer_import.ImportSummary(created=1, updated=2, unchanged=1)
        officers = _officers()
        assert officers["CB100"] == ("Nguyễn Thị Lan", "reception", "Chuyên viên", True)
        assert officers["R1"][1] == "resolver"
        assert officers["S1"][3] is False
        entry = db.session.scalars(select(AuditEntry).where(AuditEntry.entity == "officers")).one()
        assert entry.details == {"created": 1, "updated": 2, "unchanged": 1}


def test_numbers_in_code_cells_are_read_as_text(app: Flask, world: World) -> None:
    with app.app_context():
        officer_import.import_officers(
            db.session, _xlsx([[1001, "Lò Văn Số", "U1", "tiếp nhận"]], HEADER[:4]), "adm"
        )
        assert "1001" in _officers()


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        (
            [["CB1", "A", "U9", "tiếp nhận"]],
            [(3, "Mã đơn vị", "unknown_unit", "Dòng 3, cột Mã đơn vị: không có đơn vị mã U9")],
        ),
        (
            [["CB1", "A", "U1", "tiếp nhận"], ["CB2", "", "U1", "lãnh đạo"]],
            [
                (4, "Họ và tên", "required", "Dòng 4, cột Họ và tên: để trống"),
                (4, "Nhóm", "bad_group", "Dòng 4, cột Nhóm: lãnh đạo"),
            ],
        ),
        (
            [["CB1", "A", "U1", "tiếp nhận"], ["CB1", "B", "U1", "tiếp nhận"]],
            [(4, "Mã cán bộ", "duplicate_code", "Dòng 4, cột Mã cán bộ: mã CB1")],
        ),
        (
            [["C B", "A", "U1", "tiếp nhận", None, "có lẽ"]],
            [
                (3, "Mã cán bộ", "bad_code", "Dòng 3, cột Mã cán bộ"),
                (3, "Đang làm việc", "bad_active", "Dòng 3, cột Đang làm việc: có lẽ"),
            ],
        ),
    ],
)
def test_a_bad_row_refuses_the_whole_file(
    app: Flask, world: World, rows: list[list[Any]], expected: list[tuple[int, str, str, str]]
) -> None:
    # Row 2 is good and is never imported; the rows under test start at row 3.
    rows = [["CB50", "Người Tốt", "U1", "tiếp nhận"], *rows]
    rows = [row + [None] * (6 - len(row)) for row in rows]
    with app.test_request_context():
        before = _officers()
        with pytest.raises(officer_import.ImportRefused) as refused:
            officer_import.import_officers(db.session, _xlsx(rows), "adm")
        problems = refused.value.problems
        assert [(p.row, p.column, p.code) for p in problems] == [e[:3] for e in expected]
        for problem, (*_, text) in zip(problems, expected, strict=True):
            assert text in problem.message
        assert _officers() == before
        assert (
            db.session.scalars(select(AuditEntry).where(AuditEntry.entity == "officers")).all()
            == []
        )


def test_missing_columns_and_broken_files_are_named(app: Flask, world: World) -> None:
    with app.test_request_context():
        with pytest.raises(officer_import.ImportRefused) as refused:
            officer_import.import_officers(db.session, _xlsx([["A"]], ["Mã cán bộ", "Tên"]), "adm")
        assert [p.column for p in refused.value.problems] == ["Họ và tên", "Mã đơn vị", "Nhóm"]
        assert "Cột Họ và tên" in refused.value.problems[0].message
        for data in (b"not a workbook", _xlsx([])):
            with pytest.raises(officer_import.ImportRefused) as refused:
                officer_import.import_officers(db.session, data, "adm")
            assert refused.value.problems[0].row == 0
            assert refused.value.problems[0].message


def test_the_template_imports_once_its_example_unit_exists(app: Flask, world: World) -> None:
    template = officer_import.template_workbook()
    sheet = load_workbook(io.BytesIO(template)).active
    assert sheet is not None
    assert [cell.value for cell in sheet[1]] == HEADER
    with app.app_context():
        summary = officer_import.import_officers(db.session, template, "adm")
        assert summary.created == 1 and _officers()["CB001"][1] == "reception"
