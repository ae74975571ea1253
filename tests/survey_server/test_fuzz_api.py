"""Property tests of both APIs with hostile input (hypothesis), on SQLite and PostgreSQL.

Whatever a kiosk or the dossier system sends: never a 500; a refusal is always the contract's
JSON error (``{"error", "message", "fields"}``) naming the field at fault; nothing is stored from
a refused request, and every refusal is recorded; what is accepted is stored as sent.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from builders import (
    BACKENDS,
    World,
    dossier_body,
    response_body,
    returned_dossier_body,
    row_counts,
)
from forms.loader import clean_text
from survey_server.extensions import db
from survey_server.models import Dossier, MisconductReport, RefusedSubmission, Response

pytestmark = BACKENDS

FUZZ = settings(
    max_examples=50,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
RESPONSES, DOSSIERS = "/api/v1/responses", "/api/v1/dossiers"
MAX_BODY = 64 * 1024
ABSENT = object()  # "leave the field out"

# -- strategies ------------------------------------------------------------------------------

HTML = st.sampled_from(
    [
        "<script>alert(1)</script>",
        '"><img src=x onerror=alert(document.cookie)>',
        "<b>Cán bộ</b> &amp; <i>nhiệt tình</i>",
        "{{ 7*7 }} {% raw %}",
        "'; DROP TABLE responses; --",
        "\u202eđảo ngược\u202c",
        "Ti\u0301ếng Việt tổ hợp",  # combining marks: stored NFC
        "\x00\x07\x1b[31m",
        "👍🏽 rất tốt 👨‍👩‍👧",
    ]
)
TEXT = st.text() | HTML | st.text(min_size=450, max_size=700)
SCALARS = (
    st.none() | st.booleans() | st.integers() | st.integers(min_value=10**20) | st.floats() | TEXT
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
OFFSETS = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda minutes: dt.timezone(dt.timedelta(minutes=minutes))
)
# From year 1 to 9999, with and without an offset, and the two ends UTC cannot hold.
TIMES = (
    st.datetimes(timezones=OFFSETS).map(dt.datetime.isoformat)
    | st.datetimes().map(dt.datetime.isoformat)
    | st.sampled_from(["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"])
)


def field_values(name: str) -> st.SearchStrategy[Any]:
    specific: dict[str, st.SearchStrategy[Any]] = {
        "id": st.uuids().map(str) | st.just("not-a-uuid"),
        "form": st.sampled_from(["phieu1", "phieu2", "phieu3", "PHIEU1", ""]),
        "answered_at": TIMES,
        "received_at": TIMES,
        "due_at": TIMES,
        "returned_at": TIMES,
        "lang": st.sampled_from(["vi", "en", "vi-VN", "vi\n", "<b>", "x" * 100]),
        "officer": st.sampled_from(["R1", "S1", "r1", "R1 ", "\x00R1"]),
        "code": st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._/\-]{0,70}", fullmatch=True),
    }
    return JSON_VALUES | specific.get(name, JSON_VALUES) | st.just(ABSENT)


# -- fixtures and helpers --------------------------------------------------------------------


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    """The app without rate limits: a property sends a hundred bodies from one kiosk at once."""
    return {"RATELIMIT_ENABLED": False}


def counts(app: Flask) -> dict[str, int]:
    return row_counts(
        app,
        responses=Response,
        reports=MisconductReport,
        dossiers=Dossier,
        refused=RefusedSubmission,
    )


def assert_contract_error(reply: Any) -> dict[str, str]:
    """The contract's error body; returns its ``fields``."""
    assert reply.status_code < 500, reply.get_data(as_text=True)[:500]
    assert reply.mimetype == "application/json"
    body = reply.get_json()
    assert isinstance(body, dict) and set(body) == {"error", "message", "fields"}, body
    assert isinstance(body["error"], str) and body["error"]
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["fields"], dict)
    assert all(isinstance(code, str) for code in body["fields"].values())
    return dict(body["fields"])


def assert_refused_and_nothing_stored(before: dict[str, int], after: dict[str, int]) -> None:
    assert after == {**before, "refused": before["refused"] + 1}


