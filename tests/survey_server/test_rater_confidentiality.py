"""Confidentiality of raters (forms.md, "Personal data"; regulations.md): nothing we keep says who
rated whom. A citizen answers from a phone (QR) and at the kiosk with a recognisable address,
browser and cookie; afterwards no row of any table holds any of them, and the log lines of an
accepted answer do not either. A phone number given with consent is the only trace, and it is
gone once the report is closed."""

from __future__ import annotations

import logging

import pytest
from dashboard_support import make_user
from flask import Flask
from flask.testing import FlaskClient
from qr_support import answer, csrf_of, push_dossier, token_of
from sqlalchemy import select

from builders import BACKENDS, World, response_body
from survey_server.extensions import db
from survey_server.models import MisconductReport, Response, utcnow
from survey_server.services.decisions import decide_report

ADDRESS = "203.0.113.77"
BROWSER = "RaterPhone/9.9 (marker-ua-5f1c)"
PHONE = "0912 345 678"
PHONE_DIGITS = "912345678"


def _every_value(app: Flask) -> list[str]:
    """Every cell of every table, as text."""
    with app.app_context():
        values: list[str] = []
        for table in db.metadata.sorted_tables:
            for row in db.session.execute(select(table)):
                values.extend(str(cell) for cell in row)
        return values


def _traces(app: Flask, markers: tuple[str, ...]) -> list[str]:
    return [value for value in _every_value(app) if any(marker in value for marker in markers)]


def _phone_client(app: Flask) -> FlaskClient:
    client = app.test_client()
    client.environ_base.update({"REMOTE_ADDR": ADDRESS, "HTTP_USER_AGENT": BROWSER})
    return client


@BACKENDS
def test_a_phone_answer_leaves_no_trace_of_who_sent_it(
    app: Flask, client: FlaskClient, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    push_dossier(client, world, returned=True)
    phone = _phone_client(app)
    token = token_of(app)
    caplog.set_level(logging.DEBUG)
    stored = answer(phone, token, "phieu1", {"overall": "4", "comment": "Nhanh gọn"})
    assert stored.status_code == 302
    cookie = phone.get_cookie("session")
    markers = (ADDRESS, BROWSER, "marker-ua-5f1c") + ((cookie.value,) if cookie else ())
    with app.app_context():
        assert db.session.scalar(select(Response.id)) is not None  # the answer is there …
    assert _traces(app, markers) == []  # … and nothing says whose it is
    assert [line for line in caplog.messages if ADDRESS in line or "marker-ua" in line] == []


@BACKENDS
def test_a_kiosk_answer_records_the_counter_not_the_person(
    app: Flask, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    kiosk = _phone_client(app)
    caplog.set_level(logging.DEBUG)
    reply = kiosk.post("/api/v1/responses", json=response_body(), headers=world.device_auth)
    assert reply.status_code == 201, reply.get_json()
    assert _traces(app, (ADDRESS, "marker-ua-5f1c")) == []
    assert [line for line in caplog.messages if ADDRESS in line] == []
    with app.app_context():
        stored = db.session.scalars(select(Response)).one()
        assert stored.counter is not None and stored.counter.code == world.counter


@BACKENDS
def test_a_consented_phone_number_is_the_only_trace_and_goes_with_the_report(
    app: Flask, client: FlaskClient, world: World
) -> None:
    push_dossier(client, world, returned=True)
    phone = _phone_client(app)
    token = token_of(app)
    stored = answer(phone, token, "phieu1", {"overall": "1", "misconduct": "co"})
    assert stored.status_code == 302
    thanks = phone.get(stored.headers["Location"]).get_data(as_text=True)
    sent = phone.post(
        f"/q/{token}/contact",
        data={"csrf_token": csrf_of(thanks), "phone": PHONE, "consent": "y"},
    )
    assert sent.status_code in (200, 302), sent.get_data(as_text=True)[:500]
    assert _traces(app, (PHONE_DIGITS,)) != []  # kept, with consent, for the follow-up
    assert _traces(app, (ADDRESS, "marker-ua-5f1c")) == []

    with app.app_context():
        head = make_user(db.session, "head", world.unit)
        reports = list(db.session.scalars(select(MisconductReport.id)))
        assert reports, "a misconduct answer opens a report"
        for report_id in reports:
            decide_report(
                db.session, report_id, confirm=False, reason="Không đủ căn cứ", user=head,
                now=utcnow(),
            )  # fmt: skip
    assert _traces(app, (PHONE_DIGITS,)) == []  # the head's decision closed it: number erased
