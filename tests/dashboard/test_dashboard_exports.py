"""The exports: xlsx read back with openpyxl, PDF text read back with pdftotext, charts."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import pytest
from dashboard_support import RatedWorld
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook

from survey_server.extensions import db


def pdf_text(data: bytes, tmp_path: Path) -> str:
    """The PDF's text as pdftotext reads it (poppler-utils, installed by `make test`)."""
    tool = shutil.which("pdftotext")
    if tool is None:
        pytest.fail("pdftotext is missing: `make test` installs poppler-utils")
    path = tmp_path / "export.pdf"
    path.write_bytes(data)
    return subprocess.run(
        [tool, "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


def test_xlsx_export_holds_the_header_and_every_officer(
    head_client: FlaskClient, rated: RatedWorld
) -> None:
    response = head_client.get(f"/dashboard/units/{rated.unit_id}/{rated.month_text}/export.xlsx")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(response.data))
    sheet = workbook.worksheets[0]
    assert "10/2026" in str(sheet["A3"].value)
    rows = list(sheet.iter_rows(min_row=7, values_only=True))
    by_code = {row[2]: row for row in rows}
    assert set(by_code) == {"R1", "S1", "S2"}
    assert by_code["R1"][1] == "Lò Thị Hoa"
    assert by_code["R1"][4] == 12  # forms
    assert by_code["R1"][5] == pytest.approx(91.7)  # satisfied %
    assert by_code["S1"][8] == "Hoàn thành tốt nhiệm vụ"
    assert len(workbook.worksheets[1]._images) == 2  # the charts, as PNG


def test_pdf_export_is_real_text_with_header_table_and_signature(
    head_client: FlaskClient, rated: RatedWorld, tmp_path: Path
) -> None:
    response = head_client.get(f"/dashboard/units/{rated.unit_id}/{rated.month_text}/export.pdf")
    assert response.status_code == 200
    assert response.data.startswith(b"%PDF")
    text = pdf_text(response.data, tmp_path)
    for expected in (
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "10/2026",
        "Lò Thị Hoa",
        "Quàng Văn Nam",
        "91,7",
        "Hoàn thành tốt nhiệm vụ",
        "THỦ TRƯỞNG ĐƠN VỊ",
    ):
        assert expected in text, expected


def test_pdf_of_two_hundred_officers_runs_over_several_pages(
    app: Flask, head_client: FlaskClient, rated: RatedWorld, tmp_path: Path
) -> None:
    from survey_server.dashboard.exports import build_pdf
    from survey_server.dashboard.queries import OfficerRow
    from survey_server.models import Officer

    with app.test_request_context():
        from survey_server.dashboard.queries import month_view
        from survey_server.models import Unit

        unit = db.session.get(Unit, rated.unit_id)
        assert unit is not None
        view = month_view(db.session, unit, rated.month)
        extra = [
            OfficerRow(
                Officer(code=f"X{i:03d}", name=f"Công chức {i}", group="resolver"), None, None
            )
            for i in range(200)
        ]
        view.rows.extend(extra)
        data = build_pdf(view)
    text = pdf_text(data, tmp_path)
    assert "Công chức 199" in text
    assert text.count("\f") >= 6  # 26 + 48 × 4 rows (of 203), then the charts page
