"""Retention: personal or diagnostic data is kept no longer than it is needed.

- Refused-submission log entries older than :data:`REFUSED_RETENTION_MONTHS` months are deleted
  (they hold the start of request bodies, kept for diagnosis only).
- The contact numbers citizens leave with a misconduct report are erased once the report is
  closed (see :func:`purge_contacts_of_closed_reports`); the head's decision erases them at
  once too (``decisions.decide_report``).

Each function takes the session and "now" and does not commit; :func:`apply_retention` is the
scheduled job body and commits once.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy import delete

from ..extensions import DbSession
from ..models import RefusedSubmission
from ..timeutil import LOCAL_TZ
from . import contact

log = logging.getLogger(__name__)

REFUSED_RETENTION_MONTHS = 12


def months_before(now: dt.datetime, months: int) -> dt.datetime:
    """The same local day and time ``months`` calendar months earlier (clamped to month end)."""
    local = now.astimezone(LOCAL_TZ)
    index = local.year * 12 + local.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    day = local.day
    while True:
        try:
            return local.replace(year=year, month=month, day=day).astimezone(dt.UTC)
        except ValueError:  # 31 March - 1 month → 28/29 February
            day -= 1


def purge_refused_submissions(
    session: DbSession, now: dt.datetime, months: int = REFUSED_RETENTION_MONTHS
) -> int:
    """Delete refused-submission entries received more than ``months`` months before ``now``."""
    cutoff = months_before(now, months)
    result = session.execute(
        delete(RefusedSubmission).where(RefusedSubmission.received_at < cutoff)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def purge_contacts_of_closed_reports(session: DbSession, now: dt.datetime) -> int:
    """Erase the contact numbers whose misconduct reports are all decided (and those left with
    a low rating but no report, once the notice's retention period has passed).

    The rule lives with the contact table (``services/contact.py``); this is the nightly call.
    """
    return contact.purge_contacts_of_closed_reports(session, now)


@dataclass(frozen=True)
class RetentionSummary:
    refused_submissions: int
    contacts: int


def apply_retention(session: DbSession, now: dt.datetime) -> RetentionSummary:
    """The scheduled retention job: every purge above, in one transaction."""
    summary = RetentionSummary(
        refused_submissions=purge_refused_submissions(session, now),
        contacts=purge_contacts_of_closed_reports(session, now),
    )
    session.commit()
    log.info(
        "retention: %d refused submissions and %d contacts deleted",
        summary.refused_submissions,
        summary.contacts,
    )
    return summary
