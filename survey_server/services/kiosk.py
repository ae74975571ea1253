"""The counter kiosk: shifts, the current dossier at a counter, the kiosk's view of its counter,
heartbeats and burst review.

The kiosk submits answers through ``POST /api/v1/responses`` like any client; this module only
holds what the kiosk needs around that: who is on duty, which dossier is being served, and the
fleet-health figures the dashboard reads.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import DbSession
from ..models import Counter, CounterCurrentDossier, Device, Dossier, Officer, Response, Shift
from ..timeutil import parse_iso_datetime
from . import Refused, audit

SHIFT_SOURCES = ("kiosk", "desk")
DOSSIER_SOURCES = ("api", "desk")
MAX_QUEUE_FIGURE = 10_000_000
APP_VERSION_MAX = 32
BURST_FLAG = "burst"


@dataclass(frozen=True)
class BurstPolicy:
    """More than ``count`` ratings within ``window`` on one device are flagged for review."""

    count: int = 5
    window: dt.timedelta = dt.timedelta(seconds=60)


# -- officers and shifts ---------------------------------------------------------------------


def set_officer_pin(session: DbSession, officer: Officer, pin: str, actor: str) -> None:
    """Give an officer the PIN they open shifts with (stored hashed)."""
    if not (pin.isdigit() and 4 <= len(pin) <= 12):
        raise ValueError("a PIN is 4 to 12 digits")
    officer.pin_hash = generate_password_hash(pin)
    audit.record(session, actor, "set_pin", "officer", officer.id)
    session.commit()


def authenticate_officer(session: DbSession, officer_code: object, pin: object) -> Officer:
    """The active officer with this code and PIN; :class:`Refused` 401 ``wrong_pin`` otherwise.

    The same answer for an unknown code and a wrong PIN, so codes cannot be probed.
    """
    if not isinstance(officer_code, str) or not isinstance(pin, str) or len(pin) > 64:
        raise Refused(401, "wrong_pin")
    officer: Officer | None = session.scalar(
        select(Officer).where(Officer.code == officer_code.strip())
    )
    if (
        officer is None
        or not officer.active
        or not officer.pin_hash
        or not check_password_hash(officer.pin_hash, pin)
    ):
        raise Refused(401, "wrong_pin")
    return officer


def counter_by_code(session: DbSession, code: str) -> Counter:
    counter: Counter | None = session.scalar(select(Counter).where(Counter.code == code))
    if counter is None:
        raise Refused(404, "unknown_counter")
    return counter


def open_shift(
    session: DbSession, counter: Counter, officer: Officer, via: str, now: dt.datetime
) -> Shift:
    """Open ``officer``'s shift at ``counter``, closing whatever shift was open there and any
    shift the officer still had open at another counter (one person, one desk)."""
    if via not in SHIFT_SOURCES:
        raise ValueError(f"unknown shift source {via!r}")
    stale = session.scalars(
        select(Shift).where(
            Shift.closed_at.is_(None),
            (Shift.counter_id == counter.id) | (Shift.officer_id == officer.id),
        )
    ).all()
    for shift in stale:
        shift.closed_at = now
    # Close them first: the database allows one open shift per counter.
    session.flush()
    shift = Shift(counter=counter, officer=officer, opened_at=now, opened_via=via)
    session.add(shift)
    audit.record(session, f"officer:{officer.code}", "open_shift", "counter", counter.code, via=via)
    try:
        session.commit()
    except IntegrityError:
        # Another shift was opened at this counter at the same instant; the other one stands.
        session.rollback()
        raise Refused(409, "shift_conflict") from None
    return shift


def close_shift(session: DbSession, counter: Counter, now: dt.datetime, actor: str) -> Shift | None:
    """Close the open shift at ``counter``, if any, and forget the counter's current dossier."""
    shift = current_shift(session, counter)
    if shift is not None:
        shift.closed_at = now
        audit.record(session, actor, "close_shift", "counter", counter.code)
    current = session.get(CounterCurrentDossier, counter.id)
    if current is not None:
        session.delete(current)
    session.commit()
    return shift


def current_shift(session: DbSession, counter: Counter) -> Shift | None:
    return session.scalar(
        select(Shift).where(Shift.counter_id == counter.id, Shift.closed_at.is_(None))
    )


# -- the current dossier ---------------------------------------------------------------------


def set_current_dossier(
    session: DbSession, counter: Counter, dossier_code: object, via: str, now: dt.datetime
) -> Dossier | None:
    """Set (or clear, with None) the dossier being served at ``counter``."""
    if via not in DOSSIER_SOURCES:
        raise ValueError(f"unknown dossier source {via!r}")
    current = session.get(CounterCurrentDossier, counter.id)
    if dossier_code is None or dossier_code == "":
        if current is not None:
            session.delete(current)
        session.commit()
        return None
    if not isinstance(dossier_code, str) or len(dossier_code) > 64:
        raise Refused(422, "invalid_current_dossier", {"dossier_code": "invalid_code"})
    dossier: Dossier | None = session.scalar(
        select(Dossier).where(Dossier.code == dossier_code.strip())
    )
    if dossier is None:
        raise Refused(422, "invalid_current_dossier", {"dossier_code": "unknown_dossier"})
    if current is None:
        current = CounterCurrentDossier(counter_id=counter.id)
        session.add(current)
    current.dossier = dossier
    current.set_at = now
    current.set_via = via
    session.commit()
    return dossier


