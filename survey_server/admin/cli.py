"""``flask --app survey_server alerts scan``: raise new alerts and e-mail them (a job too)."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup
from flask_babel import force_locale

from ..extensions import db
from ..models import utcnow
from ..services import alerts

alerts_cli = AppGroup("alerts", help="Alerts: misconduct reports, dissatisfied counters.")


def init_app(app: Flask) -> None:
    app.cli.add_command(alerts_cli)


@alerts_cli.command("scan")
def scan() -> None:
    """Store the alerts not yet raised; e-mail them when MAIL_SERVER and ALERT_MAIL_TO are set."""
    new = alerts.run_alerts_job(db.session, utcnow())
    click.echo(f"Cảnh báo mới: {len(new)}.")
    with force_locale("vi"):
        for alert in new:
            click.echo(f"- {alerts.describe(alert)}")
