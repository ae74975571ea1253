"""Alerts: misconduct reports, a counter's dissatisfaction in a window, e-mail, fleet health."""

from __future__ import annotations

import datetime as dt
import socketserver
import threading
from collections.abc import Iterator
from decimal import Decimal
from email import message_from_bytes
from typing import Any

import pytest
from admin_support import T0, misconduct, rating
from flask import Flask
from sqlalchemy import select

from builders import BACKENDS, World
from survey_server.extensions import db
from survey_server.models import Alert, AuditEntry, Centre, Counter, Device, Unit, User
from survey_server.services import alerts

MIN = dt.timedelta(minutes=1)


@pytest.mark.parametrize(
    ("ratings", "dissatisfied", "expected"),
    [
        (4, 2, True),  # 50 % of 4: the default threshold is reached
        (4, 1, False),  # 25 %
        (3, 3, False),  # fewer than 4 ratings never alert
        (5, 3, True),  # 60 %
        (6, 2, False),  # 33 %
        (10, 5, True),
    ],
)
def test_threshold_table(ratings: int, dissatisfied: int, expected: bool) -> None:
    assert alerts.AlertSettings().exceeded(ratings, dissatisfied) is expected


def test_settings_from_config_and_refused_values() -> None:
    settings = alerts.AlertSettings.from_config(
        {"ALERT_DISSATISFIED_PCT": 75, "ALERT_MIN_RATINGS": 2, "ALERT_WINDOW_MINUTES": 10}
    )
    assert settings.threshold_pct == Decimal(75)
    assert settings.window == dt.timedelta(minutes=10)
    assert settings.exceeded(2, 2) and not settings.exceeded(4, 2)
    with pytest.raises(ValueError):
        alerts.AlertSettings(threshold_pct=Decimal(0))
    with pytest.raises(ValueError):
        alerts.AlertSettings(min_ratings=0)


@BACKENDS
def test_half_of_four_in_thirty_minutes_raises_one_alert(app: Flask, world: World) -> None:
    with app.app_context():
        for minutes, overall in ((0, 5), (5, 1), (10, 2), (20, 4)):
            rating(db.session, "K1", overall, T0 + minutes * MIN)
        db.session.commit()
        new = alerts.scan_alerts(db.session, T0 + 25 * MIN)
        assert [(a.kind, a.ratings, a.dissatisfied) for a in new] == [("dissatisfaction", 4, 2)]
        assert new[0].window_start == T0 and new[0].window_end == T0 + 20 * MIN
        unit_id = db.session.scalar(select(Unit.id).where(Unit.code == "U1"))
        assert new[0].unit_id == unit_id
        # The same burst, scanned again and grown by one more unhappy rating: nothing new.
        rating(db.session, "K1", 1, T0 + 22 * MIN)
        db.session.commit()
        assert alerts.scan_alerts(db.session, T0 + 26 * MIN) == []
        assert db.session.query(Alert).count() == 1


def test_ratings_spread_beyond_the_window_raise_nothing(app: Flask, world: World) -> None:
    with app.app_context():
        # Four ratings, two unhappy, but never four within 30 minutes.
        for minutes, overall in ((0, 1), (10, 1), (30, 5), (40, 5)):
            rating(db.session, "K1", overall, T0 + minutes * MIN)
        db.session.commit()
        assert alerts.scan_alerts(db.session, T0 + 60 * MIN) == []


def test_a_later_separate_burst_raises_a_second_alert(app: Flask, world: World) -> None:
    with app.app_context():
        for minutes in (0, 1, 2, 3):
            rating(db.session, "K1", 1, T0 + minutes * MIN)
        for minutes in (120, 121, 122, 123):
            rating(db.session, "K1", 2, T0 + minutes * MIN)
        db.session.commit()
        new = alerts.scan_alerts(db.session, T0 + 130 * MIN)
        assert [a.window_start for a in new] == [T0, T0 + 120 * MIN]


