"""Security tests' helpers: two units with objects of every kind, URL-map walking, DB snapshots.

The routes are taken from ``app.url_map`` so that a new route is covered without editing the
tests; the URL variables are filled with the ids and codes of one unit's objects.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from dashboard_support import RatedWorld, build_rated_world, make_user
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text
from werkzeug.routing import Rule

from builders import World, dossier_body
from survey_server.extensions import db
from survey_server.models import Centre, Counter, Dossier, Officer, Unit
from survey_server.services import credentials
from survey_server.services.tokens import token_for_dossier

# Endpoints anybody may open without a dashboard session. Deciding that a new route is public
# means adding it here (the test fails until then).
PUBLIC_ENDPOINTS = frozenset(
    {
        "static",
        "web.home",
        "web.healthz",
        "dashboard.login",
        "api.openapi",
        "kiosk.app_page",  # the kiosk app itself; its API needs the device token
        "kiosk.static",
        "kiosk.service_worker",
        "kiosk.desk",  # the desk page has its own login (officer code + PIN)
        "officer_photos.photo",  # the officers' photos shown on the kiosk
        "qr.survey",  # /q/<token>: the signed token is the credential
        "qr.thanks",
        "qr.contact",
    }
)
# Machine APIs with their own credential (device token or integration key, no cookie, no CSRF).
BEARER_ENDPOINTS = frozenset(
    {
        "api.post_dossier",
        "api.post_response",
        "qr.dossier_qr",
        "kiosk.api_state",
        "kiosk.api_heartbeat",
        "kiosk.api_shift",
        "kiosk.api_close_shift",
        "kiosk.api_current_dossier",
    }
)
# Where a head of another unit would get 403 instead of 404 (none: every route hides).
FORBIDDEN_NOT_HIDDEN: frozenset[str] = frozenset()

MONTH = "2026-10"
# Names that only unit B's objects carry: none may appear on a page a head of unit A opens.
SECRET_UNIT_NAME = "Xã Bí Mật Bên Kia"
SECRET_OFFICER_NAME = "Cán bộ Riêng Của Đơn Vị B"


@dataclass(frozen=True)
class Units:
    """The ``rated`` province (U1 = unit A, U2 = unit B) and the URL values of each unit."""

    rated: RatedWorld
    values: dict[str, dict[str, str]]  # "A" / "B" → URL variable → value


def _push_dossier(client: FlaskClient, world: World, code: str, unit: str, officer: str) -> None:
    now = dt.datetime.now(dt.UTC)
    body = dossier_body(
        code,
        unit=unit,
        centre=f"C-{unit}" if unit != "U1" else "C1",
        received_at=(now - dt.timedelta(hours=1)).isoformat(),
        due_at=(now + dt.timedelta(days=3)).isoformat(),
        reception_officer=officer,
        resolving_officers=[officer],
    )
    response = client.post("/api/v1/dossiers", json=body, headers=world.key_auth)
    assert response.status_code in (200, 201), response.get_json()


def build_units(app: Flask, world: World) -> Units:
    """Unit A (U1, the ``world``) and unit B (U2), each with a centre, counter, kiosk, officer,
    dossier, user and misconduct report; unit B's names are marked as secret."""
    with app.app_context():
        rated = build_rated_world(db.session)
        other = db.session.get(Unit, rated.other_unit_id)
        assert other is not None
        other.name = SECRET_UNIT_NAME
        r9 = db.session.get(Officer, rated.officers["R9"])
        assert r9 is not None
        r9.name = SECRET_OFFICER_NAME
        centre_b = db.session.scalars(select(Centre).where(Centre.unit_id == other.id)).one()
        db.session.add(Counter(code="K-U2", name="Quầy B", centre=centre_b))
        db.session.commit()
        device_b, _ = credentials.register_device(db.session, "K-U2", None, actor="test")
        user_b = make_user(db.session, "viewer", "U2", username="viewer-b")
        user_a = make_user(db.session, "viewer", "U1", username="viewer-a")
        ids_b = {"device_id": device_b.id, "user_id": user_b.id, "centre_id": centre_b.id}
        counter_a = db.session.scalars(select(Counter).where(Counter.code == "K1")).one()
        ids_a = {
            "device_id": world.device_id,
            "user_id": user_a.id,
            "centre_id": counter_a.centre_id,
            "counter_a": counter_a.id,
        }
        counter_b_id = db.session.scalars(select(Counter.id).where(Counter.code == "K-U2")).one()
    client = app.test_client()
    _push_dossier(client, world, "HS-A", "U1", "R1")
    _push_dossier(client, world, "HS-B", "U2", "R9")
    with app.app_context():
        tokens = {
            code: token_for_dossier(
                app.config["SECRET_KEY"],
                db.session.scalars(select(Dossier).where(Dossier.code == code)).one(),
            )
            for code in ("HS-A", "HS-B")
        }

    def values(
        side: str, unit_code: str, officer: str, report: int, extra: dict[str, int]
    ) -> dict[str, str]:
        return {
            "unit_id": str(rated.unit_id if side == "A" else rated.other_unit_id),
            "officer_id": str(rated.officers[officer]),
            "report_id": str(report),
            "month_text": MONTH,
            "centre_id": str(extra["centre_id"]),
            "counter_id": str(extra["counter_id"]),
            "device_id": str(extra["device_id"]),
            "user_id": str(extra["user_id"]),
            "code": unit_code,  # index and tt01 pages: a unit code
            "centre_code": "C1" if side == "A" else "C-U2",
            "dossier_code": f"HS-{side}",
            "token": tokens[f"HS-{side}"],
        }

    return Units(
        rated=rated,
        values={
            "A": values(
                "A", "U1", "R1", rated.report_id, {**ids_a, "counter_id": ids_a["counter_a"]}
            ),
            "B": values(
                "B", "U2", "R9", rated.other_report_id, {**ids_b, "counter_id": counter_b_id}
            ),
        },
    )


