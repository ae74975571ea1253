"""The data model (SQLAlchemy 2, typed). Times are stored in UTC and returned timezone-aware."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from .extensions import db


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware datetime stored as UTC on every database.

    SQLite has no time zone type; storing naive UTC there and attaching UTC on the way out keeps
    comparisons and ordering right on both SQLite and PostgreSQL.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: times must carry a time zone")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


STAFF_GROUPS = ("reception", "resolver")
FORM_IDS = ("phieu1", "phieu2")


class Unit(db.Model):  # type: ignore[name-defined,misc]
    """An agency whose officers are rated: a department, a district, a commune... (configurable)."""

    __tablename__ = "units"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    level: Mapped[str] = mapped_column(String(32))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    parent: Mapped[Unit | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Unit]] = relationship(back_populates="parent")
    centres: Mapped[list[Centre]] = relationship(back_populates="unit")
    officers: Mapped[list[Officer]] = relationship(back_populates="unit")


class Centre(db.Model):  # type: ignore[name-defined,misc]
    """A one-stop centre (Bộ phận Một cửa / Trung tâm Phục vụ hành chính công)."""

    __tablename__ = "centres"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    address: Mapped[str | None] = mapped_column(String(500))
    # The centre's own networks (CIDR list): answers from there right after printing are flagged.
    networks: Mapped[list[str]] = mapped_column(JSON, default=list)

    unit: Mapped[Unit] = relationship(back_populates="centres")
    counters: Mapped[list[Counter]] = relationship(back_populates="centre")


class Counter(db.Model):  # type: ignore[name-defined,misc]
    """A desk of a centre, where a kiosk stands."""

    __tablename__ = "counters"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"))
    # reception, return or both: phieu2 is offered at a return counter.
    kind: Mapped[str] = mapped_column(String(16), default="both")

    centre: Mapped[Centre] = relationship(back_populates="counters")
    devices: Mapped[list[Device]] = relationship(back_populates="counter")


class Officer(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "officers"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    group: Mapped[str] = mapped_column("staff_group", String(16))
    title: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # For opening a shift at a kiosk (hashed, never stored in clear).
    pin_hash: Mapped[str | None] = mapped_column(String(255))
    photo: Mapped[str | None] = mapped_column(String(255))

    unit: Mapped[Unit] = relationship(back_populates="officers")


class Device(db.Model):  # type: ignore[name-defined,misc]
    """A kiosk. Its token is shown once at registration; only its hash is kept."""

    __tablename__ = "devices"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    counter_id: Mapped[int] = mapped_column(ForeignKey("counters.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    counter: Mapped[Counter] = relationship(back_populates="devices")

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


class IntegrationKey(db.Model):  # type: ignore[name-defined,misc]
    """A key for the dossier system. Only its hash is kept."""

    __tablename__ = "integration_keys"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


dossier_resolvers = Table(
    "dossier_resolvers",
    db.metadata,
    Column("dossier_id", ForeignKey("dossiers.id", ondelete="CASCADE"), primary_key=True),
    Column("officer_id", ForeignKey("officers.id"), primary_key=True),
)

dossier_late_responsible = Table(
    "dossier_late_responsible",
    db.metadata,
    Column("dossier_id", ForeignKey("dossiers.id", ondelete="CASCADE"), primary_key=True),
    Column("officer_id", ForeignKey("officers.id"), primary_key=True),
)


class Dossier(db.Model):  # type: ignore[name-defined,misc]
    """A dossier (hồ sơ) as pushed by the provincial dossier system."""

    __tablename__ = "dossiers"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    procedure: Mapped[str] = mapped_column(String(500))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"))
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    returned_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)
    reception_officer_id: Mapped[int] = mapped_column(ForeignKey("officers.id"))
    return_officer_id: Mapped[int | None] = mapped_column(ForeignKey("officers.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    unit: Mapped[Unit] = relationship()
    centre: Mapped[Centre] = relationship()
    reception_officer: Mapped[Officer] = relationship(foreign_keys=[reception_officer_id])
    return_officer: Mapped[Officer | None] = relationship(foreign_keys=[return_officer_id])
    resolving_officers: Mapped[list[Officer]] = relationship(
        secondary=dossier_resolvers, order_by="Officer.code"
    )
    late_responsible: Mapped[list[Officer]] = relationship(
        secondary=dossier_late_responsible, order_by="Officer.code"
    )

    @property
    def returned(self) -> bool:
        return self.returned_at is not None

    @property
    def late(self) -> bool:
        return self.returned_at is not None and self.returned_at > self.due_at


response_officers = Table(
    "response_officers",
    db.metadata,
    Column("response_id", ForeignKey("responses.id", ondelete="CASCADE"), primary_key=True),
    Column("officer_id", ForeignKey("officers.id"), primary_key=True, index=True),
)


class Response(db.Model):  # type: ignore[name-defined,misc]
    """One submitted form. Anonymous: nothing here identifies the citizen."""

    __tablename__ = "responses"
    id: Mapped[int] = mapped_column(primary_key=True)
    # The UUID the kiosk (or the QR page) made when the citizen finished: the idempotency key.
    client_id: Mapped[str] = mapped_column(String(36), unique=True)
    form: Mapped[str] = mapped_column(String(32))
    form_version: Mapped[int] = mapped_column(Integer, default=1)
    dossier_id: Mapped[int | None] = mapped_column(ForeignKey("dossiers.id"))
    counter_id: Mapped[int | None] = mapped_column(ForeignKey("counters.id"))
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id"))
    channel: Mapped[str] = mapped_column(String(16))  # kiosk | qr
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    overall: Mapped[int] = mapped_column(Integer)
    answered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    lang: Mapped[str] = mapped_column(String(16), default="vi")
    # False once a reviewer rejects it (fraud review); only valid answers count.
    valid: Mapped[bool] = mapped_column(Boolean, default=True)
    flags: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Hash of the submission as sent, to tell an identical retry (200) from a conflict (409).
    content_hash: Mapped[str] = mapped_column(String(64))

    dossier: Mapped[Dossier | None] = relationship()
    counter: Mapped[Counter | None] = relationship()
    device: Mapped[Device | None] = relationship()
    officers: Mapped[list[Officer]] = relationship(
        secondary=response_officers, order_by="Officer.code"
    )

    __table_args__ = (
        # One valid answer per (dossier, form), enforced by the database itself so that two
        # submissions racing each other cannot both be stored.
        Index(
            "uq_responses_dossier_form_valid",
            "dossier_id",
            "form",
            unique=True,
            sqlite_where=text("valid AND dossier_id IS NOT NULL"),
            postgresql_where=text("valid AND dossier_id IS NOT NULL"),
        ),
    )


class RefusedSubmission(db.Model):  # type: ignore[name-defined,misc]
    """Every submission we did not store, with why: nothing a kiosk sends disappears silently."""

    __tablename__ = "refused_submissions"
    id: Mapped[int] = mapped_column(primary_key=True)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    endpoint: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str | None] = mapped_column(String(16))
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id"))
    integration_key_id: Mapped[int | None] = mapped_column(ForeignKey("integration_keys.id"))
    client_id: Mapped[str | None] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    error: Mapped[str] = mapped_column(String(64))
    fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The start of the body as received, for diagnosis; bounded so a flood cannot fill the disk.
    body_excerpt: Mapped[str | None] = mapped_column(Text)


class User(UserMixin, db.Model):  # type: ignore[name-defined,misc]
    """A dashboard account: province admin, unit head or viewer."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(255))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))  # admin | head | viewer
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    unit: Mapped[Unit | None] = relationship()


