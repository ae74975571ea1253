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
    and_,
    bindparam,
    case,
    event,
    exists,
    false,
    inspect,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import InstanceState, Mapped, Session, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from .extensions import db
from .timeutil import local_month


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
        moment: dt.datetime = value
        if moment.tzinfo is None:
            return moment.replace(tzinfo=dt.UTC)
        return moment.astimezone(dt.UTC)


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
    # The kiosk's last heartbeat (kiosk blueprint), read by the dashboard for fleet health.
    queue_length: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    refused_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    oldest_queued_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_sync_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    app_version: Mapped[str | None] = mapped_column(String(32))

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
    # Copies of the dossier's facts that the rating job counts, kept by _sync_month_facts on
    # every flush that touches a dossier: the local month it was returned in (NULL until then)
    # and whether it is late for this resolver (rating-rules.md: the resolvers named
    # responsible, or all of them when the late dossier names nobody). A month's resolver
    # dossiers are then one range of the index below, in officer order: no join with 1.5 M
    # dossiers and no sort (migration 0009).
    Column("returned_month", Date, nullable=True),
    Column("late", Boolean, nullable=False, default=False, server_default=false()),
    Index("ix_dossier_resolvers_month", "returned_month", "officer_id", "late"),
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


# The receiving officer's copy of the same facts (migration 0010), kept by _sync_month_facts
# with the links: the local month the dossier was returned in (NULL until then) and whether it
# is late for the receiving officer (rating-rules.md: only when named responsible). A month's
# reception dossiers are then one range of the index below, in officer order, read from the
# index alone. Not mapped on Dossier: only the hook writes them, only the rating job reads them.
_dossiers = Dossier.__table__
_dossiers.append_column(Column("returned_month", Date, nullable=True))
_dossiers.append_column(
    Column("reception_late", Boolean, nullable=False, default=False, server_default=false())
)
Index(
    "ix_dossiers_reception_month",
    _dossiers.c.returned_month,
    _dossiers.c.reception_officer_id,
    _dossiers.c.reception_late,
)


def _reception_update() -> Any:
    named = dossier_late_responsible
    late_for_the_desk = and_(
        bindparam("d_late", type_=Boolean),
        exists().where(
            named.c.dossier_id == bindparam("d_id"),
            named.c.officer_id == _dossiers.c.reception_officer_id,
        ),
    )
    return (
        update(_dossiers)
        .where(_dossiers.c.id == bindparam("d_id"))
        .values(
            returned_month=bindparam("d_month", type_=Date),
            reception_late=case((late_for_the_desk, True), else_=False),
            # Not a change of the dossier: its updated_at (onupdate) stays as it was.
            updated_at=_dossiers.c.updated_at,
        )
    )


def _resolver_link_update() -> Any:
    named = dossier_late_responsible.alias("named")
    anyone = dossier_late_responsible.alias("anyone")
    link = dossier_resolvers.c
    late_for_this_resolver = and_(
        bindparam("d_late", type_=Boolean),
        or_(
            exists().where(
                named.c.dossier_id == bindparam("d_id"), named.c.officer_id == link.officer_id
            ),
            ~exists().where(anyone.c.dossier_id == bindparam("d_id")),
        ),
    )
    return (
        update(dossier_resolvers)
        .where(link.dossier_id == bindparam("d_id"))
        .values(
            returned_month=bindparam("d_month", type_=Date),
            late=case((late_for_this_resolver, True), else_=False),
        )
    )


_RESOLVER_LINK_UPDATE = _resolver_link_update()
_RECEPTION_UPDATE = _reception_update()
_DOSSIER_TIMES = select(
    Dossier.__table__.c.id, Dossier.__table__.c.returned_at, Dossier.__table__.c.due_at
).where(Dossier.__table__.c.id.in_(bindparam("ids", expanding=True)))


@event.listens_for(Session, "after_flush")
def _sync_month_facts(session: Session, _flush_context: Any) -> None:
    """Copy each flushed dossier's return month and lateness onto its resolver links and its
    own reception columns.

    Every writer of dossiers goes through the ORM (the dossier push, the demo, the tests), so
    this runs for each of them. The times are read back from the database, as just flushed,
    so an object whose attributes were expired needs no load (Core still reads them through
    UTCDateTime: aware, in UTC).
    """
    ids = [
        _flushed_id(item) for item in (*session.new, *session.dirty) if isinstance(item, Dossier)
    ]
    ids = [dossier_id for dossier_id in ids if dossier_id is not None]
    if not ids:
        return
    connection = session.connection()
    for first in range(0, len(ids), _IDS_PER_READ):
        chunk = ids[first : first + _IDS_PER_READ]
        times = connection.execute(_DOSSIER_TIMES, {"ids": chunk}).all()
        facts = [
            {
                "d_id": dossier_id,
                "d_month": local_month(returned) if returned is not None else None,
                "d_late": returned is not None and returned > due,
            }
            for dossier_id, returned, due in times
        ]
        connection.execute(_RESOLVER_LINK_UPDATE, facts)
        connection.execute(_RECEPTION_UPDATE, facts)