def post(client: FlaskClient, url: str, body: Any, auth: dict[str, str]) -> Any:
    data = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False)
    return client.post(url, data=data, headers={**auth, "Content-Type": "application/json"})


def replace(body: dict[str, Any], name: str, value: Any) -> dict[str, Any]:
    changed = {key: item for key, item in body.items() if key != name}
    if value is not ABSENT:
        changed[name] = value
    return changed


# -- POST /api/v1/responses ------------------------------------------------------------------


@FUZZ
@given(body=JSON_VALUES | st.dictionaries(st.sampled_from(list(response_body())), JSON_VALUES))
def test_any_json_to_responses_is_stored_or_refused_cleanly(
    app: Flask, client: FlaskClient, world: World, body: Any
) -> None:
    before = counts(app)
    reply = post(client, RESPONSES, body, world.device_auth)
    if reply.status_code in (200, 201):
        return  # a valid body by chance: the other properties check what was stored
    fields = assert_contract_error(reply)
    assert reply.status_code == 422 and fields
    assert_refused_and_nothing_stored(before, counts(app))


@FUZZ
@given(
    change=st.sampled_from(list(response_body())).flatmap(
        lambda n: st.tuples(st.just(n), field_values(n))
    )
)
def test_one_wrong_field_in_an_answer_is_named(
    app: Flask, client: FlaskClient, world: World, change: tuple[str, Any]
) -> None:
    field, value = change
    body = replace(response_body(id=str(uuid.uuid4())), field, value)
    before = counts(app)
    reply = post(client, RESPONSES, body, world.device_auth)
    if reply.status_code == 201:
        assert counts(app)["responses"] == before["responses"] + 1
        with app.app_context():
            stored = db.session.scalars(select(Response).order_by(Response.id.desc())).first()
            assert stored is not None and stored.client_id == str(uuid.UUID(body["id"]))
            assert stored.lang == (body.get("lang") or "vi")
        return
    fields = assert_contract_error(reply)
    assert reply.status_code == 422, reply.json
    related = {field, "dossier_code"} if field == "form" else {field}
    assert fields and all(key in related or key.startswith(f"{field}.") for key in fields), fields
    assert_refused_and_nothing_stored(before, counts(app))


QUESTIONS = ["overall", "courtesy", "guidance", "contacts", "publicity", "facilities"]


@FUZZ
@given(
    answers=st.dictionaries(
        st.sampled_from([*QUESTIONS, "misconduct", "comment"]) | st.text(max_size=70),
        JSON_VALUES | st.sampled_from(["1", "5", 3, "co", "khong", "2+"]),
    )
)
def test_wrong_answers_are_named_by_question(
    app: Flask, client: FlaskClient, world: World, answers: dict[str, Any]
) -> None:
    before = counts(app)
    reply = post(client, RESPONSES, response_body(answers=answers), world.device_auth)
    if reply.status_code == 201:
        assert counts(app)["responses"] == before["responses"] + 1
        return
    fields = assert_contract_error(reply)
    assert reply.status_code == 422
    assert fields and all(key.startswith("answers") for key in fields), fields
    assert_refused_and_nothing_stored(before, counts(app))


@FUZZ
@given(comment=TEXT | st.text(min_size=1, max_size=3).map(lambda s: s * 30_000))
def test_comments_are_stored_as_plain_text_or_refused_with_the_field(
    app: Flask, client: FlaskClient, world: World, comment: str
) -> None:
    body = response_body(answers={"overall": 2, "comment": comment})
    before = counts(app)
    reply = post(client, RESPONSES, body, world.device_auth)
    cleaned = clean_text(comment)
    if len(json.dumps(body, ensure_ascii=False).encode()) > MAX_BODY:
        assert reply.status_code == 413
        assert assert_contract_error(reply) == {}
        assert_refused_and_nothing_stored(before, counts(app))
    elif len(cleaned) > 500:
        assert reply.status_code == 422
        assert assert_contract_error(reply) == {"answers.comment": "too_long"}
        assert_refused_and_nothing_stored(before, counts(app))
    else:
        assert reply.status_code == 201, reply.json
        with app.app_context():
            stored = db.session.scalars(select(Response).where(Response.client_id == body["id"]))
            answers = stored.one().answers
        # Exactly what was typed (normalised), never escaped or cut: escaping is the page's job.
        assert answers == ({"overall": 2, "comment": cleaned} if cleaned else {"overall": 2})


