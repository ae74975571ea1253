"""Helpers for the receipt-QR tests (tests/qr/, tests/browser/test_qr_*)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from builders import World, dossier_body, returned_dossier_body
from survey_server.extensions import db
from survey_server.models import Dossier
from survey_server.services.tokens import token_for_dossier

CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def push_dossier(
    client: FlaskClient, world: World, code: str = "HS-0001", returned: bool = False, **over: Any
) -> None:
    """Push a dossier received an hour ago, due in three days (returned 10 minutes ago)."""
    now = dt.datetime.now(dt.UTC)
    times = {
        "received_at": (now - dt.timedelta(hours=1)).isoformat(),
        "due_at": (now + dt.timedelta(days=3)).isoformat(),
    }
    if returned:
        times["returned_at"] = (now - dt.timedelta(minutes=10)).isoformat()
    body = returned_dossier_body(code) if returned else dossier_body(code)
    body.update(times)
    body.update(over)
    response = client.post("/api/v1/dossiers", json=body, headers=world.key_auth)
    assert response.status_code in (200, 201), response.get_json()


def token_of(app: Flask, code: str = "HS-0001") -> str:
    with app.app_context():
        dossier = db.session.scalar(select(Dossier).where(Dossier.code == code))
        assert dossier is not None
        return token_for_dossier(app.config["SECRET_KEY"], dossier)


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF token in the page"
    return found.group(1)


def answer(
    client: FlaskClient, token: str, form: str, answers: dict[str, str], query: str = ""
) -> Any:
    """GET the page, then POST the answers with its CSRF token (like a browser)."""
    page = client.get(f"/q/{token}{query}")
    data = {"csrf_token": csrf_of(page.get_data(as_text=True)), "form": form, **answers}
    return client.post(f"/q/{token}{query}", data=data)
