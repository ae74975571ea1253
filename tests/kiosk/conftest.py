"""The kiosk tests start with nobody on duty: opening a shift is part of what they test."""

from __future__ import annotations

import pytest
from flask import Flask

from builders import World, build_world
from survey_server.extensions import db


@pytest.fixture
def world(app: Flask) -> World:
    with app.app_context():
        return build_world(db.session, on_duty=False)
