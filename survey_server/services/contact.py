"""The optional contact of a citizen who reports misconduct or rates 1 or 2 (forms.md,
"Personal data").

Offered only then; stored only with the citizen's explicit consent (an unticked box), with the
time and the version of the notice shown; erased when the report is closed. A rating without a
misconduct report has no report to close: its number is erased ``retention_days`` after consent,
as the notice says.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING

from sqlalchemy import exists, select

from ..extensions import DbSession
from ..models import MisconductReport, ResponseContact
from ..models import Response as ResponseRow
from . import Refused

if TYPE_CHECKING:
    from forms import FormDefinition

#: Bump when the notice's wording changes (who keeps the number, why, how long, rights).
NOTICE_VERSION = "2026-1"
DEFAULT_RETENTION_DAYS = 30
_SEPARATORS = re.compile(r"[\s.\-()]")
# ASCII digits only: \d alone also matches Arabic-Indic, Devanagari, fullwidth… digits.
_PHONE = re.compile(r"0[0-9]{9,10}")


def normalise_phone(raw: str) -> str | None:
    """A Vietnamese phone number as ``0…`` (10 or 11 digits), or None if it is not one."""
    digits = _SEPARATORS.sub("", raw)
    if digits.startswith("+84"):
        digits = "0" + digits[3:]
    elif digits.startswith("84") and len(digits) in (11, 12):
        digits = "0" + digits[2:]
    return digits if _PHONE.fullmatch(digits) else None


def record_contact(
    session: DbSession,
    response: ResponseRow,
    definition: FormDefinition,
    phone: str | None,
    consent: bool,
    now: dt.datetime,
) -> ResponseContact | None:
    """Store the number if, and only if, the citizen consented; commit.

    Returns None when the citizen left no number. Raises :class:`Refused` (422) with the field
    at fault: ``phone`` (``required`` with consent but no number, ``invalid_phone``),
    ``consent`` (``required``: a number without consent is never stored), or ``response``
    (``not_offered``: the answers do not allow a contact; ``already_left``).
    """
    if not definition.contact_allowed(response.answers):
        raise Refused(422, "contact_refused", {"response": "not_offered"})
    raw = (phone or "").strip()
    if not raw:
        if consent:
            raise Refused(422, "contact_refused", {"phone": "required"})
        return None
    if not consent:
        raise Refused(422, "contact_refused", {"consent": "required"})
    number = normalise_phone(raw)
    if number is None:
        raise Refused(422, "contact_refused", {"phone": "invalid_phone"})
    if session.scalar(select(ResponseContact.id).where(ResponseContact.response == response)):
        raise Refused(422, "contact_refused", {"response": "already_left"})
    contact = ResponseContact(
        response=response, phone=number, consent_at=now, notice_version=NOTICE_VERSION
    )
    session.add(contact)
    session.commit()
    return contact


def erase_contacts_of_response(session: DbSession, response_id: int, now: dt.datetime) -> int:
    """Erase the number left with a response (its report was closed). Does not commit."""
    contacts = session.scalars(
        select(ResponseContact).where(
            ResponseContact.response_id == response_id, ResponseContact.phone.is_not(None)
        )
    ).all()
    for contact in contacts:
        contact.phone = None
        contact.erased_at = now
    return len(contacts)


def purge_contacts_of_closed_reports(
    session: DbSession, now: dt.datetime, retention_days: int = DEFAULT_RETENTION_DAYS
) -> int:
    """Erase the numbers whose reports are all decided, and those left with a low rating but no
    report once ``retention_days`` have passed. Does not commit (the retention job does)."""
    any_report = exists().where(MisconductReport.response_id == ResponseContact.response_id)
    pending = exists().where(
        MisconductReport.response_id == ResponseContact.response_id,
        MisconductReport.status == "pending",
    )
    cutoff = now - dt.timedelta(days=retention_days)
    contacts = session.scalars(
        select(ResponseContact).where(
            ResponseContact.phone.is_not(None),
            ((any_report & ~pending) | (~any_report & (ResponseContact.consent_at < cutoff))),
        )
    ).all()
    for contact in contacts:
        contact.phone = None
        contact.erased_at = now
    return len(contacts)
