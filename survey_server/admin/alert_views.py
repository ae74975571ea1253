"""Alerts and kiosk fleet health: admins see the province, heads and viewers their own units."""

from __future__ import annotations

import datetime as dt

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response as WerkzeugResponse

from ..dashboard.access import can_decide, role_required, visible_unit_ids
from ..extensions import db
from ..models import Alert, utcnow
from ..services import alerts
from . import alerts_bp


class AcknowledgeForm(FlaskForm):
    """Only the CSRF token: the alert is in the address."""


def _scope() -> list[int] | None:
    visible = visible_unit_ids(current_user)
    return None if visible is None else sorted(visible)


@alerts_bp.get("/")
@role_required("admin", "head", "viewer")
def index() -> str:
    # Opening the page scans too, so the list is current even between scheduler runs.
    alerts.scan_alerts(db.session, utcnow(), alerts.AlertSettings.from_config(current_app.config))
    return render_template(
        "admin/alerts.html",
        alerts=alerts.list_alerts(db.session, _scope()),
        describe=alerts.describe,
        form=AcknowledgeForm(),
        may_acknowledge=can_decide(current_user),
    )


@alerts_bp.post("/<int:alert_id>/acknowledge")
@role_required("admin", "head")
def acknowledge(alert_id: int) -> WerkzeugResponse:
    alert = db.session.get(Alert, alert_id)
    scope = _scope()
    if alert is None or (scope is not None and alert.unit_id not in scope):
        abort(404)
    if AcknowledgeForm().validate_on_submit():
        alerts.acknowledge(db.session, alert, current_user._get_current_object(), utcnow())
        flash(gettext("Alert marked as seen."), "info")
    return redirect(url_for("admin_alerts.index"))


@alerts_bp.get("/kiosks")
@role_required("admin", "head", "viewer")
def kiosks() -> str:
    minutes = int(current_app.config.get("KIOSK_OFFLINE_MINUTES", 10))
    health = alerts.fleet_health(db.session, utcnow(), dt.timedelta(minutes=minutes), _scope())
    return render_template(
        "admin/kiosks.html",
        kiosks=health,
        offline=sum(1 for kiosk in health if kiosk.offline),
        minutes=minutes,
    )
