"""POST /api/v1/responses: every status code of the contract, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from builders import BACKENDS, World, dossier_body, response_body, returned_dossier_body
from survey_server.extensions import db
from survey_server.models import Device, MisconductReport, RefusedSubmission, Response

pytestmark = BACKENDS

URL = "/api/v1/responses"


def post(client: FlaskClient, world: World, body: Any, **kwargs: Any) -> Any:
    return client.post(URL, json=body, headers=world.device_auth, **kwargs)


def push_dossier(client: FlaskClient, world: World, body: dict[str, Any]) -> None:
    reply = client.post("/api/v1/dossiers", json=body, headers=world.key_auth)
    assert reply.status_code in (200, 201), reply.json


def stored(app: Flask) -> list[Response]:
    with app.app_context():
        return list(db.session.scalars(select(Response).order_by(Response.id)))


def refusals(app: Flask) -> list[tuple[int, str, dict[str, Any]]]:
    with app.app_context():
        rows = db.session.scalars(select(RefusedSubmission).order_by(RefusedSubmission.id))
        return [(row.status_code, row.error, row.fields) for row in rows]


def test_one_tap_kiosk_answer_is_stored(app: Flask, client: FlaskClient, world: World) -> None:
    body = response_body()
    reply = post(client, world, body)
    assert reply.status_code == 201
    assert reply.json == {"id": body["id"], "status": "stored", "flags": []}
    [response] = stored(app)
    with app.app_context():
        response = db.session.merge(response)
        assert response.channel == "kiosk"
        assert response.counter is not None and response.counter.code == "K1"
        assert [officer.code for officer in response.officers] == ["R1"]
        assert response.answers == {"overall": 5}
        assert response.answered_at == dt.datetime.fromisoformat(body["answered_at"])
        assert db.session.get(Device, world.device_id).last_seen_at is not None


def test_the_token_apis_neither_read_nor_set_a_session_cookie(
    client: FlaskClient, world: World
) -> None:
    """A bearer token authenticates the machine APIs: their answers set no cookie and do not
    vary on one (a shared cache may keep them apart from any browser session), whatever cookie
    comes with the request. The dashboard still has its session."""
    client.set_cookie("session", "not-a-signed-session")
    for reply in (
        post(client, world, response_body()),
        post(client, world, {"id": "x"}),
        client.post("/api/v1/dossiers", json=dossier_body(), headers=world.key_auth),
    ):
        assert reply.status_code in (201, 422), reply.json
        assert "Set-Cookie" not in reply.headers
        assert "Cookie" not in reply.headers.get("Vary", "")
    page = client.get("/dashboard/login")
    assert "session=" in page.headers["Set-Cookie"]
    assert "Cookie" in page.headers["Vary"]


def test_identical_retry_is_200_and_the_original_stands(
    app: Flask, client: FlaskClient, world: World
) -> None:
    body = response_body()
    assert post(client, world, body).status_code == 201
    again = post(client, world, body)
    assert again.status_code == 200
    assert again.json["status"] == "duplicate"
    assert len(stored(app)) == 1
    assert refusals(app) == []


def test_same_id_other_content_is_409(app: Flask, client: FlaskClient, world: World) -> None:
    body = response_body()
    assert post(client, world, body).status_code == 201
    reply = post(client, world, {**body, "answers": {"overall": 1}})
    assert reply.status_code == 409
    assert reply.json["error"] == "id_conflict"
    assert reply.json["fields"] == {"id": "already_used_with_other_content"}
    [response] = stored(app)
    assert response.answers == {"overall": 5}
    assert refusals(app) == [(409, "id_conflict", {"id": "already_used_with_other_content"})]


def test_second_answer_for_the_same_dossier_and_form_is_409(
    app: Flask, client: FlaskClient, world: World
) -> None:
    push_dossier(client, world, dossier_body())
    first = response_body(dossier_code="HS-0001")
    assert post(client, world, first).status_code == 201
    second = response_body(dossier_code="HS-0001", answers={"overall": 1})
    reply = post(client, world, second)
    assert reply.status_code == 409
    assert reply.json["error"] == "already_answered"
    assert "message" in reply.json and reply.json["message"]
    [response] = stored(app)
    assert response.client_id == first["id"]


def test_phieu2_counts_for_every_resolving_officer_and_reports_misconduct(
    app: Flask, client: FlaskClient, world: World
) -> None:
    push_dossier(client, world, returned_dossier_body())
    body = response_body(
        "phieu2",
        dossier_code="HS-0001",
        answers={"overall": 2, "misconduct": "co", "comment": "<script>alert(1)</script>"},
    )
    assert post(client, world, body).status_code == 201
    with app.app_context():
        response = db.session.scalars(select(Response)).one()
        assert [officer.code for officer in response.officers] == ["S1", "S2"]
        # Stored as the citizen typed it; templates escape it on the way out.
        assert response.answers["comment"] == "<script>alert(1)</script>"
        reports = db.session.scalars(select(MisconductReport)).all()
        assert sorted((r.officer.code, r.status) for r in reports) == [
            ("S1", "pending"),
            ("S2", "pending"),
        ]


def test_phieu1_without_officer_falls_back_to_the_dossier_desk_officer(
    app: Flask, client: FlaskClient, world: World
) -> None:
    push_dossier(client, world, dossier_body())
    body = response_body(dossier_code="HS-0001", officer=None)
    assert post(client, world, body).status_code == 201
    with app.app_context():
        response = db.session.scalars(select(Response)).one()
        assert [officer.code for officer in response.officers] == ["R1"]


def test_clock_far_ahead_is_clamped_and_flagged(
    app: Flask, client: FlaskClient, world: World
) -> None:
    future = dt.datetime.now(dt.UTC) + dt.timedelta(days=400)
    body = response_body(answered_at=future.isoformat())
    reply = post(client, world, body)
    assert reply.status_code == 201
    assert reply.json["flags"] == ["clock_ahead"]
    [response] = stored(app)
    assert response.answered_at < future - dt.timedelta(days=399)
    assert response.flags == ["clock_ahead"]
    # The kiosk retrying the same answer is still an identical retry.
    assert post(client, world, body).status_code == 200


def test_a_week_old_answer_from_an_offline_kiosk_keeps_its_time(
    app: Flask, client: FlaskClient, world: World
) -> None:
    week_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=7)
    body = response_body(answered_at=week_ago.isoformat())
    assert post(client, world, body).status_code == 201
    [response] = stored(app)
    assert response.answered_at == week_ago
    assert response.flags == []


INVALID = [
    ("unknown question", {"answers": {"overall": 5, "colour": "blue"}}, "answers.colour"),
    ("scale too high", {"answers": {"overall": 6}}, "answers.overall"),
    ("scale zero", {"answers": {"overall": 0}}, "answers.overall"),
    ("overall missing", {"answers": {"courtesy": 5}}, "answers.overall"),
    ("comment too long", {"answers": {"overall": 4, "comment": "x" * 501}}, "answers.comment"),
    ("answers not an object", {"answers": [5]}, "answers"),
    ("unknown form", {"form": "phieu9"}, "form"),
    ("id not a uuid", {"id": "not-a-uuid"}, "id"),
    ("id missing", {"id": None}, "id"),
    ("time without offset", {"answered_at": "2026-10-05T08:35:00"}, "answered_at"),
    ("time not a time", {"answered_at": "yesterday"}, "answered_at"),
    ("unknown dossier", {"dossier_code": "NO-SUCH"}, "dossier_code"),
    ("unknown officer", {"officer": "NOBODY"}, "officer"),
    ("no officer, no dossier", {"officer": None}, "officer"),
    ("unknown field", {"citizen_name": "Nguyễn Văn A"}, "citizen_name"),
    ("bad language", {"lang": "<b>"}, "lang"),
    ("phieu2 without dossier", {"form": "phieu2", "officer": None}, "dossier_code"),
]


@pytest.mark.parametrize(("case", "change", "field"), INVALID, ids=[row[0] for row in INVALID])
def test_invalid_answer_is_422_naming_the_field_and_logged(
    app: Flask, client: FlaskClient, world: World, case: str, change: dict[str, Any], field: str
) -> None:
    reply = post(client, world, response_body(**change))
    assert reply.status_code == 422, case
    assert reply.json["error"] == "invalid_response"
    assert field in reply.json["fields"]
    assert stored(app) == []
    [(status, error, fields)] = refusals(app)
    assert (status, error) == (422, "invalid_response") and field in fields


def test_phieu2_before_the_dossier_is_returned_is_422(
    app: Flask, client: FlaskClient, world: World
) -> None:
    push_dossier(client, world, dossier_body())
    reply = post(client, world, response_body("phieu2", dossier_code="HS-0001"))
    assert reply.status_code == 422
    assert reply.json["fields"] == {"dossier_code": "not_returned"}
    assert stored(app) == []


@pytest.mark.parametrize("raw", [b"{not json", b"null", b"[1, 2]", '"chuỗi"'.encode()])
def test_malformed_body_is_422(app: Flask, client: FlaskClient, world: World, raw: bytes) -> None:
    reply = client.post(URL, data=raw, headers=world.device_auth, content_type="application/json")
    assert reply.status_code == 422
    assert reply.json["error"] == "invalid_body"
    assert refusals(app)[0][:2] == (422, "invalid_body")


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer dev_unknown"}, {"Authorization": "Basic abc"}]
)
def test_unknown_device_is_401(
    app: Flask, client: FlaskClient, world: World, headers: dict[str, str]
) -> None:
    reply = client.post(URL, json=response_body(), headers=headers)
    assert reply.status_code == 401
    assert reply.json["error"] == "unknown_device"
    assert stored(app) == []
    assert refusals(app) == [(401, "unknown_device", {})]


def test_revoked_device_is_401(app: Flask, client: FlaskClient, world: World) -> None:
    from survey_server.services.credentials import revoke_device

    with app.app_context():
        revoke_device(
            db.session, db.session.get(Device, world.device_id), "test", dt.datetime.now(dt.UTC)
        )
    reply = post(client, world, response_body())
    assert reply.status_code == 401
    assert reply.json["error"] == "revoked_device"
    assert stored(app) == []


def test_body_too_large_is_413(app: Flask, client: FlaskClient, world: World) -> None:
    body = response_body(answers={"overall": 5, "comment": "x" * 100_000})
    reply = client.post(URL, data=json.dumps(body), headers=world.device_auth,
                        content_type="application/json")  # fmt: skip
    assert reply.status_code == 413
    assert reply.json["error"] == "too_large"
    assert stored(app) == []
    assert refusals(app) == [(413, "too_large", {})]


def test_too_many_from_one_device_is_429(app: Flask, client: FlaskClient, world: World) -> None:
    app.config["RATELIMIT_DEVICE"] = "3 per minute"
    statuses = [post(client, world, response_body()).status_code for _ in range(5)]
    assert statuses == [201, 201, 201, 429, 429]
    assert len(stored(app)) == 3
    assert [row[:2] for row in refusals(app)] == [(429, "rate_limited")] * 2


def test_error_messages_are_vietnamese(client: FlaskClient, world: World) -> None:
    reply = post(client, world, response_body(answers={"overall": 9}))
    assert reply.json["message"] == "Phiếu trả lời không hợp lệ; xem các trường được nêu."


def test_unknown_api_path_is_json_404(client: FlaskClient) -> None:
    reply = client.get("/api/v1/nothing")
    assert reply.status_code == 404
    assert reply.json["error"] == "not_found"


def test_refused_log_keeps_the_body_for_diagnosis(
    app: Flask, client: FlaskClient, world: World
) -> None:
    body = response_body(answers={"overall": 7})
    post(client, world, body)
    with app.app_context():
        row = db.session.scalars(select(RefusedSubmission)).one()
        assert row.client_id == body["id"]
        assert row.device_id == world.device_id
        assert json.loads(row.body_excerpt or "")["answers"] == {"overall": 7}
        assert db.session.scalar(select(func.count()).select_from(Response)) == 0
