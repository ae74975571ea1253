"""Builders for the admin and alert tests."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from survey_server.models import Counter, MisconductReport, Officer, Response

T0 = dt.datetime(2026, 10, 5, 1, 0, tzinfo=dt.UTC)


def rating(
    session: Session, counter_code: str, overall: int, at: dt.datetime, officer: str | None = None
) -> Response:
    """A valid kiosk rating at a counter (not committed)."""
    counter = session.scalar(select(Counter).where(Counter.code == counter_code))
    assert counter is not None
    response = Response(
        client_id=str(uuid.uuid4()),
        form="phieu1",
        counter=counter,
        channel="kiosk",
        answers={"overall": overall},
        overall=overall,
        answered_at=at,
        received_at=at,
        content_hash=uuid.uuid4().hex,
        flags=[],
    )
    if officer is not None:
        response.officers = [session.scalars(select(Officer).where(Officer.code == officer)).one()]
    session.add(response)
    return response


def misconduct(session: Session, officer_code: str, at: dt.datetime) -> MisconductReport:
    response = rating(session, "K1", 1, at, officer_code)
    officer = session.scalars(select(Officer).where(Officer.code == officer_code)).one()
    report = MisconductReport(response=response, officer=officer, created_at=at)
    session.add(report)
    session.commit()
    return report
