"""What waits for the head on the dashboard's home, unit by unit.

For the month that ended last and the current month (local time), each unit's month is approved,
ready to approve, waiting on misconduct reports, in progress, or without results yet. The rules
are those of ``services.decisions.approve_month`` (refused before the month is over and while a
report of the month is pending); the reports "of the month" are ``rating_job``'s. A fixed number
of queries whatever the number of units: one GROUP BY per kind, never one query per unit.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import select

from ..extensions import DbSession
from ..models import MisconductReport, Officer, OfficerRating, Unit, UnitMonth, User
from ..services.rating_job import month_is_over, month_reports_query, previous_month
from ..timeutil import local_month

APPROVED = "approved"
READY = "ready"
PENDING_REPORTS = "pending_reports"
IN_PROGRESS = "in_progress"
NO_RESULTS = "no_results"


@dataclass(frozen=True)
class MonthTodo:
    """One unit's month as the head sees it on the home page."""

    month: dt.date
    state: str
    pending: int = 0
    approved_by: str | None = None
    approved_at: dt.datetime | None = None


@dataclass(frozen=True)
class UnitTodo:
    unit: Unit
    months: list[MonthTodo]


@dataclass(frozen=True)
class Todo:
    months: list[dt.date]  # the month that ended last, then the current one
    units: list[UnitTodo]

    @property
    def ready_months(self) -> int:
        """Months that can be approved now."""
        return sum(item.state == READY for unit in self.units for item in unit.months)

    @property
    def pending_reports(self) -> int:
        """Misconduct reports that wait for a decision (in months still open)."""
        return sum(item.pending for unit in self.units for item in unit.months)

    @property
    def nothing_waiting(self) -> bool:
        return not self.ready_months and not self.pending_reports


def month_state(
    month: dt.date, now: dt.datetime, *, approved: bool, pending: int, has_results: bool
) -> str:
    """The state of one unit's month; ``READY`` exactly when approving would be accepted."""
    if approved:
        return APPROVED
    if pending:
        return PENDING_REPORTS
    if not has_results:
        return NO_RESULTS
    if not month_is_over(month, now):
        return IN_PROGRESS
    return READY


def _pending_by_unit(
    session: DbSession, month: dt.date, unit_ids: Collection[int] | None
) -> Counter[int]:
    """Pending misconduct reports of ``month`` per unit (one GROUP BY)."""
    query = (
        month_reports_query(month)
        .join(Officer, Officer.id == MisconductReport.officer_id)
        .add_columns(Officer.unit_id)
        .where(MisconductReport.status == "pending")
        .group_by(Officer.unit_id)
    )
    if unit_ids is not None:
        query = query.where(Officer.unit_id.in_(list(unit_ids)))
    pending: Counter[int] = Counter()
    for _officer_id, _status, count, unit_id in session.execute(query):
        pending[unit_id] += int(count)
    return pending


def unit_todos(session: DbSession, unit_ids: Collection[int] | None, now: dt.datetime) -> Todo:
    """The active units of ``unit_ids`` (None: every unit) with the state of their two months.

    Five queries whatever the number of units.
    """
    current = local_month(now)
    months = [previous_month(current), current]
    query = select(Unit).where(Unit.active).order_by(Unit.level, Unit.name)
    if unit_ids is not None:
        query = query.where(Unit.id.in_(list(unit_ids)))
    units = list(session.scalars(query))
    if not units:
        return Todo(months, [])
    scope = None if unit_ids is None else [unit.id for unit in units]

    results = select(OfficerRating.unit_id, OfficerRating.month).where(
        OfficerRating.month.in_(months)
    )
    approvals = (
        select(UnitMonth.unit_id, UnitMonth.month, UnitMonth.approved_at, User.display_name)
        .outerjoin(User, User.id == UnitMonth.approved_by_id)
        .where(UnitMonth.month.in_(months), UnitMonth.state == "approved")
    )
    if scope is not None:
        results = results.where(OfficerRating.unit_id.in_(scope))
        approvals = approvals.where(UnitMonth.unit_id.in_(scope))
    grouped = results.group_by(OfficerRating.unit_id, OfficerRating.month)
    rated = {(unit_id, month) for unit_id, month in session.execute(grouped)}
    approved = {(row.unit_id, row.month): row for row in session.execute(approvals)}
    pending = {month: _pending_by_unit(session, month, scope) for month in months}

    items = []
    for unit in units:
        row = []
        for month in months:
            approval = approved.get((unit.id, month))
            state = month_state(
                month,
                now,
                approved=approval is not None,
                pending=pending[month][unit.id],
                has_results=(unit.id, month) in rated,
            )
            row.append(
                MonthTodo(
                    month,
                    state,
                    pending=pending[month][unit.id] if state == PENDING_REPORTS else 0,
                    approved_by=approval.display_name if approval is not None else None,
                    approved_at=approval.approved_at if approval is not None else None,
                )
            )
        items.append(UnitTodo(unit, row))
    return Todo(months, items)
