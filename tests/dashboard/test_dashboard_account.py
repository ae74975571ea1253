"""My account: a signed-in user changes their own password and turns two-factor sign-in on/off."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pyotp
import pytest
from dashboard_support import DEFAULT_PASSWORD, csrf_token, login, make_user
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image, ImageDraw
from pyzbar.pyzbar import decode
from sqlalchemy import select
from werkzeug.test import TestResponse

from builders import BACKENDS, World, make_app
from survey_server import auth
from survey_server.extensions import db
from survey_server.models import AuditEntry, User

ACCOUNT = "/dashboard/account"
NEW_PASSWORD = "a brand new passphrase"  # noqa: S105  (test data)


@pytest.fixture
def admin(app: Flask) -> str:
    with app.app_context():
        return make_user(db.session, "admin", username="so.noi.vu").username


def _user(app: Flask, username: str) -> User:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        assert user is not None
        db.session.expunge(user)
        return user


def _post(client: FlaskClient, path: str, data: dict[str, str]) -> TestResponse:
    return client.post(path, data={**data, "csrf_token": csrf_token(client, ACCOUNT)})


def _change(client: FlaskClient, current: str, new: str, again: str | None = None) -> TestResponse:
    return _post(
        client,
        f"{ACCOUNT}/password",
        {
            "current_password": current,
            "new_password": new,
            "new_password_again": new if again is None else again,
        },
    )


def _signed_in(client: FlaskClient) -> bool:
    return client.get("/dashboard/").status_code == 200


def _wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


def _svg_qr_text(html: str) -> str:
    """Draw the page's inline SVG QR (one path of unit squares) and decode it with zbar."""
    svg = re.search(r'<div class="qr" id="totp-qr">(<svg.*?</svg>)', html, re.S)
    assert svg, "no inline SVG QR on the page"
    view = re.search(r'viewBox="0 0 (\d+) (\d+)"', svg.group(1))
    assert view
    scale = 8
    image = Image.new("L", (int(view.group(1)) * scale, int(view.group(2)) * scale), 255)
    draw = ImageDraw.Draw(image)
    squares = re.findall(r"M(\d+) (\d+)h1v1h-1z", svg.group(1))
    assert len(squares) > 100
    for x, y in squares:
        left, top = int(x) * scale, int(y) * scale
        draw.rectangle((left, top, left + scale - 1, top + scale - 1), fill=0)
    found = decode(image)
    assert len(found) == 1
    return str(found[0].data.decode())


def _start_totp(client: FlaskClient) -> tuple[str, str]:
    """Press "turn on"; return the page and the secret shown for manual entry."""
    started = _post(client, f"{ACCOUNT}/totp/start", {})
    assert started.status_code == 302
    html = client.get(ACCOUNT).get_data(as_text=True)
    secret = re.search(r'<code id="totp-secret">([A-Z2-7]+)</code>', html)
    assert secret, "no secret on the page"
    return html, secret.group(1)


# --- the page ----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["admin", "head", "viewer"])
def test_every_role_reaches_the_page_from_the_navigation(
    app: Flask, client: FlaskClient, world: World, role: str
) -> None:
    with app.app_context():
        name = make_user(db.session, role, None if role == "admin" else world.unit).username
    login(client, name)
    assert f'href="{ACCOUNT}"' in client.get("/dashboard/").get_data(as_text=True)
    page = client.get(ACCOUNT)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Tài khoản của tôi" in html and "Đổi mật khẩu" in html
    assert "Bật xác thực hai bước" in html


def test_anonymous_is_sent_to_the_login_page(client: FlaskClient) -> None:
    response = client.get(ACCOUNT)
    assert response.status_code == 302 and "/dashboard/login" in response.headers["Location"]


# --- changing the password ---------------------------------------------------------------------

REFUSALS = [
    # (current, new, again, status, Vietnamese message, a failed login counted?)
    ("wrong password!", NEW_PASSWORD, None, 401, "Mật khẩu hiện tại không đúng.", True),
    (DEFAULT_PASSWORD, NEW_PASSWORD, "a different passphrase", 400, "không khớp nhau", False),
    (DEFAULT_PASSWORD, "short", None, 400, "Mật khẩu quá yếu: cần ít nhất 10 ký tự.", False),
    (DEFAULT_PASSWORD, DEFAULT_PASSWORD, None, 400, "phải khác mật khẩu hiện tại", False),
]


