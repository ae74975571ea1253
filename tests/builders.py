"""Small builders for test data (Flask tutorial style), shared by the test modules."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from survey_server import create_app
from survey_server.extensions import db
from survey_server.models import Centre, Counter, Officer, Shift, Unit
from survey_server.services import credentials

BACKENDS = pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)

TEST_CONFIG: dict[str, Any] = {
    "TESTING": True,
    "SECRET_KEY": "test-secret-key-not-for-production",
    "WTF_CSRF_ENABLED": True,
    "RATELIMIT_STORAGE_URI": "memory://",
}


def make_app(database_url: str, instance: Path, **overrides: Any) -> Flask:
    """The app for a test; an override of None removes that setting (the default applies)."""
    os.environ["INSTANCE_PATH"] = str(instance)
    config = {**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url, **overrides}
    return create_app({key: value for key, value in config.items() if value is not None})


ON_DUTY_SINCE = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
RECEIVED = dt.datetime(2026, 10, 5, 8, 30, tzinfo=dt.timezone(dt.timedelta(hours=7)))


@dataclass(frozen=True)
class World:
    unit: str
    centre: str
    counter: str
    desk_officer: str
    resolvers: tuple[str, str]
    device_token: str
    device_id: int
    integration_key: str

    @property
    def device_auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.device_token}"}

    @property
    def key_auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.integration_key}"}


def build_world(session: Session, *, on_duty: bool = True) -> World:
    unit = Unit(code="U1", name="UBND xã Thử Nghiệm", level="commune")
    centre = Centre(code="C1", name="Trung tâm Phục vụ hành chính công xã", unit=unit)
    counter = Counter(code="K1", name="Quầy 1", centre=centre)
    session.add_all(
        [
            unit,
            centre,
            counter,
            Officer(code="R1", name="Lò Thị Hoa", unit=unit, group="reception"),
            Officer(code="S1", name="Quàng Văn Nam", unit=unit, group="resolver"),
            Officer(code="S2", name="Cầm Thị Mai", unit=unit, group="resolver"),
        ]
    )
    session.commit()
    device, token = credentials.register_device(session, "K1", None, actor="test")
    _, key = credentials.create_integration_key(session, "dossier system", actor="test")
    if on_duty:
        # R1 on duty at K1 since long ago: kiosk ratings count only during a shift.
        desk_officer = session.scalar(select(Officer).where(Officer.code == "R1"))
        session.add(
            Shift(counter=counter, officer=desk_officer, opened_at=ON_DUTY_SINCE, opened_via="desk")
        )
        session.commit()
    return World("U1", "C1", "K1", "R1", ("S1", "S2"), token, device.id, key)


def dossier_body(code: str = "HS-0001", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "code": code,
        "procedure": "Đăng ký khai sinh",
        "unit": "U1",
        "centre": "C1",
        "received_at": RECEIVED.isoformat(),
        "due_at": (RECEIVED + dt.timedelta(days=3)).isoformat(),
        "returned_at": None,
        "reception_officer": "R1",
        "return_officer": None,
        "resolving_officers": ["S1", "S2"],
        "late_responsible": None,
    }
    body.update(overrides)
    return body


def returned_dossier_body(code: str = "HS-0001", **overrides: Any) -> dict[str, Any]:
    returned = (RECEIVED + dt.timedelta(days=2)).isoformat()
    return dossier_body(code, returned_at=returned, return_officer="R1", **overrides)


def response_body(form: str = "phieu1", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "form": form,
        "dossier_code": None,
        "officer": "R1" if form == "phieu1" else None,
        "answers": {"overall": 5},
        "answered_at": (RECEIVED + dt.timedelta(minutes=5)).isoformat(),
        "lang": "vi",
    }
    body.update(overrides)
    return body


def row_counts(app: Flask, **tables: Any) -> dict[str, int]:
    """The number of rows of each model or table, by the given names (``responses=Response``)."""
    from survey_server.extensions import db

    with app.app_context():
        return {
            name: int(db.session.scalar(select(func.count()).select_from(table)) or 0)
            for name, table in tables.items()
        }


@contextmanager
def executed(app: Flask) -> Iterator[list[str]]:
    """The SQL statements the app's engine runs inside the block, in order (queries per page)."""
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(str(args[2]))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)
