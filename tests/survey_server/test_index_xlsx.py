"""xlsx import/export of a year's index scores: round trip, and refusals naming the cell."""

from __future__ import annotations

import io
from collections.abc import Callable
from decimal import Decimal

import pytest
from flask import Flask
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import select
from sqlalchemy.orm import Session

from builders import BACKENDS, World
from rating.index import load_shipped_table
from survey_server.extensions import db
from survey_server.models import Unit
from survey_server.services import index as service
from survey_server.services import index_xlsx
from survey_server.services.index import LeafEntry

pytestmark = BACKENDS

D = Decimal
BANG2 = load_shipped_table("dien_bien_2024_bang2")
FULL = {leaf.code: LeafEntry(leaf.max, leaf.max) for leaf in BANG2.leaves() if leaf.parent != "8.3"}


def scored_units(session: Session) -> list[Unit]:
    u1 = session.scalar(select(Unit).where(Unit.code == "U1"))
    assert u1 is not None
    u2 = Unit(code="U2", name="UBND xã Hai", level="commune")
    session.add(u2)
    session.commit()
    for unit in (u1, u2):
        service.save_scores(session, unit, 2026, BANG2, FULL, actor="test")
    return [u1, u2]


def row_of(sheet: Worksheet, code: str) -> int:
    for row in range(index_xlsx.FIRST_ROW, sheet.max_row + 1):
        if sheet.cell(row=row, column=1).value == code:
            return row
    raise KeyError(code)


def edited(data: bytes, edit: Callable[[Worksheet], None], sheet_name: str = "U1") -> bytes:
    workbook = load_workbook(io.BytesIO(data))
    edit(workbook[sheet_name])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_round_trip_export_change_import_see_the_new_index(app: Flask, world: World) -> None:
    with app.app_context():
        session = db.session
        units = scored_units(session)
        before = service.unit_index(session, units[0], 2026, BANG2)
        assert before.result is not None and before.result.index_percent == D("100.0")
        data = index_xlsx.export_units(session, units, 2026, BANG2)

        def lower(sheet: Worksheet) -> None:
            sheet.cell(row=row_of(sheet, "1.2"), column=6, value=0)  # appraised 2 -> 0
            sheet.cell(row=row_of(sheet, "1.1.1"), column=5, value="không đánh giá")
            sheet.cell(row=row_of(sheet, "1.1.1"), column=6, value="không đánh giá")

        assert index_xlsx.import_workbook(session, edited(data, lower), 2026, BANG2, "test") == [
            "U1",
            "U2",
        ]
        after = service.unit_index(session, units[0], 2026, BANG2)
        assert after.result is not None
        assert after.row("1.2").source == "imported"
        assert after.row("1.1.1").not_assessed
        # 85 - 0.5 (1.1.1 out) - 2 (1.2 at 0) of 100 - 15 (8.3 no data) - 0.5 (1.1.1) = 82.5/84.5
        assert after.result.appraised_total == D("82.5")
        assert after.result.denominator == D("84.5")
        assert after.result.index_percent == D("97.6")
        other = service.unit_index(session, units[1], 2026, BANG2)
        assert other.result is not None and other.result.index_percent == D("100.0")


def set_cell(row_code: str, column: int, value: object) -> Callable[[Worksheet], None]:
    def edit(sheet: Worksheet) -> None:
        sheet.cell(row=row_of(sheet, row_code), column=column).value = value

    return edit


def rename(sheet: Worksheet) -> None:
    sheet.title = "XYZ"


def other_table(sheet: Worksheet) -> None:
    sheet["B2"] = "dien_bien_2024_bang1"


def override_without_reason(sheet: Worksheet) -> None:
    set_cell("8.3.5", 5, 1)(sheet)
    set_cell("8.3.5", 6, 1)(sheet)


def unknown_code(sheet: Worksheet) -> None:
    sheet.cell(row=row_of(sheet, "1.2"), column=1, value="1.99")


@pytest.mark.parametrize(
    ("edit", "sheet", "row", "column"),
    [
        (rename, "XYZ", None, None),
        (other_table, "U1", 2, "B"),
        (unknown_code, "U1", "1.2", "A"),
        (set_cell("1.2", 6, 3), "U1", "1.2", "F"),  # above the max of 2
        (set_cell("1.2", 5, "hai"), "U1", "1.2", "E"),  # text in a number cell
        (set_cell("1.2", 6, None), "U1", "1.2", "E"),  # one score only
        (override_without_reason, "U1", "8.3.5", "F"),  # 8.3 changed without a reason
    ],
)
def test_a_bad_file_is_refused_naming_the_cell_and_nothing_is_stored(
    app: Flask,
    world: World,
    edit: Callable[[Worksheet], None],
    sheet: str,
    row: str | int | None,
    column: str | None,
) -> None:
    with app.app_context():
        session = db.session
        units = scored_units(session)
        data = index_xlsx.export_units(session, units, 2026, BANG2)
        # U2's sheet is fine and changed: it must not be stored either.
        data = edited(data, set_cell("1.2", 6, 1), sheet_name="U2")
        bad = edited(data, edit)
        expected_row = (
            row_of(load_workbook(io.BytesIO(data))["U1"], row) if isinstance(row, str) else row
        )
        with pytest.raises(index_xlsx.XlsxImportError) as refused:
            index_xlsx.import_workbook(session, bad, 2026, BANG2, "test")
        problems = refused.value.problems
        assert [(p.sheet, p.row, (p.column or "")[:1] or None) for p in problems] == [
            (sheet, expected_row, column)
        ]
        assert service.unit_index(session, units[1], 2026, BANG2).row("1.2").appraised == D(2)