#: Dossier ids per read of a large flush (the demo's): well under SQLite's variable limit.
_IDS_PER_READ = 500


def _flushed_id(item: Dossier) -> int | None:
    state: InstanceState[Dossier] = inspect(item)
    flushed_id: int | None = state.identity[0] if state.identity else state.dict.get("id")
    return flushed_id


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
    # --- dashboard --- (survey_server/auth.py)
    # Part of the session's id: bumped on logout and password change, so old cookies stop working.
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    totp_secret: Mapped[str | None] = mapped_column(String(64))  # base32; admins' second factor
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    unit: Mapped[Unit | None] = relationship()

    def get_id(self) -> str:
        """``<id>:<session_version>``: the loader refuses a cookie whose version is stale."""
        return f"{self.id}:{self.session_version}"


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


# --- rating ---


class OfficerRating(db.Model):  # type: ignore[name-defined,misc]
    """One officer's band for one month, as one revision; earlier revisions are kept.

    ``reasons`` is the engine's explanation serialised (``OfficerResult.to_dict()["reasons"]``):
    every condition with its metric, value, threshold and result, so a screen can explain the
    band in Vietnamese without recomputing. ``unit_id`` is the unit the officer was rated in.
    ``digest`` fingerprints the result so that a re-run with the same facts stores nothing.
    """

    __tablename__ = "officer_ratings"
    id: Mapped[int] = mapped_column(primary_key=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("officers.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    month: Mapped[dt.date] = mapped_column(Date)  # the first day of the month
    revision: Mapped[int] = mapped_column(Integer)  # 1, 2, 3… per (officer, month)
    group: Mapped[str] = mapped_column("staff_group", String(16))
    band: Mapped[str] = mapped_column(String(32))
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON)
    flags: Mapped[list[str]] = mapped_column(JSON, default=list)
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    ruleset_id: Mapped[str] = mapped_column(String(64))
    ruleset_version: Mapped[int] = mapped_column(Integer)
    # A nightly preview of a month not yet over; the run after the month ends stores a final one.
    preview: Mapped[bool] = mapped_column(Boolean, default=False)
    digest: Mapped[str] = mapped_column(String(64))
    computed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    officer: Mapped[Officer] = relationship()

    __table_args__ = (
        UniqueConstraint("officer_id", "month", "revision"),
        Index("ix_officer_ratings_unit_month", "unit_id", "month"),
    )


class UnitMonth(db.Model):  # type: ignore[name-defined,misc]
    """A unit's month: open, or approved by the head (locked until an audited reopen)."""

    __tablename__ = "unit_months"
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    month: Mapped[dt.date] = mapped_column(Date)  # the first day of the month
    state: Mapped[str] = mapped_column(String(16), default="open")  # open | approved
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    reopened_reason: Mapped[str | None] = mapped_column(Text)

    unit: Mapped[Unit] = relationship()
    approved_by: Mapped[User | None] = relationship()

    __table_args__ = (UniqueConstraint("unit_id", "month"),)


# --- index ---


class IndexAssessment(db.Model):  # type: ignore[name-defined,misc]
    """A unit's scoring of one index table for one year: a score per leaf (index.md, section 2)."""

    __tablename__ = "index_assessments"
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    year: Mapped[int] = mapped_column(Integer)
    table_id: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    unit: Mapped[Unit] = relationship()
    scores: Mapped[list[IndexLeafScore]] = relationship(
        back_populates="assessment", cascade="all, delete-orphan", order_by="IndexLeafScore.id"
    )

    __table_args__ = (UniqueConstraint("unit_id", "year", "table_id"),)


class IndexLeafScore(db.Model):  # type: ignore[name-defined,misc]
    """One leaf's self-assessed and appraised score, in hundredths of a point, or not assessed.

    ``source``: entered (form), imported (xlsx), satisfaction (8.3 filled from our forms) or
    override (8.3 changed by hand; ``reason`` says why, and the change is in the audit log).
    """

    __tablename__ = "index_leaf_scores"
    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(
        ForeignKey("index_assessments.id", ondelete="CASCADE")
    )
    code: Mapped[str] = mapped_column(String(32))
    self_assessed_cp: Mapped[int | None] = mapped_column(Integer)
    appraised_cp: Mapped[int | None] = mapped_column(Integer)
    not_assessed: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str] = mapped_column(String(16), default="entered")
    reason: Mapped[str | None] = mapped_column(Text)

    assessment: Mapped[IndexAssessment] = relationship(back_populates="scores")

    __table_args__ = (UniqueConstraint("assessment_id", "code"),)


