"""The head's decisions: misconduct reports, monthly records, approving and reopening a month.

Each decision is checked, written to the audit log, followed by a recompute of that unit's month
(inside the same transaction) and committed once. A refusal raises :class:`DecisionRefused`
with a stable code and a message the head can read (Vietnamese by default).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask_babel import LazyString, force_locale, lazy_gettext
from sqlalchemy import func, select

from ..extensions import DbSession
from ..models import MisconductReport, Officer, OfficerMonthRecord, Response, UnitMonth, User
from ..timeutil import month_bounds
from . import Refused, audit, contact
from .rating_job import first_of_month, local_month, month_is_over, recompute_unit

MESSAGES: dict[str, LazyString] = {
    "forbidden": lazy_gettext("You may not decide for this unit."),
    "not_found": lazy_gettext("There is no such record."),
    "reason_required": lazy_gettext("Please give a reason."),
    "invalid_violations": lazy_gettext("The number of violations must be a whole number from 0."),
    "month_locked": lazy_gettext(
        "This month has been approved and is locked; reopen it with a reason to change it."
    ),
    "already_approved": lazy_gettext("This month has already been approved."),
    "not_approved": lazy_gettext("This month is not approved, so there is nothing to reopen."),
    "month_not_over": lazy_gettext("A month can only be approved after it has ended."),
    "pending_reports": lazy_gettext(
        "Some misconduct reports of this month are still pending: decide them before approving."
    ),
}


class DecisionRefused(Refused):
    """A decision we will not apply; ``message`` says why, for the head."""

    def __init__(self, status: int, error: str, fields: dict[str, Any] | None = None) -> None:
        super().__init__(status, error, fields)
        self.message = MESSAGES[error]

    def message_vi(self) -> str:
        with force_locale("vi"):
            return str(self.message)


def _actor(user: User) -> str:
    return str(user.username)


def _authorise(user: User, unit_id: int) -> None:
    """Admins decide everywhere; a head decides for their own unit; nobody else decides."""
    if not getattr(user, "active", False):
        raise DecisionRefused(403, "forbidden")
    if user.role == "admin" or (user.role == "head" and user.unit_id == unit_id):
        return
    raise DecisionRefused(403, "forbidden")


def _unit_month(session: DbSession, unit_id: int, month: dt.date) -> UnitMonth | None:
    return session.scalar(
        select(UnitMonth).where(UnitMonth.unit_id == unit_id, UnitMonth.month == month)
    )


def _require_open(session: DbSession, unit_id: int, month: dt.date) -> None:
    record = _unit_month(session, unit_id, month)
    if record is not None and record.state == "approved":
        raise DecisionRefused(409, "month_locked", {"month": month.strftime("%Y-%m")})


def _reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if not text:
        raise DecisionRefused(422, "reason_required", {"reason": "required"})
    return text


def decide_report(
    session: DbSession,
    report_id: int,
    *,
    confirm: bool,
    reason: str,
    user: User,
    now: dt.datetime,
) -> MisconductReport:
    """Confirm or reject a misconduct report, with a reason.

    A decided report may be decided again while its month is open (the audit log keeps both).
    """
    report = session.get(MisconductReport, report_id)
    if report is None:
        raise DecisionRefused(404, "not_found", {"report": "unknown"})
    officer = session.get(Officer, report.officer_id)
    response = session.get(Response, report.response_id)
    assert officer is not None and response is not None
    _authorise(user, officer.unit_id)
    text = _reason(reason)
    month = local_month(response.answered_at)
    _require_open(session, officer.unit_id, month)
    previous = report.status
    report.status = "confirmed" if confirm else "rejected"
    report.decided_by_id = user.id
    report.decided_at = now
    report.decision_reason = text
    audit.record(
        session,
        _actor(user),
        "report.confirm" if confirm else "report.reject",
        "misconduct_report",
        report.id,
        officer=officer.code,
        month=month.isoformat(),
        previous=previous,
        reason=text,
    )
    session.flush()
    still_pending = session.scalar(
        select(func.count())
        .select_from(MisconductReport)
        .where(
            MisconductReport.response_id == report.response_id,
            MisconductReport.status == "pending",
        )
    )
    if not still_pending:
        # The report is closed: the citizen's contact number, if any, is erased now.
        contact.erase_contacts_of_response(session, report.response_id, now)
    recompute_unit(session, officer.unit_id, month, now)
    session.commit()
    return report


def record_month(
    session: DbSession,
    officer_id: int,
    month: dt.date,
    *,
    violations: int,
    disciplined: bool,
    note: str | None,
    user: User,
    now: dt.datetime,
) -> OfficerMonthRecord:
    """Record an officer's rule violations and discipline for a month (replacing any earlier)."""
    officer = session.get(Officer, officer_id)
    if officer is None:
        raise DecisionRefused(404, "not_found", {"officer": "unknown"})
    _authorise(user, officer.unit_id)
    if isinstance(violations, bool) or not isinstance(violations, int) or violations < 0:
        raise DecisionRefused(422, "invalid_violations", {"violations": "invalid"})
    month = first_of_month(month)
    _require_open(session, officer.unit_id, month)
    record = session.scalar(
        select(OfficerMonthRecord).where(
            OfficerMonthRecord.officer_id == officer_id, OfficerMonthRecord.month == month
        )
    )
    before = None
    if record is None:
        record = OfficerMonthRecord(officer_id=officer_id, month=month)
        session.add(record)
    else:
        before = {"violations": record.violations, "disciplined": record.disciplined}
    record.violations = violations
    record.disciplined = bool(disciplined)
    record.note = (note or "").strip() or None
    record.recorded_by_id = user.id
    record.recorded_at = now
    audit.record(
        session,
        _actor(user),
        "month_record.set",
        "officer",
        officer.code,
        month=month.isoformat(),
        before=before,
        violations=violations,
        disciplined=bool(disciplined),
        note=record.note,
    )
    session.flush()
    recompute_unit(session, officer.unit_id, month, now)
    session.commit()
    return record


