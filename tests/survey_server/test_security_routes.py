"""Security tests generated from the URL map: a new route is covered without editing this file.

Access control across units, the public allow-list, CSRF on every POST, stored XSS in comments,
SQL injection in every query parameter, and the security headers.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from dashboard_support import csrf_token, login, make_user
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from security_support import (
    BEARER_ENDPOINTS,
    FORBIDDEN_NOT_HIDDEN,
    MONTH,
    PUBLIC_ENDPOINTS,
    SECRET_OFFICER_NAME,
    SECRET_UNIT_NAME,
    Units,
    build_units,
    fill,
    methods,
    query_parameters,
    session_rules,
    snapshot,
)
from werkzeug.test import TestResponse

from builders import RECEIVED, World, response_body
from survey_server.extensions import db

ROOT = Path(__file__).resolve().parents[2]
XSS = "<script>alert(1)</script><img src=x onerror=alert(1)>"
XSS_ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"
INJECTIONS = ("' OR 1=1 --", "1; DROP TABLE responses")
# Form fields a POST could act on if CSRF were not checked (every form gets all of them).
POST_DATA = {
    "decision": "confirm",
    "reason": "x",
    "violations": "9",
    "code": "X-NEW",
    "name": "X",
    "level": "commune",
    "username": "x-new",
    "password": "correct horse battery",
    "role": "viewer",
    "action": "login",
    "officer": "R1",
    "pin": "1234",
    "overall": "5",
}
# GET pages that write on purpose: the receipt records its printing, the alerts page refreshes.
WRITING_TABLES = frozenset({"receipt_prints", "alerts"})


@pytest.fixture
def units(app: Flask, world: World) -> Units:
    return build_units(app, world)


def _client(app: Flask, role: str, unit: str | None, username: str) -> FlaskClient:
    with app.app_context():
        make_user(db.session, role, unit, username=username)
    client = app.test_client()
    assert login(client, username).status_code == 302
    return client


def _is_login_wall(response: TestResponse) -> bool:
    if response.status_code == 401:
        return True
    location = response.headers.get("Location", "")
    return response.status_code == 302 and "/dashboard/login" in location


def _request(client: FlaskClient, method: str, path: str, data: dict[str, str]) -> TestResponse:
    if method == "GET":
        return client.get(path)
    return client.open(path, method=method, data=data)


def _readable(response: TestResponse) -> str:
    """The text a person could read in the response (spreadsheet cells included)."""
    if response.mimetype.endswith("spreadsheetml.sheet"):
        book = load_workbook(io.BytesIO(response.data), read_only=True)
        return "\n".join(
            str(cell) for sheet in book for row in sheet.iter_rows(values_only=True) for cell in row
        )
    if response.mimetype.startswith(("text/", "image/svg")) or "json" in response.mimetype:
        return response.get_data(as_text=True)
    return ""


# --- (1) access control -------------------------------------------------------------------------


def test_the_allow_lists_name_existing_routes(app: Flask) -> None:
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints >= PUBLIC_ENDPOINTS
    assert endpoints >= BEARER_ENDPOINTS
    assert not PUBLIC_ENDPOINTS & BEARER_ENDPOINTS


def test_anonymous_meets_the_login_wall_everywhere_but_the_allow_list(
    app: Flask, units: Units
) -> None:
    """The public endpoints are exactly the allow-list: a new public route fails here until it
    is added on purpose; bearer APIs answer 401 without their credential."""
    client = app.test_client()
    token = csrf_token(client)
    data = {**POST_DATA, "csrf_token": token}
    public: set[str] = set()
    for rule in app.url_map.iter_rules():
        path = fill(rule, units.values["B"])
        for method in sorted(methods(rule)):
            response = _request(client, method, path, data)
            assert response.status_code < 500, (method, path)
            if rule.endpoint in BEARER_ENDPOINTS:
                assert response.status_code == 401, (method, path)
            elif not _is_login_wall(response):
                public.add(rule.endpoint)
    assert public == PUBLIC_ENDPOINTS


def test_a_head_of_unit_a_gets_404_on_every_route_of_unit_b(app: Flask, units: Units) -> None:
    head = _client(app, "head", "U1", "head-a")
    admin = _client(app, "admin", None, "admin-all")
    checked = 0
    for rule in session_rules(app):
        if "GET" not in methods(rule) or not rule.arguments:
            continue
        path = fill(rule, units.values["B"])
        # The filled ids are real: the province's admin opens the page.
        assert admin.get(path).status_code in (200, 302), path
        expected = 403 if rule.endpoint in FORBIDDEN_NOT_HIDDEN else 404
        assert head.get(path).status_code == expected, path
        checked += 1
    assert checked >= 15  # units, officers, months, exports, admin objects, index, tt01, desk
    # Unit B in a query string is refused too.
    assert head.get("/dashboard/tt01/export.xlsx?unit=U2").status_code == 404
    assert head.get(f"/dashboard/answers.csv?month={MONTH}").status_code == 404


def test_no_page_a_head_of_unit_a_opens_names_unit_b(app: Flask, units: Units) -> None:
    head = _client(app, "head", "U1", "head-a")
    seen = 0
    for rule in session_rules(app):
        if "GET" not in methods(rule):
            continue
        for query in ("", "?unit=U2"):
            response = head.get(fill(rule, units.values["A"]) + query)
            assert response.status_code in (200, 302, 400, 404), rule.rule
            text = _readable(response)
            assert SECRET_UNIT_NAME not in text, rule.rule
            assert SECRET_OFFICER_NAME not in text, rule.rule
            seen += response.status_code == 200
    assert seen >= 10


# --- (2) CSRF ------------------------------------------------------------------------------------


def test_every_post_without_a_csrf_token_is_refused_and_changes_nothing(
    app: Flask, units: Units
) -> None:
    admin = _client(app, "admin", None, "admin-all")
    before = snapshot(app)
    posts = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint in BEARER_ENDPOINTS:
            continue
        for method in sorted(methods(rule) - {"GET"}):
            path = fill(rule, units.values["A"])
            response = admin.open(path, method=method, data=POST_DATA)
            assert response.status_code == 400, (method, path, response.status_code)
            posts += 1
    assert posts >= 20
    assert snapshot(app) == before


# --- (3) stored XSS ------------------------------------------------------------------------------


def test_a_script_in_a_comment_is_escaped_on_every_page(
    app: Flask, units: Units, world: World
) -> None:
    body = response_body(
        answers={"overall": 1, "misconduct": "co", "comment": XSS},
        answered_at=RECEIVED.isoformat(),
    )
    stored = app.test_client().post("/api/v1/responses", json=body, headers=world.device_auth)
    assert stored.status_code == 201, stored.get_json()
    admin = _client(app, "admin", None, "admin-all")
    a = units.values["A"]
    for path in (
        f"/dashboard/officers/{a['officer_id']}/{MONTH}",
        f"/dashboard/units/{a['unit_id']}/{MONTH}",
    ):
        text = admin.get(path).get_data(as_text=True)
        assert XSS_ESCAPED in text, path
        assert XSS not in text, path
    for rule in session_rules(app):
        if "GET" in methods(rule):
            text = _readable(admin.get(fill(rule, a)))
            if not rule.rule.endswith((".xlsx", ".csv")):
                assert "<script>alert" not in text and "<img src=x" not in text, rule.rule


# --- (4) SQL injection ---------------------------------------------------------------------------


def test_sql_injection_in_query_parameters_never_fails_and_changes_nothing(
    app: Flask, units: Units
) -> None:
    parameters = query_parameters(ROOT)
    assert {"quarter", "unit", "year", "table", "month", "group", "band", "next"} <= parameters
    admin = _client(app, "admin", None, "admin-all")
    before = snapshot(app, WRITING_TABLES)
    for rule in session_rules(app):
        if "GET" not in methods(rule):
            continue
        path = fill(rule, units.values["A"])
        for injection in INJECTIONS:
            # Every parameter at once; where that is refused (a 4xx may hide the parameters
            # read after the refused one), each parameter alone as well.
            response = admin.get(path, query_string=dict.fromkeys(parameters, injection))
            assert response.status_code < 500, (path, injection)
            if response.status_code < 400:
                continue
            for name in sorted(parameters):
                response = admin.get(path, query_string={name: injection})
                assert response.status_code < 500, (path, name, injection)
        for injection in INJECTIONS:
            # In the path as well, wherever a variable is free text.
            values = {
                key: (injection if key in ("code", "centre_code", "month_text") else value)
                for key, value in units.values["A"].items()
            }
            assert admin.get(fill(rule, values)).status_code < 500, (rule.rule, injection)
    assert snapshot(app, WRITING_TABLES) == before


# --- (5) security headers ------------------------------------------------------------------------


def test_security_headers_on_every_dashboard_page(app: Flask, units: Units) -> None:
    head = _client(app, "head", "U1", "head-a")
    pages = 0
    for rule in session_rules(app):
        if "GET" not in methods(rule):
            continue
        response = head.get(fill(rule, units.values["A"]))
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        pages += 1
        policy = {
            part.split()[0]: part.split()[1:]
            for part in response.headers["Content-Security-Policy"].split(";")
            if part.strip()
        }
        scripts = policy.get("script-src", policy.get("default-src"))
        assert scripts is not None and "'unsafe-inline'" not in scripts, rule.rule
        assert policy["frame-ancestors"] == ["'none'"], rule.rule
        assert response.headers["X-Frame-Options"] == "DENY", rule.rule
        assert response.headers["X-Content-Type-Options"] == "nosniff", rule.rule
        assert response.headers["Referrer-Policy"] in ("same-origin", "no-referrer"), rule.rule
    assert pages >= 5