def test_invalid_ratings_and_old_ratings_do_not_count(app: Flask, world: World) -> None:
    with app.app_context():
        for minutes in (0, 1, 2, 3):
            rating(db.session, "K1", 1, T0 + minutes * MIN).valid = minutes != 0
        db.session.commit()
        assert alerts.scan_alerts(db.session, T0 + 5 * MIN) == []
        # Beyond the look-back (24 h) an old burst raises nothing either.
        rating(db.session, "K1", 1, T0 + 4 * MIN)
        db.session.commit()
        assert alerts.scan_alerts(db.session, T0 + dt.timedelta(days=2)) == []


@BACKENDS
def test_one_misconduct_alert_per_report_and_units_see_their_own(app: Flask, world: World) -> None:
    with app.app_context():
        report = misconduct(db.session, "R1", T0)
        new = alerts.scan_alerts(db.session, T0 + MIN)
        assert [(a.kind, a.misconduct_report_id, a.officer.code) for a in new] == [
            ("misconduct", report.id, "R1")
        ]
        assert alerts.scan_alerts(db.session, T0 + 2 * MIN) == []
        other = Unit(code="U2", name="Xã khác", level="commune")
        db.session.add(other)
        db.session.commit()
        unit_id = db.session.scalar(select(Unit.id).where(Unit.code == "U1"))
        assert len(alerts.list_alerts(db.session, [unit_id])) == 1
        assert alerts.list_alerts(db.session, [other.id]) == []
        assert len(alerts.list_alerts(db.session, None)) == 1


def test_acknowledge_is_audited_and_hides_from_the_open_list(app: Flask, world: World) -> None:
    with app.app_context():
        misconduct(db.session, "R1", T0)
        (alert,) = alerts.scan_alerts(db.session, T0 + MIN)
        user = User(username="adm", display_name="A", password_hash="x", role="admin")
        db.session.add(user)
        db.session.commit()
        alerts.acknowledge(db.session, alert, user, T0 + 2 * MIN)
        assert alerts.list_alerts(db.session, None, include_acknowledged=False) == []
        entry = db.session.scalars(select(AuditEntry).where(AuditEntry.entity == "alert")).one()
        assert (entry.actor, entry.action, entry.entity_id) == ("adm", "acknowledge", str(alert.id))


def test_message_names_the_officer_and_the_counter_in_vietnamese(app: Flask, world: World) -> None:
    with app.app_context():
        misconduct(db.session, "R1", T0)
        for minutes in (0, 1, 2, 3):
            rating(db.session, "K1", 1, T0 + minutes * MIN)
        db.session.commit()
        new = alerts.scan_alerts(db.session, T0 + 5 * MIN)
        message = alerts.build_message(new, "mot-cua@example.vn", ["sonoivu@example.vn"])
        body = message.get_content()
        assert message["To"] == "sonoivu@example.vn"
        assert "2" in message["Subject"]
        assert "Lò Thị Hoa (R1)" in body and "nhũng nhiễu" in body
        assert "Quầy 1" in body and "4/4" in body.replace(" trên ", "/")
        assert "08:00" in body  # local time (UTC+7) of the window's start


def test_no_mail_server_sends_nothing_and_keeps_alerts_pending(app: Flask, world: World) -> None:
    with app.app_context():
        misconduct(db.session, "R1", T0)
        alerts.scan_alerts(db.session, T0 + MIN)
        assert alerts.send_pending(db.session, T0, {"ALERT_MAIL_TO": "a@example.vn"}) == 0
        assert db.session.scalars(select(Alert.emailed_at)).all() == [None]


class _FakeSMTP(socketserver.StreamRequestHandler):
    """Just enough SMTP for smtplib: records the DATA of each message."""

    received: list[bytes]

    def handle(self) -> None:
        self.wfile.write(b"220 fake ready\r\n")
        while line := self.rfile.readline():
            command = line.strip().upper()
            if command == b"DATA":
                self.wfile.write(b"354 go on\r\n")
                data = b""
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    data += chunk
                self.server.received.append(data)  # type: ignore[attr-defined]
                self.wfile.write(b"250 queued\r\n")
            elif command == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


