"""The index pages: ranking, 8.3 with its chart, the scoring form, xlsx export and import."""

from __future__ import annotations

import datetime as dt
import io
import re
import uuid

import pytest
from dashboard_support import login, make_user
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import Workbook, load_workbook
from sqlalchemy import select
from werkzeug.test import TestResponse

from builders import World
from rating.index import load_shipped_table
from survey_server.extensions import db
from survey_server.models import AuditEntry, Counter, Response, Unit
from survey_server.services import index as service
from survey_server.services.index import LeafEntry

BANG2 = load_shipped_table("dien_bien_2024_bang2")
FULL = {leaf.code: LeafEntry(leaf.max, leaf.max) for leaf in BANG2.leaves() if leaf.parent != "8.3"}
LOCAL = dt.timezone(dt.timedelta(hours=7))


def log_in(app: Flask, client: FlaskClient, role: str, unit_code: str | None = "U1") -> None:
    with app.app_context():
        user = make_user(db.session, role, None if role == "admin" else unit_code)
        username = user.username
    assert login(client, username).status_code == 302


def csrf_token(client: FlaskClient, url: str) -> str:
    page = client.get(url)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))
    assert found, page.get_data(as_text=True)[:500]
    return found.group(1)


def upload(client: FlaskClient, token: str, workbook: Workbook) -> TestResponse:
    """The workbook posted to the import page."""
    buffer = io.BytesIO()
    workbook.save(buffer)
    return client.post(
        "/dashboard/index/import?year=2026",
        data={"csrf_token": token, "file": (io.BytesIO(buffer.getvalue()), "scores.xlsx")},
        content_type="multipart/form-data",
    )


@pytest.fixture
def scored(app: Flask, world: World) -> None:
    with app.app_context():
        u1 = db.session.scalar(select(Unit).where(Unit.code == "U1"))
        assert u1 is not None
        u2 = Unit(code="U2", name="UBND xã Hai", level="commune")
        db.session.add(u2)
        counter = db.session.scalar(select(Counter).where(Counter.code == "K1"))
        for value in (5, 4, 2):
            db.session.add(
                Response(
                    client_id=str(uuid.uuid4()),
                    form="phieu1",
                    counter=counter,
                    channel="kiosk",
                    answers={"overall": value, "facilities": value},
                    overall=value,
                    answered_at=dt.datetime(2026, 4, 1, 9, tzinfo=LOCAL),
                    content_hash="x" * 64,
                )
            )
        db.session.commit()
        service.save_scores(db.session, u1, 2026, BANG2, FULL, actor="t")
        lower = dict(FULL, **{"1.2": LeafEntry(0, 0)})  # type: ignore[arg-type]
        service.save_scores(db.session, u2, 2026, BANG2, lower, actor="t")


def test_the_ranking_page_lists_units_in_order(
    app: Flask, client: FlaskClient, scored: None
) -> None:
    log_in(app, client, "admin")
    page = client.get("/dashboard/index/?year=2026")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    ranking = text[text.index('id="ranking"') :]
    assert ranking.index("UBND xã Thử Nghiệm") < ranking.index("UBND xã Hai")


def test_a_head_sees_only_their_unit(app: Flask, client: FlaskClient, scored: None) -> None:
    log_in(app, client, "head", "U1")
    text = client.get("/dashboard/index/?year=2026").get_data(as_text=True)
    assert "UBND xã Thử Nghiệm" in text and "UBND xã Hai" not in text
    assert client.get("/dashboard/index/score/U2?year=2026").status_code == 404
    assert client.get("/dashboard/index/satisfaction/U2?year=2026").status_code == 404


def test_anonymous_visitors_are_sent_to_log_in(client: FlaskClient, world: World) -> None:
    assert client.get("/dashboard/index/").status_code in (302, 401)


def test_satisfaction_page_and_svg_chart(app: Flask, client: FlaskClient, scored: None) -> None:
    log_in(app, client, "viewer", "U1")
    page = client.get("/dashboard/index/satisfaction/U1?year=2026")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    row = text[text.index("<td>8.3.5</td>") :].split("</tr>")[0]
    assert "<td>3</td>" in row and ("66,7" in row or "66.7" in row)
    chart = client.get("/dashboard/index/satisfaction/U1/chart.svg?year=2026")
    assert chart.status_code == 200 and chart.mimetype == "image/svg+xml"
    assert chart.get_data().lstrip().startswith(b"<?xml") and b"<svg" in chart.get_data()


def test_scoring_form_saves_and_8_3_needs_a_reason(
    app: Flask, client: FlaskClient, scored: None
) -> None:
    log_in(app, client, "admin")
    url = "/dashboard/index/score/U1?year=2026"
    token = csrf_token(client, url)
    response = client.post(url, data={"csrf_token": token, "self-1.2": "1,5", "appraised-1.2": "1"})
    assert response.status_code == 302
    refused = client.post(
        url, data={"csrf_token": token, "self-8.3.1": "1", "appraised-8.3.1": "1"}
    )
    assert refused.status_code == 422
    accepted = client.post(
        url,
        data={
            "csrf_token": token,
            "self-8.3.1": "1",
            "appraised-8.3.1": "1",
            "reason": "Kết quả khảo sát của tỉnh",
        },
    )
    assert accepted.status_code == 302
    with app.app_context():
        unit = db.session.scalar(select(Unit).where(Unit.code == "U1"))
        assert unit is not None
        index = service.unit_index(db.session, unit, 2026, BANG2)
        assert index.row("1.2").appraised == 1 and index.row("1.2").self_assessed == 1.5
        assert index.row("8.3.1").source == "override"
        assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "override"))


