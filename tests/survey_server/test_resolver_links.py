"""The return month and lateness copied onto each dossier-resolver link and onto the dossier
for its receiving officer, on both databases.

The rating job counts a month's resolver and reception dossiers from these columns alone, so
they must follow every write of a dossier: the dossier system's pushes, an ORM change of the
officers named responsible, a return moved to another month, and the dossiers stored before
migrations 0009 and 0010 (their backfills, which must keep every link).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import DateTime, bindparam, select, text

from builders import BACKENDS, RECEIVED, World, dossier_body, make_app
from survey_server.extensions import db
from survey_server.models import Centre, Dossier, Officer, dossier_resolvers

pytestmark = BACKENDS

OCTOBER = dt.date(2026, 10, 1)
NOVEMBER = dt.date(2026, 11, 1)
DUE = RECEIVED + dt.timedelta(days=3)


def push(client: FlaskClient, world: World, **fields: Any) -> None:
    response = client.post("/api/v1/dossiers", json=dossier_body(**fields), headers=world.key_auth)
    assert response.status_code in (200, 201), response.json


def links(app: Flask, code: str = "HS-0001") -> dict[str, tuple[dt.date | None, bool]]:
    """officer code → (returned_month, late) of the dossier's resolver links."""
    with app.app_context():
        rows = db.session.execute(
            select(Officer.code, dossier_resolvers.c.returned_month, dossier_resolvers.c.late)
            .join(Officer, Officer.id == dossier_resolvers.c.officer_id)
            .join(Dossier, Dossier.id == dossier_resolvers.c.dossier_id)
            .where(Dossier.code == code)
        )
        return {officer: (month, bool(late)) for officer, month, late in rows}


def desk(app: Flask, code: str = "HS-0001") -> tuple[dt.date | None, bool]:
    """(returned_month, reception_late) of the dossier: its receiving officer's copy."""
    columns = Dossier.__table__.c
    with app.app_context():
        month, late = db.session.execute(
            select(columns.returned_month, columns.reception_late).where(columns.code == code)
        ).one()
        return month, bool(late)


def test_the_links_follow_each_push(app: Flask, client: FlaskClient, world: World) -> None:
    push(client, world)
    assert links(app) == {"S1": (None, False), "S2": (None, False)}
    assert desk(app) == (None, False)

    on_time = (DUE - dt.timedelta(hours=1)).isoformat()
    push(client, world, returned_at=on_time)
    assert links(app) == {"S1": (OCTOBER, False), "S2": (OCTOBER, False)}
    assert desk(app) == (OCTOBER, False)

    late = (DUE + dt.timedelta(hours=1)).isoformat()
    push(client, world, returned_at=late)  # late, naming nobody: late for every resolver
    assert links(app) == {"S1": (OCTOBER, True), "S2": (OCTOBER, True)}
    assert desk(app) == (OCTOBER, False)  # … but not for the desk, which nobody named

    push(client, world, returned_at=late, late_responsible=["S2"])
    assert links(app) == {"S1": (OCTOBER, False), "S2": (OCTOBER, True)}
    assert desk(app) == (OCTOBER, False)

    push(client, world, returned_at=late, late_responsible=["R1"])
    assert links(app) == {"S1": (OCTOBER, False), "S2": (OCTOBER, False)}
    assert desk(app) == (OCTOBER, True)

    # Another receiving officer, not named: the dossier is no longer late for the desk.
    push(client, world, returned_at=late, late_responsible=["R1"], reception_officer="S1")
    assert desk(app) == (OCTOBER, False)

    # 31 October 17:30 UTC is 1 November 00:30 in Hà Nội: a November return.
    push(client, world, returned_at="2026-10-31T17:30:00Z", resolving_officers=["S2"])
    assert links(app) == {"S2": (NOVEMBER, True)}
    assert desk(app) == (NOVEMBER, False)

    push(client, world, returned_at=None, resolving_officers=["S1", "S2"])
    assert links(app) == {"S1": (None, False), "S2": (None, False)}
    assert desk(app) == (None, False)


def test_an_orm_change_of_who_is_responsible_reaches_the_links(
    app: Flask, client: FlaskClient, world: World
) -> None:
    push(client, world, returned_at=(DUE + dt.timedelta(days=1)).isoformat())
    with app.app_context():
        dossier = db.session.scalars(select(Dossier)).one()
        db.session.expire_all()  # as a later request would find it
        dossier.late_responsible = [db.session.scalars(select(Officer).filter_by(code="S1")).one()]
        db.session.commit()
    assert links(app) == {"S1": (OCTOBER, True), "S2": (OCTOBER, False)}


_HOURS = st.integers(min_value=-24 * 40, max_value=24 * 40)
_SUBSET = st.lists(st.sampled_from(["S1", "S2"]), unique=True)
_NAMED = st.lists(st.sampled_from(["R1", "S1", "S2"]), unique=True)
_PUSH = st.tuples(st.one_of(st.none(), _HOURS), _HOURS, _SUBSET, _NAMED)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(pushes=st.lists(_PUSH, min_size=1, max_size=4))
def test_after_any_pushes_the_links_are_what_the_dossier_says(
    app: Flask, client: FlaskClient, world: World, pushes: list[Any]
) -> None:
    """Any sequence of returns, due times, resolvers and named officers: the links and the
    dossier hold the local return month and rating-rules.md's late attribution of the last
    push."""
    for returned_hours, due_hours, resolvers, named in pushes:
        returned = None if returned_hours is None else RECEIVED + dt.timedelta(hours=returned_hours)
        due = RECEIVED + dt.timedelta(hours=due_hours)
        push(
            client,
            world,
            received_at=(min(due, returned or due) - dt.timedelta(days=1)).isoformat(),
            due_at=due.isoformat(),
            returned_at=None if returned is None else returned.isoformat(),
            resolving_officers=resolvers,
            late_responsible=named or None,
        )
        is_late = returned is not None and returned > due
        month = None
        if returned is not None:
            local = returned.astimezone(dt.timezone(dt.timedelta(hours=7)))
            month = dt.date(local.year, local.month, 1)
        expected = {code: (month, is_late and (code in named or not named)) for code in resolvers}
        assert links(app) == expected
        assert desk(app) == (month, is_late and "R1" in named)


