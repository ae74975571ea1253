"""``flask index …``: 8.3 as CSV/xlsx, survey import, xlsx export/import, score, consequences."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import uuid
from decimal import Decimal
from pathlib import Path

from flask import Flask
from flask.testing import FlaskCliRunner
from openpyxl import load_workbook
from sqlalchemy import select

from builders import World
from rating.index import load_shipped_table
from survey_server.extensions import db
from survey_server.models import Counter, Response, Unit
from survey_server.services import index as service
from survey_server.services.index import LeafEntry

BANG2 = load_shipped_table("dien_bien_2024_bang2")
LOCAL = dt.timezone(dt.timedelta(hours=7))


def add_answers(app: Flask) -> None:
    with app.app_context():
        counter = db.session.scalar(select(Counter).where(Counter.code == "K1"))
        for value in (5, 4, 3, 2):
            db.session.add(
                Response(
                    client_id=str(uuid.uuid4()),
                    form="phieu1",
                    counter=counter,
                    channel="kiosk",
                    answers={"overall": value, "publicity": value},
                    overall=value,
                    answered_at=dt.datetime(2026, 3, 1, 9, tzinfo=LOCAL),
                    content_hash="x" * 64,
                )
            )
        db.session.commit()


def test_satisfaction_csv_per_sub_criterion(
    app: Flask, world: World, runner: FlaskCliRunner
) -> None:
    add_answers(app)
    result = runner.invoke(args=["index", "satisfaction", "--year", "2026", "--unit", "U1"])
    assert result.exit_code == 0, result.output
    rows = {row["code"]: row for row in csv.DictReader(io.StringIO(result.output))}
    # 8.3.6 (publicity): 2 of 4 at level 4-5 = 50.0% of 1.5 = 0.75.
    assert (rows["8.3.6"]["answered"], rows["8.3.6"]["percent"], rows["8.3.6"]["points"]) == (
        "4",
        "50.0",
        "0.75",
    )
    assert rows["8.3.9"]["source"] == "no data" and rows["8.3.9"]["points"] == ""
    # 8.3.7 (overall) 2 of 4 -> 1.00; total over the sub-criteria with data.
    assert rows["8.3"]["points"] == "1.75" and rows["8.3"]["max"] == "3.5"


def test_satisfaction_to_xlsx_and_survey_import(
    app: Flask, world: World, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    survey = tmp_path / "sipas.csv"
    survey.write_text("unit,code,percent,respondents\nU1,8.3.1,90,350\n", encoding="utf-8")
    result = runner.invoke(args=["index", "import-survey", "--year", "2026", "--file", str(survey)])
    assert result.exit_code == 0, result.output
    out = tmp_path / "83.xlsx"
    result = runner.invoke(args=["index", "satisfaction", "--year", "2026", "--out", str(out)])
    assert result.exit_code == 0, result.output
    sheet = load_workbook(out).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    header = list(rows[0])
    first = dict(zip(header, rows[1], strict=True))
    assert (first["code"], first["answered"], first["points"], first["source"]) == (
        "8.3.1",
        350,
        1.8,
        "imported",
    )


def test_a_bad_survey_file_imports_nothing(
    app: Flask, world: World, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    survey = tmp_path / "sipas.csv"
    survey.write_text("unit,code,percent\nU1,8.3.1,90\nNOPE,8.3.2,80\n", encoding="utf-8")
    result = runner.invoke(args=["index", "import-survey", "--year", "2026", "--file", str(survey)])
    assert result.exit_code != 0 and "NOPE" in result.output
    with app.app_context():
        unit = db.session.scalar(select(Unit).where(Unit.code == "U1"))
        assert unit is not None
        found = service.unit_satisfaction(db.session, unit, 2026).result
        assert found.sub_criteria[0].percent is None


def test_export_import_score_and_consequences(
    app: Flask, world: World, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    with app.app_context():
        unit = db.session.scalar(select(Unit).where(Unit.code == "U1"))
        assert unit is not None
        full = {
            leaf.code: LeafEntry(leaf.max, leaf.max)
            for leaf in BANG2.leaves()
            if leaf.parent != "8.3"
        }
        service.save_scores(db.session, unit, 2025, BANG2, full, actor="t")
        low = {code: LeafEntry(Decimal(0), Decimal(0)) for code in full}
        service.save_scores(db.session, unit, 2026, BANG2, low, actor="t")
    out = tmp_path / "2026.xlsx"
    result = runner.invoke(args=["index", "export", "--year", "2026", "--out", str(out)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["index", "import", "--year", "2026", "--file", str(out)])
    assert result.exit_code == 0 and "U1" in result.output
    result = runner.invoke(args=["index", "import", "--year", "2025", "--file", str(out)])
    assert result.exit_code != 0
    assert re.search(r"U1\D+4\D+B\b.*2025", result.output)  # sheet, row and column of the year
    result = runner.invoke(args=["index", "score", "--year", "2026"])
    assert result.exit_code == 0
    assert "U1" in result.output and "0.0%" in result.output and "Kém" in result.output
    result = runner.invoke(args=["index", "consequences", "--unit", "U1"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) == 2
    assert "2025" in lines[0] and "khen thưởng" in lines[0]
    assert "2026" in lines[1] and "phê bình" in lines[1]


def test_daklak_levels_from_a_csv(runner: FlaskCliRunner, tmp_path: Path) -> None:
    # Five units at 75 or more: one excellent slot. A and B tie on every key: the chairman picks.
    lines = ["unit,group,c1,c2,c3,c4,c5,deductions,head_disciplined"]
    lines += ["A,xa_phuong,45,35,12,5,0,0,", "B,xa_phuong,45,35,12,3,2,0,"]
    lines += ["C,xa_phuong,45,35,12,5,3,0,x"]  # 100% but disciplined head
    lines += [f"G{n},xa_phuong,40,30,10,0,0,0," for n in range(2)]  # 80%
    path = tmp_path / "daklak.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = runner.invoke(args=["index", "daklak", "--file", str(path)])
    assert result.exit_code == 0, result.output
    rows = {
        line.split()[1]: line for line in result.output.splitlines() if line[:3].strip().isdigit()
    }
    assert "Hoàn thành tốt nhiệm vụ" in rows["C"] and "kỷ luật" in rows["C"]
    assert "chờ Chủ tịch" in rows["A"] and "chờ Chủ tịch" in rows["B"]
    assert "chọn 1 trong số A, B" in result.output
    assert "CCHC 72.7% Khá" in rows["G0"]  # contents 2-6: (30 + 10) / 55
