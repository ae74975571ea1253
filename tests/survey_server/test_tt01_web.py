"""The TT 01 report pages (/dashboard/tt01/), their access rules, the xlsx and the CLI."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from dashboard_support import login, make_user
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from openpyxl import load_workbook
from sqlalchemy import func, select
from tt01_support import build_quarter

from builders import World
from survey_server.extensions import db
from survey_server.models import Tt01DeskEntry

UNIT_PAGE = "/dashboard/tt01/unit/U1?quarter=2026-Q4"
DESK = "/dashboard/tt01/unit/U1/desk/C1?quarter=2026-Q4"


@pytest.fixture
def quarter(app: Flask, world: World) -> None:
    with app.app_context():
        build_quarter(db.session)


def log_in(app: Flask, client: FlaskClient, role: str, unit_code: str | None = "U1") -> None:
    with app.app_context():
        user = make_user(db.session, role, None if role == "admin" else unit_code)
        username = user.username
    assert login(client, username).status_code == 302


def csrf_token(client: FlaskClient, url: str) -> str:
    page = client.get(url)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))
    assert found, page.status_code
    return found.group(1)


def _entries(app: Flask) -> list[tuple[int | None, ...]]:
    with app.app_context():
        return [
            (entry.indicator_5, entry.indicator_6, entry.indicator_8, entry.indicator_9)
            for entry in db.session.scalars(select(Tt01DeskEntry))
        ]


def test_pages_need_a_login(client: FlaskClient, quarter: None) -> None:
    assert client.get("/dashboard/tt01/").status_code == 302
    assert client.get("/dashboard/tt01/export.xlsx?quarter=2026-Q4").status_code == 302


def test_head_sees_own_units_report(app: Flask, client: FlaskClient, quarter: None) -> None:
    log_in(app, client, "head")
    overview = client.get("/dashboard/tt01/?quarter=2026-Q4").get_data(as_text=True)
    assert 'id="unit-U1"' in overview and 'id="unit-U2"' not in overview
    page = client.get(UNIT_PAGE)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    band = re.search(r'id="agency-band">([^<]+)<', text)
    # No desk entry yet: 1.0 + 1.0 (indicator 3) + 2.0 (4) + 0.0 (7) = 4.0, under 6: yếu.
    assert band and band.group(1) == "Yếu"
    assert 'id="officer-R1"' in text and 'id="desk-C1"' in text


def test_head_enters_desk_indicators_and_the_band_moves(
    app: Flask, client: FlaskClient, quarter: None
) -> None:
    log_in(app, client, "head")
    token = csrf_token(client, UNIT_PAGE)
    form = {"csrf_token": token, "indicator_5": "2", "indicator_6": "1", "indicator_8": "2"}
    answer = client.post(DESK, data={**form, "indicator_9": ""})
    assert answer.status_code == 302
    assert _entries(app) == [(2, 1, 2, None)]
    band = re.search(r'id="agency-band">([^<]+)<', client.get(UNIT_PAGE).get_data(as_text=True))
    assert band and band.group(1) == "Khá"  # 4.0 + 2 + 1 + 2 = 9.0


def test_bad_points_and_missing_csrf_store_nothing(
    app: Flask, client: FlaskClient, quarter: None
) -> None:
    log_in(app, client, "head")
    token = csrf_token(client, UNIT_PAGE)
    assert client.post(DESK, data={"csrf_token": token, "indicator_5": "3"}).status_code == 422
    assert client.post(DESK, data={"indicator_5": "2"}).status_code == 400
    assert _entries(app) == []


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", UNIT_PAGE),
        ("get", "/dashboard/tt01/export.xlsx?quarter=2026-Q4&unit=U1"),
        ("post", DESK),
    ],
)
def test_head_of_another_unit_gets_404(
    app: Flask, client: FlaskClient, quarter: None, method: str, url: str
) -> None:
    log_in(app, client, "head", "U2")
    token = csrf_token(client, "/dashboard/tt01/unit/U2?quarter=2026-Q4")
    answer = getattr(client, method)(url, data={"csrf_token": token, "indicator_5": "2"})
    assert answer.status_code == 404
    assert _entries(app) == []


def test_viewer_reads_but_cannot_enter(app: Flask, client: FlaskClient, quarter: None) -> None:
    log_in(app, client, "viewer")
    assert client.get(UNIT_PAGE).status_code == 200
    token = csrf_token(client, UNIT_PAGE)
    assert client.post(DESK, data={"csrf_token": token, "indicator_5": "2"}).status_code == 404
    assert _entries(app) == []


def test_desk_of_another_unit_is_404(app: Flask, client: FlaskClient, quarter: None) -> None:
    log_in(app, client, "admin")
    token = csrf_token(client, UNIT_PAGE)
    url = "/dashboard/tt01/unit/U1/desk/C-U2?quarter=2026-Q4"
    assert client.post(url, data={"csrf_token": token, "indicator_5": "2"}).status_code == 404
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Tt01DeskEntry)) == 0


def test_bad_quarter_is_400(app: Flask, client: FlaskClient, quarter: None) -> None:
    log_in(app, client, "admin")
    assert client.get("/dashboard/tt01/?quarter=2026-Q7").status_code == 400


def _units_in(data: bytes) -> list[object]:
    sheet = load_workbook(io.BytesIO(data))["Cơ quan"]
    return [row[0] for row in sheet.iter_rows(min_row=3, values_only=True)]


def test_export_holds_only_visible_units(app: Flask, client: FlaskClient, quarter: None) -> None:
    log_in(app, client, "head")
    answer = client.get("/dashboard/tt01/export.xlsx?quarter=2026-Q4")
    assert answer.status_code == 200
    assert answer.mimetype.endswith("spreadsheetml.sheet")
    assert _units_in(answer.data) == ["U1"]


def test_cli_writes_the_report(runner: FlaskCliRunner, quarter: None, tmp_path: Path) -> None:
    out = tmp_path / "tt01.xlsx"
    args = ["tt01", "report", "--quarter", "2026-Q4", "--out", str(out)]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    assert _units_in(out.read_bytes()) == ["U1", "U2"]
    only = runner.invoke(args=[*args, "--unit", "U2"])
    assert only.exit_code == 0
    assert _units_in(out.read_bytes()) == ["U2"]


def test_cli_refuses_bad_input(runner: FlaskCliRunner, world: World, tmp_path: Path) -> None:
    out = tmp_path / "tt01.xlsx"
    bad_quarter = runner.invoke(args=["tt01", "report", "--quarter", "2026-3", "--out", str(out)])
    assert bad_quarter.exit_code == 2
    unknown = runner.invoke(
        args=["tt01", "report", "--quarter", "2026-Q4", "--unit", "NOPE", "--out", str(out)]
    )
    assert unknown.exit_code == 1 and "NOPE" in unknown.output
    assert not out.exists()


def test_dashboard_links_to_the_report(app: Flask, client: FlaskClient, world: World) -> None:
    log_in(app, client, "head")
    assert 'href="/dashboard/tt01/"' in client.get("/dashboard/").get_data(as_text=True)
