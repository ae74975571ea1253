"""Fixtures of the dashboard tests: the rated world of dashboard_support, and a head signed in."""

from __future__ import annotations

import pytest
from dashboard_support import RatedWorld, build_rated_world, login, make_user
from flask import Flask
from flask.testing import FlaskClient

from builders import World
from survey_server.extensions import db


@pytest.fixture
def rated(app: Flask, world: World) -> RatedWorld:
    with app.app_context():
        return build_rated_world(db.session)


@pytest.fixture
def head_client(app: Flask, rated: RatedWorld) -> FlaskClient:
    """The head of U1, signed in."""
    with app.app_context():
        make_user(db.session, "head", "U1")
    client = app.test_client()
    assert login(client, "head-u1").status_code == 302
    return client
