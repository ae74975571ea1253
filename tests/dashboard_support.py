"""Dashboard accounts for tests: make a user of a role in a unit, log a test client in."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from survey_server.models import Unit, User

DEFAULT_PASSWORD = "correct horse battery"  # noqa: S105  (test data)
_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def make_user(
    session: Session,
    role: str,
    unit_code: str | None = None,
    password: str = DEFAULT_PASSWORD,
    username: str | None = None,
) -> User:
    """An active account (committed). Hashing uses scrypt, as in production."""
    from survey_server.auth import hash_password

    unit_id = None
    if unit_code is not None:
        unit_id = session.scalar(select(Unit.id).where(Unit.code == unit_code))
        assert unit_id is not None, f"no unit {unit_code}"
    name = username or f"{role}-{unit_code or 'province'}".lower()
    user = User(
        username=name,
        display_name=name,
        password_hash=hash_password(password),
        role=role,
        unit_id=unit_id,
        active=True,
        session_version=0,
        failed_logins=0,
    )
    session.add(user)
    session.commit()
    return user


def csrf_token(client: FlaskClient, path: str = "/dashboard/login") -> str:
    """The CSRF token of a page's form (the session keeps the matching secret)."""
    page = client.get(path)
    match = _CSRF.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {path} ({page.status_code})"
    return match.group(1)


def login(
    client: FlaskClient, username: str, password: str = DEFAULT_PASSWORD, otp: str = ""
) -> TestResponse:
    """Log in through the real form (with its CSRF token); returns the POST's response."""
    token = csrf_token(client)
    return client.post(
        "/dashboard/login",
        data={"username": username, "password": password, "otp": otp, "csrf_token": token},
    )


def logout(client: FlaskClient) -> TestResponse:
    token = csrf_token(client, "/dashboard/")
    return client.post("/dashboard/logout", data={"csrf_token": token})


# --- a rated province for the dashboard's page tests -------------------------------------------


@dataclass(frozen=True)
class RatedWorld:
    """U1 (R1, S1, S2; from builders.World) and U2 (R9), rated for September and October 2026.

    R1: 12 forms in October (one reporting misconduct, pending), S1: 6, S2: 3 (under the
    minimum count for a breakdown), R9 in U2: 6.
    """

    unit_id: int
    other_unit_id: int
    officers: dict[str, int]
    report_id: int
    other_report_id: int
    month: dt.date = dt.date(2026, 10, 1)

    @property
    def month_text(self) -> str:
        return self.month.strftime("%Y-%m")


def _forms(
    session: Session,
    form: str,
    officer_code: str,
    count: int,
    month: int,
    answers: dict[str, object],
    comment: str | None = None,
) -> None:
    from rating_job_support import add_form, at

    for index in range(count):
        overall = answers["overall"]
        assert isinstance(overall, int)
        response = add_form(session, form, overall, [officer_code], at(1 + index % 27, month=month))
        response.answers = {**answers, **({"comment": comment} if comment else {})}
    session.commit()


def build_rated_world(session: Session) -> RatedWorld:
    """Needs ``builders.build_world`` first (the ``world`` fixture)."""
    from rating_job_support import AFTER_OCTOBER, add_form, add_unit, at, officer

    from survey_server.services.rating_job import run_month

    add_unit(session, "U2", {"R9": "reception"})
    reception = {"overall": 5, "courtesy": 5, "guidance": 4, "contacts": "1"}
    _forms(session, "phieu1", "R1", 11, 10, reception, comment="Cán bộ hướng dẫn rất tận tình")
    report = add_form(session, "phieu1", 2, ["R1"], at(20), misconduct=True)
    report.answers = {**report.answers, "comment": "Bị yêu cầu nộp thêm giấy tờ không cần thiết"}
    _forms(session, "phieu2", "S1", 6, 10, {"overall": 4, "result_quality": 4})
    _forms(session, "phieu2", "S2", 3, 10, {"overall": 3, "result_quality": 3}, comment="Chậm")
    _forms(session, "phieu1", "R9", 6, 10, {"overall": 4})
    other = add_form(session, "phieu1", 1, ["R9"], at(21), misconduct=True)
    _forms(session, "phieu1", "R1", 10, 9, {"overall": 4})
    session.commit()
    run_month(session, dt.date(2026, 9, 1), AFTER_OCTOBER)
    run_month(session, dt.date(2026, 10, 1), AFTER_OCTOBER)
    from survey_server.models import MisconductReport

    def report_id(response_id: int) -> int:
        found = session.scalar(
            select(MisconductReport.id).where(MisconductReport.response_id == response_id)
        )
        assert found is not None
        return found

    codes = ("R1", "S1", "S2", "R9")
    return RatedWorld(
        unit_id=officer(session, "R1").unit_id,
        other_unit_id=officer(session, "R9").unit_id,
        officers={code: officer(session, code).id for code in codes},
        report_id=report_id(report.id),
        other_report_id=report_id(other.id),
    )