class MisconductReport(db.Model):  # type: ignore[name-defined,misc]
    """A citizen's "yes" to the misconduct question, about one officer, until the head decides."""

    __tablename__ = "misconduct_reports"
    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("responses.id"))
    officer_id: Mapped[int] = mapped_column(ForeignKey("officers.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|confirmed|rejected
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    decision_reason: Mapped[str | None] = mapped_column(Text)

    response: Mapped[Response] = relationship()
    officer: Mapped[Officer] = relationship()
    decided_by: Mapped[User | None] = relationship()

    __table_args__ = (UniqueConstraint("response_id", "officer_id"),)


class OfficerMonthRecord(db.Model):  # type: ignore[name-defined,misc]
    """What the head records for an officer and a month: rule violations and discipline."""

    __tablename__ = "officer_month_records"
    id: Mapped[int] = mapped_column(primary_key=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("officers.id"))
    month: Mapped[dt.date] = mapped_column(Date)  # the first day of the month
    violations: Mapped[int] = mapped_column(Integer, default=0)
    disciplined: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    officer: Mapped[Officer] = relationship()

    __table_args__ = (UniqueConstraint("officer_id", "month"),)


class AuditEntry(db.Model):  # type: ignore[name-defined,misc]
    """Who changed what and when: bands, report decisions, rule sets, keys, devices."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
