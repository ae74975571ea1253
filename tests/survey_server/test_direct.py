"""Prepared statements on the pooled DBAPI connection (survey_server.direct), on both databases.

What they write and read must be what Core writes and reads: the response API's rows are read
back by the ORM everywhere else (dashboard, rating job), and on SQLite the datetimes are text
that the shift and month queries compare as text.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, NamedTuple

import pytest
from flask import Flask
from sqlalchemy import bindparam, insert, select, text
from sqlalchemy.exc import IntegrityError

from builders import BACKENDS, World
from survey_server import direct
from survey_server.direct import Prepared
from survey_server.extensions import db
from survey_server.models import MisconductReport, Officer, Response, response_officers
from survey_server.services.responses import RESPONSE_COLUMNS

pytestmark = BACKENDS

SAIGON = dt.timezone(dt.timedelta(hours=7))


class _Row(NamedTuple):
    id: int
    answered_at: dt.datetime
    flags: list[str]
    valid: bool


_INSERT = Prepared(insert(Response.__table__).returning(Response.id), column_keys=RESPONSE_COLUMNS)
_READ = Prepared(
    select(Response.id, Response.answered_at, Response.flags, Response.valid).where(
        Response.client_id == bindparam("client_id")
    ),
    _Row,
)
_ANSWERED_FROM = Prepared(
    select(Response.client_id)
    .where(Response.answered_at >= bindparam("since"))
    .order_by(Response.answered_at)
)
_OFFICERS_IN = Prepared(
    select(Officer.id).where(Officer.code.in_(bindparam("codes", expanding=True)))
)


def _values(client_id: str, answered_at: dt.datetime, **more: Any) -> dict[str, Any]:
    return {
        "client_id": client_id,
        "form": "phieu1",
        "form_version": 1,
        "dossier_id": None,
        "counter_id": None,
        "device_id": None,
        "channel": "kiosk",
        "answers": {"overall": 4, "comment": "Cán bộ <b>nhiệt tình</b>"},
        "overall": 4,
        "answered_at": answered_at,
        "received_at": answered_at,
        "lang": "vi",
        "valid": True,
        "flags": ["clock_ahead"],
        "content_hash": "0" * 64,
        **more,
    }


# Whole seconds (no microseconds) and a local offset: a datetime that a driver's own text
# conversion would write differently from Core ("…:00" against "…:00.000000", +07:00 kept).
MOMENTS = [
    dt.datetime(2026, 10, 5, 8, 41, 0, tzinfo=SAIGON),
    dt.datetime(2026, 10, 5, 1, 41, 0, 250_000, tzinfo=dt.UTC),
]


def test_what_a_prepared_insert_writes_is_what_core_writes(app: Flask, world: World) -> None:
    with app.app_context():
        with direct.connect(db.engine) as connection, connection.writing():
            for number, moment in enumerate(MOMENTS):
                connection.first(_INSERT, **_values(f"direct-{number}", moment))
        for number, moment in enumerate(MOMENTS):
            db.session.execute(insert(Response.__table__), _values(f"core-{number}", moment))
        db.session.commit()

        raw = "SELECT client_id, answered_at, answers, flags, valid FROM responses"
        stored = {row[0]: row[1:] for row in db.session.execute(text(raw))}
        for number in range(len(MOMENTS)):
            assert stored[f"direct-{number}"] == stored[f"core-{number}"]
        for response in db.session.scalars(select(Response)):
            number = int(response.client_id.rsplit("-", 1)[1])
            assert response.answered_at == MOMENTS[number]
            assert response.answered_at.utcoffset() == dt.timedelta(0)
            assert response.answers["comment"] == "Cán bộ <b>nhiệt tình</b>"
            assert response.flags == ["clock_ahead"] and response.valid is True


def test_what_a_prepared_select_reads_is_what_the_orm_reads(app: Flask, world: World) -> None:
    with app.app_context():
        for number, moment in enumerate(MOMENTS):
            db.session.execute(insert(Response.__table__), _values(f"core-{number}", moment))
        db.session.commit()
        with direct.connect(db.engine) as connection:
            rows = [connection.first(_READ, client_id=f"core-{n}") for n in range(len(MOMENTS))]
            assert connection.first(_READ, client_id="nobody") is None
            # Compared on the database, as the shift check compares: the bind is written as
            # the stored values are (the earlier answer is 08:41 at +07:00, 01:41 UTC).
            later = connection.all(_ANSWERED_FROM, since=MOMENTS[1])
        for number, row in enumerate(rows):
            assert row is not None
            orm = db.session.scalars(select(Response).where(Response.id == row.id)).one()
            assert row == (orm.id, orm.answered_at, orm.flags, orm.valid)
            assert row.answered_at == MOMENTS[number] and row.answered_at.tzinfo is dt.UTC
            assert isinstance(row.valid, bool)
    assert later == [("core-1",)]


def test_a_column_default_is_filled_in_as_core_fills_it(app: Flask, world: World) -> None:
    """``MisconductReport.status`` defaults to ``pending`` in Python, not in the database."""
    report = Prepared(
        insert(MisconductReport.__table__),
        column_keys=("response_id", "officer_id", "created_at"),
    )
    now = MOMENTS[0]
    with app.app_context():
        officer = db.session.scalars(select(Officer.id).where(Officer.code == world.desk_officer))
        officer_id = officer.one()
        db.session.commit()  # on SQLite the session's transaction holds the write lock
        with direct.connect(db.engine) as connection, connection.writing():
            inserted = connection.first(_INSERT, **_values("with-report", now))
            assert inserted is not None
            connection.execute(
                report, response_id=inserted[0], officer_id=officer_id, created_at=now
            )
        stored = db.session.scalars(select(MisconductReport)).one()
        assert (stored.status, stored.created_at) == ("pending", now)


def test_a_missing_value_is_an_error_not_a_null(app: Flask, world: World) -> None:
    values = _values("missing", MOMENTS[0])
    del values["content_hash"]
    with (
        app.app_context(),
        direct.connect(db.engine) as connection,
        pytest.raises(KeyError, match="content_hash"),
        connection.writing(),
    ):
        connection.first(_INSERT, **values)
    with app.app_context():
        assert db.session.scalar(select(Response.id)) is None


def test_a_default_computed_by_core_must_be_given(app: Flask, world: World) -> None:
    """``MisconductReport.created_at`` defaults to ``utcnow()``, which only Core would call."""
    report = Prepared(insert(MisconductReport.__table__), column_keys=("response_id", "officer_id"))
    with (
        app.app_context(),
        direct.connect(db.engine) as connection,
        pytest.raises(KeyError, match="created_at"),
    ):
        connection.execute(report, response_id=1, officer_id=1)


def test_a_statement_completed_at_execution_is_refused(app: Flask, world: World) -> None:
    with (
        app.app_context(),
        direct.connect(db.engine) as connection,
        pytest.raises(ValueError, match="cannot be prepared"),
    ):
        connection.all(_OFFICERS_IN, codes=[world.desk_officer])


def test_a_failed_write_is_rolled_back_and_raised_as_core_raises_it(
    app: Flask, world: World
) -> None:
    link = Prepared(insert(response_officers), column_keys=("response_id", "officer_id"))
    with app.app_context():
        with direct.connect(db.engine) as connection:
            with connection.writing():
                connection.first(_INSERT, **_values("first", MOMENTS[0]))
            with pytest.raises(IntegrityError), connection.writing():
                second = connection.first(_INSERT, **_values("second", MOMENTS[1]))
                assert second is not None
                connection.execute(link, response_id=second[0], officer_id=-1)  # no such officer
            # The connection is usable after the failure, outside any transaction.
            assert connection.first(_READ, client_id="second") is None
            assert connection.first(_READ, client_id="first") is not None
            with pytest.raises(IntegrityError), connection.writing():
                connection.first(_INSERT, **_values("first", MOMENTS[1]))  # unique client_id
        assert db.session.scalars(select(Response.client_id)).all() == ["first"]