@BACKENDS
@pytest.mark.parametrize(("current", "new", "again", "status", "message", "counted"), REFUSALS)
def test_a_refused_change_says_why_and_changes_nothing(
    app: Flask,
    client: FlaskClient,
    admin: str,
    current: str,
    new: str,
    again: str | None,
    status: int,
    message: str,
    counted: bool,
) -> None:
    login(client, admin)
    before = _user(app, admin)
    response = _change(client, current, new, again)
    assert response.status_code == status
    assert message in response.get_data(as_text=True)
    after = _user(app, admin)
    assert after.password_hash == before.password_hash
    assert after.session_version == before.session_version
    assert after.failed_logins == before.failed_logins + counted
    assert _signed_in(client)
    with app.app_context():
        assert db.session.scalar(select(AuditEntry).where(AuditEntry.entity == "user")) is None


def test_wrong_current_passwords_lock_the_account_like_the_login(
    app: Flask, client: FlaskClient, admin: str
) -> None:
    login(client, admin)
    for _ in range(auth.MAX_FAILED_LOGINS):
        assert _change(client, "wrong password!", NEW_PASSWORD).status_code == 401
    # Locked: even the right current password is refused now, and so is the login.
    locked = _change(client, DEFAULT_PASSWORD, NEW_PASSWORD)
    assert locked.status_code == 401 and "15" in locked.get_data(as_text=True)
    assert login(app.test_client(), admin).status_code == 401
    assert _user(app, admin).locked_until is not None


@BACKENDS
def test_a_changed_password_keeps_this_session_and_ends_the_others(
    app: Flask, client: FlaskClient, admin: str
) -> None:
    other = app.test_client()
    login(client, admin)
    login(other, admin)
    assert _signed_in(other)
    response = _change(client, DEFAULT_PASSWORD, NEW_PASSWORD)
    assert response.status_code == 302
    assert "Đã đổi mật khẩu" in client.get(ACCOUNT).get_data(as_text=True)
    assert _signed_in(client)
    gone = other.get("/dashboard/")
    assert gone.status_code == 302 and "/dashboard/login" in gone.headers["Location"]
    assert login(app.test_client(), admin).status_code == 401
    assert login(app.test_client(), admin, NEW_PASSWORD).status_code == 302
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "change_password"))
        assert entry is not None
        assert (entry.actor, entry.entity) == (admin, "user")
        stored = json.dumps(entry.details)
        assert DEFAULT_PASSWORD not in stored and NEW_PASSWORD not in stored


def test_the_account_posts_share_the_login_rate_limit(tmp_path: Path, database_url: str) -> None:
    app = make_app(database_url, tmp_path / "throttled", RATELIMIT_LOGIN="3 per minute")
    with app.app_context():
        make_user(db.session, "admin", username="root")
    client = app.test_client()
    assert login(client, "root").status_code == 302
    statuses = [
        _change(client, DEFAULT_PASSWORD, "short").status_code,
        _post(client, f"{ACCOUNT}/totp/start", {}).status_code,
        _change(client, DEFAULT_PASSWORD, "short").status_code,
        _post(client, f"{ACCOUNT}/totp/enable", {"code": "123456"}).status_code,
    ]
    assert statuses == [400, 302, 400, 429]
    with app.app_context():
        db.engine.dispose()


