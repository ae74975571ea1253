"""Storing a submitted form: validation, idempotency, misconduct reports.

The contract (``contract.md``): 201 stored; 200 the same ``id`` with the same content again (the
original stands); 409 the same ``id`` with other content, or this dossier already has a valid
answer to this form; 422 invalid, naming each field.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import re
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..models import Counter, Device, Dossier, MisconductReport, Officer, Response, Shift
from ..timeutil import parse_iso_datetime
from . import Refused

if TYPE_CHECKING:
    from forms import FormDefinition

FIELDS = ("id", "form", "dossier_code", "officer", "answers", "answered_at", "lang")
LANG_PATTERN = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")


@dataclass(frozen=True)
class Channel:
    """Where a submission came from: a kiosk device at its counter, or a receipt QR page."""

    name: str  # kiosk | qr
    device: Device | None = None
    counter: Counter | None = None
    # Review flags the channel itself raises (e.g. the QR page: sent from the centre's network
    # right after the receipt was printed); the answer is kept and flagged, never dropped.
    flags: tuple[str, ...] = ()


@dataclass
class Outcome:
    status: int  # 201 stored, 200 identical retry
    response: Response
    flags: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Policy:
    clock_ahead_tolerance: dt.timedelta = dt.timedelta(minutes=5)
    # A kiosk rating counts only if an officer was on duty at its counter (anti-stuffing).
    require_shift: bool = True


def content_hash(body: dict[str, Any]) -> str:
    """A fingerprint of what was submitted, to tell an identical retry from a conflict."""
    canonical = {key: body.get(key) for key in FIELDS if key != "id"}
    canonical["lang"] = canonical.get("lang") or "vi"
    with contextlib.suppress(ValueError, OverflowError):
        canonical["answered_at"] = parse_iso_datetime(canonical["answered_at"]).isoformat()
    text = json.dumps(canonical, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def submit_response(
    session: Session,
    body: Any,
    channel: Channel,
    forms: dict[str, FormDefinition],
    now: dt.datetime,
    policy: Policy | None = None,
) -> Outcome:
    """Validate and store one submitted form, exactly once. Raises :class:`Refused`."""
    policy = policy or Policy()
    if not isinstance(body, dict):
        raise Refused(422, "invalid_body", {"body": "not_an_object"})
    client_id = _client_id(body.get("id"))
    fingerprint = content_hash(body)
    if client_id is not None:
        existing = _by_client_id(session, client_id)
        if existing is not None:
            return _replay(existing, fingerprint)

    fields: dict[str, str] = {}
    if client_id is None:
        fields["id"] = "required" if body.get("id") is None else "invalid_uuid"
    for key in body:
        if key not in FIELDS:
            fields[str(key)[:64]] = "unknown_field"
    definition = forms.get(body.get("form")) if isinstance(body.get("form"), str) else None
    if definition is None:
        fields["form"] = "required" if body.get("form") is None else "unknown_form"
    answered_at = _answered_at(body.get("answered_at"), fields)
    lang = body.get("lang") or "vi"
    if not (isinstance(lang, str) and LANG_PATTERN.fullmatch(lang)):
        fields["lang"] = "invalid_lang"

    clean: dict[str, Any] = {}
    if definition is not None:
        clean, answer_errors = definition.validate_answers(body.get("answers"))
        for key, code in answer_errors.items():
            fields[key if key == "answers" else f"answers.{key}"] = code

    dossier = _dossier(session, body.get("dossier_code"), fields)
    form_id = str(body.get("form"))
    officers = _officers(session, form_id, body.get("officer"), dossier, fields)
    if form_id == "phieu2" and "dossier_code" not in fields:
        if dossier is None:
            fields["dossier_code"] = "required"
        elif dossier.returned_at is None:
            fields["dossier_code"] = "not_returned"
    if fields:
        raise Refused(422, "invalid_response", fields)
    assert definition is not None and client_id is not None and answered_at is not None

    if dossier is not None and _has_valid_answer(session, dossier, form_id):
        raise Refused(409, "already_answered", {"dossier_code": "already_answered"})

    flags: list[str] = list(channel.flags)
    if answered_at > now + policy.clock_ahead_tolerance:
        # A kiosk whose clock runs ahead: keep the answer, at the server's time, and say so.
        answered_at = now
        flags.append("clock_ahead")
    if policy.require_shift and channel.counter is not None:
        _require_shift(session, channel.counter, answered_at, now, policy.clock_ahead_tolerance)
    if dossier is not None and answered_at + policy.clock_ahead_tolerance < dossier.received_at:
        flags.append("answered_before_received")
    if any(not officer.active for officer in officers):
        flags.append("officer_inactive")
    if form_id == "phieu2" and not officers:
        flags.append("no_resolving_officer")

    response = Response(
        client_id=client_id,
        form=form_id,
        form_version=definition.version,
        dossier=dossier,
        counter=channel.counter,
        device=channel.device,
        channel=channel.name,
        answers=clean,
        overall=int(clean["overall"]),
        answered_at=answered_at,
        received_at=now,
        lang=lang,
        valid=True,
        flags=flags,
        content_hash=fingerprint,
        officers=officers,
    )
    session.add(response)
    if definition.misconduct_reported(clean):
        for officer in officers:
            session.add(MisconductReport(response=response, officer=officer, created_at=now))
    try:
        session.commit()
    except IntegrityError:
        # Lost a race with a submission committed between our checks and our insert.
        session.rollback()
        existing = _by_client_id(session, client_id)
        if existing is not None:
            return _replay(existing, fingerprint)
        if dossier is not None:
            raise Refused(409, "already_answered", {"dossier_code": "already_answered"}) from None
        raise
    return Outcome(201, response, flags)


def _require_shift(
    session: Session,
    counter: Counter,
    answered_at: dt.datetime,
    now: dt.datetime,
    tolerance: dt.timedelta,
) -> None:
    """Refuse a kiosk rating made while nobody was on duty at the counter.

    A rating queued offline during a shift that has closed since still counts: what matters is
    a shift around ``answered_at`` (give or take the clock tolerance, for a kiosk clock a little
    off), or, for a kiosk whose clock is further behind, a shift open right now.
    """
    covering = (
        select(Shift.id)
        .where(
            Shift.counter_id == counter.id,
            Shift.opened_at <= answered_at + tolerance,
            (Shift.closed_at.is_(None)) | (Shift.closed_at >= answered_at - tolerance),
        )
        .limit(1)
    )
    if session.scalar(covering) is not None:
        return
    open_now = select(Shift.id).where(Shift.counter_id == counter.id, Shift.closed_at.is_(None))
    if session.scalar(open_now.limit(1)) is not None and answered_at <= now:
        return
    raise Refused(422, "no_shift", {"answered_at": "no_shift_open"})


def _replay(existing: Response, fingerprint: str) -> Outcome:
    if existing.content_hash == fingerprint:
        return Outcome(200, existing, list(existing.flags))
    raise Refused(409, "id_conflict", {"id": "already_used_with_other_content"})


def _client_id(value: Any) -> str | None:
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


def _by_client_id(session: Session, client_id: str) -> Response | None:
    return session.scalar(select(Response).where(Response.client_id == client_id))


def _answered_at(value: Any, fields: dict[str, str]) -> dt.datetime | None:
    if value is None:
        fields["answered_at"] = "required"
        return None
    try:
        return parse_iso_datetime(value)
    except ValueError as exc:
        fields["answered_at"] = str(exc)
        return None
    except OverflowError:  # e.g. year 1 at +14:00: not an instant UTC can hold
        fields["answered_at"] = "out_of_range"
        return None


def _dossier(session: Session, code: Any, fields: dict[str, str]) -> Dossier | None:
    if code is None:
        return None
    if not isinstance(code, str) or not code or len(code) > 64 or "\x00" in code:
        fields["dossier_code"] = "invalid_code"  # NUL: PostgreSQL cannot even compare it
        return None
    dossier = session.scalar(select(Dossier).where(Dossier.code == code))
    if dossier is None:
        fields["dossier_code"] = "unknown_dossier"
    return dossier


def _officers(
    session: Session, form_id: str, code: Any, dossier: Dossier | None, fields: dict[str, str]
) -> list[Officer]:
    """Whom the form is about: phieu2 → every resolving officer of the dossier; phieu1 → the
    officer on duty named by the kiosk, else the dossier's desk officer."""
    if form_id == "phieu2":
        return list(dossier.resolving_officers) if dossier is not None else []
    if code is not None:
        if not isinstance(code, str) or len(code) > 64 or "\x00" in code:
            fields["officer"] = "invalid_code"
            return []
        officer = session.scalar(select(Officer).where(Officer.code == code))
        if officer is None:
            fields["officer"] = "unknown_officer"
            return []
        return [officer]
    if dossier is not None:
        desk = dossier.return_officer if dossier.returned_at else None
        return [desk or dossier.reception_officer]
    if "dossier_code" not in fields:
        fields["officer"] = "required"
    return []


def _has_valid_answer(session: Session, dossier: Dossier, form_id: str) -> bool:
    found = session.scalar(
        select(Response.id).where(
            Response.dossier_id == dossier.id, Response.form == form_id, Response.valid.is_(True)
        )
    )
    return found is not None
