"""Access control: a head sees their unit and its sub-units; everything else answers 404."""

from __future__ import annotations

import pytest
from dashboard_support import RatedWorld, csrf_token, login, make_user
from flask import Flask
from flask.testing import FlaskClient

from builders import BACKENDS
from survey_server.dashboard.access import visible_unit_ids
from survey_server.extensions import db
from survey_server.models import MisconductReport, Unit

MISSING = 987654


def _client(app: Flask, role: str, unit: str | None) -> FlaskClient:
    with app.app_context():
        username = make_user(db.session, role, unit).username
    client = app.test_client()
    assert login(client, username).status_code == 302
    return client


def _get_paths(rated: RatedWorld, unit_id: int, officer_id: int) -> list[str]:
    month = rated.month_text
    return [
        f"/dashboard/units/{unit_id}/",
        f"/dashboard/units/{unit_id}/{month}",
        f"/dashboard/units/{unit_id}/{month}?group=reception",
        f"/dashboard/units/{unit_id}/{month}/export.xlsx",
        f"/dashboard/units/{unit_id}/{month}/export.pdf",
        f"/dashboard/officers/{officer_id}/{month}",
    ]


def _post_paths(rated: RatedWorld, unit_id: int, officer_id: int, report_id: int) -> list[str]:
    month = rated.month_text
    return [
        f"/dashboard/units/{unit_id}/{month}/approve",
        f"/dashboard/units/{unit_id}/{month}/reopen",
        f"/dashboard/officers/{officer_id}/{month}/record",
        f"/dashboard/reports/{report_id}/decide",
    ]


@BACKENDS
def test_head_of_one_unit_gets_404_on_every_page_and_export_of_another(
    app: Flask, rated: RatedWorld
) -> None:
    client = _client(app, "head", "U1")
    other = (rated.other_unit_id, rated.officers["R9"])
    for path in _get_paths(rated, *other):
        assert client.get(path).status_code == 404, path
    token = csrf_token(client, f"/dashboard/units/{rated.unit_id}/{rated.month_text}")
    data = {"csrf_token": token, "decision": "confirm", "reason": "x", "violations": "9"}
    for path in _post_paths(rated, *other, rated.other_report_id):
        assert client.post(path, data=data).status_code == 404, path
    with app.app_context():
        report = db.session.get(MisconductReport, rated.other_report_id)
        assert report is not None and report.status == "pending"
    # The home page does not even name the other unit.
    assert "Đơn vị U2" not in client.get("/dashboard/").get_data(as_text=True)


def test_guessed_ids_answer_404_like_other_units(app: Flask, rated: RatedWorld) -> None:
    client = _client(app, "head", "U1")
    for path in _get_paths(rated, MISSING, MISSING):
        assert client.get(path).status_code == 404, path
    token = csrf_token(client, "/dashboard/")
    for path in _post_paths(rated, MISSING, MISSING, MISSING):
        assert client.post(path, data={"csrf_token": token}).status_code == 404, path
    # A malformed month is a 404 as well, not an error.
    assert client.get(f"/dashboard/units/{rated.unit_id}/2026-13").status_code == 404
    assert client.get(f"/dashboard/officers/{rated.officers['R1']}/soon").status_code == 404


def test_own_unit_pages_and_exports_answer_200(app: Flask, rated: RatedWorld) -> None:
    client = _client(app, "head", "U1")
    for path in _get_paths(rated, rated.unit_id, rated.officers["R1"]):
        assert client.get(path).status_code in (200, 302), path


def test_a_head_of_a_parent_unit_sees_its_sub_units(app: Flask, rated: RatedWorld) -> None:
    with app.app_context():
        province = Unit(code="P", name="UBND tỉnh Thử", level="province")
        db.session.add(province)
        db.session.flush()
        for unit in db.session.query(Unit).filter(Unit.code.in_(["U1", "U2"])):
            unit.parent_id = province.id
        db.session.commit()
    client = _client(app, "head", "P")
    for path in _get_paths(rated, rated.other_unit_id, rated.officers["R9"]):
        assert client.get(path).status_code in (200, 302), path


@pytest.mark.parametrize(("role", "unit", "expected"), [("admin", None, None), ("head", "U1", 1)])
def test_visible_unit_ids(
    app: Flask, rated: RatedWorld, role: str, unit: str | None, expected: int | None
) -> None:
    with app.app_context():
        user = make_user(db.session, role, unit)
        visible = visible_unit_ids(user)
        if expected is None:
            assert visible is None
        else:
            assert visible == {rated.unit_id}


def test_raw_answers_csv_is_for_the_province_admin_only(app: Flask, rated: RatedWorld) -> None:
    head = _client(app, "head", "U1")
    assert head.get(f"/dashboard/answers.csv?month={rated.month_text}").status_code == 404
    admin = _client(app, "admin", None)
    response = admin.get(f"/dashboard/answers.csv?month={rated.month_text}")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    lines = text.strip().splitlines()
    header = lines[0].split(",")
    assert header[:8] == ["form", "form_version", "date", "channel", "lang", "unit", "counter",
                          "officers"]  # fmt: skip
    assert "comment" not in header
    assert "tận tình" not in text and "giấy tờ" not in text  # free text never leaves
    assert len(lines) == 1 + 12 + 6 + 3 + 7  # October's valid forms
    assert "2026-10-20" in text and "T0" not in text  # the day, never the time
    assert admin.get("/dashboard/answers.csv?month=nope").status_code == 404