# Variables that depend on the endpoint rather than on their name.
_SPECIAL = {
    ("qr.receipt", "code"): "dossier_code",
}
_FIXED = {"leaf": "1", "alert_id": "1", "kind": "png", "name": "missing.jpg", "filename": "x"}


def fill(rule: Rule, values: dict[str, str]) -> str:
    """The rule's path with its variables replaced by ``values`` (by name, or fixed)."""
    parts: dict[str, str] = {}
    for argument in rule.arguments:
        key = _SPECIAL.get((rule.endpoint, argument), argument)
        if key in values:
            parts[argument] = values[key]
        elif argument in _FIXED:
            parts[argument] = _FIXED[argument]
        else:
            raise AssertionError(f"{rule.endpoint}: no value for <{argument}> (add one)")
    path = rule.rule
    for argument, value in parts.items():
        path = re.sub(rf"<(?:[^>:]+(?:\([^)]*\))?:)?{argument}>", value, path)
    assert "<" not in path, path
    return path


def session_rules(app: Flask) -> Iterator[Rule]:
    """Every route that needs a dashboard session (neither public nor a bearer API)."""
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        if rule.endpoint not in PUBLIC_ENDPOINTS | BEARER_ENDPOINTS:
            yield rule


def methods(rule: Rule) -> set[str]:
    return set(rule.methods or ()) - {"HEAD", "OPTIONS"}


def snapshot(app: Flask, skip: frozenset[str] = frozenset()) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table (sorted), to prove that a refused request changed nothing."""
    with app.app_context():
        rows = {}
        for table in db.metadata.sorted_tables:
            if table.name in skip:
                continue
            result = db.session.execute(text(f"SELECT * FROM {table.name}"))  # noqa: S608
            rows[table.name] = sorted((tuple(map(repr, row)) for row in result), key=repr)
        db.session.remove()
        return rows


_ARGS = re.compile(r"request\.args\.get\(\s*\"(\w+)\"")


def query_parameters(root: Path) -> set[str]:
    """The query parameters the server reads: ``request.args.get("…")`` in the sources, and the
    fields of the forms built from ``request.args`` (the month page's filters)."""
    found: set[str] = set()
    for path in [*root.glob("survey_server/**/*.py"), *root.glob("kiosk/**/*.py")]:
        source = path.read_text(encoding="utf-8")
        found.update(_ARGS.findall(source))
        for form in re.findall(r"(\w+)\(request\.args\)", source):
            body = re.search(rf"class {form}\(.*?\n\n\n", source, re.S)
            assert body, form
            found.update(re.findall(r"^\s+(\w+) = \w+Field\(", body.group(0), re.M))
    return found