def test_an_8_3_change_with_a_reason_in_the_note_is_an_override(app: Flask, world: World) -> None:
    with app.app_context():
        session = db.session
        units = scored_units(session)
        data = index_xlsx.export_units(session, units[:1], 2026, BANG2)

        def override(sheet: Worksheet) -> None:
            row = row_of(sheet, "8.3.5")
            sheet.cell(row=row, column=5, value=1)
            sheet.cell(row=row, column=6, value=1)
            sheet.cell(row=row, column=8, value="Khảo sát bổ sung của Sở Nội vụ")

        index_xlsx.import_workbook(session, edited(data, override), 2026, BANG2, "test")
        row = service.unit_index(session, units[0], 2026, BANG2).row("8.3.5")
        assert (row.source, row.appraised, row.reason) == (
            "override",
            D(1),
            "Khảo sát bổ sung của Sở Nội vụ",
        )


def test_a_file_that_is_not_xlsx_is_refused(app: Flask, world: World) -> None:
    with app.app_context(), pytest.raises(index_xlsx.XlsxImportError):
        index_xlsx.import_workbook(db.session, b"not a spreadsheet", 2026, BANG2, "test")


# -- a unit head's import: self-assessed scores only (the appraised ones are the Department's) --


def head_import(session: Session, data: bytes, unit: Unit) -> list[str]:
    return index_xlsx.import_workbook(
        session, data, 2026, BANG2, "head", appraise=False, unit_ids={unit.id}
    )


def test_a_heads_import_stores_self_assessed_scores_and_keeps_the_appraised(
    app: Flask, world: World
) -> None:
    with app.app_context():
        session = db.session
        units = scored_units(session)
        data = index_xlsx.export_units(session, units[:1], 2026, BANG2)

        def self_assess(sheet: Worksheet) -> None:
            set_cell("1.2", 5, 1)(sheet)  # changed; its appraised 2 stays in the file as exported
            set_cell("1.1.1", 5, D("0.25"))(sheet)
            set_cell("1.1.1", 6, None)(sheet)  # the self-assessed score alone

        assert head_import(session, edited(data, self_assess), units[0]) == ["U1"]
        index = service.unit_index(session, units[0], 2026, BANG2)
        assert (index.row("1.2").self_assessed, index.row("1.2").appraised) == (D(1), D(2))
        assert (index.row("1.1.1").self_assessed, index.row("1.1.1").appraised) == (
            D("0.25"),
            D("0.5"),
        )


def appraised_alone(sheet: Worksheet) -> None:
    set_cell("1.2", 5, None)(sheet)
    set_cell("1.2", 6, 1)(sheet)


def not_assessed(sheet: Worksheet) -> None:
    set_cell("1.2", 5, "không đánh giá")(sheet)
    set_cell("1.2", 6, "không đánh giá")(sheet)


@pytest.mark.parametrize(
    ("edit", "code"),
    [
        (set_cell("1.2", 6, 1), "1.2"),  # an appraised score changed
        (set_cell("1.2", 6, 0), "1.2"),
        (appraised_alone, "1.2"),
        (not_assessed, "1.2"),  # "không đánh giá" would erase the Department's appraisal
        (override_without_reason, "8.3.5"),  # an automatic 8.3 appraised figure changed
    ],
)
def test_a_heads_import_carrying_appraised_scores_is_refused_naming_the_column(
    app: Flask, world: World, edit: Callable[[Worksheet], None], code: str
) -> None:
    with app.app_context():
        session = db.session
        units = scored_units(session)
        data = index_xlsx.export_units(session, units[:1], 2026, BANG2)
        # A self-assessed change in the same file, which must not be stored either.
        bad = edited(edited(data, set_cell("1.1.1", 5, 0)), edit)
        with pytest.raises(index_xlsx.XlsxImportError) as refused:
            head_import(session, bad, units[0])
        problems = refused.value.problems
        expected = row_of(load_workbook(io.BytesIO(bad))["U1"], code)
        assert [(p.sheet, p.row, (p.column or "")[:1]) for p in problems] == [("U1", expected, "F")]
        assert "Sở Nội vụ" in problems[0].message  # the refusal, in Vietnamese
        index = service.unit_index(session, units[0], 2026, BANG2)
        assert index.row("1.1.1").self_assessed == D("0.5")  # nothing half-imported
        assert index.row("1.2").appraised == D(2)


def test_a_heads_import_cannot_reach_a_unit_outside_their_scope(app: Flask, world: World) -> None:
    with app.app_context():
        session = db.session
        units = scored_units(session)
        data = index_xlsx.export_units(session, units, 2026, BANG2)
        with pytest.raises(index_xlsx.XlsxImportError) as refused:
            head_import(session, edited(data, set_cell("1.2", 5, 1), sheet_name="U2"), units[0])
        assert [(p.sheet, p.row) for p in refused.value.problems] == [("U2", None)]
        assert service.unit_index(session, units[1], 2026, BANG2).row("1.2").self_assessed == 2


def test_self_assessed_leaves_wait_for_the_appraisal(app: Flask, world: World) -> None:
    with app.app_context():
        session = db.session
        unit = session.scalar(select(Unit).where(Unit.code == "U1"))
        assert unit is not None
        own = {code: LeafEntry(entry.self_assessed, None) for code, entry in FULL.items()}
        service.save_scores(session, unit, 2026, BANG2, own, "head", appraise=False)
        waiting = service.unit_index(session, unit, 2026, BANG2)
        assert waiting.result is None and set(waiting.missing) == set(FULL)
        assert waiting.row("1.2").self_assessed == D(2)
        service.save_scores(session, unit, 2026, BANG2, FULL, "department")
        appraised = service.unit_index(session, unit, 2026, BANG2)
        assert appraised.result is not None and appraised.result.index_percent == D("100.0")