class SatisfactionSurveyResult(db.Model):  # type: ignore[name-defined,misc]
    """A sub-index (percent, in tenths) of 8.3.1-8.3.4 from the province's annual survey."""

    __tablename__ = "index_survey_results"
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    year: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(32))
    percent_tenths: Mapped[int] = mapped_column(Integer)
    respondents: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[str | None] = mapped_column(String(255))
    imported_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    unit: Mapped[Unit] = relationship()

    __table_args__ = (UniqueConstraint("unit_id", "year", "code"),)


# --- kiosk ---


class Shift(db.Model):  # type: ignore[name-defined,misc]
    """An officer on duty at a counter, from the kiosk's staff screen or from the desk page."""

    __tablename__ = "shifts"
    id: Mapped[int] = mapped_column(primary_key=True)
    counter_id: Mapped[int] = mapped_column(ForeignKey("counters.id"))
    officer_id: Mapped[int] = mapped_column(ForeignKey("officers.id"))
    opened_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    opened_via: Mapped[str] = mapped_column(String(8))  # kiosk | desk

    counter: Mapped[Counter] = relationship()
    officer: Mapped[Officer] = relationship()

    __table_args__ = (
        # At most one open shift per counter, enforced by the database.
        Index(
            "uq_shifts_counter_open",
            "counter_id",
            unique=True,
            sqlite_where=text("closed_at IS NULL"),
            postgresql_where=text("closed_at IS NULL"),
        ),
    )


class CounterCurrentDossier(db.Model):  # type: ignore[name-defined,misc]
    """The dossier being served at a counter now, set from the desk, so a rating is tied to it."""

    __tablename__ = "counter_current_dossier"
    counter_id: Mapped[int] = mapped_column(ForeignKey("counters.id"), primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id"))
    set_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    set_via: Mapped[str] = mapped_column(String(8))  # api | desk

    counter: Mapped[Counter] = relationship()
    dossier: Mapped[Dossier] = relationship()


# --- admin ---


class Alert(db.Model):  # type: ignore[name-defined,misc]
    """Something a head or the province should look at now (services/alerts.py).

    ``misconduct``: a citizen reported misconduct by an officer (one alert per report).
    ``dissatisfaction``: a counter's share of dissatisfied ratings passed the threshold in a
    window (``window_start``..``window_end``, ``ratings`` of which ``dissatisfied``).
    """

    __tablename__ = "alerts"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("officers.id"))
    counter_id: Mapped[int | None] = mapped_column(ForeignKey("counters.id"))
    misconduct_report_id: Mapped[int | None] = mapped_column(
        ForeignKey("misconduct_reports.id"), unique=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    window_start: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    window_end: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    ratings: Mapped[int | None] = mapped_column(Integer)
    dissatisfied: Mapped[int | None] = mapped_column(Integer)
    emailed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    unit: Mapped[Unit] = relationship()
    officer: Mapped[Officer | None] = relationship()
    counter: Mapped[Counter | None] = relationship()
    misconduct_report: Mapped[MisconductReport | None] = relationship()


# --- qr ---


class ReceiptPrint(db.Model):  # type: ignore[name-defined,misc]
    """A receipt slip, or its QR image, printed for a dossier: when, and by which way.

    Answers from the centre's own network within seconds of a print are flagged for review.
    """

    __tablename__ = "receipt_prints"
    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(
        ForeignKey("dossiers.id", ondelete="CASCADE"), index=True
    )
    printed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    via: Mapped[str] = mapped_column(String(8))  # cli | desk | api

    dossier: Mapped[Dossier] = relationship()


class ResponseContact(db.Model):  # type: ignore[name-defined,misc]
    """The optional phone number a citizen leaves with a low rating or a misconduct report.

    Stored only with the citizen's consent (time and notice version kept); the number is erased
    (``phone`` set to None, ``erased_at`` set) when the report is closed.
    """

    __tablename__ = "response_contacts"
    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(
        ForeignKey("responses.id", ondelete="CASCADE"), unique=True
    )
    phone: Mapped[str | None] = mapped_column(String(20))
    consent_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    notice_version: Mapped[str] = mapped_column(String(16))
    erased_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    response: Mapped[Response] = relationship()


# --- tt01 ---


class Tt01DeskEntry(db.Model):  # type: ignore[name-defined,misc]
    """Indicators 5, 6, 8 and 9 of TT 01/2018 (0, 1 or 2 points, None if not entered) that a
    head enters for a one-stop desk (centre) and a quarter (rating/tt01_report.py)."""

    __tablename__ = "tt01_desk_entries"
    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"))
    year: Mapped[int] = mapped_column(Integer)
    quarter: Mapped[int] = mapped_column(Integer)  # 1 to 4
    indicator_5: Mapped[int | None] = mapped_column(Integer)
    indicator_6: Mapped[int | None] = mapped_column(Integer)
    indicator_8: Mapped[int | None] = mapped_column(Integer)
    indicator_9: Mapped[int | None] = mapped_column(Integer)
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    entered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    centre: Mapped[Centre] = relationship()

    __table_args__ = (UniqueConstraint("centre_id", "year", "quarter"),)
