"""The TT 01 quarterly report service on both databases: facts, desk entries, xlsx."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from flask import Flask
from openpyxl import load_workbook
from rating_job_support import add_dossier
from sqlalchemy import func, select
from tt01_support import build_quarter

from builders import BACKENDS, World
from rating.tt01_report import Quarter
from survey_server.extensions import db
from survey_server.models import AuditEntry, Centre, Tt01DeskEntry, Unit
from survey_server.services import tt01_report as service

Q4 = Quarter(2026, 4)


def _unit(code: str) -> Unit:
    unit = db.session.scalar(select(Unit).where(Unit.code == code))
    assert unit is not None
    return unit


def _centre(code: str) -> Centre:
    centre = db.session.scalar(select(Centre).where(Centre.code == code))
    assert centre is not None
    return centre


@BACKENDS
def test_unit_report_by_hand(app: Flask, world: World) -> None:
    with app.app_context():
        build_quarter(db.session)
        service.save_desk_entry(db.session, _centre("C1"), Q4, {5: 2, 6: 1, 8: 2, 9: None}, "t")
        report = service.unit_report(db.session, _unit("U1"), Q4)
        agency = report.agency
        # 1: (2+0)/2 = 1.0; 3: (2+0)/2 = 1.0; 4: 2.0; 7: D1 has confirmed misconduct, D2 late → 0;
        # 5: 2, 6: 1, 8: 2; 2 and 9 have no data → 9.0 out of 14: khá.
        assert agency.dossiers == 2
        assert dict(agency.means) == {
            1: Decimal("1.0"),
            3: Decimal("1.0"),
            4: Decimal("2.0"),
            5: Decimal("2.0"),
            6: Decimal("1.0"),
            7: Decimal("0.0"),
            8: Decimal("2.0"),
        }
        assert (agency.score, agency.out_of, agency.band) == (Decimal("9.0"), 14, "kha")
        officers = {row.code: row.report for row in report.officers}
        assert sorted(officers) == ["R1", "S1", "S2"]
        # R1: 1.0 + 1.0 + 2.0 + 0.0 (misconduct confirmed against R1 on D1, D2 late) = 4.0
        assert (officers["R1"].score.score, officers["R1"].score.level) == (
            Decimal("4.0"),
            "70_100",
        )
        # S1: 1.0 + 1.0 + 2.0 + 1.0 (D1 early and nothing against S1) = 5.0
        assert (officers["S1"].score.score, officers["S1"].score.level) == (Decimal("5.0"), "100")
        assert officers["S1"].dossiers == 2


@BACKENDS
def test_quarter_bounds_follow_local_time(app: Flask, world: World) -> None:
    with app.app_context():
        local = dt.timezone(dt.timedelta(hours=7))
        # 1 Oct 00:30 local (30 Sep UTC) is in Q4; 30 Sep 23:30 local is in Q3.
        add_dossier(db.session, "IN", returned_at=dt.datetime(2026, 10, 1, 0, 30, tzinfo=local))
        add_dossier(db.session, "OUT", returned_at=dt.datetime(2026, 9, 30, 23, 30, tzinfo=local))
        codes = [facts.code for facts in service.dossier_facts(db.session, _unit("U1").id, Q4)]
        assert codes == ["IN"]


@BACKENDS
def test_desk_entry_is_replaced_and_audited(app: Flask, world: World) -> None:
    with app.app_context():
        centre = _centre("C1")
        service.save_desk_entry(db.session, centre, Q4, {5: 2, 6: 2, 8: 2, 9: 2}, "user:a")
        service.save_desk_entry(db.session, centre, Q4, {5: 1, 6: None, 8: 0, 9: 2}, "user:b")
        entries = db.session.scalars(select(Tt01DeskEntry)).all()
        assert len(entries) == 1
        entry = entries[0]
        values = (entry.indicator_5, entry.indicator_6, entry.indicator_8, entry.indicator_9)
        assert values == (1, None, 0, 2)
        audits = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "tt01_desk_entry").order_by(AuditEntry.id)
        ).all()
        assert [audit.actor for audit in audits] == ["user:a", "user:b"]
        assert audits[1].details["before"] == {"5": 2, "6": 2, "8": 2, "9": 2}
        assert audits[1].details["quarter"] == "2026-Q4"
        rows = service.desk_rows(db.session, _unit("U1").id, Q4)
        assert [(row.centre.code, row.values) for row in rows] == [
            ("C1", {5: 1, 6: None, 8: 0, 9: 2})
        ]
        # Another quarter has nothing entered.
        assert service.desk_rows(db.session, _unit("U1").id, Q4.next())[0].entry is None


@pytest.mark.parametrize("values", [{5: 3}, {5: -1}, {7: 1}, {9: True}])
def test_bad_desk_entry_stores_nothing(app: Flask, world: World, values: dict[int, int]) -> None:
    with app.app_context():
        with pytest.raises(service.DeskEntryError):
            service.save_desk_entry(db.session, _centre("C1"), Q4, values, "t")
        assert db.session.scalar(select(func.count()).select_from(Tt01DeskEntry)) == 0


def test_xlsx_export_opens_with_the_figures(app: Flask, world: World) -> None:
    with app.app_context():
        build_quarter(db.session)
        service.save_desk_entry(db.session, _centre("C1"), Q4, {5: 2, 6: 1, 8: 2, 9: None}, "t")
        reports = service.unit_reports(db.session, Q4, [_unit("U1"), _unit("U2")])
        data = service.report_workbook(reports, Q4)
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["Cơ quan", "Cán bộ, công chức", "Chỉ số"]
    agencies = list(book["Cơ quan"].iter_rows(values_only=True))
    assert agencies[0][:2] == ("Báo cáo quý theo Thông tư 01/2018", "2026-Q4")
    u1 = agencies[2]
    # unit, name, dossiers, indicators 1-9, score, out of, band
    assert u1[0] == "U1" and u1[2] == 2
    assert u1[3:12] == (1.0, None, 1.0, 2.0, 2.0, 1.0, 0.0, 2.0, None)
    assert u1[12:] == (9.0, 14, "Khá")
    u2 = agencies[3]  # D5 returned early, no answers, no desk entry: 1: 2, 7: 2 → 4.0 yếu
    assert (u2[0], u2[12], u2[13], u2[14]) == ("U2", 4.0, 4, "Yếu")
    officers = {
        row[1]: row for row in book["Cán bộ, công chức"].iter_rows(min_row=3, values_only=True)
    }
    assert sorted(officers) == ["R1", "R9", "S1", "S2", "S9"]
    assert officers["R1"][9:] == (4.0, "Hoàn thành từ 70% đến dưới 100% nhiệm vụ")
    assert officers["S1"][9:] == (5.0, "Hoàn thành 100% nhiệm vụ")
