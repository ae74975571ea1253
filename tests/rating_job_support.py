"""Builders for the rating job and decision tests: forms, dossiers, reports and users by code."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from survey_server.models import (
    Centre,
    Dossier,
    MisconductReport,
    Officer,
    OfficerRating,
    Response,
    Unit,
    User,
)

LOCAL = dt.timezone(dt.timedelta(hours=7))
OCTOBER = dt.date(2026, 10, 1)
#: Well after October 2026 is over (the run is final, not a preview).
AFTER_OCTOBER = dt.datetime(2026, 11, 2, 2, 0, tzinfo=LOCAL)


def at(day: int, hour: int = 9, month: int = 10) -> dt.datetime:
    """A local time in 2026 (October unless told)."""
    return dt.datetime(2026, month, day, hour, 0, tzinfo=LOCAL)


def officer(session: Session, code: str) -> Officer:
    found = session.scalar(select(Officer).where(Officer.code == code))
    assert found is not None, code
    return found


def unit_id(session: Session, code: str) -> int:
    found = session.scalar(select(Unit.id).where(Unit.code == code))
    assert found is not None, code
    return found


def add_unit(session: Session, code: str, officers: dict[str, str]) -> Unit:
    """A unit with its centre and officers ``{code: group}``."""
    unit = Unit(code=code, name=f"Đơn vị {code}", level="commune")
    session.add_all([unit, Centre(code=f"C-{code}", name=f"Trung tâm {code}", unit=unit)])
    for officer_code, group in officers.items():
        session.add(Officer(code=officer_code, name=officer_code, unit=unit, group=group))
    session.commit()
    return unit


def add_form(
    session: Session,
    form: str,
    overall: int,
    officers: list[str],
    answered_at: dt.datetime,
    *,
    dossier: Dossier | None = None,
    valid: bool = True,
    misconduct: bool = False,
) -> Response:
    answers: dict[str, object] = {"overall": overall}
    if misconduct:
        answers["misconduct"] = "co"
    response = Response(
        client_id=str(uuid.uuid4()),
        form=form,
        dossier=dossier,
        channel="kiosk",
        answers=answers,
        overall=overall,
        answered_at=answered_at,
        valid=valid,
        flags=[],
        content_hash=uuid.uuid4().hex,
        officers=[officer(session, code) for code in officers],
    )
    session.add(response)
    if misconduct:
        for code in officers:
            session.add(MisconductReport(response=response, officer=officer(session, code)))
    session.commit()
    return response


def add_dossier(
    session: Session,
    code: str,
    *,
    unit: str = "U1",
    reception: str = "R1",
    resolvers: tuple[str, ...] = ("S1", "S2"),
    returned_at: dt.datetime | None,
    due_at: dt.datetime | None = None,
    late_responsible: tuple[str, ...] = (),
) -> Dossier:
    the_unit = session.scalar(select(Unit).where(Unit.code == unit))
    assert the_unit is not None
    received = (returned_at or at(1)) - dt.timedelta(days=3)
    dossier = Dossier(
        code=code,
        procedure="Đăng ký khai sinh",
        unit=the_unit,
        centre=the_unit.centres[0],
        received_at=received,
        due_at=due_at or received + dt.timedelta(days=5),
        returned_at=returned_at,
        reception_officer=officer(session, reception),
        resolving_officers=[officer(session, code) for code in resolvers],
        late_responsible=[officer(session, code) for code in late_responsible],
    )
    session.add(dossier)
    session.commit()
    return dossier


def add_user(session: Session, username: str, role: str, unit: str | None = "U1") -> User:
    user = User(
        username=username,
        display_name=username,
        password_hash="not-used",
        role=role,
        unit_id=unit_id(session, unit) if unit else None,
    )
    session.add(user)
    session.commit()
    return user


def ratings(session: Session, code: str, month: dt.date = OCTOBER) -> list[OfficerRating]:
    """Every revision of one officer's month, oldest first."""
    query = (
        select(OfficerRating)
        .where(OfficerRating.officer_id == officer(session, code).id, OfficerRating.month == month)
        .order_by(OfficerRating.revision)
    )
    return list(session.scalars(query))