@FUZZ
@given(data=st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_bytes_that_are_not_a_json_object_are_refused(
    app: Flask, client: FlaskClient, world: World, data: bytes
) -> None:
    before = counts(app)
    reply = post(client, RESPONSES, data, world.device_auth)
    assert reply.status_code == 422
    fields = assert_contract_error(reply)
    assert reply.json["error"] in ("invalid_body", "invalid_response")
    assert fields
    assert_refused_and_nothing_stored(before, counts(app))


@FUZZ
@given(
    header=st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=80)
    | st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=80).map(
        "Bearer ".__add__
    )
)
def test_malformed_credentials_are_401(
    app: Flask, client: FlaskClient, world: World, header: str
) -> None:
    assume(world.device_token not in header and world.integration_key not in header)
    for url, error in ((RESPONSES, "unknown_device"), (DOSSIERS, "unknown_key")):
        before = counts(app)
        body = response_body() if url == RESPONSES else dossier_body()
        reply = post(client, url, body, {"Authorization": header})
        assert reply.status_code == 401
        assert assert_contract_error(reply) == {}
        assert reply.json["error"] == error
        assert_refused_and_nothing_stored(before, counts(app))


# -- POST /api/v1/dossiers -------------------------------------------------------------------

DOSSIER_RELATED = {
    "received_at": {"received_at", "due_at", "returned_at"},
    "returned_at": {"returned_at"},
}


def dossier_row(app: Flask, code: str) -> dict[str, Any] | None:
    with app.app_context():
        row = db.session.scalars(select(Dossier).where(Dossier.code == code)).one_or_none()
        if row is None:
            return None
        return {
            "procedure": row.procedure,
            "unit": row.unit.code,
            "centre": row.centre.code,
            "received_at": row.received_at,
            "due_at": row.due_at,
            "returned_at": row.returned_at,
            "reception_officer": row.reception_officer.code,
            "return_officer": row.return_officer.code if row.return_officer else None,
            "resolving_officers": [officer.code for officer in row.resolving_officers],
            "late_responsible": [officer.code for officer in row.late_responsible],
        }


@FUZZ
@given(
    existing=st.booleans(),
    change=st.sampled_from(list(dossier_body())).flatmap(
        lambda n: st.tuples(st.just(n), field_values(n))
    ),
)
def test_one_wrong_field_in_a_dossier_is_named_and_changes_nothing(
    app: Flask, client: FlaskClient, world: World, existing: bool, change: tuple[str, Any]
) -> None:
    field, value = change
    code = "HS-KEPT" if existing else f"HS-{uuid.uuid4().hex[:12]}"
    if existing and dossier_row(app, code) is None:
        assert (
            post(client, DOSSIERS, returned_dossier_body(code), world.key_auth).status_code == 201
        )
    body = replace(dossier_body(code), field, value)
    target = body.get("code", code)
    before, kept = counts(app), dossier_row(app, code)
    was_there = isinstance(target, str) and dossier_row(app, target) is not None
    reply = post(client, DOSSIERS, body, world.key_auth)
    if reply.status_code in (200, 201):
        assert reply.status_code == (200 if was_there else 201)
        row = dossier_row(app, body["code"])
        assert row is not None
        sent_resolvers = body.get("resolving_officers") or []
        assert row["resolving_officers"] == sorted(set(sent_resolvers))
        assert row["late_responsible"] == sorted(set(body.get("late_responsible") or []))
        assert row["procedure"] == str(body["procedure"]).strip()
        return
    fields = assert_contract_error(reply)
    assert reply.status_code == 422, reply.json
    related = DOSSIER_RELATED.get(field, {field})
    assert fields and all(key in related or key.startswith(f"{field}[") for key in fields), fields
    assert_refused_and_nothing_stored(before, counts(app))
    assert dossier_row(app, code) == kept


@FUZZ
@given(body=JSON_VALUES | st.dictionaries(st.sampled_from(list(dossier_body())), JSON_VALUES))
def test_any_json_to_dossiers_is_refused_cleanly(
    app: Flask, client: FlaskClient, world: World, body: Any
) -> None:
    before = counts(app)
    reply = post(client, DOSSIERS, body, world.key_auth)
    fields = assert_contract_error(reply)
    assert reply.status_code == 422 and fields
    assert_refused_and_nothing_stored(before, counts(app))


