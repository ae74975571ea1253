"""``flask --app survey_server kiosk …``: PINs for officers, shifts from the command line."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select

from survey_server.extensions import db
from survey_server.models import Officer, utcnow
from survey_server.services import Refused
from survey_server.services import kiosk as service

kiosk_cli = AppGroup("kiosk", help="Counter kiosks: officers' PINs and shifts.")


def init_app(app: Flask) -> None:
    app.cli.add_command(kiosk_cli)


@kiosk_cli.command("set-pin")
@click.option("--officer", "officer_code", required=True, help="Officer code, e.g. CB005.")
@click.option(
    "--pin", prompt=True, hide_input=True, confirmation_prompt=True, help="4 to 12 digits."
)
def set_pin(officer_code: str, pin: str) -> None:
    """Give an officer the PIN they open a shift with (at the kiosk or on the desk page)."""
    officer = db.session.scalar(select(Officer).where(Officer.code == officer_code))
    if officer is None:
        raise click.ClickException(f"Không có công chức mã '{officer_code}'.")
    try:
        service.set_officer_pin(db.session, officer, pin, actor="cli")
    except ValueError:
        raise click.ClickException("Mã PIN phải gồm 4 đến 12 chữ số.") from None
    click.echo(f"Đã đặt mã PIN cho {officer.name} ({officer.code}).")


@kiosk_cli.command("open-shift")
@click.option("--counter", "counter_code", required=True, help="Counter code.")
@click.option("--officer", "officer_code", required=True, help="Officer code.")
def open_shift(counter_code: str, officer_code: str) -> None:
    """Open an officer's shift at a counter (for setting up and trying a kiosk)."""
    officer = db.session.scalar(select(Officer).where(Officer.code == officer_code))
    if officer is None:
        raise click.ClickException(f"Không có công chức mã '{officer_code}'.")
    try:
        counter = service.counter_by_code(db.session, counter_code)
    except Refused:
        raise click.ClickException(f"Không có quầy mã '{counter_code}'.") from None
    service.open_shift(db.session, counter, officer, "desk", utcnow())
    click.echo(f"Đã mở ca trực của {officer.name} tại {counter.name}.")
