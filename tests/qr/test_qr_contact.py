"""The optional contact (forms.md, "Personal data"): offered only after misconduct or a rating
of 1–2, stored only with the ticked consent box, erased when the report is closed."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from qr_support import answer, csrf_of, push_dossier, token_of
from sqlalchemy import select

from builders import BACKENDS, World
from survey_server.extensions import db
from survey_server.forms_registry import survey_forms
from survey_server.models import MisconductReport, Response, ResponseContact
from survey_server.services import Refused
from survey_server.services.contact import (
    NOTICE_VERSION,
    normalise_phone,
    purge_contacts_of_closed_reports,
    record_contact,
)

CHECKBOX = re.compile(r'<input[^>]*name="consent"[^>]*>')


def _thanks(client: FlaskClient, token: str, answers: dict[str, str]) -> str:
    stored = answer(client, token, "phieu1", answers)
    assert stored.status_code == 302
    return client.get(stored.headers["Location"]).get_data(as_text=True)


def _contacts(app: Flask) -> list[ResponseContact]:
    with app.app_context():
        return list(db.session.scalars(select(ResponseContact)).all())


@pytest.mark.parametrize(
    ("answers", "offered"),
    [
        ({"overall": "5"}, False),
        ({"overall": "3", "misconduct": "khong"}, False),
        ({"overall": "2"}, True),
        ({"overall": "1"}, True),
        ({"overall": "5", "misconduct": "co"}, True),
    ],
)
def test_the_contact_is_offered_only_after_misconduct_or_a_low_rating(
    app: Flask, client: FlaskClient, world: World, answers: dict[str, str], offered: bool
) -> None:
    push_dossier(client, world)
    html = _thanks(client, token_of(app), answers)
    box = CHECKBOX.search(html)
    assert (box is not None) is offered
    if box is not None:
        assert "checked" not in box.group(0)  # never pre-ticked
        assert 'type="tel"' in html and "Sở Nội vụ" in html  # who keeps it, and why


@BACKENDS
def test_a_number_is_stored_only_with_consent(
    app: Flask, client: FlaskClient, world: World
) -> None:
    push_dossier(client, world)
    token = token_of(app)
    html = _thanks(client, token, {"overall": "1", "misconduct": "co"})
    csrf = csrf_of(html)
    no_consent = client.post(
        f"/q/{token}/contact", data={"csrf_token": csrf, "phone": "0912345678"}
    )
    assert no_consent.status_code == 422
    assert "đánh dấu ô đồng ý" in no_consent.get_data(as_text=True)
    assert _contacts(app) == []
    bad = client.post(
        f"/q/{token}/contact", data={"csrf_token": csrf, "phone": "12345", "consent": "y"}
    )
    assert bad.status_code == 422 and _contacts(app) == []
    kept = client.post(
        f"/q/{token}/contact",
        data={"csrf_token": csrf, "phone": "+84 912 345 678", "consent": "y"},
    )
    assert kept.status_code == 200
    (contact,) = _contacts(app)
    assert contact.phone == "0912345678"
    assert contact.notice_version == NOTICE_VERSION
    assert contact.consent_at is not None and contact.erased_at is None
    # The offer is used up: a second number for the same answer is not taken.
    again = client.post(
        f"/q/{token}/contact", data={"csrf_token": csrf, "phone": "0987654321", "consent": "y"}
    )
    assert again.status_code == 302
    assert [c.phone for c in _contacts(app)] == ["0912345678"]


def test_another_browser_cannot_attach_a_number_to_the_answer(
    app: Flask, client: FlaskClient, world: World
) -> None:
    push_dossier(client, world)
    push_dossier(client, world, "HS-OTHER")
    token = token_of(app)
    _thanks(client, token, {"overall": "1"})
    stranger = app.test_client()
    # A valid CSRF token of the stranger's own session, from a form still open elsewhere.
    csrf = csrf_of(stranger.get(f"/q/{token_of(app, 'HS-OTHER')}").get_data(as_text=True))
    posted = stranger.post(
        f"/q/{token}/contact", data={"csrf_token": csrf, "phone": "0912345678", "consent": "y"}
    )
    assert posted.status_code == 302
    assert _contacts(app) == []


@BACKENDS
def test_the_number_is_erased_when_the_report_is_closed(
    app: Flask, client: FlaskClient, world: World
) -> None:
    push_dossier(client, world, "HS-A")
    push_dossier(client, world, "HS-B")
    for code, answers in (
        ("HS-A", {"overall": "4", "misconduct": "co"}),
        ("HS-B", {"overall": "2"}),
    ):
        token = token_of(app, code)
        csrf = csrf_of(_thanks(client, token, answers))
        data = {"csrf_token": csrf, "phone": "0912 345 678", "consent": "y"}
        assert client.post(f"/q/{token}/contact", data=data).status_code == 200
    now = dt.datetime.now(dt.UTC)
    with app.app_context():
        # Report pending, low rating recent: both numbers kept.
        assert purge_contacts_of_closed_reports(db.session, now) == 0
        report = db.session.scalars(select(MisconductReport)).one()
        report.status = "rejected"
        report.decided_at = now
        db.session.commit()
        assert purge_contacts_of_closed_reports(db.session, now) == 1
        db.session.commit()
        # The low rating without a report: erased once the notice's 30 days are over.
        assert purge_contacts_of_closed_reports(db.session, now + dt.timedelta(days=29)) == 0
        assert purge_contacts_of_closed_reports(db.session, now + dt.timedelta(days=31)) == 1
        db.session.commit()
        contacts = db.session.scalars(select(ResponseContact)).all()
        assert [c.phone for c in contacts] == [None, None]
        assert all(c.erased_at is not None for c in contacts)
        assert all(c.consent_at is not None for c in contacts)  # the consent stays on record


def test_the_service_refuses_a_contact_the_answers_do_not_allow(
    app: Flask, client: FlaskClient, world: World
) -> None:
    push_dossier(client, world)
    answer(client, token_of(app), "phieu1", {"overall": "5"})
    with app.app_context():
        response = db.session.scalars(select(Response)).one()
        with pytest.raises(Refused) as caught:
            record_contact(
                db.session,
                response,
                survey_forms()["phieu1"],
                "0912345678",
                True,
                dt.datetime.now(dt.UTC),
            )
        assert caught.value.fields == {"response": "not_offered"}


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("0912345678", "0912345678"),
        ("0912 345 678", "0912345678"),
        ("+84 912.345.678", "0912345678"),
        ("84912345678", "0912345678"),
        ("0215 3825 111", "02153825111"),
        ("12345", None),
        ("09123456789012", None),
        ("không có", None),
    ],
)
def test_phone_numbers_are_normalised(raw: str, normalised: str | None) -> None:
    assert normalise_phone(raw) == normalised
