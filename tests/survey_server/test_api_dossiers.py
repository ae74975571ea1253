"""POST /api/v1/dossiers: the idempotent upsert of the dossier system, on both databases."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from builders import BACKENDS, World, dossier_body, returned_dossier_body
from survey_server.extensions import db
from survey_server.models import Dossier, IntegrationKey, RefusedSubmission

pytestmark = BACKENDS

URL = "/api/v1/dossiers"


def push(client: FlaskClient, world: World, body: Any) -> Any:
    return client.post(URL, json=body, headers=world.key_auth)


def dossiers(app: Flask) -> list[dict[str, Any]]:
    with app.app_context():
        return [
            {
                "code": d.code,
                "returned": d.returned_at is not None,
                "resolvers": [o.code for o in d.resolving_officers],
                "late_responsible": [o.code for o in d.late_responsible],
            }
            for d in db.session.scalars(select(Dossier).order_by(Dossier.code))
        ]


def test_create_then_update_then_identical_push(
    app: Flask, client: FlaskClient, world: World
) -> None:
    first = push(client, world, dossier_body())
    assert first.status_code == 201
    assert first.json == {"code": "HS-0001", "status": "created"}
    returned = returned_dossier_body(late_responsible=["S2"])
    update = push(client, world, returned)
    assert update.status_code == 200
    assert update.json["status"] == "updated"
    assert push(client, world, returned).status_code == 200
    assert dossiers(app) == [
        {"code": "HS-0001", "returned": True, "resolvers": ["S1", "S2"], "late_responsible": ["S2"]}
    ]


def test_times_are_kept_as_instants(app: Flask, client: FlaskClient, world: World) -> None:
    push(client, world, dossier_body(received_at="2026-10-05T01:30:00Z"))
    with app.app_context():
        dossier = db.session.scalars(select(Dossier)).one()
        assert dossier.received_at.isoformat() == "2026-10-05T01:30:00+00:00"


INVALID = [
    ("code missing", {"code": None}, "code"),
    ("code with spaces", {"code": "HS 1"}, "code"),
    ("unknown unit", {"unit": "NOWHERE"}, "unit"),
    ("unknown centre", {"centre": "NOWHERE"}, "centre"),
    ("unknown desk officer", {"reception_officer": "X9"}, "reception_officer"),
    ("unknown resolver", {"resolving_officers": ["S1", "X9"]}, "resolving_officers[1]"),
    ("resolvers not a list", {"resolving_officers": "S1"}, "resolving_officers"),
    ("time without offset", {"due_at": "2026-10-08T08:30:00"}, "due_at"),
    ("due before received", {"due_at": "2020-01-01T00:00:00+07:00"}, "due_at"),
    ("unknown field", {"citizen_phone": "0912345678"}, "citizen_phone"),
    ("procedure not text", {"procedure": 42}, "procedure"),
]


@pytest.mark.parametrize(("case", "change", "field"), INVALID, ids=[row[0] for row in INVALID])
def test_invalid_dossier_is_422_naming_the_field(
    app: Flask, client: FlaskClient, world: World, case: str, change: dict[str, Any], field: str
) -> None:
    reply = push(client, world, dossier_body(**change))
    assert reply.status_code == 422, case
    assert reply.json["error"] == "invalid_dossier"
    assert field in reply.json["fields"]
    assert dossiers(app) == []
    with app.app_context():
        refused = db.session.scalars(select(RefusedSubmission)).one()
        assert (refused.status_code, refused.channel) == (422, "integration")
        assert refused.integration_key_id is not None


def test_invalid_update_leaves_the_stored_dossier_intact(
    app: Flask, client: FlaskClient, world: World
) -> None:
    push(client, world, dossier_body())
    reply = push(client, world, returned_dossier_body(resolving_officers=["X9"]))
    assert reply.status_code == 422
    assert dossiers(app) == [
        {"code": "HS-0001", "returned": False, "resolvers": ["S1", "S2"], "late_responsible": []}
    ]


@pytest.mark.parametrize("auth", [None, "Bearer key_wrong", "Bearer "])
def test_unknown_key_is_401(
    app: Flask, client: FlaskClient, world: World, auth: str | None
) -> None:
    headers = {"Authorization": auth} if auth else {}
    reply = client.post(URL, json=dossier_body(), headers=headers)
    assert reply.status_code == 401
    assert reply.json["error"] == "unknown_key"
    assert dossiers(app) == []


def test_revoked_key_is_401(app: Flask, client: FlaskClient, world: World) -> None:
    with app.app_context():
        key = db.session.scalars(select(IntegrationKey)).one()
        key.revoked_at = key.created_at
        db.session.commit()
    assert push(client, world, dossier_body()).status_code == 401


def test_body_too_large_is_413(client: FlaskClient, world: World) -> None:
    reply = push(client, world, dossier_body(procedure="x" * 100_000))
    assert reply.status_code == 413
    assert reply.json["error"] == "too_large"


def test_too_many_pushes_is_429(app: Flask, client: FlaskClient, world: World) -> None:
    app.config["RATELIMIT_INTEGRATION"] = "2 per minute"
    codes = [push(client, world, dossier_body(f"HS-{n}")).status_code for n in range(3)]
    assert codes == [201, 201, 429]
