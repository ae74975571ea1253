"""Pure helpers the server uses to turn dossiers into ``dossiers`` / ``late`` facts.

Months and dates are those of Asia/Ho_Chi_Minh. Vietnam has kept UTC+07:00 without daylight
saving since 1975, so a fixed offset is exact and needs no tz database on the kiosk server.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

LOCAL_TZ = timezone(timedelta(hours=7), "Asia/Ho_Chi_Minh")


def local_date(moment: date | datetime) -> date:
    """The Asia/Ho_Chi_Minh calendar date of ``moment``.

    An aware datetime is converted; a naive one is taken as local time already; a date is
    returned unchanged.
    """
    if isinstance(moment, datetime):
        if moment.tzinfo is not None:
            moment = moment.astimezone(LOCAL_TZ)
        return moment.date()
    return moment


def month_start(moment: date | datetime) -> date:
    """First day of the local calendar month containing ``moment`` (the month a fact counts in)."""
    day = local_date(moment)
    return date(day.year, day.month, 1)


@dataclass(frozen=True)
class DossierOutcome:
    """A dossier whose result was returned: who handled it and when it was due."""

    code: str
    reception: str | None
    resolvers: tuple[str, ...]
    returned_at: datetime
    due_at: datetime
    late_responsible: tuple[str, ...] = ()

    @property
    def is_late(self) -> bool:
        """Returned after its due time (an exact time comparison, not by date)."""
        return self.returned_at > self.due_at


def late_attributed_to(dossier: DossierOutcome) -> frozenset[str]:
    """Officers a late dossier counts against.

    The dossier's ``late_responsible`` list when it has one; otherwise its resolving officers,
    never the reception officer. Empty when the dossier was not late.
    """
    if not dossier.is_late:
        return frozenset()
    if dossier.late_responsible:
        return frozenset(dossier.late_responsible)
    return frozenset(dossier.resolvers)


def dossier_counts(dossiers: Iterable[DossierOutcome], officer: str, group: str) -> tuple[int, int]:
    """Return (``dossiers``, ``late``) of ``officer`` in staff ``group`` over the given dossiers.

    The caller passes the dossiers returned in the month. An officer's dossiers are those where
    they were the reception officer (group ``reception``) or a resolving officer (``resolver``);
    ``late`` counts those of them that were late and attributed to the officer.
    """
    if group not in ("reception", "resolver"):
        raise ValueError(f"unknown staff group {group!r}")
    total = late = 0
    for dossier in dossiers:
        involved = (
            dossier.reception == officer if group == "reception" else officer in dossier.resolvers
        )
        if not involved:
            continue
        total += 1
        if officer in late_attributed_to(dossier):
            late += 1
    return total, late
