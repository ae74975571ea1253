"""Alerts for heads and the province, optional e-mail, and the kiosk fleet's health.

Two kinds of alert, made by :func:`scan_alerts` (a job ``(session, now)``, also run when the
alerts page opens):

- ``misconduct``: a citizen reported misconduct by an officer (one alert per report);
- ``dissatisfaction``: at one counter, at least ``min_ratings`` valid ratings answered within
  ``window`` of which at least ``threshold_pct`` % dissatisfied (overall 1 or 2, as in
  rating-rules.md). Windows that overlap an earlier alert of the same counter raise nothing new.

Alerts are stored, so that an e-mail goes out once and a person can mark one as seen.
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from email.message import EmailMessage
from typing import Any

from flask_babel import force_locale, gettext
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..extensions import DbSession
from ..models import Alert, Centre, Counter, Device, MisconductReport, Officer, Response, User
from ..timeutil import LOCAL_TZ
from . import audit

log = logging.getLogger(__name__)

#: An overall answer at or below this is "dissatisfied" (rating-rules.md).
DISSATISFIED_MAX = 2
KINDS = ("misconduct", "dissatisfaction")


@dataclass(frozen=True)
class AlertSettings:
    """The thresholds; defaults: 50 % of at least 4 ratings in 30 minutes."""

    threshold_pct: Decimal = Decimal(50)
    min_ratings: int = 4
    window: dt.timedelta = dt.timedelta(minutes=30)
    # How far back a scan looks: reports and ratings older than this raise no new alert.
    lookback: dt.timedelta = dt.timedelta(hours=24)

    def __post_init__(self) -> None:
        if not Decimal(0) < self.threshold_pct <= Decimal(100):
            raise ValueError("threshold_pct must be in (0, 100]")
        if self.min_ratings < 1:
            raise ValueError("min_ratings must be at least 1")
        if self.window <= dt.timedelta(0):
            raise ValueError("window must be positive")

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> AlertSettings:
        return cls(
            threshold_pct=Decimal(str(config.get("ALERT_DISSATISFIED_PCT", 50))),
            min_ratings=int(config.get("ALERT_MIN_RATINGS", 4)),
            window=dt.timedelta(minutes=float(config.get("ALERT_WINDOW_MINUTES", 30))),
            lookback=dt.timedelta(hours=float(config.get("ALERT_LOOKBACK_HOURS", 24))),
        )

    def exceeded(self, ratings: int, dissatisfied: int) -> bool:
        """``dissatisfied`` of ``ratings`` passes the threshold (exact, no float rounding)."""
        return ratings >= self.min_ratings and dissatisfied * 100 >= self.threshold_pct * ratings


# -- scanning ---------------------------------------------------------------------------------


def scan_alerts(
    session: DbSession, now: dt.datetime, settings: AlertSettings | None = None
) -> list[Alert]:
    """Store the alerts not yet raised (committed); returns the new ones."""
    settings = settings or AlertSettings()
    new = _misconduct_alerts(session, now, settings) + _dissatisfaction_alerts(
        session, now, settings
    )
    session.add_all(new)
    session.commit()
    return new


def _misconduct_alerts(
    session: DbSession, now: dt.datetime, settings: AlertSettings
) -> list[Alert]:
    reports = session.execute(
        select(MisconductReport.id, MisconductReport.created_at, Officer.id, Officer.unit_id)
        .join(Officer, MisconductReport.officer_id == Officer.id)
        .outerjoin(Alert, Alert.misconduct_report_id == MisconductReport.id)
        .where(Alert.id.is_(None), MisconductReport.created_at >= now - settings.lookback)
        .order_by(MisconductReport.created_at, MisconductReport.id)
    ).all()
    return [
        Alert(
            kind="misconduct",
            unit_id=unit_id,
            officer_id=officer_id,
            misconduct_report_id=report_id,
            created_at=created_at,
        )
        for report_id, created_at, officer_id, unit_id in reports
    ]


def _dissatisfaction_alerts(
    session: DbSession, now: dt.datetime, settings: AlertSettings
) -> list[Alert]:
    since = now - settings.lookback
    rows = session.execute(
        select(Response.counter_id, Response.answered_at, Response.overall, Centre.unit_id)
        .join(Counter, Response.counter_id == Counter.id)
        .join(Centre, Counter.centre_id == Centre.id)
        .where(Response.valid.is_(True), Response.answered_at >= since - settings.window)
        .where(Response.answered_at <= now)
        .order_by(Response.counter_id, Response.answered_at, Response.id)
    ).all()
    last_alert_end: dict[int, dt.datetime] = {
        counter_id: end
        for counter_id, end in session.execute(
            select(Alert.counter_id, Alert.window_end)
            .where(Alert.kind == "dissatisfaction", Alert.window_end >= since - settings.window)
            .order_by(Alert.window_end)
        ).all()
        if counter_id is not None and end is not None
    }
    by_counter: dict[int, list[tuple[dt.datetime, int, int]]] = {}
    for counter_id, answered_at, overall, unit_id in rows:
        assert counter_id is not None  # the join on Counter leaves out responses without one
        by_counter.setdefault(counter_id, []).append((answered_at, overall, unit_id))
    alerts: list[Alert] = []
    for counter_id, ratings in by_counter.items():
        start = 0
        for end, (answered_at, _, unit_id) in enumerate(ratings):
            while answered_at - ratings[start][0] >= settings.window:
                start += 1
            if answered_at < since:
                continue
            window = ratings[start : end + 1]
            dissatisfied = sum(1 for _, overall, _ in window if overall <= DISSATISFIED_MAX)
            if not settings.exceeded(len(window), dissatisfied):
                continue
            previous = last_alert_end.get(counter_id)
            if previous is not None and window[0][0] <= previous:
                continue  # the same burst as an alert already raised
            alerts.append(
                Alert(
                    kind="dissatisfaction",
                    unit_id=unit_id,
                    counter_id=counter_id,
                    created_at=answered_at,
                    window_start=window[0][0],
                    window_end=answered_at,
                    ratings=len(window),
                    dissatisfied=dissatisfied,
                )
            )
            last_alert_end[counter_id] = answered_at
    return alerts


# -- reading and acknowledging ---------------------------------------------------------------


def list_alerts(
    session: DbSession,
    unit_ids: Sequence[int] | None,
    *,
    include_acknowledged: bool = True,
    limit: int = 200,
) -> list[Alert]:
    """The latest alerts of ``unit_ids`` (None: every unit), newest first."""
    query = (
        select(Alert)
        .options(
            joinedload(Alert.unit),
            joinedload(Alert.officer),
            joinedload(Alert.counter),
        )
        .order_by(Alert.created_at.desc(), Alert.id.desc())
        .limit(limit)
    )
    if unit_ids is not None:
        query = query.where(Alert.unit_id.in_(list(unit_ids)))
    if not include_acknowledged:
        query = query.where(Alert.acknowledged_at.is_(None))
    return list(session.scalars(query).unique())


def acknowledge(session: DbSession, alert: Alert, user: User, now: dt.datetime) -> None:
    """Mark an alert as seen (committed, audited)."""
    if alert.acknowledged_at is not None:
        return
    alert.acknowledged_at = now
    alert.acknowledged_by_id = user.id
    audit.record(session, user.username, "acknowledge", "alert", alert.id, kind=alert.kind)
    session.commit()


# -- e-mail -----------------------------------------------------------------------------------


def describe(alert: Alert) -> str:
    """One sentence for a person (in the current locale)."""
    if alert.kind == "misconduct":
        officer = alert.officer
        return str(
            gettext(
                "A citizen reported misconduct by %(officer)s (%(code)s), %(unit)s.",
                officer=officer.name if officer else "?",
                code=officer.code if officer else "?",
                unit=alert.unit.name,
            )
        )
    counter = alert.counter
    start = alert.window_start.astimezone(LOCAL_TZ) if alert.window_start else None
    end = alert.window_end.astimezone(LOCAL_TZ) if alert.window_end else None
    return str(
        gettext(
            "Counter %(counter)s (%(unit)s): %(dissatisfied)s of %(ratings)s ratings dissatisfied "
            "between %(start)s and %(end)s.",
            counter=counter.name if counter else "?",
            unit=alert.unit.name,
            dissatisfied=alert.dissatisfied,
            ratings=alert.ratings,
            start=f"{start:%H:%M}" if start else "?",
            end=f"{end:%H:%M %d/%m/%Y}" if end else "?",
        )
    )


def build_message(alerts: Sequence[Alert], sender: str, recipients: Sequence[str]) -> EmailMessage:
    """The e-mail (in Vietnamese) listing ``alerts``."""
    with force_locale("vi"):
        subject = gettext("Citizen feedback: %(count)s new alerts", count=len(alerts))
        lines = [f"- {describe(alert)}" for alert in alerts]
        footer = gettext("Open the dashboard to see and decide them.")
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message.set_content("\n".join([*lines, "", footer]) + "\n")
    return message


def send_pending(session: DbSession, now: dt.datetime, config: Mapping[str, Any]) -> int:
    """E-mail the alerts not yet sent when MAIL_SERVER and ALERT_MAIL_TO are set (committed).

    Returns how many alerts went out. A failure is logged and the alerts stay pending, so the
    next run tries again.
    """
    server = config.get("MAIL_SERVER")
    recipients = [item.strip() for item in str(config.get("ALERT_MAIL_TO") or "").split(",")]
    recipients = [item for item in recipients if item]
    if not server or not recipients:
        return 0
    pending = list(
        session.scalars(
            select(Alert)
            .options(joinedload(Alert.unit), joinedload(Alert.officer), joinedload(Alert.counter))
            .where(Alert.emailed_at.is_(None))
            .order_by(Alert.created_at, Alert.id)
        ).unique()
    )
    if not pending:
        return 0
    sender = str(config.get("MAIL_FROM") or "mot-cua@localhost")
    message = build_message(pending, sender, recipients)
    try:
        with smtplib.SMTP(str(server), int(config.get("MAIL_PORT") or 25), timeout=30) as smtp:
            if config.get("MAIL_USE_TLS"):
                smtp.starttls()
            if config.get("MAIL_USERNAME"):
                smtp.login(str(config["MAIL_USERNAME"]), str(config.get("MAIL_PASSWORD") or ""))
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException):
        log.exception("alert e-mail to %s failed; will retry", recipients)
        return 0
    for alert in pending:
        alert.emailed_at = now
    session.commit()
    return len(pending)


def run_alerts_job(session: DbSession, now: dt.datetime) -> list[Alert]:
    """The scheduled job: scan, then e-mail what is new (settings from the app config)."""
    from flask import current_app

    new = scan_alerts(session, now, AlertSettings.from_config(current_app.config))
    send_pending(session, now, current_app.config)
    return new


# -- kiosk fleet health -----------------------------------------------------------------------


@dataclass(frozen=True)
class KioskHealth:
    device: Device
    counter: Counter
    centre: Centre
    offline: bool
    # Minutes since the last heartbeat, or None when the kiosk never sent one.
    silent_minutes: int | None


def fleet_health(
    session: DbSession,
    now: dt.datetime,
    offline_after: dt.timedelta,
    unit_ids: Sequence[int] | None = None,
) -> list[KioskHealth]:
    """Every kiosk not revoked, offline ones first (no heartbeat for ``offline_after``)."""
    query = (
        select(Device, Counter, Centre)
        .join(Counter, Device.counter_id == Counter.id)
        .join(Centre, Counter.centre_id == Centre.id)
        .where(Device.revoked_at.is_(None))
        .order_by(Centre.code, Counter.code, Device.id)
    )
    if unit_ids is not None:
        query = query.where(Centre.unit_id.in_(list(unit_ids)))
    kiosks = []
    for device, counter, centre in session.execute(query).all():
        seen = device.last_seen_at
        silent = None if seen is None else max(0, int((now - seen).total_seconds() // 60))
        offline = seen is None or now - seen >= offline_after
        kiosks.append(KioskHealth(device, counter, centre, offline, silent))
    return sorted(kiosks, key=lambda item: not item.offline)