def current_dossier(session: DbSession, counter: Counter) -> Dossier | None:
    current = session.get(CounterCurrentDossier, counter.id)
    return current.dossier if current is not None else None


def _has_valid_answer(session: DbSession, dossier: Dossier, form_id: str) -> bool:
    found = session.scalar(
        select(Response.id).where(
            Response.dossier_id == dossier.id, Response.form == form_id, Response.valid.is_(True)
        )
    )
    return found is not None


# -- what the kiosk shows --------------------------------------------------------------------


def kiosk_state(session: DbSession, device: Device) -> dict[str, Any]:
    """What the kiosk at ``device``'s counter shows now (JSON-serialisable).

    ``form`` and ``dossier_code`` say what the next rating is: ``phieu2`` for a returned dossier
    at a return counter, else ``phieu1`` tied to the current dossier when it has no answer yet
    (otherwise to the officer on duty only). ``form`` is None when no shift is open: the kiosk
    then takes no rating.
    """
    counter = device.counter
    shift = current_shift(session, counter)
    dossier = current_dossier(session, counter)
    officer = shift.officer if shift is not None else None
    form: str | None = None
    dossier_code: str | None = None
    if officer is not None:
        form = "phieu1"
        if dossier is not None:
            if (
                counter.kind in ("return", "both")
                and dossier.returned_at is not None
                and not _has_valid_answer(session, dossier, "phieu2")
            ):
                form, dossier_code = "phieu2", dossier.code
            elif not _has_valid_answer(session, dossier, "phieu1"):
                dossier_code = dossier.code
    return {
        "device": {"id": device.id, "name": device.name},
        "counter": {"code": counter.code, "name": counter.name, "kind": counter.kind},
        "officer": None
        if officer is None
        else {
            "code": officer.code,
            "name": officer.name,
            "title": officer.title,
            "photo": officer.photo,
        },
        "form": form,
        "dossier_code": dossier_code,
    }


# -- heartbeat -------------------------------------------------------------------------------


def record_heartbeat(
    session: DbSession,
    device: Device,
    body: Any,
    now: dt.datetime,
    bursts: BurstPolicy | None = None,
) -> list[str]:
    """Store a kiosk's heartbeat on its device row; returns the client ids newly flagged as
    bursts. Raises :class:`Refused` 422 naming each bad field."""
    if not isinstance(body, dict):
        raise Refused(422, "invalid_heartbeat", {"body": "not_an_object"})
    fields: dict[str, str] = {}
    known = ("queue_length", "refused_count", "oldest_queued_at", "last_sync_at", "app_version")
    for key in body:
        if key not in known:
            fields[str(key)[:64]] = "unknown_field"
    counts = {}
    for key in ("queue_length", "refused_count"):
        value = body.get(key, 0)
        if isinstance(value, bool) or not isinstance(value, int):
            fields[key] = "wrong_type"
        elif not 0 <= value <= MAX_QUEUE_FIGURE:
            fields[key] = "out_of_range"
        else:
            counts[key] = value
    times: dict[str, dt.datetime | None] = {}
    for key in ("oldest_queued_at", "last_sync_at"):
        value = body.get(key)
        if value is None:
            times[key] = None
            continue
        try:
            times[key] = parse_iso_datetime(value)
        except ValueError as exc:
            fields[key] = str(exc)
    version = body.get("app_version")
    if version is not None and not (isinstance(version, str) and len(version) <= APP_VERSION_MAX):
        fields["app_version"] = "invalid_version"
    if fields:
        raise Refused(422, "invalid_heartbeat", fields)
    device.last_seen_at = now
    device.queue_length = counts["queue_length"]
    device.refused_count = counts["refused_count"]
    device.oldest_queued_at = times["oldest_queued_at"]
    device.last_sync_at = times["last_sync_at"]
    device.app_version = version
    flagged = flag_bursts(session, device, now - dt.timedelta(days=1), bursts or BurstPolicy())
    session.commit()
    return flagged


def flag_bursts(
    session: DbSession, device: Device, since: dt.datetime, policy: BurstPolicy
) -> list[str]:
    """Flag ``burst`` on every rating from ``device`` (answered after ``since``) that lies in a
    window of ``policy.window`` holding more than ``policy.count`` ratings. Flagged ratings stay
    valid: a person reviews them. Does not commit; returns the client ids newly flagged."""
    responses = session.scalars(
        select(Response)
        .where(Response.device_id == device.id, Response.answered_at >= since)
        .order_by(Response.answered_at, Response.id)
    ).all()
    in_burst: set[int] = set()
    start = 0
    for end, response in enumerate(responses):
        while response.answered_at - responses[start].answered_at > policy.window:
            start += 1
        if end - start + 1 > policy.count:
            in_burst.update(range(start, end + 1))
    newly: list[str] = []
    for index in sorted(in_burst):
        response = responses[index]
        if BURST_FLAG not in response.flags:
            response.flags = [*response.flags, BURST_FLAG]
            newly.append(response.client_id)
    return newly
