"""The mobile pages GET/POST /q/<token>: phieu1, then phieu2 on return, once each; the error
pages; CSRF; anti-abuse flags and rate limits."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from qr_support import answer, csrf_of, push_dossier, token_of
from sqlalchemy import func, select

from builders import BACKENDS, World, make_app
from survey_server.extensions import db
from survey_server.models import Centre, Response
from survey_server.services.tokens import make_token, read_token


def _responses(app: Flask) -> list[Response]:
    with app.app_context():
        rows = db.session.scalars(select(Response).order_by(Response.id)).all()
        for row in rows:
            _ = [officer.code for officer in row.officers], row.dossier
        return list(rows)


@BACKENDS
def test_phieu1_is_shown_answered_once_and_tied_to_the_dossier_and_its_desk_officer(
    app: Flask, client: FlaskClient, world: World
) -> None:
    push_dossier(client, world)
    token = token_of(app)
    page = client.get(f"/q/{token}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'lang="vi"' in html and "Phiếu số 1" in html
    assert "Ông/Bà hài lòng như thế nào với công chức tiếp nhận" in html
    assert "<script" not in html
    stored = answer(client, token, "phieu1", {"overall": "4", "misconduct": "khong"})
    assert stored.status_code == 302
    assert stored.headers["Location"].endswith(f"/q/{token}/thanks?form=phieu1")
    (response,) = _responses(app)
    assert (response.form, response.channel, response.overall) == ("phieu1", "qr", 4)
    assert response.dossier is not None and response.dossier.code == "HS-0001"
    assert [officer.code for officer in response.officers] == ["R1"]
    assert response.answers == {"overall": 4, "misconduct": "khong"}
    assert response.flags == []

    thanks = client.get(stored.headers["Location"])
    assert thanks.status_code == 200
    assert "Quay lại" in thanks.get_data(as_text=True)  # when to come back for phieu2
    # Before the result is returned, the same QR says when to come back.
    again = client.get(f"/q/{token}")
    assert again.status_code == 200 and "<form" not in again.get_data(as_text=True)


@BACKENDS
def test_a_second_submission_of_the_same_form_changes_nothing(
    app: Flask, client: FlaskClient, world: World
) -> None:
    push_dossier(client, world)
    token = token_of(app)
    page = client.get(f"/q/{token}")
    data = {"csrf_token": csrf_of(page.get_data(as_text=True)), "form": "phieu1", "overall": "5"}
    assert client.post(f"/q/{token}", data=data).status_code == 302
    replay = client.post(f"/q/{token}", data={**data, "overall": "1"})
    assert replay.status_code == 409
    html = replay.get_data(as_text=True)
    assert "Đã trả lời" in html and "giữ nguyên" in html
    assert [r.overall for r in _responses(app)] == [5]


def test_phieu2_opens_only_once_the_dossier_is_returned(
    app: Flask, client: FlaskClient, world: World
) -> None:
    push_dossier(client, world)
    token = token_of(app)
    csrf = csrf_of(client.get(f"/q/{token}").get_data(as_text=True))
    assert answer(client, token, "phieu1", {"overall": "5"}).status_code == 302
    # Forcing phieu2 before the return stores nothing and says when to come back.
    page = client.get(f"/q/{token}")
    assert "<form" not in page.get_data(as_text=True)
    early = client.post(f"/q/{token}", data={"csrf_token": csrf, "form": "phieu2", "overall": "5"})
    assert early.status_code == 200 and "Quay lại" in early.get_data(as_text=True)
    assert len(_responses(app)) == 1

    push_dossier(client, world, returned=True)  # the dossier system reports the return
    page = client.get(f"/q/{token}")
    assert "Phiếu số 2" in page.get_data(as_text=True)
    stored = answer(client, token, "phieu2", {"overall": "2", "on_time": "tre_hen"})
    assert stored.status_code == 302
    phieu2 = _responses(app)[1]
    assert phieu2.form == "phieu2" and phieu2.answers == {"overall": 2, "on_time": "tre_hen"}
    assert [officer.code for officer in phieu2.officers] == ["S1", "S2"]
    done = client.get(f"/q/{token}")
    assert done.status_code == 200 and "Đã trả lời" in done.get_data(as_text=True)


def test_a_returned_dossier_shows_phieu1_first_then_links_to_phieu2(
    app: Flask, client: FlaskClient, world: World
) -> None:
    push_dossier(client, world, returned=True)
    token = token_of(app)
    assert "Phiếu số 1" in client.get(f"/q/{token}").get_data(as_text=True)
    stored = answer(client, token, "phieu1", {"overall": "5"})
    thanks = client.get(stored.headers["Location"]).get_data(as_text=True)
    assert f'href="/q/{token}"' in thanks
    (response,) = _responses(app)
    # At return, phieu1 is about the officer who returned the result.
    assert [officer.code for officer in response.officers] == ["R1"]


def test_an_invalid_answer_is_shown_again_with_the_error_and_nothing_stored(
    app: Flask, client: FlaskClient, world: World
) -> None:
    push_dossier(client, world)
    token = token_of(app)
    missing = answer(client, token, "phieu1", {"courtesy": "4"})
    assert missing.status_code == 422
    assert "Vui lòng chọn mức độ hài lòng" in missing.get_data(as_text=True)
    wrong = answer(client, token, "phieu1", {"overall": "9"})
    assert wrong.status_code == 422
    assert _responses(app) == []


def test_a_post_without_the_csrf_token_is_refused(
    app: Flask, client: FlaskClient, world: World
) -> None:
    push_dossier(client, world)
    token = token_of(app)
    client.get(f"/q/{token}")
    refused = client.post(f"/q/{token}", data={"form": "phieu1", "overall": "5"})
    assert refused.status_code == 400
    assert "Trang đã hết hạn" in refused.get_data(as_text=True)
    assert _responses(app) == []


@BACKENDS
@pytest.mark.parametrize(
    ("case", "status", "title"),
    [
        ("forged", 400, "Mã QR không hợp lệ"),
        ("unknown", 404, "Không tìm thấy hồ sơ"),
        ("expired", 410, "Mã QR đã hết hạn"),
    ],
)
def test_error_pages_in_vietnamese_with_what_to_do(
    app: Flask, client: FlaskClient, world: World, case: str, status: int, title: str
) -> None:
    now = dt.datetime.now(dt.UTC)
    push_dossier(
        client,
        world,
        received_at=(now - dt.timedelta(days=60)).isoformat(),
        due_at=(now - dt.timedelta(days=31)).isoformat(),
    )
    token = token_of(app)
    secret = app.config["SECRET_KEY"]
    tokens = {
        "forged": token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
        "unknown": make_token(secret, 4242, read_token(secret, token).expires_on),
        "expired": token,
    }
    for method in ("get", "post"):
        page = getattr(client, method)(f"/q/{tokens[case]}")
        html = page.get_data(as_text=True)
        assert page.status_code == status, method
        assert title in html and "quầy" in html  # what to do next: the one-stop desk
        assert 'lang="vi"' in html
    english = client.get(f"/q/{tokens[case]}?lang=en")
    assert english.status_code == status and 'lang="en"' in english.get_data(as_text=True)


def test_english_on_request_and_it_stays_on_the_form_action(
    app: Flask, client: FlaskClient, world: World
) -> None:
    push_dossier(client, world)
    token = token_of(app)
    html = client.get(f"/q/{token}?lang=en").get_data(as_text=True)
    assert 'lang="en"' in html and "How satisfied are you" in html
    assert f'action="/q/{token}?lang=en"' in html
    stored = answer(client, token, "phieu1", {"overall": "5"}, query="?lang=en")
    assert stored.headers["Location"].endswith("lang=en")
    assert _responses(app)[0].lang == "en"


def test_the_page_is_small_and_needs_no_script(
    app: Flask, client: FlaskClient, world: World
) -> None:
    push_dossier(client, world)
    page = client.get(f"/q/{token_of(app)}")
    html = page.get_data()
    # Everything the phone loads for the form: one HTML response, CSS inline, no script,
    # no image, no external stylesheet. 3G at 50 kB/s: well under a second.
    assert len(html) < 16_000, len(html)
    assert b"<script" not in html and b"<img" not in html
    # The only link is the icon, inline (a data: address), so no second request.
    assert re.findall(rb"<link[^>]*>", html) == [
        re.search(rb'<link rel="icon" href="data:image/svg\+xml,[^"]+">', html).group(0)  # type: ignore[union-attr]
    ]
    style = re.search(rb"<style>(.*?)</style>", html, re.S)
    assert style is not None and len(style.group(1)) < 2_500


@BACKENDS
def test_an_answer_from_the_centre_network_right_after_printing_is_kept_and_flagged(
    app: Flask, client: FlaskClient, world: World
) -> None:
    push_dossier(client, world, "HS-A")
    push_dossier(client, world, "HS-B")
    push_dossier(client, world, "HS-C")
    with app.app_context():
        centre = db.session.scalar(select(Centre).where(Centre.code == "C1"))
        assert centre is not None
        centre.networks = ["10.20.0.0/16"]
        db.session.commit()
    # A and B: their QR printed just now (as the dossier system does); C never printed.
    for code in ("HS-A", "HS-B"):
        assert client.get(f"/api/v1/dossiers/{code}/qr.png", headers=world.key_auth).status_code
    desk = {"REMOTE_ADDR": "10.20.3.4"}
    outside = {"REMOTE_ADDR": "113.160.1.1"}
    for code, environ in (("HS-A", desk), ("HS-B", outside), ("HS-C", desk)):
        token = token_of(app, code)
        page = client.get(f"/q/{token}", environ_base=environ)
        data = {"csrf_token": csrf_of(page.get_data(as_text=True)), "form": "phieu1"}
        posted = client.post(f"/q/{token}", data={**data, "overall": "5"}, environ_base=environ)
        assert posted.status_code == 302
    flags = {r.dossier.code: r.flags for r in _responses(app) if r.dossier is not None}
    assert flags == {"HS-A": ["centre_network_after_print"], "HS-B": [], "HS-C": []}


def test_rate_limits_per_token_and_per_address(
    tmp_path: object, world_app: tuple[Flask, FlaskClient, World]
) -> None:
    app, client, world = world_app
    push_dossier(client, world, "HS-A")
    push_dossier(client, world, "HS-B")
    token_a, token_b = token_of(app, "HS-A"), token_of(app, "HS-B")
    # Per token (3/min here): a fourth request for the same QR from another address is refused.
    for index in range(3):
        assert (
            client.get(f"/q/{token_a}", environ_base={"REMOTE_ADDR": f"1.1.1.{index}"}).status_code
            == 200
        )
    limited = client.get(f"/q/{token_a}", environ_base={"REMOTE_ADDR": "1.1.1.9"})
    assert limited.status_code == 429
    assert "Quá nhiều" in limited.get_data(as_text=True)
    assert client.get(f"/q/{token_b}", environ_base={"REMOTE_ADDR": "1.1.1.9"}).status_code == 200
    # Per address (5/min here): guessing tokens from one address is cut off.
    for index in range(5):
        client.get(f"/q/guess{index}", environ_base={"REMOTE_ADDR": "2.2.2.2"})
    assert client.get(f"/q/{token_b}", environ_base={"REMOTE_ADDR": "2.2.2.2"}).status_code == 429


@pytest.fixture
def world_app(database_url: str, tmp_path: object) -> object:
    from pathlib import Path

    from builders import build_world

    app = make_app(
        database_url,
        Path(str(tmp_path)) / "instance",
        QR_RATELIMIT_TOKEN="3 per minute",
        QR_RATELIMIT_IP="5 per minute",
    )
    with app.app_context():
        world = build_world(db.session)
    yield app, app.test_client(), world
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_counts_stay_exact(app: Flask, client: FlaskClient, world: World) -> None:
    """Every refused POST (forged, CSRF, already answered) stores nothing."""
    push_dossier(client, world)
    token = token_of(app)
    csrf = csrf_of(client.get(f"/q/{token}").get_data(as_text=True))
    data = {"csrf_token": csrf, "form": "phieu1", "overall": "3"}
    assert client.post(f"/q/{token}", data=data).status_code == 302
    assert client.post(f"/q/{token}", data=data).status_code == 409
    assert client.post(f"/q/{token}x", data=data).status_code == 400
    assert client.post(f"/q/{token}", data={**data, "csrf_token": "x"}).status_code == 400
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Response)) == 1