@pytest.fixture
def smtp_server() -> Iterator[Any]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _FakeSMTP)
    server.received = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_pending_alerts_go_out_once_by_smtp(app: Flask, world: World, smtp_server: Any) -> None:
    config = {
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp_server.server_address[1],
        "MAIL_FROM": "mot-cua@example.vn",
        "ALERT_MAIL_TO": "sonoivu@example.vn, truongphong@example.vn",
    }
    with app.app_context():
        misconduct(db.session, "R1", T0)
        alerts.scan_alerts(db.session, T0 + MIN)
        assert alerts.send_pending(db.session, T0 + 2 * MIN, config) == 1
        assert alerts.send_pending(db.session, T0 + 3 * MIN, config) == 0
        assert db.session.scalars(select(Alert.emailed_at)).all() == [T0 + 2 * MIN]
    (raw,) = smtp_server.received
    sent = message_from_bytes(raw)
    assert sent["To"] == "sonoivu@example.vn, truongphong@example.vn"
    assert "Lò Thị Hoa" in sent.get_payload(decode=True).decode("utf-8")


def test_an_unreachable_mail_server_leaves_alerts_pending(app: Flask, world: World) -> None:
    with socketserver.TCPServer(("127.0.0.1", 0), socketserver.BaseRequestHandler) as closed:
        port = closed.server_address[1]  # bound then closed below: nothing listens there
    config = {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": port, "ALERT_MAIL_TO": "a@example.vn"}
    with app.app_context():
        misconduct(db.session, "R1", T0)
        alerts.scan_alerts(db.session, T0 + MIN)
        assert alerts.send_pending(db.session, T0, config) == 0
        assert db.session.scalars(select(Alert.emailed_at)).all() == [None]


@BACKENDS
def test_fleet_health_lists_offline_kiosks_first(app: Flask, world: World) -> None:
    now = T0 + dt.timedelta(hours=1)
    with app.app_context():
        first = db.session.get(Device, world.device_id)
        assert first is not None
        first.last_seen_at = now - 2 * MIN
        first.queue_length = 3
        centre = db.session.scalars(select(Centre)).one()
        counter = Counter(code="K2", name="Quầy 2", centre=centre)
        silent = Device(name="Kiosk K2", token_hash="b" * 64, counter=counter)
        never = Device(name="Kiosk K2b", token_hash="c" * 64, counter=counter)
        revoked = Device(name="old", token_hash="d" * 64, counter=counter, revoked_at=T0)
        silent.last_seen_at = now - 15 * MIN
        db.session.add_all([counter, silent, never, revoked])
        db.session.commit()
        health = alerts.fleet_health(db.session, now, dt.timedelta(minutes=10))
        rows = [(k.device.name, k.offline, k.silent_minutes) for k in health]
        assert rows == [
            ("Kiosk K2", True, 15),
            ("Kiosk K2b", True, None),
            ("Kiosk K1", False, 2),
        ]
        assert health[2].device.queue_length == 3
        assert (
            alerts.fleet_health(db.session, now, dt.timedelta(minutes=10), [centre.unit_id + 99])
            == []
        )


def test_cli_scan_prints_the_new_alerts(app: Flask, world: World) -> None:
    with app.app_context():
        misconduct(db.session, "R1", dt.datetime.now(dt.UTC) - MIN)
    result = app.test_cli_runner().invoke(args=["alerts", "scan"])
    assert result.exit_code == 0, result.output
    assert "Cảnh báo mới: 1." in result.output and "Lò Thị Hoa (R1)" in result.output
    again = app.test_cli_runner().invoke(args=["alerts", "scan"])
    assert "Cảnh báo mới: 0." in again.output
