"""The month page, the officer page, the "why", decisions, approval and the minimum-count rule."""

from __future__ import annotations

import pytest
from dashboard_support import RatedWorld, csrf_token, login, make_user
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from builders import BACKENDS
from survey_server.extensions import db
from survey_server.models import MisconductReport, UnitMonth


def _month_url(rated: RatedWorld, unit_id: int | None = None) -> str:
    return f"/dashboard/units/{unit_id or rated.unit_id}/{rated.month_text}"


@BACKENDS
def test_month_page_lists_officers_with_bands_and_why(
    head_client: FlaskClient, rated: RatedWorld
) -> None:
    page = head_client.get(_month_url(rated))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for name in ("Lò Thị Hoa", "Quàng Văn Nam", "Cầm Thị Mai"):
        assert name in html
    assert "Xuất sắc" not in html or "Hoàn thành" in html
    assert 'class="why"' in html
    # The why names the conditions with value and threshold in Vietnamese.
    assert "Tỷ lệ hài lòng (%)" in html and "Số phiếu hợp lệ" in html
    assert "<svg" in html
    # The pending report shows its comment, never who wrote it.
    assert "Bị yêu cầu nộp thêm giấy tờ không cần thiết" in html
    assert "R9" not in html  # another unit's officer


def test_month_page_filters_by_group(head_client: FlaskClient, rated: RatedWorld) -> None:
    html = head_client.get(_month_url(rated) + "?group=resolver").get_data(as_text=True)
    assert "Quàng Văn Nam" in html
    assert "Lò Thị Hoa</a>" not in html


def test_unit_address_goes_to_the_latest_rated_month(
    head_client: FlaskClient, rated: RatedWorld
) -> None:
    response = head_client.get(f"/dashboard/units/{rated.unit_id}/")
    assert response.headers["Location"].endswith(_month_url(rated))


def test_officer_page_shows_history_breakdown_and_comments(
    head_client: FlaskClient, rated: RatedWorld
) -> None:
    page = head_client.get(f"/dashboard/officers/{rated.officers['R1']}/{rated.month_text}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "09/2026" in html and "10/2026" in html
    assert "Cán bộ hướng dẫn rất tận tình" in html
    assert "min-count" not in html


@pytest.mark.parametrize("code", ["S2"])
def test_no_breakdown_from_fewer_than_five_forms(
    head_client: FlaskClient, rated: RatedWorld, code: str
) -> None:
    html = head_client.get(
        f"/dashboard/officers/{rated.officers[code]}/{rated.month_text}"
    ).get_data(as_text=True)
    assert "min-count" in html
    assert "Chậm" not in html  # the comment of one of the three forms
    assert 'class="data questions"' not in html


def test_five_forms_is_enough_for_a_breakdown(
    app: Flask, head_client: FlaskClient, rated: RatedWorld
) -> None:
    from dashboard_support import _forms

    with app.app_context():
        _forms(db.session, "phieu2", "S2", 2, 10, {"overall": 3, "result_quality": 3})
    html = head_client.get(
        f"/dashboard/officers/{rated.officers['S2']}/{rated.month_text}"
    ).get_data(as_text=True)
    assert "min-count" not in html
    assert "Chậm" in html


@BACKENDS
def test_head_decides_a_report_then_approves_the_month(
    app: Flask, head_client: FlaskClient, rated: RatedWorld
) -> None:
    url = _month_url(rated)
    token = csrf_token(head_client, url)
    refused = head_client.post(f"{url}/approve", data={"csrf_token": token}, follow_redirects=True)
    assert "chưa được xử lý" in refused.get_data(as_text=True) or "pending" in refused.get_data(
        as_text=True
    )
    decided = head_client.post(
        f"/dashboard/reports/{rated.report_id}/decide",
        data={
            "csrf_token": token,
            "decision": "reject",
            "reason": "Đã xác minh, không có",
            "back": url,
        },  # fmt: skip
    )
    assert decided.status_code == 302
    approved = head_client.post(f"{url}/approve", data={"csrf_token": token}, follow_redirects=True)
    assert approved.status_code == 200
    with app.app_context():
        report = db.session.get(MisconductReport, rated.report_id)
        assert report is not None and report.status == "rejected"
        state = db.session.scalar(select(UnitMonth).where(UnitMonth.unit_id == rated.unit_id))
        assert state is not None and state.state == "approved"
    html = approved.get_data(as_text=True)
    assert 'id="approve"' not in html
    # Reopen needs a reason.
    head_client.post(f"{url}/reopen", data={"csrf_token": token, "reason": ""})
    with app.app_context():
        state = db.session.scalar(select(UnitMonth).where(UnitMonth.unit_id == rated.unit_id))
        assert state is not None and state.state == "approved"
    head_client.post(f"{url}/reopen", data={"csrf_token": token, "reason": "Sai số liệu"})
    with app.app_context():
        state = db.session.scalar(select(UnitMonth).where(UnitMonth.unit_id == rated.unit_id))
        assert state is not None and state.state == "open"


def test_head_records_a_breach_and_the_band_is_recomputed(
    app: Flask, head_client: FlaskClient, rated: RatedWorld
) -> None:
    url = f"/dashboard/officers/{rated.officers['S1']}/{rated.month_text}"
    token = csrf_token(head_client, url)
    response = head_client.post(
        f"{url}/record", data={"csrf_token": token, "violations": "3", "note": "Đi muộn"}
    )
    assert response.status_code == 302
    html = head_client.get(url).get_data(as_text=True)
    assert "Không hoàn thành nhiệm vụ" in html


@pytest.mark.parametrize(
    "path",
    [
        "/units/{unit}/approve",
        "/reports/{report}/decide",
        "/officers/{officer}/{month}/record",
        "/units/{unit}/reopen",
    ],
)
def test_every_decision_form_refuses_a_post_without_csrf(
    app: Flask, head_client: FlaskClient, rated: RatedWorld, path: str
) -> None:
    url = "/dashboard" + path.format(
        unit=f"{rated.unit_id}/{rated.month_text}",
        report=rated.report_id,
        officer=rated.officers["S1"],
        month=rated.month_text,
    )
    data = {"decision": "confirm", "reason": "x", "violations": "5"}
    assert head_client.post(url, data=data).status_code == 400
    with app.app_context():
        report = db.session.get(MisconductReport, rated.report_id)
        assert report is not None and report.status == "pending"


def test_viewer_reads_but_cannot_decide(app: Flask, rated: RatedWorld) -> None:
    with app.app_context():
        make_user(db.session, "viewer", "U1")
    client = app.test_client()
    login(client, "viewer-u1")
    url = _month_url(rated)
    html = client.get(url).get_data(as_text=True)
    assert "Lò Thị Hoa" in html and 'id="approve"' not in html
    token = csrf_token(client, url)
    assert client.post(f"{url}/approve", data={"csrf_token": token}).status_code == 404
    assert (
        client.post(
            f"/dashboard/reports/{rated.report_id}/decide",
            data={"csrf_token": token, "decision": "confirm", "reason": "x"},
        ).status_code
        == 404
    )
