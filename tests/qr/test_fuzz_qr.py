"""Property tests of the receipt-QR pages with hostile input (hypothesis).

What a phone, a bot or a mangled link can send to ``/q/<token>`` (and its thank-you and
contact posts), to the desk print view ``/receipt/<code>`` and to the dossier system's
``/api/v1/dossiers/<code>/qr.png|svg``: never a 5xx; a refused request gets its status (400
forged or mangled, 404 unknown, 410 expired, 422 bad field, 409 already answered, 429 limited)
with a Vietnamese page naming what is wrong, or the contract's JSON error on the API; nothing is
stored from a refused request; a comment accepted on the phone is shown escaped on the
dashboard; a replayed submission stores nothing new.

Where the database matters (NUL and huge numbers reach a query) a property runs on SQLite and
PostgreSQL; the others on SQLite. Rate limits are off except in the one test of the 429s.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from dashboard_support import login, make_user
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, assume, event, example, given, settings
from hypothesis import strategies as st
from markupsafe import escape
from qr_support import csrf_of, push_dossier, token_of
from sqlalchemy import select

from builders import BACKENDS, World, build_world, make_app, row_counts
from forms import load_forms
from forms.loader import clean_text
from survey_server.extensions import db
from survey_server.models import (
    Dossier,
    MisconductReport,
    ReceiptPrint,
    RefusedSubmission,
    Response,
    ResponseContact,
)
from survey_server.services.tokens import make_token, read_token
from survey_server.timeutil import LOCAL_TZ

FUZZ = settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
FEW = settings(FUZZ, max_examples=15)

# The pages' titles, as a citizen reads them (the Vietnamese catalogue).
TITLES = {
    "forged": "Mã QR không hợp lệ",
    "unknown": "Không tìm thấy hồ sơ",
    "expired": "Mã QR đã hết hạn",
    "csrf": "Trang đã hết hạn",
    "no_route": "Không tìm thấy trang",
    "method": "Thao tác này không được phép ở đây",
    "unknown_form": "Không thể gửi phiếu này tại đây",
    "check": "Vui lòng kiểm tra các câu trả lời được đánh dấu bên dưới.",
    "answered": "Đã trả lời",
    "limited": "Quá nhiều yêu cầu",
}
STATUS = {"forged": 400, "unknown": 404, "expired": 410}

HTML = st.sampled_from(
    [
        "<script>alert(1)</script>",
        '"><img src=x onerror=alert(document.cookie)>',
        "</textarea><svg onload=alert(1)>",
        "<b>Cán bộ</b> &amp; <i>nhiệt tình</i>",
        "javascript:alert(1)",
        "{{ 7*7 }} {% raw %}",
        "'; DROP TABLE responses; --",
        "\u202eđảo ngược\u202c \u200f",
        "Ti\u0301ếng Việt tổ hợp",
        "\x00\x07\x1b[31m",
        "👍🏽 rất tốt 👨‍👩‍👧",
    ]
)
# st.text() includes lone surrogates; they are sent as their (invalid) UTF-8 bytes.
TEXT = st.text() | HTML | st.text(min_size=480, max_size=560)


# -- fixtures and helpers --------------------------------------------------------------------


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    """No rate limits: a property sends hundreds of requests from one address to one QR."""
    return {"RATELIMIT_ENABLED": False}


def shared_token(app: Flask, client: FlaskClient, world: World) -> str:
    """The QR token of one dossier pushed on the property's first example, for all the others
    (the app lives as long as the test function, across hypothesis's examples)."""
    if not hasattr(app, "fuzz_token"):
        push_dossier(client, world)
        app.fuzz_token = token_of(app)  # type: ignore[attr-defined]
    token: str = app.fuzz_token  # type: ignore[attr-defined]
    return token


def counts(app: Flask) -> dict[str, int]:
    return row_counts(
        app,
        responses=Response,
        reports=MisconductReport,
        contacts=ResponseContact,
        dossiers=Dossier,
        prints=ReceiptPrint,
        refused=RefusedSubmission,
    )


def wire(text: str) -> bytes:
    """What a browser sends for ``text``: UTF-8, lone surrogates as their raw bytes."""
    return text.encode("utf-8", "surrogatepass")


def received(text: str) -> str:
    """What the server reads back from :func:`wire` (invalid UTF-8 becomes U+FFFD)."""
    return wire(text).decode("utf-8", "replace")


def form_body(pairs: list[tuple[str, str]]) -> bytes:
    return b"&".join(
        quote(wire(key), safe="").encode() + b"=" + quote(wire(value), safe="").encode()
        for key, value in pairs
    )


def post_form(client: FlaskClient, path: str, pairs: list[tuple[str, str]]) -> Any:
    return client.post(
        path, data=form_body(pairs), content_type="application/x-www-form-urlencoded"
    )


def assert_page(reply: Any, status: int, title: str, lang: str = "vi") -> str:
    """A page for people: the status, HTML in the language asked, and what is wrong."""
    assert reply.status_code < 500, reply.get_data(as_text=True)[:300]
    assert reply.status_code == status, (reply.status_code, reply.get_data(as_text=True)[:300])
    assert reply.mimetype == "text/html"
    html: str = reply.get_data(as_text=True)
    assert f'<html lang="{lang}"' in html
    if lang == "vi":
        assert title in html, html[:600]
    return html


def assert_contract_error(reply: Any, status: int, error: str) -> dict[str, str]:
    assert reply.status_code < 500, reply.get_data(as_text=True)[:300]
    assert reply.status_code == status, (reply.status_code, reply.get_data(as_text=True)[:300])
    assert reply.mimetype == "application/json"
    body = reply.get_json()
    assert isinstance(body, dict) and set(body) == {"error", "message", "fields"}, body
    assert body["error"] == error and isinstance(body["message"], str) and body["message"]
    return dict(body["fields"])


def new_dossier(client: FlaskClient, world: World, returned: bool = False) -> str:
    code = f"HS-{uuid.uuid4().hex[:10]}"
    push_dossier(client, world, code, returned=returned)
    return code


def fresh_csrf(client: FlaskClient, token: str) -> str:
    return csrf_of(client.get(f"/q/{token}").get_data(as_text=True))


# -- tokens ----------------------------------------------------------------------------------

SIGNATURE_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
PATH_TRICKS = st.sampled_from(
    [
        "..%2f..%2fetc%2fpasswd",
        "%2e%2e%2f",
        "..\\..\\windows",
        "%00",
        "%25%30%30",
        "%ED%A0%80",  # a lone surrogate, UTF-8 encoded
        "%C0%AF",  # an overlong '/'
        "%E2%80%AE1z-2b7.abc",  # RTL override in front of a token-like text
        "1z-2b7.q0J3mGf5r8Zs%20",
        "%EF%BC%91z-2b7.q0J3mGf5r8Zs",  # a fullwidth digit
        "x" * 65,
        "y" * 5_000,
    ]
)


@st.composite
def mangled_tokens(draw: st.DrawFn, token: str) -> str:
    """The dossier's real token, damaged the ways a camera, a keyboard or a forger would."""
    payload, _, signature = token.partition(".")
    how = draw(st.sampled_from(["forge", "cut", "change", "case", "append", "swap_payload"]))
    if how == "forge":
        forged = draw(st.text(SIGNATURE_ALPHABET, min_size=0, max_size=20))
        candidate = f"{payload}.{forged}"
    elif how == "cut":
        end = draw(st.integers(0, len(token) - 1))
        candidate = token[:end]
    elif how == "change":
        index = draw(st.integers(0, len(token) - 1))
        char = draw(st.sampled_from(SIGNATURE_ALPHABET + ".~"))
        candidate = token[:index] + char + token[index + 1 :]
    elif how == "case":
        candidate = token.swapcase()
    elif how == "append":
        candidate = token + draw(st.text(SIGNATURE_ALPHABET + ".", min_size=1, max_size=5))
    else:  # another dossier id (or expiry day) under this signature
        other = draw(st.from_regex(r"[0-9a-z]{1,6}-[0-9a-z]{1,4}", fullmatch=True))
        candidate = f"{other}.{signature}"
    assume(candidate != token)
    return candidate


def token_path(token: str) -> str:
    return "/q/" + quote(wire(token), safe="")


@BACKENDS
@settings(FUZZ, max_examples=25)
@given(
    data=st.data(),
    method=st.sampled_from(["get", "post"]),
    lang=st.sampled_from(["", "vi", "en", "fr", "<b>", "en%00"]),
)
def test_a_mangled_or_forged_token_is_400_and_stores_nothing(
    app: Flask, client: FlaskClient, world: World, data: st.DataObject, method: str, lang: str
) -> None:
    token = shared_token(app, client, world)
    bad = data.draw(mangled_tokens(token) | st.text(min_size=1, max_size=80), label="token")
    path = token_path(bad)
    query = f"?lang={lang}" if lang else ""
    before = counts(app)
    if method == "get":
        reply = client.get(path + query, follow_redirects=True)  # "//" is merged first
    else:
        csrf = fresh_csrf(client, token)
        pairs = [("csrf_token", csrf), ("form", "phieu1"), ("overall", "5")]
        reply = post_form(client, path + query, pairs)
        if reply.status_code == 308:
            reply = post_form(client, reply.headers["Location"], pairs)
    language = "en" if lang == "en" else "vi"
    if "/" in received(bad) or not bad:
        # Not a token at all: no route (404), another route (…/thanks: its own 400), or GET only.
        assert reply.status_code in (400, 404, 405), reply.status_code
        assert reply.mimetype == "text/html" and f'<html lang="{language}"' in reply.get_data(
            as_text=True
        )
    else:
        assert_page(reply, 400, TITLES["forged"], language)
    assert counts(app) == before


@BACKENDS
@FEW
@given(trick=PATH_TRICKS, method=st.sampled_from(["get", "post"]))
def test_path_tricks_and_percent_encoding_never_reach_a_dossier(
    app: Flask, client: FlaskClient, world: World, trick: str, method: str
) -> None:
    push_dossier(client, world, f"HS-{uuid.uuid4().hex[:8]}")
    before = counts(app)
    for path in (f"/q/{trick}", f"/q/{trick}/thanks", f"/q/{trick}/contact"):
        # A doubled slash (``..%2f`` + ``/thanks``) is redirected to the merged path first.
        reply = getattr(client, method)(path, follow_redirects=True)
        assert reply.status_code in (400, 404, 405), (path, reply.status_code)
        html = reply.get_data(as_text=True)
        assert reply.mimetype == "text/html" and '<html lang="vi"' in html
        expected = {400: TITLES["forged"], 404: TITLES["no_route"], 405: TITLES["method"]}
        assert expected[reply.status_code] in html, (path, html[:400])
    assert counts(app) == before


@BACKENDS
@FUZZ
@given(
    real=st.sampled_from([True, True, False]),  # mostly the real dossier's id
    other_id=st.integers(min_value=0, max_value=2**70) | st.integers(0, 10_000),
    days=st.integers(min_value=0, max_value=(dt.date.max - dt.date(2020, 1, 1)).days)
    | st.integers(min_value=2_450, max_value=2_600)  # around today
    | st.integers(min_value=3_000, max_value=2_900_000),  # years ahead
    method=st.sampled_from(["get", "post"]),
)
@example(real=False, other_id=2**31, days=3_000, method="get")  # was a 500 on PostgreSQL (int4)
@example(real=False, other_id=36**30, days=3_000, method="get")  # was a 500 on SQLite (int64)
def test_a_signed_token_is_404_unknown_410_expired_or_the_form(
    app: Flask,
    client: FlaskClient,
    world: World,
    real: bool,
    other_id: int,
    days: int,
    method: str,
) -> None:
    """Validly signed tokens (only the server can make them) naming any id and any last day."""
    if not hasattr(app, "fuzz_id"):
        push_dossier(client, world)
        with app.app_context():
            app.fuzz_id = db.session.scalar(select(Dossier.id))  # type: ignore[attr-defined]
    real_id: int = app.fuzz_id  # type: ignore[attr-defined]
    dossier_id = real_id if real else other_id
    expires_on = dt.date(2020, 1, 1) + dt.timedelta(days=days)
    token = make_token(app.config["SECRET_KEY"], dossier_id, expires_on)
    assert len(token) <= 64 or dossier_id > 36**30
    before = counts(app)
    reply = client.get(f"/q/{token}") if method == "get" else client.post(f"/q/{token}")
    event(f"status {reply.status_code}")  # --hypothesis-show-statistics: every branch is hit
    today = dt.datetime.now(LOCAL_TZ).date()
    if len(token) > 64:
        assert_page(reply, 400, TITLES["forged"])
    elif dossier_id != real_id:
        assert_page(reply, 404, TITLES["unknown"])
    elif expires_on < today:
        html = assert_page(reply, 410, TITLES["expired"])
        assert "quầy" in html  # what to do next: the one-stop desk
    elif method == "get":
        assert_page(reply, 200, "Phiếu số 1")
    else:
        assert_page(reply, 400, TITLES["csrf"])  # the token is good; the post has no CSRF token
    assert counts(app) == before


# -- the form fields -------------------------------------------------------------------------

PHIEU1 = load_forms()["phieu1"]  # the shipped forms, as the test app serves them
RADIOS = {q.id: q.values for q in PHIEU1.questions if q.kind != "text"}
FIELD_NAMES = st.sampled_from([*RADIOS, "comment", "form", "csrf_token"]) | st.text(max_size=12)


def field_value(name: str) -> st.SearchStrategy[str]:
    if name in RADIOS:
        good = st.sampled_from(list(RADIOS[name]))
        odd = st.sampled_from(["", " 5", "0", "6", "-1", "5.0", "1e0", "٥", "Ⅴ", "co ", "CO"])
        return good | good | odd | st.integers().map(str) | TEXT
    if name == "comment":
        return TEXT | st.text(min_size=1, max_size=3).map(lambda s: s * 200)
    if name == "form":
        return st.sampled_from(["phieu1", "phieu2", "phieu3", "PHIEU1", "", "phieu1 "]) | TEXT
    return TEXT | st.integers().map(str)


FIELDS = st.lists(
    FIELD_NAMES.flatmap(lambda name: st.tuples(st.just(name), field_value(name))), max_size=12
)


def expected_answers(pairs: list[tuple[str, str]]) -> tuple[str, dict[str, Any] | None]:
    """What the phone page must do with these fields (the first value of a field counts).

    ``("store", answers)``, ``("refuse", None)`` or ``("either", None)`` when an optional
    radio is sent empty (a browser never does that; either outcome is fine).
    """
    first: dict[str, str] = {}
    for key, value in pairs:
        first.setdefault(received(key), received(value))
    answers: dict[str, Any] = {}
    either = False
    for question in PHIEU1.questions:
        value = first.get(question.id)
        if value is None:
            if question.required:
                return "refuse", None
            continue
        if question.kind == "text":
            text = clean_text(value)
            if len(text) > (question.max_length or 0):
                return "refuse", None
            if text:
                answers[question.id] = text
        elif value == "":
            if question.required:
                return "refuse", None
            either = True
        elif value not in question.values:
            return "refuse", None
        else:
            answers[question.id] = int(value) if question.kind == "scale5" else value
    return ("either", None) if either else ("store", answers)


@BACKENDS
@settings(FUZZ, max_examples=30)
@given(
    fields=FIELDS,
    with_csrf=st.sampled_from([True, True, True, False]),
    form=st.sampled_from(["phieu1", "phieu1", "phieu1", None]),
    overall=st.none() | st.sampled_from(["1", "2", "3", "4", "5"]),
)
@example(fields=[], with_csrf=True, form="phieu3", overall="5")  # was a bare "error 400"
def test_any_form_fields_are_stored_as_answered_or_refused_with_the_field(
    app: Flask,
    client: FlaskClient,
    world: World,
    fields: list[tuple[str, str]],
    with_csrf: bool,
    form: str | None,
    overall: str | None,
) -> None:
    """``overall``: a valid answer sent after the fuzzed fields (which win if they repeat it)."""
    token = token_of(app, new_dossier(client, world))
    csrf = fresh_csrf(client, token)
    pairs = list(fields) + ([("overall", overall)] if overall else [])
    if form is not None:
        pairs.insert(0, ("form", form))
    if with_csrf:
        pairs.insert(0, ("csrf_token", csrf))
    before = counts(app)
    reply = post_form(client, f"/q/{token}", pairs)
    first = {received(k): received(v) for k, v in reversed(pairs)}  # the first value wins
    event(f"status {reply.status_code}")
    outcome, answers = expected_answers(pairs)
    if first.get("csrf_token") != csrf:
        assert_page(reply, 400, TITLES["csrf"])
    elif first.get("form") not in ("phieu1", "phieu2"):
        assert_page(reply, 400, TITLES["unknown_form"])
    elif first["form"] == "phieu2":  # not returned yet: says when to come back
        html = assert_page(reply, 200, "Quay lại")
        assert "<form" not in html
    elif outcome == "refuse" or (outcome == "either" and reply.status_code == 422):
        html = assert_page(reply, 422, TITLES["check"])
        assert 'class="err"' in html or "error" in html  # the field at fault is marked
    else:
        assert reply.status_code == 302, reply.get_data(as_text=True)[:600]
        after = counts(app)
        assert after["responses"] == before["responses"] + 1
        with app.app_context():
            stored = db.session.scalars(select(Response).order_by(Response.id.desc())).first()
            assert stored is not None and stored.channel == "qr"
            if answers is not None:
                assert stored.answers == answers
        return
    assert counts(app) == before


# -- the optional contact --------------------------------------------------------------------

PHONES = (
    st.from_regex(r"0[0-9]{9,10}", fullmatch=True)
    | st.from_regex(r"(\+84|84|0)[ .\-]?[0-9]{2,3}([ .\-()]?[0-9]{2,4}){2,3}", fullmatch=True)
    | st.sampled_from(
        [
            "0912 345 678",
            "+84 912 345 678",
            "(091) 234-5678",
            "0٩١٢٣٤٥٦٧٨",  # Arabic-Indic digits: not a Vietnamese number
            "０９１２３４５６７８",  # fullwidth digits
            "0912345678\x00",
            "09123456789012345678901",
            "<script>0912345678</script>",
            "",
            "   ",
        ]
    )
    | st.text(max_size=25)
)
CONSENT = st.sampled_from([None, "y", "on", "1", "", "false", "no", "<b>"])
TRUTHY_PHONE = re.compile(r"0[0-9]{9,10}")


def expected_number(phone: str) -> str | None:
    """The number as stored, by the rule of forms.md (independent of the service's code)."""
    text = received(phone)
    if len(text) > 20:
        return None
    digits = re.sub(r"[ \t\n\r\f\v.\-()]", "", text.strip())
    digits = re.sub(r"\s", "", digits)
    if digits.startswith("+84"):
        digits = "0" + digits[3:]
    elif digits.startswith("84") and len(digits) in (11, 12):
        digits = "0" + digits[2:]
    return digits if TRUTHY_PHONE.fullmatch(digits) else None


@settings(FUZZ, max_examples=20)
@given(phone=PHONES, consent=CONSENT, low=st.sampled_from(["1", "2", "misconduct"]))
@example(phone="0٩١٢٣٤٥٦٧٨", consent="y", low="1")  # was stored with Arabic-Indic digits
def test_a_phone_number_is_kept_only_with_consent_and_only_if_it_is_one(
    app: Flask, client: FlaskClient, world: World, phone: str, consent: str | None, low: str
) -> None:
    token = token_of(app, new_dossier(client, world))
    answers = {"overall": "5", "misconduct": "co"} if low == "misconduct" else {"overall": low}
    csrf = fresh_csrf(client, token)
    stored = post_form(
        client, f"/q/{token}", [("csrf_token", csrf), ("form", "phieu1")] + list(answers.items())
    )
    assert stored.status_code == 302
    thanks = client.get(stored.headers["Location"]).get_data(as_text=True)
    pairs = [("csrf_token", csrf_of(thanks)), ("phone", phone)]
    if consent is not None:
        pairs.append(("consent", consent))
    before = counts(app)
    reply = post_form(client, f"/q/{token}/contact", pairs)
    event(f"status {reply.status_code}")
    consented = consent not in (None, "", "false")
    number = expected_number(phone)
    empty = not received(phone).strip()
    if empty and not consented:
        assert_page(reply, 200, "cảm ơn")
        assert counts(app) == before
    elif consented and number is not None:
        assert_page(reply, 200, "cảm ơn")
        assert counts(app) == {**before, "contacts": before["contacts"] + 1}
        with app.app_context():
            contact = db.session.scalars(select(ResponseContact)).all()[-1]
            assert contact.phone == number and contact.consent_at is not None
    else:
        html = assert_page(reply, 422, "")
        assert 'role="alert"' in html  # the reason, next to the box and the field
        vietnamese = ("đánh dấu ô đồng ý", "số điện thoại", "Số điện thoại", "Vui lòng nhập")
        assert any(text in html for text in vietnamese), html
        assert counts(app) == before


# -- methods, content types, replays -------------------------------------------------------


@BACKENDS
@FEW
@given(
    method=st.sampled_from(["PUT", "PATCH", "DELETE"]),
    where=st.sampled_from(["", "/thanks", "/contact"]),
)
def test_wrong_methods_are_405_pages(
    app: Flask, client: FlaskClient, world: World, method: str, where: str
) -> None:
    token = shared_token(app, client, world)
    before = counts(app)
    reply = client.open(f"/q/{token}{where}", method=method)
    assert_page(reply, 405, TITLES["method"])
    assert counts(app) == before


@FUZZ
@given(
    content_type=st.sampled_from(
        [
            "application/json",
            "text/plain",
            "text/xml",
            "multipart/form-data",
            "multipart/form-data; boundary=x",
            "application/x-www-form-urlencoded; charset=latin-1",
            "",
            "ứng dụng/⚠",
        ]
    ),
    body=st.binary(max_size=400) | st.just(b'{"form": "phieu1", "overall": 5}'),
)
def test_other_content_types_are_refused_as_expired_pages(
    app: Flask, client: FlaskClient, world: World, content_type: str, body: bytes
) -> None:
    """No CSRF token can be read from them: 400 "the page has expired", nothing stored."""
    token = shared_token(app, client, world)
    client.get(f"/q/{token}")  # a session with a CSRF secret, as a browser would have
    before = counts(app)
    headers = {"Content-Type": content_type} if content_type else {}
    reply = client.post(f"/q/{token}", data=body, headers=headers)
    assert_page(reply, 400, TITLES["csrf"])
    assert counts(app) == before


@FEW
@given(
    replays=st.lists(
        st.tuples(st.sampled_from(["1", "2", "3", "4", "5"]), st.booleans(), st.booleans()),
        min_size=1,
        max_size=4,
    )
)
def test_a_replayed_submission_stores_nothing_new(
    app: Flask, client: FlaskClient, world: World, replays: list[tuple[str, bool, bool]]
) -> None:
    """The same POST again (same CSRF token, or a fresh one; same cookie or a new browser)."""
    if not hasattr(app, "spare_token"):  # a QR whose form stays open: a page to take CSRF from
        app.spare_token = token_of(app, new_dossier(client, world))  # type: ignore[attr-defined]
    spare: str = app.spare_token  # type: ignore[attr-defined]
    code = new_dossier(client, world)
    token = token_of(app, code)
    csrf = fresh_csrf(client, token)
    first = [("csrf_token", csrf), ("form", "phieu1"), ("overall", "4")]
    assert post_form(client, f"/q/{token}", first).status_code == 302
    before = counts(app)
    for overall, fresh_token, new_browser in replays:
        browser = app.test_client() if new_browser else client
        token_value = fresh_csrf(browser, spare) if fresh_token or new_browser else csrf
        pairs = [("csrf_token", token_value), ("form", "phieu1"), ("overall", overall)]
        reply = post_form(browser, f"/q/{token}", pairs)
        html = assert_page(reply, 409, TITLES["answered"])
        assert "giữ nguyên" in html
    assert counts(app) == before
    with app.app_context():
        kept = db.session.scalars(
            select(Response.overall).join(Dossier).where(Dossier.code == code)
        ).all()
    assert kept == [4]  # the first answer stands


# -- stored XSS through the phone path -------------------------------------------------------


@settings(FUZZ, max_examples=4)  # each example draws the month page and its charts
@given(comment=TEXT.filter(lambda text: clean_text(received(text)) != ""))
@example(comment='<script>alert("qr")</script>')
@example(comment="</p><img src=x onerror=alert(1)>")
def test_a_comment_from_the_phone_is_shown_escaped_on_the_dashboard(
    app: Flask, client: FlaskClient, world: World, comment: str
) -> None:
    """Stored XSS through the phone: what the citizen typed is stored as plain text and the
    head's month page shows it quoted and escaped. (SQLite only: escaping is the template's.)"""
    stored_text = clean_text(received(comment))
    assume(len(stored_text) <= 500)
    if not hasattr(app, "head_client"):
        with app.app_context():
            make_user(db.session, "admin")
        head = app.test_client()
        assert login(head, "admin-province").status_code == 302
        app.head_client = head  # type: ignore[attr-defined]
    head_client: FlaskClient = app.head_client  # type: ignore[attr-defined]
    token = token_of(app, new_dossier(client, world))
    pairs = [
        ("csrf_token", fresh_csrf(client, token)),
        ("form", "phieu1"),
        ("overall", "1"),
        ("misconduct", "co"),
        ("comment", comment),
    ]
    assert post_form(client, f"/q/{token}", pairs).status_code == 302
    with app.app_context():
        unit_id = db.session.scalar(select(Dossier.unit_id).limit(1))
        latest = db.session.scalars(select(Response).order_by(Response.id.desc())).first()
        assert latest is not None and latest.answers.get("comment") == stored_text
    month = dt.datetime.now(LOCAL_TZ).strftime("%Y-%m")
    page = head_client.get(f"/dashboard/units/{unit_id}/{month}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    # The month page quotes the comment: “…”. Shown as text, never as markup.
    assert f"“{escape(stored_text)}”" in html
    if str(escape(stored_text)) != stored_text:
        assert f"“{stored_text}”" not in html


# -- the desk print view and the QR image API ------------------------------------------------

CODES = (
    st.text(min_size=1, max_size=80)
    | st.sampled_from(
        ["\x00", "HS\x00-1", "HS-0001\n", "HS-0001 ", "hs-0001", "../HS-0001", "x" * 70]
    )
    | st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._\-]{0,20}", fullmatch=True)
)


def code_path(code: str) -> str:
    return quote(wire(code), safe="")


@BACKENDS
@settings(FUZZ, max_examples=20)
@given(code=CODES | st.just("HS-0001"))
@example(code="\x00")  # NUL: PostgreSQL cannot compare it
def test_the_desk_print_view_is_404_for_any_other_code(
    app: Flask, client: FlaskClient, world: World, code: str
) -> None:
    if not hasattr(app, "desk_ready"):
        push_dossier(client, world)
        with app.app_context():
            make_user(db.session, "admin")
        assert login(client, "admin-province").status_code == 302
        app.desk_ready = True  # type: ignore[attr-defined]
    before = counts(app)
    # Follow the redirect of a doubled slash ("a//b" → "a/b"): it may land on a real dossier.
    reply = client.get(f"/receipt/{code_path(code)}", follow_redirects=True)
    if "/" in received(code) and reply.status_code == 200:
        assert reply.request.path == "/receipt/HS-0001"
        return
    if received(code) == "HS-0001":
        assert_page(reply, 200, "HS-0001")
        assert counts(app) == {**before, "prints": before["prints"] + 1}
        return
    assert reply.status_code == 404, reply.status_code
    assert_page(reply, 404, TITLES["no_route"])
    assert counts(app) == before


MM = (
    st.none()
    | st.sampled_from(
        ["15", "60", "20.5", "14.99", "61", "nan", "inf", "-0", "1e400", "", "２０", "20mm"]
    )
    | st.floats().map(str)
    | st.text(max_size=8)
)


def mm_ok(mm: str | None) -> bool:
    if mm is None:
        return True
    try:
        value = float(mm)
    except ValueError:
        return False
    return 15.0 <= value <= 60.0


@BACKENDS
@settings(FUZZ, max_examples=25)
@given(
    code=CODES | st.just("HS-0001"),
    kind=st.sampled_from(["png", "svg"]),
    mm=MM,
    auth=st.sampled_from(["key", "none", "device", "junk"]),
)
@example(code="\x00", kind="png", mm=None, auth="key")  # NUL: PostgreSQL cannot compare it
@example(code="HS-0001", kind="png", mm="20mm", auth="key")  # was silently 20 mm, not 422
def test_the_qr_image_api_answers_the_image_or_the_contract_error(
    app: Flask,
    client: FlaskClient,
    world: World,
    backend: str,
    code: str,
    kind: str,
    mm: str | None,
    auth: str,
) -> None:
    if not hasattr(app, "api_ready"):
        push_dossier(client, world)
        app.api_ready = True  # type: ignore[attr-defined]
    headers = {
        "key": world.key_auth,
        "none": {},
        "device": world.device_auth,
        "junk": {"Authorization": "Bearer \u00e9\u00e9"},
    }[auth]
    query = "" if mm is None else "?mm=" + quote(wire(mm), safe="")
    before = counts(app)
    path = f"/api/v1/dossiers/{code_path(code)}/qr.{kind}{query}"
    reply = client.get(path, headers=headers, follow_redirects=True)  # "a//b" → "a/b" first
    # Every refusal is logged (a NUL in the path too), and nothing else is ever stored.
    refused_counts = [{**before, "refused": before["refused"] + 1}]
    if "/" in received(code):
        assert reply.status_code < 500
        if reply.status_code != 200:
            assert reply.mimetype == "application/json" and set(reply.get_json()) == {
                "error",
                "message",
                "fields",
            }
    elif auth != "key":
        assert_contract_error(reply, 401, "unknown_key")
        assert counts(app) in refused_counts
    elif not mm_ok(received(mm) if mm is not None else None):
        assert assert_contract_error(reply, 422, "invalid_request") == {"mm": "out_of_range"}
        assert counts(app) in refused_counts
    elif received(code) != "HS-0001":
        assert assert_contract_error(reply, 404, "not_found") == {"code": "unknown_dossier"}
        assert counts(app) in refused_counts
    else:
        assert reply.status_code == 200
        assert reply.mimetype == ("image/png" if kind == "png" else "image/svg+xml")
        assert reply.headers["X-QR-URL"].endswith(token_of(app))
        assert counts(app) == {**before, "prints": before["prints"] + 1}


# -- what the properties found, pinned -------------------------------------------------------


@BACKENDS
@pytest.mark.parametrize(
    "due_at",
    ["9999-12-31T16:59:59+00:00", "9999-12-30T00:00:00+07:00", "0001-01-02T00:00:00+00:00"],
    ids=["last instant", "end of year 9999", "year 1"],
)
def test_a_dossier_due_at_the_edge_of_the_calendar_gets_a_working_qr(
    app: Flask, client: FlaskClient, world: World, due_at: str
) -> None:
    """Was a 500 everywhere its token is made (expiry overflowed, or a negative expiry day)."""
    push_dossier(client, world, received_at="0001-01-01T00:00:00+00:00", due_at=due_at)
    image = client.get("/api/v1/dossiers/HS-0001/qr.png", headers=world.key_auth)
    assert image.status_code == 200
    token = image.headers["X-QR-URL"].rsplit("/", 1)[1]
    assert read_token(app.config["SECRET_KEY"], token)
    page = client.get(f"/q/{token}")
    if due_at.startswith("0001"):
        assert_page(page, 410, TITLES["expired"])  # long past
    else:
        assert_page(page, 200, "Phiếu số 1")
    with app.app_context():
        make_user(db.session, "admin")
    assert login(client, "admin-province").status_code == 302
    assert client.get("/receipt/HS-0001").status_code == 200


def test_the_429_page_is_vietnamese_and_a_limited_post_stores_nothing(
    database_url: str, tmp_path: Path
) -> None:
    """The only test here with the rate limits on (2 requests per QR and per key a minute)."""
    app = make_app(
        database_url,
        tmp_path / "instance",
        QR_RATELIMIT_TOKEN="2 per minute",
        RATELIMIT_INTEGRATION="2 per minute",
    )
    with app.app_context():
        world = build_world(db.session)
    client = app.test_client()
    push_dossier(client, world)
    token = token_of(app)
    csrf = fresh_csrf(client, token)  # the first request for this QR
    pairs = [("csrf_token", csrf), ("form", "phieu1"), ("overall", "5")]
    wrong = post_form(client, f"/q/{token}", [*pairs[:2], ("overall", "9")])
    assert wrong.status_code == 422  # the second
    before = counts(app)
    limited = post_form(client, f"/q/{token}", pairs)  # the third: limited, even if valid
    html = assert_page(limited, 429, TITLES["limited"])
    assert "429" in html
    assert counts(app) == before
    # The image API, third image in a minute: its 429 is the contract's, and recorded.
    for _ in range(2):
        svg = client.get("/api/v1/dossiers/HS-0001/qr.svg", headers=world.key_auth)
        assert svg.status_code == 200
    before = counts(app)
    image = client.get("/api/v1/dossiers/HS-0001/qr.png", headers=world.key_auth)
    assert assert_contract_error(image, 429, "rate_limited") == {}  # was {"error": "error"}
    assert image.headers["Retry-After"] == "60"
    assert counts(app) == {**before, "refused": before["refused"] + 1}
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