# -- what the properties found, pinned -------------------------------------------------------


def with_raw(body: dict[str, Any], field: str, literal: str) -> bytes:
    """``body`` as JSON with ``field``'s value replaced by a raw JSON literal."""
    marker = "__RAW__"
    text = json.dumps({**body, field: marker})
    return text.replace(json.dumps(marker), literal).encode()


FOUND = [
    # (case, url, body, status, fields)
    ("year 1 at +14:00", RESPONSES, response_body(answered_at="0001-01-01T00:00:00+14:00"),
     {"answered_at": "out_of_range"}),
    ("year 9999 at -14:00", RESPONSES, response_body(answered_at="9999-12-31T23:59:59-14:00"),
     {"answered_at": "out_of_range"}),
    ("lang with a newline", RESPONSES, response_body(lang="vi\n"), {"lang": "invalid_lang"}),
    ("NUL in the officer", RESPONSES, response_body(officer="\x00R1"),
     {"officer": "invalid_code"}),
    ("NUL in the dossier", RESPONSES, response_body(dossier_code="HS\x00"),
     {"dossier_code": "invalid_code"}),
    ("nested 20,000 deep", RESPONSES, b"[" * 20_000, {"body": "invalid_json"}),
    ("lone surrogate in a code", RESPONSES, with_raw(response_body(), "officer", '"\\ud800"'),
     {"body": "invalid_unicode"}),
    ("lone surrogate in a comment", RESPONSES,
     with_raw(response_body(), "answers", '{"overall": 1, "comment": "\\udc00"}'),
     {"body": "invalid_unicode"}),
    ("code with a newline", DOSSIERS, dossier_body("HS-1\n"), {"code": "invalid_code"}),
    ("received in year 1 at +14:00", DOSSIERS,
     dossier_body(received_at="0001-01-01T00:00:00+14:00"), {"received_at": "out_of_range"}),
    ("null resolver", DOSSIERS, dossier_body(resolving_officers=["S1", None]),
     {"resolving_officers[1]": "invalid_code"}),
    ("blank procedure", DOSSIERS, dossier_body(procedure="  "), {"procedure": "required"}),
    ("NUL in the procedure", DOSSIERS, dossier_body(procedure="a\x00b"),
     {"procedure": "invalid_text"}),
    ("NUL in the unit", DOSSIERS, dossier_body(unit="\x00"), {"unit": "invalid_code"}),
    ("NUL in a list", DOSSIERS, dossier_body(late_responsible=["\x00"]),
     {"late_responsible[0]": "invalid_code"}),
    ("lone surrogate in a dossier", DOSSIERS, with_raw(dossier_body(), "unit", '"\\ud800"'),
     {"body": "invalid_unicode"}),
]  # fmt: skip


@pytest.mark.parametrize(("case", "url", "body", "fields"), FOUND, ids=[row[0] for row in FOUND])
def test_what_fuzzing_found_is_refused_with_the_field(
    app: Flask, client: FlaskClient, world: World, case: str, url: str, body: Any, fields: Any
) -> None:
    """Each of these was a 500, or was stored when the contract refuses it."""
    before = counts(app)
    auth = world.device_auth if url == RESPONSES else world.key_auth
    reply = post(client, url, body, auth)
    assert reply.status_code == 422, case
    assert assert_contract_error(reply) == fields
    assert_refused_and_nothing_stored(before, counts(app))


def test_an_answer_to_a_dossier_received_in_year_1_is_stored(
    app: Flask, client: FlaskClient, world: World
) -> None:
    """Was a 500: the "answered before received" check subtracted 5 minutes from year 1."""
    received = "0001-01-01T00:01:00+00:00"
    assert (
        post(client, DOSSIERS, dossier_body(received_at=received), world.key_auth).status_code
        == 201
    )
    reply = post(client, RESPONSES, response_body(dossier_code="HS-0001"), world.device_auth)
    assert reply.status_code == 201
    assert reply.json["flags"] == []
