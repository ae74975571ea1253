"""An officer's month as a history: every stored revision, what changed, and the decisions.

The rating job stores a new revision of an officer's month whenever the result changes (new
forms, a head's decision, a rule set); the head's decisions are in the audit log. Read together,
newest first, they answer "why did this band change on the 12th?".

Plain data, no Flask: :func:`month_history` reads (two queries), :func:`diff` and
:func:`interleave` are pure. The templates turn the codes into Vietnamese.

Nothing here can point at a citizen: audit entries hold no rater identity, and an entry is
shown by its action, time, the actor's role (never a user name) and the head's own reason. The
satisfaction figures of a revision that counts fewer than ``min_forms`` new forms are not shown
one by one (:data:`ANSWER_METRICS`), by the rule that hides a breakdown of fewer forms.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import String, and_, cast, or_, select

from rating.metrics import METRIC_NAMES

from ..extensions import DbSession
from ..models import AuditEntry, MisconductReport, Officer, OfficerRating, Response, Unit, User
from ..services.rating_job import first_of_month
from ..timeutil import month_bounds
from .queries import MIN_BREAKDOWN_FORMS

#: The audit actions that decide an officer's month (services/decisions.py).
REPORT_ACTIONS = ("report.confirm", "report.reject")
RECORD_ACTION = "month_record.set"
UNIT_MONTH_ACTIONS = ("month.approve", "month.reopen")

#: A decision recomputes the month in its own request, and the revision it stores carries the
#: request's start time while the audit entry is stamped a moment later: a decision at most this
#: long after a revision is read as the decision that led to it.
SAME_REQUEST = dt.timedelta(seconds=30)

#: Metrics computed from the citizens' answers: with fewer than ``min_forms`` new forms their
#: changes could tell how one citizen answered.
ANSWER_METRICS = frozenset({"satisfied", "dissatisfied", "satisfied_pct", "dissatisfied_pct"})


@dataclass(frozen=True)
class Snapshot:
    """What a revision says, as far as a comparison needs."""

    band: str
    metrics: Mapping[str, Any]
    flags: Sequence[str]
    ruleset_id: str
    ruleset_version: int
    preview: bool
    unit_id: int


@dataclass(frozen=True)
class Change:
    """One difference between a revision and the one before it.

    ``kind``: ``first`` (first result of the month), ``band``, ``metric`` (``name`` is the
    metric), ``answers_hidden`` (satisfaction figures changed with too few new forms to show
    them), ``flag_added`` / ``flag_removed`` (``name`` is the flag), ``ruleset`` (before/after are
    ``id vN``), ``final`` (the preview became the final result), ``unit`` (rated in another
    unit), ``unchanged`` (same result, e.g. only the explanation's quota ranks moved).
    """

    kind: str
    name: str = ""
    before: Any = None
    after: Any = None


@dataclass(frozen=True)
class Revision:
    revision: int
    computed_at: dt.datetime
    preview: bool
    band: str
    ruleset_id: str
    ruleset_version: int
    changes: list[Change] = field(default_factory=list)

    kind = "revision"


@dataclass(frozen=True)
class Decision:
    """An audit entry about this officer's month (or its unit's month)."""

    at: dt.datetime
    action: str
    role: str | None  # admin | head | viewer; None for the command line or a removed account
    reason: str | None
    details: Mapping[str, Any] = field(default_factory=dict)

    kind = "decision"


HistoryItem = Revision | Decision


def snapshot(rating: OfficerRating) -> Snapshot:
    return Snapshot(
        band=rating.band,
        metrics=rating.metrics or {},
        flags=list(rating.flags or []),
        ruleset_id=rating.ruleset_id,
        ruleset_version=rating.ruleset_version,
        preview=rating.preview,
        unit_id=rating.unit_id,
    )


def _metric_order(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    extra = sorted((set(before) | set(after)) - set(METRIC_NAMES))
    return [*METRIC_NAMES, *extra]


def diff(
    previous: Snapshot | None, current: Snapshot, *, min_forms: int = MIN_BREAKDOWN_FORMS
) -> list[Change]:
    """What changed from ``previous`` to ``current``, in a fixed reading order."""
    if previous is None:
        return [Change("first")]
    changes: list[Change] = []
    if previous.band != current.band:
        changes.append(Change("band", before=previous.band, after=current.band))
    before, after = previous.metrics, current.metrics
    new_forms = abs(int(after.get("forms") or 0) - int(before.get("forms") or 0))
    hide_answers = 0 < new_forms < min_forms
    hidden = False
    for name in _metric_order(before, after):
        old, new = before.get(name), after.get(name)
        if old == new and isinstance(old, bool) == isinstance(new, bool):
            continue
        if hide_answers and name in ANSWER_METRICS:
            hidden = True
            continue
        changes.append(Change("metric", name, old, new))
    if hidden:
        changes.append(Change("answers_hidden", before=min_forms))
    changes.extend(
        Change("flag_added", flag) for flag in current.flags if flag not in previous.flags
    )
    changes.extend(
        Change("flag_removed", flag) for flag in previous.flags if flag not in current.flags
    )
    old_rules = (previous.ruleset_id, previous.ruleset_version)
    new_rules = (current.ruleset_id, current.ruleset_version)
    if old_rules != new_rules:
        changes.append(
            Change(
                "ruleset",
                before=f"{old_rules[0]} v{old_rules[1]}",
                after=f"{new_rules[0]} v{new_rules[1]}",
            )
        )
    if previous.unit_id != current.unit_id:
        changes.append(Change("unit", before=previous.unit_id, after=current.unit_id))
    if previous.preview and not current.preview:
        changes.append(Change("final"))
    if not changes:
        changes.append(Change("unchanged"))
    return changes


def interleave(revisions: Sequence[Revision], decisions: Sequence[Decision]) -> list[HistoryItem]:
    """Revisions and decisions newest first, each decision just below the revision it led to.

    ``revisions`` oldest first. A decision belongs before the first revision computed after it
    (allowing :data:`SAME_REQUEST` for the revision its own request stored); decisions after the
    newest revision come first.
    """
    buckets: list[list[Decision]] = [[] for _ in range(len(revisions) + 1)]
    for decision in decisions:
        index = next(
            (
                i
                for i, revision in enumerate(revisions)
                if revision.computed_at >= decision.at - SAME_REQUEST
            ),
            len(revisions),
        )
        buckets[index].append(decision)
    items: list[HistoryItem] = []
    for index in range(len(revisions), -1, -1):
        if index < len(revisions):
            items.append(revisions[index])
        newest_first: list[Decision] = sorted(buckets[index], key=lambda d: d.at, reverse=True)
        items.extend(newest_first)
    return items


def _decisions_query(officer: Officer, month: dt.date, unit_ids: set[int]) -> Any:
    """Audit entries of the officer's reports, records and unit months for ``month``."""
    start, end = month_bounds(month.year, month.month)
    reports = (
        select(cast(MisconductReport.id, String))
        .join(Response, Response.id == MisconductReport.response_id)
        .where(
            MisconductReport.officer_id == officer.id,
            Response.answered_at >= start,
            Response.answered_at < end,
        )
    )
    unit_months = select(Unit.code + f"/{month:%Y-%m}").where(Unit.id.in_(unit_ids))
    return (
        select(AuditEntry, User.role)
        .outerjoin(User, User.username == AuditEntry.actor)
        .where(
            or_(
                and_(
                    AuditEntry.action.in_(REPORT_ACTIONS),
                    AuditEntry.entity == "misconduct_report",
                    AuditEntry.entity_id.in_(reports),
                ),
                and_(
                    AuditEntry.action == RECORD_ACTION,
                    AuditEntry.entity == "officer",
                    AuditEntry.entity_id == officer.code,
                ),
                and_(
                    AuditEntry.action.in_(UNIT_MONTH_ACTIONS),
                    AuditEntry.entity == "unit_month",
                    AuditEntry.entity_id.in_(unit_months),
                ),
            )
        )
        .order_by(AuditEntry.at, AuditEntry.id)
    )