def test_a_viewer_cannot_score(app: Flask, client: FlaskClient, scored: None) -> None:
    log_in(app, client, "viewer", "U1")
    assert client.get("/dashboard/index/score/U1?year=2026").status_code == 404


def test_export_then_import_through_the_pages(
    app: Flask, client: FlaskClient, scored: None
) -> None:
    log_in(app, client, "admin")
    exported = client.get("/dashboard/index/export.xlsx?year=2026")
    assert exported.status_code == 200
    workbook = load_workbook(io.BytesIO(exported.get_data()))
    assert workbook.sheetnames == ["U1", "U2"]
    sheet = workbook["U2"]
    row = next(r for r in range(7, sheet.max_row) if sheet.cell(row=r, column=1).value == "1.2")
    sheet.cell(row=row, column=6).value = "hai"
    token = csrf_token(client, "/dashboard/index/?year=2026")
    refused = upload(client, token, workbook)
    assert refused.status_code == 422
    assert "U2" in refused.get_data(as_text=True) and f"{row}" in refused.get_data(as_text=True)
    sheet.cell(row=row, column=6).value = 2
    imported = upload(client, token, workbook)
    assert imported.status_code == 302
    with app.app_context():
        u2 = db.session.scalar(select(Unit).where(Unit.code == "U2"))
        assert u2 is not None
        result = service.unit_index(db.session, u2, 2026, BANG2).result
        assert result is not None and result.appraised_total == 85


# -- appraised scores are the Department's (admins); a head enters the self-assessed ones ------


def stored_row(app: Flask, code: str) -> service.LeafRow:
    with app.app_context():
        unit = db.session.scalar(select(Unit).where(Unit.code == "U1"))
        assert unit is not None
        return service.unit_index(db.session, unit, 2026, BANG2).row(code)


def test_a_head_sees_the_appraised_scores_read_only(
    app: Flask, client: FlaskClient, scored: None
) -> None:
    log_in(app, client, "head", "U1")
    text = client.get("/dashboard/index/score/U1?year=2026").get_data(as_text=True)
    appraised = re.search(r'<input name="appraised-1\.2"[^>]*>', text)
    own = re.search(r'<input name="self-1\.2"[^>]*>', text)
    assert appraised and own
    assert "readonly" in appraised.group(0) and "readonly" not in own.group(0)
    assert 'id="appraised-note"' in text
    department = app.test_client()
    log_in(app, department, "admin")
    text = department.get("/dashboard/index/score/U1?year=2026").get_data(as_text=True)
    appraised = re.search(r'<input name="appraised-1\.2"[^>]*>', text)
    assert appraised and "readonly" not in appraised.group(0)


def test_a_head_saves_self_assessed_scores_and_the_appraised_stay(
    app: Flask, client: FlaskClient, scored: None
) -> None:
    log_in(app, client, "head", "U1")
    url = "/dashboard/index/score/U1?year=2026"
    token = csrf_token(client, url)
    saved = client.post(url, data={"csrf_token": token, "self-1.2": "1,5", "appraised-1.2": "2"})
    assert saved.status_code == 302
    alone = client.post(url, data={"csrf_token": token, "self-1.1.1": "0,25"})
    assert alone.status_code == 302
    assert (stored_row(app, "1.2").self_assessed, stored_row(app, "1.2").appraised) == (1.5, 2)
    assert (stored_row(app, "1.1.1").self_assessed, stored_row(app, "1.1.1").appraised) == (
        0.25,
        0.5,
    )


@pytest.mark.parametrize(
    "fields",
    [
        {"self-1.2": "2", "appraised-1.2": "1"},  # the appraised score changed
        {"appraised-1.2": "0"},  # alone
        {"na-1.2": "1"},  # "không đánh giá" over the Department's appraisal
    ],
)
def test_a_heads_appraised_scores_are_refused_and_nothing_is_saved(
    app: Flask, client: FlaskClient, scored: None, fields: dict[str, str]
) -> None:
    log_in(app, client, "head", "U1")
    url = "/dashboard/index/score/U1?year=2026"
    token = csrf_token(client, url)
    refused = client.post(url, data={"csrf_token": token, "self-1.1.1": "0", **fields})
    assert refused.status_code == 422
    assert "Sở Nội vụ" in refused.get_data(as_text=True)
    assert stored_row(app, "1.2").appraised == 2 and not stored_row(app, "1.2").not_assessed
    assert stored_row(app, "1.1.1").self_assessed == 0.5  # nothing of the form is saved


def test_a_head_imports_self_assessed_scores_but_not_appraised_ones(
    app: Flask, client: FlaskClient, scored: None
) -> None:
    log_in(app, client, "head", "U1")
    page = client.get("/dashboard/index/?year=2026").get_data(as_text=True)
    assert 'id="import-note"' in page
    exported = client.get("/dashboard/index/export.xlsx?year=2026")
    workbook = load_workbook(io.BytesIO(exported.get_data()))
    assert workbook.sheetnames == ["U1"]
    sheet = workbook["U1"]
    row = next(r for r in range(7, sheet.max_row) if sheet.cell(row=r, column=1).value == "1.2")
    token = csrf_token(client, "/dashboard/index/?year=2026")
    sheet.cell(row=row, column=5).value = 1
    sheet.cell(row=row, column=6).value = 1
    refused = upload(client, token, workbook)
    text = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "Sở Nội vụ" in text and f"{row}" in text and "F (" in text
    assert stored_row(app, "1.2").self_assessed == 2  # nothing half-imported
    sheet.cell(row=row, column=6).value = None
    assert upload(client, token, workbook).status_code == 302
    assert (stored_row(app, "1.2").self_assessed, stored_row(app, "1.2").appraised) == (1, 2)
