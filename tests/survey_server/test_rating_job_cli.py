"""``flask rating run --month YYYY-MM [--unit CODE]``: a progress line per unit."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskCliRunner
from rating_job_support import OCTOBER, add_form, add_unit, at, ratings, unit_id

from builders import World
from survey_server.extensions import db
from survey_server.models import UnitMonth


def test_rating_run_prints_a_line_per_unit_and_a_total(
    app: Flask, world: World, runner: FlaskCliRunner
) -> None:
    with app.app_context():
        add_unit(db.session, "U2", {"R5": "reception"})
        add_form(db.session, "phieu1", 5, ["R5"], at(3))
        db.session.add(
            UnitMonth(unit_id=unit_id(db.session, "U1"), month=OCTOBER, state="approved")
        )
        db.session.commit()
    result = runner.invoke(args=["rating", "run", "--month", "2026-10"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "U1: 3 công chức, đã phê duyệt, khóa: không tính lại (quy tắc reference v1)",
        "U2: 1 công chức, 1 kết quả mới (quy tắc reference v1)",
        "Tháng 2026-10: 2 đơn vị, 1 kết quả mới được lưu.",
    ]
    with app.app_context():
        assert [r.metrics["forms"] for r in ratings(db.session, "R5")] == [1]

    again = runner.invoke(args=["rating", "run", "--month", "2026-10", "--unit", "U2"])
    assert again.output.splitlines() == [
        "U2: 1 công chức, 0 kết quả mới (quy tắc reference v1)",
        "Tháng 2026-10: 1 đơn vị, 0 kết quả mới được lưu.",
    ]


def test_rating_run_refuses_a_bad_month_or_an_unknown_unit(
    app: Flask, world: World, runner: FlaskCliRunner
) -> None:
    bad_month = runner.invoke(args=["rating", "run", "--month", "10/2026"])
    assert bad_month.exit_code == 2
    assert "YYYY-MM" in bad_month.output
    unknown = runner.invoke(args=["rating", "run", "--month", "2026-10", "--unit", "ZZ"])
    assert unknown.exit_code == 1
    assert "Không có đơn vị mã: ZZ" in unknown.output
