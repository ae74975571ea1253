"""The command line of contract.md: demo seed, device register, integration keys."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select

from builders import World, response_body
from survey_server.extensions import db
from survey_server.models import (
    AuditEntry,
    Centre,
    Device,
    Dossier,
    IntegrationKey,
    MisconductReport,
    Officer,
    OfficerRating,
    Response,
    Unit,
)
from survey_server.models import (
    Counter as CounterModel,
)


def count(model: type) -> int:
    return int(db.session.scalar(select(func.count()).select_from(model)) or 0)


def test_demo_seed_loads_a_believable_province_once(app: Flask, runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["demo", "seed"])
    assert result.exit_code == 0, result.output
    assert "Đã nạp" in result.output
    with app.app_context():
        assert count(Unit) - 1 >= 2  # rated units under the province
        assert count(Centre) >= 3
        assert count(CounterModel) >= 8
        assert count(Officer) >= 30
        groups = Counter(db.session.scalars(select(Officer.group)))
        assert groups["reception"] >= 8 and groups["resolver"] >= 8
        assert count(Device) == count(CounterModel)
        dossiers = db.session.scalars(select(Dossier)).all()
        span = max(d.received_at for d in dossiers) - min(d.received_at for d in dossiers)
        assert span.days >= 85
        late = [d for d in dossiers if d.late]
        assert 0 < len(late) < len(dossiers) * 0.2
        overall = Counter(db.session.scalars(select(Response.overall)))
        total = sum(overall.values())
        assert total > 300
        satisfied = (overall[4] + overall[5]) / total
        assert 0.6 < satisfied < 0.97, overall  # mostly satisfied, not uniformly so
        assert overall[1] + overall[2] > 0
        assert count(MisconductReport) >= 1
        # The demo months are rated, so the dashboard shows bands right away.
        bands = set(db.session.scalars(select(OfficerRating.band)))
        assert count(OfficerRating) >= 30 and len(bands) >= 2, bands
        forms = Counter(db.session.scalars(select(Response.form)))
        assert forms["phieu1"] > 0 and forms["phieu2"] > 0
        before = count(Response)

    again = runner.invoke(args=["demo", "seed"])
    assert again.exit_code == 0
    assert "không nạp lại" in again.output
    with app.app_context():
        assert count(Response) == before
    devices = json.loads((Path(app.instance_path) / "demo_devices.json").read_text())
    assert len(devices) == 8


def test_demo_kiosks_have_an_officer_on_duty_with_a_working_pin(
    app: Flask, runner: FlaskCliRunner
) -> None:
    """After `make run` every demo kiosk takes ratings at once, and the PIN printed works."""
    runner.invoke(args=["demo", "seed"])
    devices = json.loads((Path(app.instance_path) / "demo_devices.json").read_text())
    client = app.test_client()
    for counter, device in devices.items():
        auth = {"Authorization": f"Bearer {device['token']}"}
        state = client.get("/kiosk/api/state", headers=auth).get_json()
        assert state["counter"]["code"] == counter
        assert state["form"] == "phieu1"
        assert state["officer"]["code"] == device["on_duty"]["officer"]
    auth = {"Authorization": f"Bearer {devices['DBP-01']['token']}"}
    on_duty = devices["DBP-01"]["on_duty"]
    wrong = client.post("/kiosk/api/shift", json={**on_duty, "pin": "000000x"}, headers=auth)
    assert wrong.status_code == 401
    reopened = client.post("/kiosk/api/shift", json=on_duty, headers=auth)
    assert reopened.status_code == 201, reopened.get_json()


def test_demo_kiosk_token_works_with_the_api(app: Flask, runner: FlaskCliRunner) -> None:
    runner.invoke(args=["demo", "seed"])
    devices = json.loads((Path(app.instance_path) / "demo_devices.json").read_text())
    tokens = {counter: device["token"] for counter, device in devices.items()}
    with app.app_context():
        officer = db.session.scalars(
            select(Officer.code).where(Officer.group == "reception")
        ).first()
    reply = app.test_client().post(
        "/api/v1/responses",
        json=response_body(officer=officer),
        headers={"Authorization": f"Bearer {tokens['DBP-01']}"},
    )
    assert reply.status_code == 201, reply.json


def test_device_register_prints_a_working_token_once(
    app: Flask, runner: FlaskCliRunner, world: World
) -> None:
    result = runner.invoke(args=["device", "register", "--counter", "K1", "--name", "Kiosk 2"])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    assert token.startswith("dev_")
    reply = app.test_client().post(
        "/api/v1/responses", json=response_body(), headers={"Authorization": f"Bearer {token}"}
    )
    assert reply.status_code == 201
    with app.app_context():
        hashes = db.session.scalars(select(Device.token_hash)).all()
        assert token not in hashes and len(hashes) == 2
        assert count(AuditEntry) >= 1


def test_device_register_unknown_counter_fails_clearly(
    runner: FlaskCliRunner, world: World
) -> None:
    result = runner.invoke(args=["device", "register", "--counter", "NOPE"])
    assert result.exit_code != 0
    assert "Không có quầy mã 'NOPE'" in result.output


def test_integration_key_create_prints_a_working_key(
    app: Flask, runner: FlaskCliRunner, world: World
) -> None:
    result = runner.invoke(args=["integration-key", "create", "--name", "Hệ thống một cửa"])
    assert result.exit_code == 0, result.output
    secret = result.output.strip().splitlines()[-1]
    from builders import dossier_body

    reply = app.test_client().post(
        "/api/v1/dossiers", json=dossier_body(), headers={"Authorization": f"Bearer {secret}"}
    )
    assert reply.status_code == 201
    with app.app_context():
        assert secret not in db.session.scalars(select(IntegrationKey.key_hash)).all()


def test_urls_lists_only_what_is_served(runner: FlaskCliRunner, app: Flask) -> None:
    result = runner.invoke(args=["urls"])
    assert "/healthz" in result.output
    for name, path in (("kiosk", "/kiosk/"), ("dashboard", "/dashboard/")):
        assert (path in result.output) == (name in app.blueprints)
