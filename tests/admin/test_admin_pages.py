"""The administration and alerts screens: access, CSRF, and each screen doing its job."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
from admin_support import misconduct, rating
from dashboard_support import csrf_token, login, make_user
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import Workbook, load_workbook
from PIL import Image
from sqlalchemy import select

from builders import World
from rating.ruleset import default_rulesets_dir
from survey_server.extensions import db
from survey_server.models import AuditEntry, Centre, Counter, Device, Officer, Unit, utcnow

ADMIN_PAGES = [
    "/dashboard/admin/",
    "/dashboard/admin/units",
    "/dashboard/admin/units/new",
    "/dashboard/admin/centres",
    "/dashboard/admin/centres/new",
    "/dashboard/admin/counters",
    "/dashboard/admin/counters/new",
    "/dashboard/admin/officers",
    "/dashboard/admin/officers/new",
    "/dashboard/admin/officers/import",
    "/dashboard/admin/officers/import/template.xlsx",
    "/dashboard/admin/users",
    "/dashboard/admin/users/new",
    "/dashboard/admin/rulesets",
    "/dashboard/admin/forms",
]


@pytest.fixture
def admin_client(app: Flask, world: World, client: FlaskClient) -> FlaskClient:
    with app.app_context():
        make_user(db.session, "admin", username="soNoiVu")
    assert login(client, "soNoiVu").status_code == 302
    return client


def _ids(app: Flask) -> dict[str, int]:
    with app.app_context():
        return {
            "unit": db.session.scalars(select(Unit.id)).first() or 0,
            "centre": db.session.scalars(select(Centre.id)).first() or 0,
            "counter": db.session.scalars(select(Counter.id)).first() or 0,
            "officer": db.session.scalars(select(Officer.id)).first() or 0,
            "device": db.session.scalars(select(Device.id)).first() or 0,
        }


def test_every_admin_page_opens_for_the_admin(app: Flask, admin_client: FlaskClient) -> None:
    ids = _ids(app)
    pages = [
        *ADMIN_PAGES,
        f"/dashboard/admin/units/{ids['unit']}",
        f"/dashboard/admin/centres/{ids['centre']}",
        f"/dashboard/admin/counters/{ids['counter']}",
        f"/dashboard/admin/officers/{ids['officer']}",
        "/dashboard/alerts/",
        "/dashboard/alerts/kiosks",
    ]
    for page in pages:
        assert admin_client.get(page).status_code == 200, page


@pytest.mark.parametrize("role", ["head", "viewer"])
def test_others_get_404_on_every_admin_page_and_action(
    app: Flask, world: World, client: FlaskClient, role: str
) -> None:
    with app.app_context():
        make_user(db.session, role, "U1", username="nguoi")
    login(client, "nguoi")
    ids = _ids(app)
    for page in ADMIN_PAGES + [f"/dashboard/admin/officers/{ids['officer']}"]:
        assert client.get(page).status_code == 404, page
    token = csrf_token(client, "/dashboard/alerts/")
    posts = [
        ("/dashboard/admin/units/new", {"code": "X", "name": "X", "level": "commune"}),
        (f"/dashboard/admin/devices/{ids['device']}/revoke", {}),
        (f"/dashboard/admin/officers/{ids['officer']}/pin/reset", {}),
        (f"/dashboard/admin/counters/{ids['counter']}/devices", {"name": "x"}),
    ]
    for path, data in posts:
        assert client.post(path, data={**data, "csrf_token": token}).status_code == 404, path
    with app.app_context():
        assert db.session.get(Device, ids["device"]).revoked_at is None  # type: ignore[union-attr]
        assert db.session.scalar(select(Unit).where(Unit.code == "X")) is None


def test_anonymous_is_sent_to_login(client: FlaskClient, world: World) -> None:
    response = client.get("/dashboard/admin/units")
    assert response.status_code == 302 and "/dashboard/login" in response.headers["Location"]


def test_create_a_unit_with_csrf_and_audit(app: Flask, admin_client: FlaskClient) -> None:
    data = {"code": "P-DB", "name": "Tỉnh Điện Biên", "level": "province", "parent_id": ""}
    assert admin_client.post("/dashboard/admin/units/new", data=data).status_code == 400
    token = csrf_token(admin_client, "/dashboard/admin/units/new")
    response = admin_client.post("/dashboard/admin/units/new", data={**data, "csrf_token": token})
    assert response.status_code == 302
    with app.app_context():
        unit = db.session.scalars(select(Unit).where(Unit.code == "P-DB")).one()
        entry = db.session.scalars(select(AuditEntry).where(AuditEntry.entity == "unit")).one()
        assert (entry.actor, entry.action, entry.entity_id) == ("soNoiVu", "create", str(unit.id))
    # A refused change shows the Vietnamese reason on the field and stores nothing.
    token = csrf_token(admin_client, "/dashboard/admin/units/new")
    page = admin_client.post(
        "/dashboard/admin/units/new", data={**data, "name": "Khác", "csrf_token": token}
    )
    assert page.status_code == 200 and "Mã này đã được sử dụng." in page.get_data(as_text=True)


def test_register_shows_the_token_once_then_revoke(app: Flask, admin_client: FlaskClient) -> None:
    ids = _ids(app)
    page_url = f"/dashboard/admin/counters/{ids['counter']}"
    token = csrf_token(admin_client, page_url)
    response = admin_client.post(
        f"{page_url}/devices", data={"name": "Kiosk mới", "csrf_token": token}
    )
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and "dev_" in text
    secret = text.split('<code class="token">')[1].split("</code>")[0]
    assert secret not in admin_client.get(page_url).get_data(as_text=True)
    with app.app_context():
        device = db.session.scalars(select(Device).where(Device.name == "Kiosk mới")).one()
    token = csrf_token(admin_client, page_url)
    admin_client.post(f"/dashboard/admin/devices/{device.id}/revoke", data={"csrf_token": token})
    with app.app_context():
        assert db.session.get(Device, device.id).revoked_at is not None  # type: ignore[union-attr]


def test_officer_pin_reset_and_photo(app: Flask, admin_client: FlaskClient) -> None:
    ids = _ids(app)
    url = f"/dashboard/admin/officers/{ids['officer']}"
    token = csrf_token(admin_client, url)
    response = admin_client.post(
        f"{url}/pin/reset", data={"csrf_token": token}, follow_redirects=True
    )
    assert "Mã PIN mới" in response.get_data(as_text=True)
    image = io.BytesIO()
    Image.new("RGB", (800, 1000), (10, 120, 200)).save(image, "PNG")
    image.seek(0)
    token = csrf_token(admin_client, url)
    admin_client.post(
        f"{url}/photo",
        data={"csrf_token": token, "photo": (image, "anh.png")},
        content_type="multipart/form-data",
    )
    with app.app_context():
        officer = db.session.get(Officer, ids["officer"])
        assert officer is not None and officer.photo and officer.pin_hash
        name = officer.photo
    with app.test_client().get(f"/photos/{name}") as served:  # public: the kiosk shows it
        assert served.status_code == 200 and served.mimetype == "image/jpeg"
        assert Image.open(io.BytesIO(served.get_data())).size == (480, 600)


def _xlsx(rows: list[list[object]]) -> io.BytesIO:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["Mã cán bộ", "Họ và tên", "Mã đơn vị", "Nhóm"])
    for row in rows:
        sheet.append(row)
    output = io.BytesIO()
    workbook.save(output)
    output.seek(0)
    return output


def test_import_refuses_a_bad_file_naming_row_and_column(
    app: Flask, admin_client: FlaskClient
) -> None:
    url = "/dashboard/admin/officers/import"
    template = admin_client.get(f"{url}/template.xlsx")
    assert load_workbook(io.BytesIO(template.data)).active["A1"].value == "Mã cán bộ"  # type: ignore[index]
    bad = _xlsx(
        [["CB7", "Lò Văn Bảy", "U1", "tiếp nhận"], ["CB8", "Lò Văn Tám", "U9", "tiếp nhận"]]
    )
    token = csrf_token(admin_client, url)
    response = admin_client.post(
        url,
        data={"csrf_token": token, "file": (bad, "cb.xlsx")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "Dòng 3, cột Mã đơn vị: không có đơn vị mã U9" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(Officer).where(Officer.code == "CB7")) is None
    good = _xlsx([["CB7", "Lò Văn Bảy", "U1", "tiếp nhận"]])
    token = csrf_token(admin_client, url)
    response = admin_client.post(
        url,
        data={"csrf_token": token, "file": (good, "cb.xlsx")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Officer).where(Officer.code == "CB7")) is not None


def test_ruleset_upload_and_in_effect(app: Flask, admin_client: FlaskClient) -> None:
    url = "/dashboard/admin/rulesets"
    page = admin_client.get(url).get_data(as_text=True)
    assert "reference v1" in page
    content = (default_rulesets_dir() / "reference-1.toml").read_text()
    content = content.replace("version = 1", "version = 2").replace(
        "effective_from = 2024-01-01", "effective_from = 2024-02-01"
    )
    token = csrf_token(admin_client, url)
    response = admin_client.post(
        url,
        data={"csrf_token": token, "file": (io.BytesIO(content.encode()), "reference-2.toml")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    text = response.get_data(as_text=True)
    assert "reference v2" in text
    # Stored in instance/rulesets (no RULESETS_DIR set); v2 is in effect for every month shown.
    assert (Path(app.instance_path) / "rulesets" / "reference-2.toml").read_text() == content
    in_effect = text.split('class="data in-effect"')[1].split("</table>")[0]
    assert "reference v2" in in_effect and "reference v1" not in in_effect


def test_forms_page_lists_the_questions(admin_client: FlaskClient) -> None:
    text = admin_client.get("/dashboard/admin/forms").get_data(as_text=True)
    assert "Phiếu số 1" in text and "Phiếu số 2" in text and "<code>overall</code>" in text


def test_heads_see_and_acknowledge_only_their_units_alerts(
    app: Flask, world: World, client: FlaskClient
) -> None:
    now = utcnow()
    with app.app_context():
        other = Unit(code="U2", name="Xã Bên Cạnh", level="commune")
        db.session.add(other)
        db.session.add(Officer(code="R9", name="Tòng Văn Chín", unit=other, group="reception"))
        centre = Centre(code="C2", name="TT 2", unit=other)
        db.session.add(Counter(code="K9", name="Quầy 9", centre=centre))
        db.session.commit()
        misconduct(db.session, "R1", now - dt.timedelta(minutes=5))
        for minutes in (1, 2, 3, 4):
            rating(db.session, "K9", 1, now - dt.timedelta(minutes=minutes))
        db.session.commit()
        make_user(db.session, "head", "U1", username="truong1")
    login(client, "truong1")
    text = client.get("/dashboard/alerts/").get_data(as_text=True)
    assert "Lò Thị Hoa" in text and "Quầy 9" not in text
    with app.app_context():
        from survey_server.models import Alert

        mine = db.session.scalars(select(Alert).where(Alert.kind == "misconduct")).one().id
        theirs = db.session.scalars(select(Alert).where(Alert.kind == "dissatisfaction")).one().id
    token = csrf_token(client, "/dashboard/alerts/")
    assert (
        client.post(
            f"/dashboard/alerts/{theirs}/acknowledge", data={"csrf_token": token}
        ).status_code
        == 404
    )
    assert (
        client.post(f"/dashboard/alerts/{mine}/acknowledge", data={"csrf_token": token}).status_code
        == 302
    )
    kiosks = client.get("/dashboard/alerts/kiosks").get_data(as_text=True)
    assert "Kiosk K1" in kiosks and "Quầy 9" not in kiosks