def test_migrations_0009_and_0010_fill_the_facts_of_stored_dossiers(
    empty_database_url: str, tmp_path: Path
) -> None:
    """Dossiers stored under 0008 (no copied columns) get their month and lateness on upgrade,
    and keep every link (0010 alters the dossiers table that the links cascade from)."""
    app = make_app(empty_database_url, tmp_path / "instance")
    with app.app_context():
        upgrade(revision="0008")
        with db.engine.begin() as connection:
            run = connection.execute
            run(
                text(
                    "INSERT INTO units (id, code, name, level, active) "
                    "VALUES (1, 'U1', 'U', 'commune', true)"
                )
            )
            run(
                text(
                    "INSERT INTO centres (id, code, name, unit_id, networks) "
                    "VALUES (1, 'C1', 'C', 1, '[]')"
                )
            )
            for officer_id, code in ((1, "R1"), (2, "S1"), (3, "S2")):
                run(
                    text(
                        "INSERT INTO officers (id, code, name, unit_id, staff_group, active) "
                        "VALUES (:id, :code, :code, 1, 'resolver', true)"
                    ),
                    {"id": officer_id, "code": code},
                )
            dossier = text(
                "INSERT INTO dossiers (id, code, procedure, unit_id, centre_id, received_at, "
                "due_at, returned_at, reception_officer_id, created_at, updated_at) VALUES "
                "(:id, :code, 'P', 1, 1, :received, :due, :returned, 1, :received, :received)"
            ).bindparams(
                *(
                    bindparam(name, type_=DateTime(timezone=True))
                    for name in ("received", "due", "returned")
                )
            )
            utc = dt.UTC
            received = dt.datetime(2026, 10, 1, tzinfo=utc)
            due = dt.datetime(2026, 10, 10, tzinfo=utc)
            for dossier_id, returned in (
                (1, None),  # not returned
                (2, dt.datetime(2026, 10, 9, tzinfo=utc)),  # on time
                (3, dt.datetime(2026, 10, 31, 17, 30, tzinfo=utc)),  # late, 1 Nov local
                (4, dt.datetime(2026, 10, 20, tzinfo=utc)),  # late, S2 named
                (5, dt.datetime(2026, 10, 20, tzinfo=utc)),  # late, R1 (the desk) named
            ):
                run(
                    dossier,
                    {
                        "id": dossier_id,
                        "code": f"D{dossier_id}",
                        "received": received,
                        "due": due,
                        "returned": returned,
                    },
                )
                for officer_id in (2, 3):
                    run(
                        text("INSERT INTO dossier_resolvers VALUES (:d, :o)"),
                        {"d": dossier_id, "o": officer_id},
                    )
            run(text("INSERT INTO dossier_late_responsible VALUES (4, 3)"))
            run(text("INSERT INTO dossier_late_responsible VALUES (5, 1)"))
        upgrade()
        assert {code: links(app, code) for code in ("D1", "D2", "D3", "D4", "D5")} == {
            "D1": {"S1": (None, False), "S2": (None, False)},
            "D2": {"S1": (OCTOBER, False), "S2": (OCTOBER, False)},
            "D3": {"S1": (NOVEMBER, True), "S2": (NOVEMBER, True)},
            "D4": {"S1": (OCTOBER, False), "S2": (OCTOBER, True)},
            "D5": {"S1": (OCTOBER, False), "S2": (OCTOBER, False)},
        }
        assert {code: desk(app, code) for code in ("D1", "D2", "D3", "D4", "D5")} == {
            "D1": (None, False),
            "D2": (OCTOBER, False),
            "D3": (NOVEMBER, False),
            "D4": (OCTOBER, False),
            "D5": (OCTOBER, True),  # late, the desk officer R1 named
        }
        db.engine.dispose()


def test_a_flush_of_many_dossiers_fills_every_link(app: Flask, world: World) -> None:
    """The demo flushes its dossiers by the thousand: read back in chunks, none missed."""
    with app.app_context():
        session = db.session
        resolver = session.scalars(select(Officer).filter_by(code="S1")).one()
        desk = session.scalars(select(Officer).filter_by(code="R1")).one()
        unit, centre = desk.unit, session.scalars(select(Centre)).one()
        late = DUE + dt.timedelta(hours=1)
        session.add_all(
            Dossier(
                code=f"BULK-{number}",
                procedure="P",
                unit=unit,
                centre=centre,
                received_at=RECEIVED,
                due_at=DUE,
                returned_at=late if number % 2 else DUE,
                reception_officer=desk,
                resolving_officers=[resolver],
            )
            for number in range(1234)
        )
        session.commit()
        rows = session.execute(
            select(dossier_resolvers.c.returned_month, dossier_resolvers.c.late)
        ).all()
        assert len(rows) == 1234
        assert sorted((month, bool(flag)) for month, flag in set(rows)) == [
            (OCTOBER, False),
            (OCTOBER, True),
        ]
        assert sum(bool(flag) for _, flag in rows) == 617
