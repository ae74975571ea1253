"""Dashboard accounts: login, CSRF, revocable sessions, throttling, two-factor, headers, CLI."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pyotp
import pytest
from dashboard_support import DEFAULT_PASSWORD, csrf_token, login, logout, make_user
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from builders import BACKENDS, World, make_app
from survey_server import auth
from survey_server.extensions import db
from survey_server.models import User


@pytest.fixture
def head(app: Flask, world: World) -> str:
    with app.app_context():
        return make_user(db.session, "head", world.unit).username


@BACKENDS
def test_login_lands_on_the_dashboard_and_the_password_is_stored_with_scrypt(
    app: Flask, client: FlaskClient, head: str
) -> None:
    response = login(client, head)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/dashboard/")
    assert "UBND xã Thử Nghiệm" in client.get("/dashboard/").get_data(as_text=True)
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == head))
        assert user is not None
        assert user.password_hash.startswith("scrypt:")
        assert user.last_login_at is not None


def test_anonymous_is_sent_to_the_login_page(client: FlaskClient) -> None:
    response = client.get("/dashboard/")
    assert response.status_code == 302
    assert "/dashboard/login" in response.headers["Location"]


@pytest.mark.parametrize(
    ("username", "password"),
    [("head-u1", "wrong password!"), ("nobody", DEFAULT_PASSWORD), ("head-u1", "")],
)
def test_wrong_credentials_are_refused(
    client: FlaskClient, head: str, username: str, password: str
) -> None:
    response = login(client, username, password)
    assert response.status_code in (400, 401)
    assert client.get("/dashboard/").status_code == 302


def test_login_without_csrf_token_is_refused(client: FlaskClient, head: str) -> None:
    response = client.post(
        "/dashboard/login", data={"username": head, "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 400
    assert client.get("/dashboard/").status_code == 302


def test_logout_requires_post_with_csrf(client: FlaskClient, head: str) -> None:
    login(client, head)
    assert client.get("/dashboard/logout").status_code == 405
    assert client.post("/dashboard/logout").status_code == 400
    assert client.get("/dashboard/").status_code == 200  # still logged in


def test_a_copied_cookie_is_dead_after_logout(app: Flask, client: FlaskClient, head: str) -> None:
    login(client, head)
    cookie = client.get_cookie("session")
    assert cookie is not None
    thief = app.test_client()
    thief.set_cookie("session", cookie.value)
    assert thief.get("/dashboard/").status_code == 200
    assert logout(client).status_code == 302
    assert client.get("/dashboard/").status_code == 302
    assert thief.get("/dashboard/").status_code == 302


def test_a_password_change_ends_every_session(app: Flask, client: FlaskClient, head: str) -> None:
    login(client, head)
    assert client.get("/dashboard/").status_code == 200
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == head))
        assert user is not None
        auth.change_password(db.session, user, "a brand new password")
    assert client.get("/dashboard/").status_code == 302
    assert login(client, head).status_code == 401
    assert login(client, head, "a brand new password").status_code == 302


def test_an_account_locks_after_five_wrong_passwords(
    app: Flask, client: FlaskClient, head: str
) -> None:
    for _ in range(auth.MAX_FAILED_LOGINS):
        assert login(client, head, "wrong password!").status_code == 401
    locked = login(client, head)
    assert locked.status_code == 401
    assert "15" in locked.get_data(as_text=True)
    assert client.get("/dashboard/").status_code == 302
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == head))
        assert user is not None and user.locked_until is not None
        # After the lock has expired the right password works again.
        user.locked_until = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
        db.session.commit()
    assert login(client, head).status_code == 302


def test_login_posts_are_rate_limited_per_address(tmp_path: Path, database_url: str) -> None:
    app = make_app(database_url, tmp_path / "throttled", RATELIMIT_LOGIN="3 per minute")
    client = app.test_client()
    statuses = [login(client, "nobody", "wrong password!").status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    with app.app_context():
        db.engine.dispose()


def test_an_admin_with_totp_needs_the_code(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        admin = make_user(db.session, "admin", username="root")
        uri = auth.enable_totp(db.session, admin)
    secret = re.search(r"secret=([A-Z2-7]+)", uri)
    assert secret is not None
    assert login(client, "root").status_code == 401
    assert (
        login(
            client,
            "root",
            otp="000000" if pyotp.TOTP(secret.group(1)).now() != "000000" else "111111",
        ).status_code
        == 401
    )
    assert login(client, "root", otp=pyotp.TOTP(secret.group(1)).now()).status_code == 302


@pytest.mark.parametrize(
    ("next_url", "expected"),
    [
        ("/dashboard/units/1/", "/dashboard/units/1/"),
        ("https://evil.example/", "/dashboard/"),
        ("//evil.example/", "/dashboard/"),
    ],
)
def test_login_follows_only_local_next(
    client: FlaskClient, head: str, next_url: str, expected: str
) -> None:
    token = csrf_token(client)
    response = client.post(
        f"/dashboard/login?next={next_url}",
        data={"username": head, "password": DEFAULT_PASSWORD, "csrf_token": token},
    )
    assert response.headers["Location"] == expected


def test_security_headers(client: FlaskClient) -> None:
    response = client.get("/dashboard/login")
    csp = response.headers["Content-Security-Policy"]
    assert (
        "script-src 'self'" in csp
        and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    )
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "Strict-Transport-Security" not in response.headers
    secure = client.get("/dashboard/login", base_url="https://localhost")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")


def test_cli_creates_a_head_with_a_prompted_password(app: Flask, world: World) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["user", "create", "--username", "thu.truong", "--role", "head", "--unit", "U1"],
        input="a long password\na long password\n",
    )
    assert result.exit_code == 0, result.output
    short = runner.invoke(
        args=["user", "create", "--username", "x", "--role", "admin"], input="short\nshort\n"
    )
    assert short.exit_code != 0 and "10" in short.output
    headless = runner.invoke(
        args=["user", "create", "--username", "y", "--role", "head"],
        input="a long password\na long password\n",
    )
    assert headless.exit_code != 0
    client = app.test_client()
    assert login(client, "thu.truong", "a long password").status_code == 302


def test_demo_seed_creates_users_and_writes_their_logins(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["demo", "seed"])
    assert result.exit_code == 0, result.output
    users_file = Path(app.instance_path) / "demo_users.json"
    assert users_file.stat().st_mode & 0o777 == 0o600
    accounts = json.loads(users_file.read_text())
    assert {account["role"] for account in accounts.values()} == {"admin", "head", "viewer"}
    assert accounts["admin"]["password"] in result.output
    client = app.test_client()
    assert login(client, "truong.dbp", accounts["truong.dbp"]["password"]).status_code == 302