def test_every_post_of_the_page_needs_the_csrf_token(
    app: Flask, client: FlaskClient, admin: str
) -> None:
    login(client, admin)
    before = _user(app, admin)
    for path, data in [
        ("password", {"current_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD}),
        ("totp/start", {}),
        ("totp/enable", {"code": "123456"}),
        ("totp/disable", {"password": DEFAULT_PASSWORD, "code": "123456"}),
    ]:
        if path == "password":
            data["new_password_again"] = NEW_PASSWORD
        assert client.post(f"{ACCOUNT}/{path}", data=data).status_code == 400, path
    after = _user(app, admin)
    assert (after.password_hash, after.session_version) == (
        before.password_hash,
        before.session_version,
    )
    assert "Bật xác thực hai bước" in client.get(ACCOUNT).get_data(as_text=True)  # no secret drawn


# --- two-factor sign-in ------------------------------------------------------------------------


@BACKENDS
def test_two_factor_turns_on_only_with_a_code_of_the_secret_shown(
    app: Flask, client: FlaskClient, admin: str
) -> None:
    other = app.test_client()
    login(client, admin)
    login(other, admin)
    html, secret = _start_totp(client)
    uri = _svg_qr_text(html)
    assert uri == pyotp.TOTP(secret).provisioning_uri(
        name=admin, issuer_name="Một cửa - Đánh giá cán bộ"
    )
    parts = urlsplit(uri)
    assert parts.scheme == "otpauth" and parse_qs(parts.query)["secret"] == [secret]
    assert unquote(parts.path).endswith(admin)
    assert _user(app, admin).totp_secret is None  # not stored before a code verified

    code = pyotp.TOTP(secret).now()
    refused = _post(client, f"{ACCOUNT}/totp/enable", {"code": _wrong(code)})
    assert refused.status_code == 400
    assert "Mã xác thực không đúng." in refused.get_data(as_text=True)
    assert _user(app, admin).totp_secret is None
    assert _signed_in(other)

    accepted = _post(client, f"{ACCOUNT}/totp/enable", {"code": code})
    assert accepted.status_code == 302
    assert _user(app, admin).totp_secret == secret
    assert _signed_in(client) and not _signed_in(other)
    assert "Tắt xác thực hai bước" in client.get(ACCOUNT).get_data(as_text=True)
    assert login(app.test_client(), admin).status_code == 401  # the code is now required
    fresh = app.test_client()
    assert login(fresh, admin, otp=pyotp.TOTP(secret).now()).status_code == 302
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "enable_totp"))
        assert entry is not None and secret not in json.dumps(entry.details)


def test_the_pending_secret_belongs_to_the_user_who_drew_it(
    app: Flask, client: FlaskClient, admin: str
) -> None:
    login(client, admin)
    _, secret = _start_totp(client)
    with app.app_context():
        make_user(db.session, "admin", username="khac")
    assert (
        client.post(
            "/dashboard/logout", data={"csrf_token": csrf_token(client, "/dashboard/")}
        ).status_code
        == 302
    )
    login(client, "khac")
    assert secret not in client.get(ACCOUNT).get_data(as_text=True)
    code = pyotp.TOTP(secret).now()
    assert _post(client, f"{ACCOUNT}/totp/enable", {"code": code}).status_code == 400
    assert _user(app, "khac").totp_secret is None


@BACKENDS
def test_turning_two_factor_off_needs_the_password_and_a_code(
    app: Flask, client: FlaskClient, admin: str
) -> None:
    secret = pyotp.random_base32()
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == admin))
        assert user is not None
        user.totp_secret = secret
        db.session.commit()
    totp = pyotp.TOTP(secret)
    login(client, admin, otp=totp.now())
    other = app.test_client()
    login(other, admin, otp=totp.now())
    disable = f"{ACCOUNT}/totp/disable"
    wrong_password = _post(client, disable, {"password": "wrong password!", "code": totp.now()})
    assert wrong_password.status_code == 401
    assert "Mật khẩu hiện tại không đúng." in wrong_password.get_data(as_text=True)
    wrong_code = _post(client, disable, {"password": DEFAULT_PASSWORD, "code": _wrong(totp.now())})
    assert wrong_code.status_code == 401
    assert "Mã xác thực không đúng." in wrong_code.get_data(as_text=True)
    no_code = _post(client, disable, {"password": DEFAULT_PASSWORD, "code": ""})
    assert no_code.status_code == 400
    state = _user(app, admin)
    assert state.totp_secret == secret and state.failed_logins == 2
    assert _signed_in(other)

    done = _post(client, disable, {"password": DEFAULT_PASSWORD, "code": totp.now()})
    assert done.status_code == 302
    assert _user(app, admin).totp_secret is None
    assert "Đã tắt xác thực hai bước" in client.get(ACCOUNT).get_data(as_text=True)
    assert _signed_in(client) and not _signed_in(other)
    assert login(app.test_client(), admin).status_code == 302
    with app.app_context():
        actions = db.session.scalars(select(AuditEntry.action)).all()
        assert actions == ["disable_totp"]
