"""A PostgreSQL connection lost under a prepared statement (survey_server.direct)."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError

from builders import World
from survey_server import direct
from survey_server.direct import Prepared
from survey_server.extensions import db
from survey_server.models import Device

# A SQLite file cannot be disconnected.
pytestmark = pytest.mark.parametrize(
    "backend", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)

_DEVICES = Prepared(select(Device.id))
_BACKEND_PID = Prepared(select(func.pg_backend_pid()))


def test_a_lost_connection_is_invalidated_and_the_next_one_works(app: Flask, world: World) -> None:
    with app.app_context():
        with direct.connect(db.engine) as connection:
            pid = connection.first(_BACKEND_PID)
            assert pid is not None
            db.session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid[0]})
            db.session.commit()
            with pytest.raises(OperationalError) as lost:
                connection.first(_DEVICES)
            assert lost.value.connection_invalidated
            assert not connection.connection.is_valid  # the pool discards it, never lends it
        with direct.connect(db.engine) as connection:
            assert connection.first(_DEVICES) == (world.device_id,)