def _decision(entry: AuditEntry, role: str | None, month: dt.date) -> Decision | None:
    details = dict(entry.details or {})
    if details.get("month") not in (None, month.isoformat()):
        return None  # a record of another month of this officer
    if entry.action == RECORD_ACTION:
        reason = details.get("note")
        shown = {key: details.get(key) for key in ("violations", "disciplined")}
    else:
        reason = details.get("reason")
        shown = {}
    return Decision(entry.at, entry.action, role, reason or None, shown)


def month_history(session: DbSession, officer: Officer, month: dt.date) -> list[HistoryItem]:
    """The officer's month newest first: each revision with what changed, and the decisions.

    Two queries: the revisions, then the audit entries (with the actor's role). Empty when the
    month has no result and no decision yet.
    """
    month = first_of_month(month)
    ratings = list(
        session.scalars(
            select(OfficerRating)
            .where(OfficerRating.officer_id == officer.id, OfficerRating.month == month)
            .order_by(OfficerRating.revision)
        )
    )
    revisions: list[Revision] = []
    previous: Snapshot | None = None
    for rating in ratings:
        current = snapshot(rating)
        revisions.append(
            Revision(
                rating.revision,
                rating.computed_at,
                rating.preview,
                rating.band,
                rating.ruleset_id,
                rating.ruleset_version,
                diff(previous, current),
            )
        )
        previous = current
    unit_ids = {rating.unit_id for rating in ratings} | {officer.unit_id}
    decisions = [
        decision
        for entry, role in session.execute(_decisions_query(officer, month, unit_ids))
        if (decision := _decision(entry, role, month)) is not None
    ]
    return interleave(revisions, decisions)
