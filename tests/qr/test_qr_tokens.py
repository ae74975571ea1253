"""Receipt QR tokens: signed, short, name the dossier, expire (contract.md, "QR code")."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask
from flask.testing import FlaskClient
from qr_support import push_dossier, token_of

from builders import BACKENDS, World
from survey_server.extensions import db
from survey_server.services.tokens import (
    EPOCH,
    TokenError,
    dossier_for_token,
    expiry_for,
    make_token,
    read_token,
)

SECRET = "a-secret-key-for-tokens"
VN = dt.timezone(dt.timedelta(hours=7))


def test_a_token_round_trips_and_is_short() -> None:
    token = make_token(SECRET, 123456, dt.date(2026, 12, 31))
    assert len(token) <= 24
    parsed = read_token(SECRET, token)
    assert (parsed.dossier_id, parsed.expires_on) == (123456, dt.date(2026, 12, 31))
    assert token.isascii() and "/" not in token and "+" not in token


def test_the_same_dossier_and_day_give_the_same_token() -> None:
    assert make_token(SECRET, 7, EPOCH) == make_token(SECRET, 7, EPOCH)
    assert make_token(SECRET, 7, EPOCH) != make_token(SECRET, 8, EPOCH)


def _flip(text: str, index: int) -> str:
    char = text[index]
    return text[:index] + ("B" if char == "A" else "A") + text[index + 1 :]


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda t: t.replace("1z-", "20-", 1), id="other dossier id"),
        pytest.param(lambda t: t[:-1], id="signature cut"),
        pytest.param(lambda t: _flip(t, len(t) - 3), id="signature changed"),
        pytest.param(lambda t: t.split(".")[0], id="no signature"),
        pytest.param(lambda t: "x" * 80, id="too long"),
        pytest.param(lambda t: t + "é", id="not ascii"),
        pytest.param(lambda t: "", id="empty"),
    ],
)
def test_an_altered_or_forged_token_is_refused_with_400(tamper: object) -> None:
    token = make_token(SECRET, 71, dt.date(2026, 12, 31))  # 71 = "1z"
    assert token.startswith("1z-")
    with pytest.raises(TokenError) as caught:
        read_token(SECRET, tamper(token))  # type: ignore[operator]
    assert caught.value.status == 400


def test_a_token_signed_with_another_key_is_forged() -> None:
    token = make_token("another-key", 71, dt.date(2026, 12, 31))
    with pytest.raises(TokenError) as caught:
        read_token(SECRET, token)
    assert caught.value.status == 400


@pytest.mark.parametrize(
    ("due_at", "ttl", "last_day"),
    [
        (dt.datetime(2026, 10, 8, 8, 30, tzinfo=VN), 30, dt.date(2026, 11, 7)),
        # 23:30 UTC on 31 Oct is already 1 Nov in Vietnam: days are counted in local time.
        (dt.datetime(2026, 10, 31, 23, 30, tzinfo=dt.UTC), 30, dt.date(2026, 12, 1)),
        (dt.datetime(2026, 10, 8, 8, 30, tzinfo=VN), 7, dt.date(2026, 10, 15)),
    ],
)
def test_expiry_is_counted_in_local_days_after_the_due_date(
    due_at: dt.datetime, ttl: int, last_day: dt.date
) -> None:
    assert expiry_for(due_at, ttl) == last_day


@BACKENDS
def test_dossier_for_token_gives_400_404_410_and_the_dossier(
    app: Flask, client: FlaskClient, world: World
) -> None:
    push_dossier(client, world, "HS-0001")
    token = token_of(app, "HS-0001")
    secret = app.config["SECRET_KEY"]
    with app.app_context():
        now = dt.datetime.now(dt.UTC)
        assert dossier_for_token(db.session, secret, token, now).code == "HS-0001"
        parsed = read_token(secret, token)
        last_moment = dt.datetime.combine(parsed.expires_on, dt.time(23, 59), tzinfo=VN)
        assert dossier_for_token(db.session, secret, token, last_moment).code == "HS-0001"
        for bad, status in [
            (_flip(token, len(token) - 2), 400),
            (make_token(secret, 99999, parsed.expires_on), 404),
        ]:
            with pytest.raises(TokenError) as caught:
                dossier_for_token(db.session, secret, bad, now)
            assert caught.value.status == status
        with pytest.raises(TokenError) as caught:
            dossier_for_token(db.session, secret, token, last_moment + dt.timedelta(minutes=1))
        assert caught.value.status == 410


def test_a_dossier_returned_late_stays_open_after_its_return(
    app: Flask, client: FlaskClient, world: World
) -> None:
    now = dt.datetime.now(dt.UTC)
    push_dossier(
        client,
        world,
        "HS-LATE",
        received_at=(now - dt.timedelta(days=60)).isoformat(),
        due_at=(now - dt.timedelta(days=50)).isoformat(),
        returned_at=(now - dt.timedelta(days=2)).isoformat(),
        return_officer="R1",
    )
    token = token_of(app, "HS-LATE")
    with app.app_context():
        # The token itself lapsed 20 days ago; the return two days ago reopens the forms.
        assert read_token(app.config["SECRET_KEY"], token).expires_on < now.date()
        dossier = dossier_for_token(db.session, app.config["SECRET_KEY"], token, now)
        assert dossier.code == "HS-LATE"
