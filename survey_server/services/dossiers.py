"""The dossier push from the provincial dossier system: an idempotent upsert by code."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..extensions import DbSession
from ..models import Centre, Dossier, Officer, Unit
from ..timeutil import parse_iso_datetime
from . import Refused

T = TypeVar("T", Unit, Centre, Officer)

CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/\-]{0,63}$")
REQUIRED = ("code", "procedure", "unit", "centre", "received_at", "due_at", "reception_officer")
OPTIONAL = ("returned_at", "return_officer", "resolving_officers", "late_responsible")


@dataclass(frozen=True)
class DossierFacts:
    """A validated dossier body, with codes resolved to rows."""

    code: str
    procedure: str
    unit: Unit
    centre: Centre
    received_at: dt.datetime
    due_at: dt.datetime
    returned_at: dt.datetime | None
    reception_officer: Officer
    return_officer: Officer | None
    resolving_officers: list[Officer]
    late_responsible: list[Officer]


def upsert_dossier(session: DbSession, body: Any) -> tuple[Dossier, bool]:
    """Create or update one dossier. Returns it and whether it was created.

    Raises :class:`Refused` (422) naming every field at fault; nothing is written then.
    """
    facts = _validate(session, body)
    for attempt in range(2):
        dossier = session.scalar(select(Dossier).where(Dossier.code == facts.code))
        created = dossier is None
        if dossier is None:
            dossier = Dossier(code=facts.code)
            session.add(dossier)
        _apply(dossier, facts)
        try:
            session.commit()
        except IntegrityError:
            # Two pushes of a new code at once: the other one created it; update it instead.
            session.rollback()
            if attempt == 1:
                raise
            continue
        return dossier, created
    raise AssertionError("unreachable")


def _apply(dossier: Dossier, facts: DossierFacts) -> None:
    dossier.procedure = facts.procedure
    dossier.unit = facts.unit
    dossier.centre = facts.centre
    dossier.received_at = facts.received_at
    dossier.due_at = facts.due_at
    dossier.returned_at = facts.returned_at
    dossier.reception_officer = facts.reception_officer
    dossier.return_officer = facts.return_officer
    dossier.resolving_officers = facts.resolving_officers
    dossier.late_responsible = facts.late_responsible


def _validate(session: DbSession, body: Any) -> DossierFacts:
    if not isinstance(body, dict):
        raise Refused(422, "invalid_body", {"body": "not_an_object"})
    fields: dict[str, str] = {}
    for key in body:
        if key not in REQUIRED and key not in OPTIONAL:
            fields[str(key)[:64]] = "unknown_field"
    for key in REQUIRED:
        if body.get(key) in (None, ""):
            fields[key] = "required"

    code = body.get("code")
    if "code" not in fields and not (isinstance(code, str) and CODE_PATTERN.fullmatch(code)):
        fields["code"] = "invalid_code"
    procedure = body.get("procedure")
    # NUL: PostgreSQL text cannot hold it (and no procedure name has one).
    if "procedure" not in fields:
        if not (isinstance(procedure, str) and len(procedure) <= 500 and "\x00" not in procedure):
            fields["procedure"] = "invalid_text"
        elif not procedure.strip():
            fields["procedure"] = "required"

    times: dict[str, dt.datetime | None] = dict.fromkeys(("received_at", "due_at", "returned_at"))
    for key in times:
        if key in fields or body.get(key) is None:
            continue
        try:
            times[key] = parse_iso_datetime(body[key])
        except ValueError as exc:
            fields[key] = str(exc)
        except OverflowError:  # e.g. year 1 at +14:00: not an instant UTC can hold
            fields[key] = "out_of_range"
    received, due, returned = times["received_at"], times["due_at"], times["returned_at"]
    if received and due and due < received:
        fields["due_at"] = "before_received_at"
    if received and returned and returned < received:
        fields["returned_at"] = "before_received_at"

    unit = _lookup(session, Unit, body, "unit", fields)
    centre = _lookup(session, Centre, body, "centre", fields)
    reception = _lookup(session, Officer, body, "reception_officer", fields)
    return_officer = _lookup(session, Officer, body, "return_officer", fields)
    resolvers = _lookup_list(session, body, "resolving_officers", fields)
    late = _lookup_list(session, body, "late_responsible", fields)

    if fields:
        raise Refused(422, "invalid_dossier", fields)
    assert unit and centre and reception and received and due  # for the type checker
    return DossierFacts(
        code=str(code),
        procedure=str(procedure).strip(),
        unit=unit,
        centre=centre,
        received_at=received,
        due_at=due,
        returned_at=returned,
        reception_officer=reception,
        return_officer=return_officer,
        resolving_officers=resolvers,
        late_responsible=late,
    )


def _lookup(
    session: DbSession, model: type[T], body: dict[str, Any], key: str, fields: dict[str, str]
) -> T | None:
    value = body.get(key)
    if value is None or key in fields:
        return None
    if not isinstance(value, str) or len(value) > 64 or "\x00" in value:
        fields[key] = "invalid_code"  # NUL: no code has one, and PostgreSQL cannot compare it
        return None
    row = session.scalar(select(model).where(model.code == value))
    if row is None:
        fields[key] = f"unknown_{'officer' if model is Officer else model.__tablename__[:-1]}"
    return row


def _lookup_list(
    session: DbSession, body: dict[str, Any], key: str, fields: dict[str, str]
) -> list[Officer]:
    values = body.get(key)
    if values is None:
        return []
    if not isinstance(values, list) or len(values) > 50:
        fields[key] = "not_a_list"
        return []
    officers: list[Officer] = []
    for index, value in enumerate(values):
        if value is None:
            fields[f"{key}[{index}]"] = "invalid_code"
            continue
        item_fields: dict[str, str] = {}
        officer = _lookup(session, Officer, {key: value}, key, item_fields)
        if item_fields:
            fields[f"{key}[{index}]"] = item_fields[key]
        elif officer is not None and officer not in officers:
            officers.append(officer)
    return officers
