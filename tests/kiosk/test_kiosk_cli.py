"""``flask kiosk set-pin`` and ``flask kiosk open-shift``."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select

from builders import World
from survey_server.extensions import db
from survey_server.models import Shift
from survey_server.services import kiosk as service


def test_set_pin_then_the_officer_can_authenticate(
    app: Flask, runner: FlaskCliRunner, world: World
) -> None:
    result = runner.invoke(args=["kiosk", "set-pin", "--officer", "R1", "--pin", "123456"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert service.authenticate_officer(db.session, "R1", "123456").code == "R1"


def test_set_pin_refuses_a_short_pin_and_an_unknown_officer(
    runner: FlaskCliRunner, world: World
) -> None:
    short = runner.invoke(args=["kiosk", "set-pin", "--officer", "R1", "--pin", "12"])
    assert short.exit_code != 0 and "4 đến 12" in short.output
    unknown = runner.invoke(args=["kiosk", "set-pin", "--officer", "X9", "--pin", "1234"])
    assert unknown.exit_code != 0 and "X9" in unknown.output


def test_open_shift_from_the_command_line(app: Flask, runner: FlaskCliRunner, world: World) -> None:
    result = runner.invoke(args=["kiosk", "open-shift", "--counter", "K1", "--officer", "R1"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        shift = db.session.scalar(select(Shift))
        assert (shift.officer.code, shift.counter.code, shift.closed_at) == ("R1", "K1", None)
    bad = runner.invoke(args=["kiosk", "open-shift", "--counter", "NOPE", "--officer", "R1"])
    assert bad.exit_code != 0
