"""Storing a submitted form: validation, idempotency, misconduct reports.

The contract (``contract.md``): 201 stored; 200 the same ``id`` with the same content again (the
original stands); 409 the same ``id`` with other content, or this dossier already has a valid
answer to this form; 422 invalid, naming each field.

This is the kiosk's hot path (bench/ingest.py): it reads only the columns it needs and writes
the response with two INSERT statements, on a pooled DBAPI connection with statements prepared
once (:mod:`survey_server.direct`), rather than through the ORM session.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import bindparam, insert, select
from sqlalchemy.exc import IntegrityError

from ..direct import DirectConnection, Prepared
from ..models import (
    Dossier,
    MisconductReport,
    Officer,
    Response,
    Shift,
    dossier_resolvers,
    response_officers,
)
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
    device_id: int | None = None
    counter_id: int | None = None
    # Review flags the channel itself raises (e.g. the QR page: sent from the centre's network
    # right after the receipt was printed); the answer is kept and flagged, never dropped.
    flags: tuple[str, ...] = ()


@dataclass
class Outcome:
    status: int  # 201 stored, 200 identical retry
    client_id: str
    response_id: int
    flags: list[str]


@dataclass(frozen=True)
class Policy:
    clock_ahead_tolerance: dt.timedelta = dt.timedelta(minutes=5)
    # A kiosk rating counts only if an officer was on duty at its counter (anti-stuffing).
    require_shift: bool = True


class _Stored(NamedTuple):
    """A stored response as the idempotency check reads it."""

    id: int
    content_hash: str
    flags: list[str]


class _Rated(NamedTuple):
    """An officer a form is about: enough to link the response and to flag an inactive one."""

    id: int
    active: bool


class _Dossier(NamedTuple):
    """What a form needs of its dossier."""

    id: int
    received_at: dt.datetime
    returned_at: dt.datetime | None
    reception_officer_id: int
    return_officer_id: int | None


# The response path's statements, prepared once per dialect (survey_server.direct).
_BY_CLIENT_ID = Prepared(
    select(Response.id, Response.content_hash, Response.flags).where(
        Response.client_id == bindparam("client_id")
    ),
    _Stored,
)
_OFFICER_BY_CODE = Prepared(
    select(Officer.id, Officer.active).where(Officer.code == bindparam("code")), _Rated
)
_OFFICER_BY_ID = Prepared(
    select(Officer.id, Officer.active).where(Officer.id == bindparam("officer_id")), _Rated
)
_DOSSIER_BY_CODE = Prepared(
    select(
        Dossier.id,
        Dossier.received_at,
        Dossier.returned_at,
        Dossier.reception_officer_id,
        Dossier.return_officer_id,
    ).where(Dossier.code == bindparam("code")),
    _Dossier,
)
_RESOLVERS = Prepared(
    select(Officer.id, Officer.active)
    .join(dossier_resolvers, dossier_resolvers.c.officer_id == Officer.id)
    .where(dossier_resolvers.c.dossier_id == bindparam("dossier_id"))
    .order_by(Officer.code),
    _Rated,
)
_VALID_ANSWER = Prepared(
    select(Response.id)
    .where(
        Response.dossier_id == bindparam("dossier_id"),
        Response.form == bindparam("form"),
        Response.valid.is_(True),
    )
    .limit(1)
)
# The columns a stored response is written with (every one: no default is left to Core).
RESPONSE_COLUMNS = (
    "client_id",
    "form",
    "form_version",
    "dossier_id",
    "counter_id",
    "device_id",
    "channel",
    "answers",
    "overall",
    "answered_at",
    "received_at",
    "lang",
    "valid",
    "flags",
    "content_hash",
)
_INSERT_RESPONSE = Prepared(
    insert(Response.__table__).returning(Response.id), column_keys=RESPONSE_COLUMNS
)
_INSERT_OFFICER_LINK = Prepared(
    insert(response_officers), column_keys=("response_id", "officer_id")
)
_INSERT_MISCONDUCT = Prepared(
    insert(MisconductReport.__table__), column_keys=("response_id", "officer_id", "created_at")
)
# A shift around the answer (give or take the clock tolerance) ...
_AROUND_ANSWER = (Shift.opened_at <= bindparam("latest")) & (
    Shift.closed_at.is_(None) | (Shift.closed_at >= bindparam("earliest"))
)
_SHIFT_AROUND = Prepared(
    select(Shift.id).where(Shift.counter_id == bindparam("counter_id"), _AROUND_ANSWER).limit(1)
)
# ... or, for an answer not in the future, a shift open now.
_SHIFT_AROUND_OR_OPEN = Prepared(
    select(Shift.id)
    .where(Shift.counter_id == bindparam("counter_id"), _AROUND_ANSWER | Shift.closed_at.is_(None))
    .limit(1)
)


def content_hash(body: dict[str, Any]) -> str:
    """A fingerprint of what was submitted, to tell an identical retry from a conflict."""
    canonical = {key: body.get(key) for key in FIELDS if key != "id"}
    canonical["lang"] = canonical.get("lang") or "vi"
    with contextlib.suppress(ValueError, OverflowError):
        canonical["answered_at"] = parse_iso_datetime(canonical["answered_at"]).isoformat()
    text = json.dumps(canonical, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def submit_response(
    connection: DirectConnection,
    body: Any,
    channel: Channel,
    forms: dict[str, FormDefinition],
    now: dt.datetime,
    policy: Policy | None = None,
    on_write: Callable[[DirectConnection], None] | None = None,
) -> Outcome:
    """Validate and store one submitted form, exactly once. Raises :class:`Refused`.

    The checks read without a lock (SQLite: no transaction, each SELECT on its own), so that
    one worker's checks do not hold up another's write; the write is one transaction
    (:meth:`DirectConnection.writing`). A submission stored since the checks is caught by the
    unique constraints (IntegrityError below), as a concurrent one always is.

    ``on_write`` runs in the writing transaction, before the response is inserted (the kiosk
    API records there that the device was heard from).
    """
    policy = policy or Policy()
    if not isinstance(body, dict):
        raise Refused(422, "invalid_body", {"body": "not_an_object"})
    client_id = _client_id(body.get("id"))
    fingerprint = content_hash(body)
    if client_id is not None:
        existing = connection.first(_BY_CLIENT_ID, client_id=client_id)
        if existing is not None:
            return _replay(client_id, existing, fingerprint)

    fields: dict[str, str] = {}
    if client_id is None:
        fields["id"] = "required" if body.get("id") is None else "invalid_uuid"
    for key in body:
        if key not in FIELDS:
            fields[str(key)[:64]] = "unknown_field"
    form = body.get("form")
    definition = forms.get(form) if isinstance(form, str) else None
    if definition is None:
        fields["form"] = "required" if form is None else "unknown_form"
    answered_at = _answered_at(body.get("answered_at"), fields)
    lang = body.get("lang") or "vi"
    if not (isinstance(lang, str) and LANG_PATTERN.fullmatch(lang)):
        fields["lang"] = "invalid_lang"

    clean: dict[str, Any] = {}
    if definition is not None:
        clean, answer_errors = definition.validate_answers(body.get("answers"))
        for key, code in answer_errors.items():
            fields[key if key == "answers" else f"answers.{key}"] = code

    dossier = _dossier(connection, body.get("dossier_code"), fields)
    form_id = str(form)
    officers = _officers(connection, form_id, body.get("officer"), dossier, fields)
    if form_id == "phieu2" and "dossier_code" not in fields:
        if dossier is None:
            fields["dossier_code"] = "required"
        elif dossier.returned_at is None:
            fields["dossier_code"] = "not_returned"
    if fields:
        raise Refused(422, "invalid_response", fields)
    assert definition is not None and client_id is not None and answered_at is not None

    answered = dossier is not None and (
        connection.first(_VALID_ANSWER, dossier_id=dossier.id, form=form_id) is not None
    )
    if answered:
        raise Refused(409, "already_answered", {"dossier_code": "already_answered"})

    flags: list[str] = list(channel.flags)
    if answered_at > now + policy.clock_ahead_tolerance:
        # A kiosk whose clock runs ahead: keep the answer, at the server's time, and say so.
        answered_at = now
        flags.append("clock_ahead")
    if policy.require_shift and channel.counter_id is not None:
        _require_shift(
            connection, channel.counter_id, answered_at, now, policy.clock_ahead_tolerance
        )
    if dossier is not None and answered_at + policy.clock_ahead_tolerance < dossier.received_at:
        flags.append("answered_before_received")
    if any(not officer.active for officer in officers):
        flags.append("officer_inactive")
    if form_id == "phieu2" and not officers:
        flags.append("no_resolving_officer")

    try:
        with connection.writing():
            if on_write is not None:
                on_write(connection)
            response_id = _insert(
                connection,
                {
                    "client_id": client_id,
                    "form": form_id,
                    "form_version": definition.version,
                    "dossier_id": dossier.id if dossier is not None else None,
                    "counter_id": channel.counter_id,
                    "device_id": channel.device_id,
                    "channel": channel.name,
                    "answers": clean,
                    "overall": int(clean["overall"]),
                    "answered_at": answered_at,
                    "received_at": now,
                    "lang": lang,
                    "valid": True,
                    "flags": flags,
                    "content_hash": fingerprint,
                },
                [officer.id for officer in officers],
                definition.misconduct_reported(clean),
                now,
            )
    except IntegrityError:
        # Lost a race with a submission committed between our checks and our insert.
        existing = connection.first(_BY_CLIENT_ID, client_id=client_id)
        if existing is not None:
            return _replay(client_id, existing, fingerprint)
        if dossier is not None:
            raise Refused(409, "already_answered", {"dossier_code": "already_answered"}) from None
        raise
    return Outcome(201, client_id, response_id, flags)


def _insert(
    connection: DirectConnection,
    values: dict[str, Any],
    officer_ids: list[int],
    misconduct: bool,
    now: dt.datetime,
) -> int:
    """Insert the response, its officer links and any misconduct reports; return its id."""
    inserted = connection.first(_INSERT_RESPONSE, **values)
    assert inserted is not None
    response_id = int(inserted[0])
    connection.execute_many(
        _INSERT_OFFICER_LINK,
        [{"response_id": response_id, "officer_id": officer} for officer in officer_ids],
    )
    if misconduct:
        connection.execute_many(
            _INSERT_MISCONDUCT,
            [
                {"response_id": response_id, "officer_id": officer, "created_at": now}
                for officer in officer_ids
            ],
        )
    return response_id


def _require_shift(
    connection: DirectConnection,
    counter_id: int,
    answered_at: dt.datetime,
    now: dt.datetime,
    tolerance: dt.timedelta,
) -> None:
    """Refuse a kiosk rating made while nobody was on duty at the counter.

    A rating queued offline during a shift that has closed since still counts: what matters is
    a shift around ``answered_at`` (give or take the clock tolerance, for a kiosk clock a little
    off), or, for a kiosk whose clock is further behind, a shift open right now.
    """
    query = _SHIFT_AROUND_OR_OPEN if answered_at <= now else _SHIFT_AROUND
    window = {"earliest": answered_at - tolerance, "latest": answered_at + tolerance}
    if connection.first(query, counter_id=counter_id, **window) is None:
        raise Refused(422, "no_shift", {"answered_at": "no_shift_open"})


def _replay(client_id: str, existing: _Stored, fingerprint: str) -> Outcome:
    if existing.content_hash == fingerprint:
        return Outcome(200, client_id, existing.id, list(existing.flags))
    raise Refused(409, "id_conflict", {"id": "already_used_with_other_content"})


def _client_id(value: Any) -> str | None:
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


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


def _dossier(connection: DirectConnection, code: Any, fields: dict[str, str]) -> _Dossier | None:
    if code is None:
        return None
    if not isinstance(code, str) or not code or len(code) > 64 or "\x00" in code:
        fields["dossier_code"] = "invalid_code"  # NUL: PostgreSQL cannot even compare it
        return None
    dossier = connection.first(_DOSSIER_BY_CODE, code=code)
    if dossier is None:
        fields["dossier_code"] = "unknown_dossier"
    return dossier


def _officers(
    connection: DirectConnection,
    form_id: str,
    code: Any,
    dossier: _Dossier | None,
    fields: dict[str, str],
) -> list[_Rated]:
    """Whom the form is about: phieu2 → every resolving officer of the dossier; phieu1 → the
    officer on duty named by the kiosk, else the dossier's desk officer."""
    if form_id == "phieu2":
        if dossier is None:
            return []
        return connection.all(_RESOLVERS, dossier_id=dossier.id)
    if code is not None:
        if not isinstance(code, str) or len(code) > 64 or "\x00" in code:
            fields["officer"] = "invalid_code"
            return []
        found = connection.first(_OFFICER_BY_CODE, code=code)
        if found is None:
            fields["officer"] = "unknown_officer"
            return []
        return [found]
    if dossier is not None:
        desk = (dossier.return_officer_id if dossier.returned_at else None) or (
            dossier.reception_officer_id
        )
        officer = connection.first(_OFFICER_BY_ID, officer_id=desk)
        assert officer is not None  # a foreign key
        return [officer]
    if "dossier_code" not in fields:
        fields["officer"] = "required"
    return []