def pending_reports(session: DbSession, unit_id: int, month: dt.date) -> int:
    """How many misconduct reports of the unit's month still wait for the head."""
    start, end = month_bounds(month.year, month.month)
    query = (
        select(func.count())
        .select_from(MisconductReport)
        .join(Response, Response.id == MisconductReport.response_id)
        .join(Officer, Officer.id == MisconductReport.officer_id)
        .where(
            Officer.unit_id == unit_id,
            MisconductReport.status == "pending",
            Response.valid,
            Response.answered_at >= start,
            Response.answered_at < end,
        )
    )
    return int(session.scalar(query) or 0)


def approve_month(
    session: DbSession, unit_id: int, month: dt.date, *, user: User, now: dt.datetime
) -> UnitMonth:
    """Approve (and lock) a unit's month once it is over and no report is pending.

    The month is recomputed first, so the locked results are those of the latest facts.
    """
    _authorise(user, unit_id)
    month = first_of_month(month)
    record = _unit_month(session, unit_id, month)
    if record is not None and record.state == "approved":
        raise DecisionRefused(409, "already_approved")
    if not month_is_over(month, now):
        raise DecisionRefused(409, "month_not_over", {"month": month.strftime("%Y-%m")})
    pending = pending_reports(session, unit_id, month)
    if pending:
        raise DecisionRefused(409, "pending_reports", {"pending": pending})
    outcome = recompute_unit(session, unit_id, month, now)
    if record is None:
        record = UnitMonth(unit_id=unit_id, month=month)
        session.add(record)
    record.state = "approved"
    record.approved_by_id = user.id
    record.approved_at = now
    audit.record(
        session,
        _actor(user),
        "month.approve",
        "unit_month",
        f"{outcome.unit_code}/{month.strftime('%Y-%m')}",
        unit_id=unit_id,
        month=month.isoformat(),
        new_results=outcome.stored,
    )
    session.commit()
    return record


def reopen_month(
    session: DbSession,
    unit_id: int,
    month: dt.date,
    *,
    reason: str,
    user: User,
    now: dt.datetime,
) -> UnitMonth:
    """Reopen an approved month, with a reason; the month is recomputed at once."""
    _authorise(user, unit_id)
    month = first_of_month(month)
    text = _reason(reason)
    record = _unit_month(session, unit_id, month)
    if record is None or record.state != "approved":
        raise DecisionRefused(409, "not_approved")
    approved_by, approved_at = record.approved_by_id, record.approved_at
    record.state = "open"
    record.reopened_reason = text
    record.approved_by_id = None
    record.approved_at = None
    session.flush()
    outcome = recompute_unit(session, unit_id, month, now)
    audit.record(
        session,
        _actor(user),
        "month.reopen",
        "unit_month",
        f"{outcome.unit_code}/{month.strftime('%Y-%m')}",
        unit_id=unit_id,
        month=month.isoformat(),
        reason=text,
        approved_by_id=approved_by,
        approved_at=approved_at.isoformat() if approved_at else None,
        new_results=outcome.stored,
    )
    session.commit()
    return record
