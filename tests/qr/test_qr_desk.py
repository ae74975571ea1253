"""The desk print view /receipt/<code>: logged-in staff only, a head only for their unit."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from qr_support import push_dossier, token_of
from sqlalchemy import func, select

from builders import World
from survey_server.auth import create_user
from survey_server.extensions import db
from survey_server.models import ReceiptPrint, Unit


def _login(app: Flask, client: FlaskClient, role: str, unit_code: str | None) -> None:
    with app.app_context():
        unit_id = None
        if unit_code is not None:
            unit_id = db.session.scalar(select(Unit.id).where(Unit.code == unit_code))
        user = create_user(
            db.session,
            username=f"{role}-{unit_code}",
            password="a long enough password",
            role=role,
            unit_id=unit_id,
        )
        user_id = user.get_id()
    with client.session_transaction() as session:
        session["_user_id"] = user_id
        session["_fresh"] = True


@pytest.fixture
def other_unit(app: Flask, world: World) -> str:
    with app.app_context():
        db.session.add(Unit(code="U2", name="UBND xã Bên Cạnh", level="commune"))
        db.session.commit()
    return "U2"


def test_anonymous_people_never_see_the_token(
    app: Flask, client: FlaskClient, world: World
) -> None:
    push_dossier(client, world)
    page = client.get("/receipt/HS-0001")
    assert page.status_code in (302, 401)
    if page.status_code == 302:
        assert "/dashboard/login" in page.headers["Location"]
    assert token_of(app) not in page.get_data(as_text=True)


@pytest.mark.parametrize(
    ("role", "unit", "status"),
    [("admin", None, 200), ("head", "U1", 200), ("viewer", "U1", 200), ("head", "U2", 404)],
)
def test_staff_see_receipts_of_their_unit_only(
    app: Flask,
    client: FlaskClient,
    world: World,
    other_unit: str,
    role: str,
    unit: str | None,
    status: int,
) -> None:
    push_dossier(client, world)
    _login(app, client, role, unit)
    page = client.get("/receipt/HS-0001")
    assert page.status_code == status
    html = page.get_data(as_text=True)
    with app.app_context():
        prints = db.session.scalar(select(func.count()).select_from(ReceiptPrint))
    if status == 200:
        assert token_of(app) in html
        assert "<svg" in html and "Mã hồ sơ: HS-0001" in html and "Đăng ký khai sinh" in html
        assert "Hẹn trả kết quả" in html
        assert prints == 1
    else:
        assert token_of(app) not in html
        assert prints == 0


def test_an_unknown_dossier_is_404_for_staff(app: Flask, client: FlaskClient, world: World) -> None:
    _login(app, client, "admin", None)
    assert client.get("/receipt/NOPE").status_code == 404


def test_flask_urls_lists_the_receipt_view(app: Flask, client: FlaskClient, world: World) -> None:
    push_dossier(client, world)
    result = app.test_cli_runner().invoke(args=["urls"])
    assert "/receipt/HS-0001" in result.output
