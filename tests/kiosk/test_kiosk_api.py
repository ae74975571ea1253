"""The kiosk's API: state, shifts, current dossier, heartbeat (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from builders import BACKENDS, World, dossier_body, response_body, returned_dossier_body
from survey_server.extensions import db
from survey_server.models import (
    Counter,
    CounterCurrentDossier,
    Device,
    Officer,
    RefusedSubmission,
    Response,
    Shift,
    utcnow,
)
from survey_server.services import Refused, credentials
from survey_server.services import kiosk as service

pytestmark = BACKENDS

PIN = "2468"


@pytest.fixture
def pinned(app: Flask, world: World) -> World:
    """The world, with PINs for the desk officer and a resolver."""
    with app.app_context():
        for code in ("R1", "S1"):
            officer = db.session.scalar(select(Officer).where(Officer.code == code))
            service.set_officer_pin(db.session, officer, PIN, actor="test")
    return world


def open_shift(client: FlaskClient, world: World, officer: str = "R1", pin: str = PIN) -> int:
    answer = client.post(
        "/kiosk/api/shift", json={"officer": officer, "pin": pin}, headers=world.device_auth
    )
    return answer.status_code


def test_state_without_a_shift_offers_no_form(client: FlaskClient, pinned: World) -> None:
    answer = client.get("/kiosk/api/state", headers=pinned.device_auth)
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["counter"]["code"] == "K1"
    assert body["officer"] is None
    assert body["form"] is None


@pytest.mark.parametrize(
    ("headers", "error"),
    [({}, "unknown_device"), ({"Authorization": "Bearer dev_nope"}, "unknown_device")],
)
def test_state_needs_a_known_device(
    client: FlaskClient, pinned: World, headers: dict[str, str], error: str
) -> None:
    answer = client.get("/kiosk/api/state", headers=headers)
    assert answer.status_code == 401
    assert answer.get_json()["error"] == error


def test_a_revoked_device_gets_401_revoked_device(
    app: Flask, client: FlaskClient, pinned: World
) -> None:
    with app.app_context():
        device = db.session.get(Device, pinned.device_id)
        credentials.revoke_device(db.session, device, "test", utcnow())
    for method, path in (("get", "/kiosk/api/state"), ("post", "/kiosk/api/heartbeat")):
        answer = getattr(client, method)(path, json={}, headers=pinned.device_auth)
        assert answer.status_code == 401
        assert answer.get_json()["error"] == "revoked_device"


def test_opening_a_shift_shows_the_officer_and_offers_phieu1(
    client: FlaskClient, pinned: World
) -> None:
    assert open_shift(client, pinned) == 201
    body = client.get("/kiosk/api/state", headers=pinned.device_auth).get_json()
    assert body["officer"]["code"] == "R1"
    assert body["officer"]["name"] == "Lò Thị Hoa"
    assert (body["form"], body["dossier_code"]) == ("phieu1", None)


@pytest.mark.parametrize(
    ("officer", "pin"),
    [("R1", "0000"), ("NOBODY", PIN), ("S2", PIN), ("R1", None), (None, PIN)],
)
def test_a_wrong_code_or_pin_opens_no_shift(
    app: Flask, client: FlaskClient, pinned: World, officer: str | None, pin: str | None
) -> None:
    answer = client.post(
        "/kiosk/api/shift", json={"officer": officer, "pin": pin}, headers=pinned.device_auth
    )
    assert answer.status_code == 401
    assert answer.get_json()["error"] == "wrong_pin"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Shift)) == 0


def test_a_new_shift_closes_the_previous_one_at_the_counter(
    app: Flask, client: FlaskClient, pinned: World
) -> None:
    assert open_shift(client, pinned, "R1") == 201
    assert open_shift(client, pinned, "S1") == 201
    with app.app_context():
        shifts = db.session.scalars(select(Shift).order_by(Shift.id)).all()
        assert [(s.officer.code, s.closed_at is None, s.opened_via) for s in shifts] == [
            ("R1", False, "kiosk"),
            ("S1", True, "kiosk"),
        ]


def test_closing_the_shift_needs_the_pin_of_the_officer_on_duty(
    client: FlaskClient, pinned: World
) -> None:
    assert open_shift(client, pinned) == 201
    wrong = client.delete("/kiosk/api/shift", json={"pin": "1111"}, headers=pinned.device_auth)
    assert wrong.status_code == 401
    right = client.delete("/kiosk/api/shift", json={"pin": PIN}, headers=pinned.device_auth)
    assert right.status_code == 200
    assert client.get("/kiosk/api/state", headers=pinned.device_auth).get_json()["form"] is None
    again = client.delete("/kiosk/api/shift", json={"pin": PIN}, headers=pinned.device_auth)
    assert again.status_code == 409


def test_the_database_allows_one_open_shift_per_counter(app: Flask, pinned: World) -> None:
    with app.app_context():
        counter = db.session.scalar(select(Counter))
        officers = db.session.scalars(select(Officer).order_by(Officer.code)).all()
        now = utcnow()
        db.session.add_all(
            [Shift(counter=counter, officer=o, opened_at=now, opened_via="desk") for o in officers]
        )
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()


def test_current_dossier_from_the_dossier_system_ties_the_next_rating(
    client: FlaskClient, pinned: World
) -> None:
    assert (
        client.post("/api/v1/dossiers", json=dossier_body(), headers=pinned.key_auth).status_code
        == 201
    )
    assert open_shift(client, pinned) == 201
    url = "/kiosk/api/counters/K1/current-dossier"
    answer = client.put(url, json={"dossier_code": "HS-0001"}, headers=pinned.key_auth)
    assert answer.status_code == 200
    assert answer.get_json() == {"counter": "K1", "dossier_code": "HS-0001"}
    state = client.get("/kiosk/api/state", headers=pinned.device_auth).get_json()
    assert (state["form"], state["dossier_code"]) == ("phieu1", "HS-0001")

    # Once the dossier has its phieu1 answer, the next citizen's rating is not tied to it.
    sent = client.post(
        "/api/v1/responses",
        json=response_body(dossier_code="HS-0001"),
        headers=pinned.device_auth,
    )
    assert sent.status_code == 201
    state = client.get("/kiosk/api/state", headers=pinned.device_auth).get_json()
    assert (state["form"], state["dossier_code"]) == ("phieu1", None)

    cleared = client.put(url, json={"dossier_code": None}, headers=pinned.key_auth)
    assert cleared.status_code == 200
    assert cleared.get_json()["dossier_code"] is None


def test_a_returned_dossier_at_a_return_counter_offers_phieu2(
    client: FlaskClient, pinned: World
) -> None:
    client.post("/api/v1/dossiers", json=returned_dossier_body(), headers=pinned.key_auth)
    assert open_shift(client, pinned) == 201
    client.put(
        "/kiosk/api/counters/K1/current-dossier",
        json={"dossier_code": "HS-0001"},
        headers=pinned.key_auth,
    )
    state = client.get("/kiosk/api/state", headers=pinned.device_auth).get_json()
    assert (state["form"], state["dossier_code"]) == ("phieu2", "HS-0001")


@pytest.mark.parametrize(
    ("headers_of", "body", "status", "error"),
    [
        ("none", {"dossier_code": "HS-0001"}, 401, "unknown_key"),
        ("device", {"dossier_code": "HS-0001"}, 401, "unknown_key"),
        ("key", {"dossier_code": "NOPE"}, 422, "invalid_current_dossier"),
        ("key", {"dossier_code": 12}, 422, "invalid_current_dossier"),
        ("key", {"code": "HS-0001"}, 422, "invalid_current_dossier"),
        ("key", [], 422, "invalid_current_dossier"),
    ],
)
def test_current_dossier_refusals(
    client: FlaskClient, pinned: World, headers_of: str, body: object, status: int, error: str
) -> None:
    client.post("/api/v1/dossiers", json=dossier_body(), headers=pinned.key_auth)
    headers = {"none": {}, "device": pinned.device_auth, "key": pinned.key_auth}[headers_of]
    answer = client.put("/kiosk/api/counters/K1/current-dossier", json=body, headers=headers)
    assert answer.status_code == status
    assert answer.get_json()["error"] == error
    assert answer.get_json()["message"]


def test_current_dossier_of_an_unknown_counter_is_404(client: FlaskClient, pinned: World) -> None:
    answer = client.put(
        "/kiosk/api/counters/NOPE/current-dossier",
        json={"dossier_code": None},
        headers=pinned.key_auth,
    )
    assert answer.status_code == 404
    assert answer.get_json()["error"] == "unknown_counter"


def test_heartbeat_is_stored_on_the_device(app: Flask, client: FlaskClient, pinned: World) -> None:
    answer = client.post(
        "/kiosk/api/heartbeat",
        json={
            "queue_length": 7,
            "refused_count": 2,
            "oldest_queued_at": "2026-10-05T08:00:00+07:00",
            "last_sync_at": "2026-10-05T07:59:00+07:00",
            "app_version": "1.0.0",
        },
        headers=pinned.device_auth,
    )
    assert answer.status_code == 200
    with app.app_context():
        device = db.session.get(Device, pinned.device_id)
        assert (device.queue_length, device.refused_count, device.app_version) == (7, 2, "1.0.0")
        assert device.oldest_queued_at == dt.datetime(2026, 10, 5, 1, 0, tzinfo=dt.UTC)
        assert device.last_sync_at == dt.datetime(2026, 10, 5, 0, 59, tzinfo=dt.UTC)
        assert device.last_seen_at is not None


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"queue_length": -1}, "queue_length", "out_of_range"),
        ({"queue_length": "3"}, "queue_length", "wrong_type"),
        ({"refused_count": True}, "refused_count", "wrong_type"),
        ({"oldest_queued_at": "2026-10-05T08:00:00"}, "oldest_queued_at", "offset_required"),
        ({"oldest_queued_at": "0001-01-01T00:00:00+14:00"}, "oldest_queued_at", "out_of_range"),
        ({"app_version": "x" * 33}, "app_version", "invalid_version"),
        ({"battery": 80}, "battery", "unknown_field"),
    ],
)
def test_a_bad_heartbeat_names_the_field(
    client: FlaskClient, pinned: World, body: dict[str, object], field: str, code: str
) -> None:
    answer = client.post("/kiosk/api/heartbeat", json=body, headers=pinned.device_auth)
    assert answer.status_code == 422
    assert answer.get_json()["fields"] == {field: code}


def test_bursts_are_flagged_for_review_not_dropped(
    app: Flask, client: FlaskClient, pinned: World
) -> None:
    open_shift(client, pinned)
    base = dt.datetime(2026, 10, 5, 9, 0, tzinfo=dt.UTC)
    # Six ratings within 50 s (a burst: more than 5 in 60 s), then one alone ten minutes later.
    times = [base + dt.timedelta(seconds=10 * i) for i in range(6)] + [
        base + dt.timedelta(minutes=10)
    ]
    for moment in times:
        sent = client.post(
            "/api/v1/responses",
            json=response_body(answered_at=moment.isoformat()),
            headers=pinned.device_auth,
        )
        assert sent.status_code == 201
    with app.app_context():
        device = db.session.get(Device, pinned.device_id)
        flagged = service.flag_bursts(
            db.session, device, base - dt.timedelta(hours=1), service.BurstPolicy()
        )
        db.session.commit()
        assert len(flagged) == 6
        rows = db.session.scalars(select(Response).order_by(Response.answered_at)).all()
        assert ["burst" in r.flags for r in rows] == [True] * 6 + [False]
        assert all(r.valid for r in rows)
        # A second pass flags nothing new.
        assert service.flag_bursts(db.session, device, base, service.BurstPolicy()) == []


def test_the_desk_page_opens_a_shift_and_sets_the_dossier(
    app: Flask, client: FlaskClient, pinned: World
) -> None:
    app.config["WTF_CSRF_ENABLED"] = False
    client.post("/api/v1/dossiers", json=dossier_body(), headers=pinned.key_auth)
    page = client.get("/kiosk/desk/")
    assert page.status_code == 200
    wrong = client.post(
        "/kiosk/desk/",
        data={"action": "login", "counter": "K1", "officer": "R1", "pin": "9999"},
        follow_redirects=True,
    )
    assert "Sai mã quầy".encode() in wrong.data
    client.post(
        "/kiosk/desk/", data={"action": "login", "counter": "K1", "officer": "R1", "pin": PIN}
    )
    client.post("/kiosk/desk/", data={"action": "dossier", "dossier_code": "HS-0001"})
    with app.app_context():
        shift = db.session.scalar(select(Shift))
        assert (shift.officer.code, shift.opened_via, shift.closed_at) == ("R1", "desk", None)
        current = db.session.scalar(select(CounterCurrentDossier))
        assert (current.dossier.code, current.set_via) == ("HS-0001", "desk")
    client.post("/kiosk/desk/", data={"action": "logout"})
    with app.app_context():
        assert db.session.scalar(select(Shift)).closed_at is not None
        assert db.session.scalar(select(func.count()).select_from(CounterCurrentDossier)) == 0


def test_set_officer_pin_refuses_a_short_pin(app: Flask, pinned: World) -> None:
    with app.app_context():
        officer = db.session.scalar(select(Officer).where(Officer.code == "R1"))
        with pytest.raises(ValueError):
            service.set_officer_pin(db.session, officer, "12", actor="test")
        with pytest.raises(Refused):
            service.authenticate_officer(db.session, "R1", "12")


def test_a_rating_with_nobody_on_duty_is_refused_and_logged(
    app: Flask, client: FlaskClient, pinned: World
) -> None:
    sent = client.post("/api/v1/responses", json=response_body(), headers=pinned.device_auth)
    assert sent.status_code == 422
    assert sent.get_json()["error"] == "no_shift"
    assert sent.get_json()["fields"] == {"answered_at": "no_shift_open"}
    with app.app_context():
        assert db.session.scalar(select(func.count(Response.id))) == 0
        refused = db.session.scalars(select(RefusedSubmission.error)).all()
        assert refused == ["no_shift"]


def test_a_rating_queued_during_a_shift_that_has_closed_since_still_counts(
    app: Flask, client: FlaskClient, pinned: World
) -> None:
    """The kiosk was offline: the rating arrives after the officer went home."""
    with app.app_context():
        counter = db.session.scalar(select(Counter).where(Counter.code == "K1"))
        officer = db.session.scalar(select(Officer).where(Officer.code == "R1"))
        opened = dt.datetime(2026, 10, 5, 7, 30, tzinfo=dt.UTC)
        db.session.add(
            Shift(
                counter=counter,
                officer=officer,
                opened_at=opened,
                closed_at=opened + dt.timedelta(hours=4),
                opened_via="desk",
            )
        )
        db.session.commit()
    during = dt.datetime(2026, 10, 5, 9, 0, tzinfo=dt.UTC).isoformat()
    after = dt.datetime(2026, 10, 5, 13, 0, tzinfo=dt.UTC).isoformat()
    ok = client.post(
        "/api/v1/responses", json=response_body(answered_at=during), headers=pinned.device_auth
    )
    assert ok.status_code == 201, ok.get_json()
    late = client.post(
        "/api/v1/responses", json=response_body(answered_at=after), headers=pinned.device_auth
    )
    assert late.status_code == 422
    assert late.get_json()["error"] == "no_shift"
