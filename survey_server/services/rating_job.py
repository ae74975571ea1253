"""The monthly rating job: gather each officer's facts, band them, store changed results.

The facts of a month come from a single pass of GROUP BY queries (forms, dossiers, misconduct
reports, the head's records), never a query per officer. Each unit is then banded and stored in
its own transaction: a run that crashes half way leaves the units it did not reach as they were,
and the next run completes them. A result is stored as a new revision only when it differs from
the latest one (same facts + same rule set → nothing new). An approved month is locked.

Also the read side the dashboard uses: :func:`current_ratings` and :func:`officer_history`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import functools
import gc
import hashlib
import json
import logging
import multiprocessing
import os
import threading
import traceback
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection as MPConnection
from pathlib import Path
from typing import Any, NamedTuple, ParamSpec, TypeVar

from flask import current_app, has_app_context
from sqlalchemy import (
    and_,
    bindparam,
    case,
    exists,
    func,
    literal_column,
    select,
    text,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, aliased, scoped_session

from rating import OfficerFacts, OfficerResult, RuleSet, evaluate_unit, ruleset_for_month
from rating.engine import reason_json
from rating.ruleset import available_rulesets, default_rulesets_dir

from .. import READ_SNAPSHOT_BEGIN
from ..extensions import DbSession, JSONText
from ..models import (
    Dossier,
    MisconductReport,
    Officer,
    OfficerMonthRecord,
    OfficerRating,
    Response,
    Unit,
    UnitMonth,
    dossier_resolvers,
    response_officers,
)
from ..timeutil import local_month as local_month  # one of this module's month helpers
from ..timeutil import month_bounds

log = logging.getLogger(__name__)

#: Which form rates which staff group (rating-rules.md, "forms").
FORM_OF_GROUP = {"reception": "phieu1", "resolver": "phieu2"}


# --- months -------------------------------------------------------------------------------------


def first_of_month(value: dt.date) -> dt.date:
    return dt.date(value.year, value.month, 1)


def parse_month(text: str) -> dt.date:
    """``YYYY-MM`` → the first day of that month; ValueError otherwise."""
    try:
        parsed = dt.datetime.strptime(text.strip(), "%Y-%m")
    except ValueError:
        raise ValueError(f"month must be YYYY-MM, not {text!r}") from None
    return parsed.date()


def previous_month(month: dt.date) -> dt.date:
    return first_of_month(month - dt.timedelta(days=1))


def month_is_over(month: dt.date, now: dt.datetime) -> bool:
    return month_bounds(month.year, month.month)[1] <= now


# --- rule sets ----------------------------------------------------------------------------------


def load_rulesets(directory: str | Path | None = None) -> list[RuleSet]:
    """The shipped rule sets plus those of ``directory`` (default: the RULESETS_DIR setting).

    The shipped ones stay loaded so that months rated with them remain reproducible; a province's
    file with a later ``effective_from`` takes over from its first month.
    """
    if directory is None and has_app_context():
        # Where the dashboard stores uploaded rule sets: RULESETS_DIR or <instance>/rulesets.
        configured = current_app.config.get("RULESETS_DIR")
        directory = configured or Path(current_app.instance_path) / "rulesets"
        if not Path(directory).is_dir():
            directory = None
    shipped = default_rulesets_dir()
    rulesets = available_rulesets(shipped)
    if directory is not None and Path(directory).resolve() != shipped.resolve():
        rulesets.extend(available_rulesets(directory))
        # The same (id, version) in both folders is ambiguous: refuse it like within one folder.
        keys = [(item.id, item.version) for item in rulesets]
        duplicates = sorted({key for key in keys if keys.count(key) > 1})
        if duplicates:
            from rating import RuleSetError

            ruleset_id, version = duplicates[0]
            raise RuleSetError(
                str(directory), "version", f"{ruleset_id} version {version} is also shipped"
            )
    return rulesets


# --- facts --------------------------------------------------------------------------------------


@dataclass
class _Tally:
    """What the GROUP BY queries found for one officer."""

    overall: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    dossiers: dict[str, int] = field(default_factory=dict)
    late: dict[str, int] = field(default_factory=dict)
    misconduct_confirmed: int = 0
    misconduct_pending: int = 0
    violations: int = 0
    disciplined: bool = False


@dataclass(frozen=True)
class MonthFacts:
    """Every officer's facts for one month, by unit (officers in code order)."""

    month: dt.date
    units: dict[int, list[tuple[int, OfficerFacts]]]
    unit_codes: dict[int, str]


def _officer_scope(unit_ids: Sequence[int] | None) -> Any:
    """A subquery of the officers considered (all, or those of ``unit_ids``)."""
    query = select(Officer.id)
    if unit_ids is not None:
        query = query.where(Officer.unit_id.in_(unit_ids))
    return query.scalar_subquery()


def _scoped(query: Any, column: Any, unit_ids: Sequence[int] | None) -> Any:
    return query if unit_ids is None else query.where(column.in_(_officer_scope(unit_ids)))


def month_reports_query(month: dt.date) -> Any:
    """Misconduct reports "from the month": about a valid form answered in it."""
    start, end = month_bounds(month.year, month.month)
    return (
        select(MisconductReport.officer_id, MisconductReport.status, func.count())
        .join(Response, Response.id == MisconductReport.response_id)
        .where(Response.valid, Response.answered_at >= start, Response.answered_at < end)
        .group_by(MisconductReport.officer_id, MisconductReport.status)
    )


def in_month_by_key(
    session: DbSession,
    id_column: Any,
    time_column: Any,
    start: dt.datetime,
    end: dt.datetime,
    ids: tuple[int, int | None] | None = None,
) -> Any:
    """``start <= time_column < end``, written so that the rows are read in key (id) order.

    Forms and dossiers get their ids in arrival order, so the rows of a month sit together at
    the end of the id range, but in random order of their answered_at / returned_at. Reading
    them through the time index and then each row (and its officer links) means a million
    random page visits; reading them by id from the month's smallest id visits each page once,
    three times faster on SQLite, and still only the month's part of the table. SQLite's
    planner cannot know that the range is most of the table, so on SQLite the time column
    carries a unary ``+`` (its documented way to keep a term off an index). PostgreSQL plans
    from its statistics: the plain condition plus the id bound. The bound is the smallest id
    actually in the range, so the result never depends on how ids were given, only the speed.

    ``ids`` (``first, stop``) bounds the ids instead: ``first <= id < stop`` (no upper bound
    when ``stop`` is None), for a part of the month (:func:`_month_parts`).
    """
    table = time_column.table
    if ids is None:
        bound = id_column >= first_id_in(id_column, time_column, start, end).scalar_subquery()
    elif ids[1] is None:
        bound = id_column >= ids[0]
    else:
        bound = and_(id_column >= ids[0], id_column < ids[1])
    if session.get_bind().dialect.name == "sqlite":
        time_column = literal_column(f"+{table.name}.{time_column.name}", type_=time_column.type)
    return and_(bound, time_column >= start, time_column < end)


def first_id_in(id_column: Any, time_column: Any, start: dt.datetime, end: dt.datetime) -> Any:
    """The smallest id of the rows with ``start <= time_column < end`` (a SELECT)."""
    return select(func.min(id_column)).where(time_column >= start, time_column < end)


def _month_parts(
    connection: Connection, start: dt.datetime, end: dt.datetime, parts: int
) -> list[tuple[int, int | None]]:
    """The month's forms cut into ``parts`` id ranges of about equal width (first, stop)."""
    answered_at = Response.__table__.c.answered_at
    first = connection.scalar(first_id_in(Response.id, answered_at, start, end))
    if first is None:
        return []
    last = int(connection.scalar(select(func.max(Response.id))) or first)
    width = max(1, (last - first + 1) // parts)
    cuts = [first + width * index for index in range(parts)] + [None]
    return [(cuts[index], cuts[index + 1]) for index in range(parts)]


def _read_all(
    reader: Connection, helper: Connection | None, statements: Sequence[Any]
) -> list[Sequence[Any]]:
    """Every statement's rows, in order: all on ``reader``, or every other one on ``helper`` in
    a second thread (each connection stays with one thread). An error in either is raised."""
    if helper is None:
        return [reader.execute(statement).all() for statement in statements]
    results: list[Sequence[Any]] = [[] for _ in statements]
    failures: list[BaseException] = []

    def read(connection: Connection, first: int) -> None:
        try:
            for index in range(first, len(statements), 2):
                results[index] = list(connection.execute(statements[index]).all())
        except BaseException as exc:  # re-raised in the calling thread
            failures.append(exc)

    thread = threading.Thread(target=read, args=(helper, 1), name="rating-facts")
    thread.start()
    read(reader, 0)
    thread.join()
    if failures:
        raise failures[0]
    return results


#: The first read of a snapshot (any read of the database file starts it).
_FIRST_READ = select(Unit.id).limit(1)


@contextlib.contextmanager
def _snapshot_helper(session: DbSession) -> Iterator[Connection | None]:
    """A second connection reading the same snapshot as the session's, for
    :func:`gather_facts`; None unless on a SQLite file with two CPUs or more.

    The session's deferred transaction (``READ_SNAPSHOT_BEGIN``) must not have read yet. Both
    snapshots start while a third connection holds SQLite's write lock (``BEGIN IMMEDIATE``,
    waiting its turn like any writer, for the moment of two one-row reads): no commit can come
    between them, so both connections see the same database.
    """
    engine = session.get_bind()
    assert isinstance(engine, Engine)  # the app's sessions are bound to its engine
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:" or (os.cpu_count() or 1) < 2:
        yield None
        return
    reader = session.connection()
    helper = engine.connect().execution_options(**{READ_SNAPSHOT_BEGIN: True})
    try:
        helper.begin()
        with engine.connect() as blocker, blocker.begin():
            reader.execute(_FIRST_READ).all()
            helper.execute(_FIRST_READ).all()
        yield helper
    finally:
        helper.close()


def gather_facts(
    session: DbSession,
    month: dt.date,
    unit_ids: Sequence[int] | None = None,
    *,
    helper: Connection | None = None,
) -> MonthFacts:
    """Gather the month's facts of every officer (of ``unit_ids``) with one GROUP BY per kind.

    An officer is rated when active, or when inactive but with any fact in the month. With
    ``helper``, a second connection reading the session's snapshot (:func:`_snapshot_helper`),
    the forms are read in two halves of their ids and the dossiers beside them, each
    connection in its own thread: the GROUP BYs run on two CPUs (SQLite releases Python's lock
    while it computes).
    """
    start, end = month_bounds(month.year, month.month)
    tallies: dict[int, _Tally] = defaultdict(_Tally)
    reader = session.connection()

    # Forms: each valid form counts for every officer it is about, in its answered_at month.
    answered_at = Response.__table__.c.answered_at
    parts: list[tuple[int, int | None] | None] = [None]
    if helper is not None:
        parts = list(_month_parts(reader, start, end, 2))
    answers = (
        select(response_officers.c.officer_id, Response.form, Response.overall, func.count())
        .join(Response, Response.id == response_officers.c.response_id)
        .group_by(response_officers.c.officer_id, Response.form, Response.overall)
    )
    forms = [
        _scoped(
            answers.where(
                Response.valid, in_month_by_key(session, Response.id, answered_at, start, end, ids)
            ),
            response_officers.c.officer_id,
            unit_ids,
        )
        for ids in parts
    ]
    # Reception: dossiers received by the officer; late only when named responsible. Both facts
    # are on the dossier (models._sync_month_facts): one range of the index
    # ix_dossiers_reception_month, read alone and already in officer order.
    desk = Dossier.__table__.c
    reception = select(
        desk.reception_officer_id,
        func.count(),
        func.sum(case((desk.reception_late, 1), else_=0)),
    ).where(desk.returned_month == month)
    # Resolvers: late when named, or when the late dossier names nobody (then all resolvers).
    # Both facts are on the link (models._sync_month_facts): one range of the index
    # ix_dossier_resolvers_month, already in officer order.
    link = dossier_resolvers.c
    resolver = select(link.officer_id, func.count(), func.sum(case((link.late, 1), else_=0))).where(
        link.returned_month == month
    )
    *form_rows, reception_rows, resolver_rows = _read_all(
        reader,
        helper,
        [
            *forms,
            _scoped(
                reception.group_by(desk.reception_officer_id), desk.reception_officer_id, unit_ids
            ),
            _scoped(resolver.group_by(link.officer_id), link.officer_id, unit_ids),
        ],
    )
    for rows in form_rows:
        for officer_id, form, overall, count in rows:
            tallies[officer_id].overall[form].extend([int(overall)] * int(count))
    for group, rows in (("reception", reception_rows), ("resolver", resolver_rows)):
        for officer_id, count, late in rows:
            tallies[officer_id].dossiers[group] = int(count)
            tallies[officer_id].late[group] = int(late or 0)

    reports = _scoped(month_reports_query(month), MisconductReport.officer_id, unit_ids)
    for officer_id, status, count in session.execute(reports):
        if status == "confirmed":
            tallies[officer_id].misconduct_confirmed = int(count)
        elif status == "pending":
            tallies[officer_id].misconduct_pending = int(count)

    records: Any = select(
        OfficerMonthRecord.officer_id, OfficerMonthRecord.violations, OfficerMonthRecord.disciplined
    ).where(OfficerMonthRecord.month == month)
    for officer_id, violations, disciplined in session.execute(
        _scoped(records, OfficerMonthRecord.officer_id, unit_ids)
    ):
        tallies[officer_id].violations = int(violations)
        tallies[officer_id].disciplined = bool(disciplined)

    officers = select(Officer.id, Officer.code, Officer.group, Officer.unit_id, Officer.active)
    if unit_ids is not None:
        officers = officers.where(Officer.unit_id.in_(unit_ids))
    units: dict[int, list[tuple[int, OfficerFacts]]] = defaultdict(list)
    for officer_id, code, group, unit_id, active in session.execute(
        officers.order_by(Officer.code)
    ):
        tally = tallies.get(officer_id)
        if tally is None and not active:
            continue
        units[unit_id].append((officer_id, _facts(code, group, tally or _Tally())))
    unit_query = select(Unit.id, Unit.code)
    if unit_ids is not None:
        unit_query = unit_query.where(Unit.id.in_(unit_ids))
    unit_codes = {unit_id: code for unit_id, code in session.execute(unit_query)}
    return MonthFacts(month, dict(units), unit_codes)


def _facts(code: str, group: str, tally: _Tally) -> OfficerFacts:
    dossiers = tally.dossiers.get(group, 0)
    return OfficerFacts(
        code=code,
        group=group,
        overall=tuple(tally.overall.get(FORM_OF_GROUP[group], ())),
        dossiers=dossiers,
        # A late dossier is one of the officer's dossiers: never more late than dossiers.
        late=min(tally.late.get(group, 0), dossiers),
        misconduct_confirmed=tally.misconduct_confirmed,
        misconduct_pending=tally.misconduct_pending,
        violations=tally.violations,
        disciplined=tally.disciplined,
    )


# --- storing ------------------------------------------------------------------------------------


class Banded(NamedTuple):
    """One officer's result as it is stored, but for its revision (:func:`band_unit`).

    The metrics and the reasons are the JSON texts that the digest hashes
    (:func:`_metrics_text`, :func:`_reasons_text`). Plain data, so that a unit's results can
    come from the banding process (:class:`_BandingProcess`).
    """

    officer_id: int
    digest: str
    group: str
    band: str
    flags: tuple[str, ...]
    metrics: str
    reasons: str
    ruleset_id: str
    ruleset_version: int


def _banded(result: OfficerResult, officer_id: int, unit_id: int, preview: bool) -> Banded:
    metrics = _metrics_text(result)
    reasons = _reasons_text(result)
    return Banded(
        officer_id,
        _digest(result, unit_id, preview, metrics, reasons),
        result.group,
        result.band,
        result.flags,
        metrics,
        reasons,
        result.ruleset_id,
        result.ruleset_version,
    )


def band_unit(
    unit_id: int, officers: Sequence[tuple[int, OfficerFacts]], ruleset: RuleSet, preview: bool
) -> list[Banded]:
    """Band one unit's officers (quota included) and make each result's stored texts and digest.

    Pure computation on the facts: it runs in the banding process when there is one.
    """
    results = evaluate_unit([facts for _, facts in officers], ruleset)
    return [
        _banded(result, officer_id, unit_id, preview)
        for (officer_id, _), result in zip(officers, results, strict=True)
    ]


def _row(item: Banded, unit_id: int, month: dt.date, preview: bool) -> dict[str, Any]:
    """The stored fields of one result. The metrics and the reasons are stored as the very JSON
    texts that the digest hashes (:class:`JSONText`)."""
    return {
        "officer_id": item.officer_id,
        "unit_id": unit_id,
        "month": month,
        "group": item.group,
        "band": item.band,
        "metrics": JSONText(item.metrics),
        "flags": list(item.flags),
        "reasons": JSONText(item.reasons),
        "ruleset_id": item.ruleset_id,
        "ruleset_version": item.ruleset_version,
        "preview": preview,
        "digest": item.digest,
    }


def _metrics_text(result: OfficerResult) -> str:
    """The result's metrics as a JSON object (sorted keys, as the digest has them)."""
    return _DIGEST_JSON.encode(result.metrics.to_dict())


def _reasons_text(result: OfficerResult) -> str:
    """The result's reasons as a JSON array (sorted keys, as the digest has them).

    The text of each reason comes from :func:`rating.engine.reason_json`, encoded once per
    shared check rather than once per officer.
    """
    return "[" + ", ".join([reason_json(reason) for reason in result.reasons]) + "]"


#: What the digest's JSON text holds in place of the metrics and the reasons before they are
#: spliced in.
_NO_METRICS = '"metrics": []'
_NO_REASONS = '"reasons": []'


def _digest(
    result: OfficerResult,
    unit_id: int,
    preview: bool,
    metrics: dict[str, Any] | str,
    reasons: str | None = None,
) -> str:
    """SHA-256 of the row's stored fields (all but officer and month) as sorted-key JSON.

    The text is exactly ``json.dumps(canonical, sort_keys=True, default=str,
    ensure_ascii=False)`` of those fields. The metrics (``metrics``: the mapping, or its text
    from :func:`_metrics_text`) and the reasons (``reasons``, when the caller has them
    already; see :func:`_reasons_text`), most of the text, are spliced in. The keys sorted
    before ``metrics`` and ``reasons`` (band, flags, group, preview) hold fixed vocabularies,
    so the first ``"metrics": []`` and ``"reasons": []`` are the placeholders.
    """
    canonical = {
        "unit_id": unit_id,
        "group": result.group,
        "band": result.band,
        "metrics": [],
        "flags": list(result.flags),
        "reasons": [],
        "ruleset_id": result.ruleset_id,
        "ruleset_version": result.ruleset_version,
        "preview": preview,
    }
    if not isinstance(metrics, str):
        metrics = _DIGEST_JSON.encode(metrics)
    if reasons is None:
        reasons = _reasons_text(result)
    text = (
        _DIGEST_JSON.encode(canonical)
        .replace(_NO_METRICS, f'"metrics": {metrics}', 1)
        .replace(_NO_REASONS, f'"reasons": {reasons}', 1)
    )
    return hashlib.sha256(text.encode()).hexdigest()


_DIGEST_JSON = json.JSONEncoder(sort_keys=True, default=str, ensure_ascii=False)


@functools.cache
def _latest_query() -> Any:
    """officer id, latest revision and its digest for ``:month`` and the officers ``:ids``.

    Built once: constructing the statement and running it through the ORM session cost ten
    times the query itself (two per unit, 200 units a month).
    """
    newest = (
        select(OfficerRating.officer_id, func.max(OfficerRating.revision).label("revision"))
        .where(
            OfficerRating.month == bindparam("month"),
            OfficerRating.officer_id.in_(bindparam("ids", expanding=True)),
        )
        .group_by(OfficerRating.officer_id)
        .subquery()
    )
    return select(OfficerRating.officer_id, OfficerRating.revision, OfficerRating.digest).join(
        newest,
        and_(
            OfficerRating.officer_id == newest.c.officer_id,
            OfficerRating.revision == newest.c.revision,
            OfficerRating.month == bindparam("month"),
        ),
    )


def _latest(
    session: DbSession, month: dt.date, officer_ids: Iterable[int]
) -> dict[int, tuple[int, str]]:
    """officer id → (latest revision, its digest) for the month."""
    ids = list(officer_ids)
    if not ids:
        return {}
    # Core execution on the session's connection (same transaction), no ORM layer: store_unit
    # asks is_locked first, which has flushed the session.
    rows = session.connection().execute(_latest_query(), {"month": month, "ids": ids})
    return {officer_id: (revision, digest) for officer_id, revision, digest in rows}


@functools.cache
def _locked_query() -> Any:
    return select(UnitMonth.state).where(
        UnitMonth.unit_id == bindparam("unit_id"), UnitMonth.month == bindparam("month")
    )


def is_locked(session: DbSession, unit_id: int, month: dt.date) -> bool:
    # Pending changes first (such as a head's approval in this session), then Core on the
    # session's connection: the ORM's execution path costs more than the query, once per unit.
    session.flush()
    params = {"unit_id": unit_id, "month": month}
    return bool(session.connection().scalar(_locked_query(), params) == "approved")


@dataclass(frozen=True)
class UnitOutcome:
    """What one unit's run did: officers banded, new revisions stored, or locked."""

    unit_id: int
    unit_code: str
    officers: int
    stored: int
    locked: bool
    ruleset: str


def store_unit(
    session: DbSession,
    unit_id: int,
    month: dt.date,
    officers: Sequence[tuple[int, OfficerFacts]],
    *,
    ruleset: RuleSet,
    now: dt.datetime,
    unit_code: str = "",
    banded: Sequence[Banded] | None = None,
) -> UnitOutcome:
    """Band one unit's officers and add a revision for each changed result (no commit).

    ``banded``: the unit's results from :func:`band_unit` with the same rule set and month,
    when already computed (by the banding process).
    """
    label = f"{ruleset.id} v{ruleset.version}"
    if is_locked(session, unit_id, month):
        return UnitOutcome(unit_id, unit_code, len(officers), 0, True, label)
    preview = not month_is_over(month, now)
    if banded is None:
        banded = band_unit(unit_id, officers, ruleset, preview)
    latest = _latest(session, month, (item.officer_id for item in banded))
    rows = []
    for item in banded:
        revision, digest = latest.get(item.officer_id, (0, ""))
        # Compared by digest: an unchanged result (every officer on a re-run) needs no row.
        if digest != item.digest:
            row = _row(item, unit_id, month, preview)
            row["staff_group"] = row.pop("group")  # the column's name in the table
            rows.append(row | {"revision": revision + 1, "computed_at": now})
    if rows:
        # A Core executemany: the ORM's bulk path adds nothing here but time per row.
        session.execute(OfficerRating.__table__.insert(), rows)
    return UnitOutcome(unit_id, unit_code, len(officers), len(rows), False, label)


def recompute_unit(
    session: DbSession,
    unit_id: int,
    month: dt.date,
    now: dt.datetime,
    rulesets: Sequence[RuleSet] | None = None,
) -> UnitOutcome:
    """Recompute one unit's month inside the caller's transaction (the decisions use it)."""
    month = first_of_month(month)
    ruleset = ruleset_for_month(rulesets if rulesets is not None else load_rulesets(), month)
    facts = gather_facts(session, month, [unit_id])
    officers = facts.units.get(unit_id, [])
    code = facts.unit_codes.get(unit_id, str(unit_id))
    return store_unit(session, unit_id, month, officers, ruleset=ruleset, now=now, unit_code=code)


@dataclass(frozen=True)
class RunSummary:
    month: dt.date
    units: list[UnitOutcome]

    @property
    def stored(self) -> int:
        return sum(unit.stored for unit in self.units)


class UnknownUnit(LookupError):
    pass


#: SQLite page cache for a month's run (KiB): the default 2 MB makes the aggregate queries
#: re-read pages from the OS for every dossier; the job runs in the CLI or scheduler process.
SQLITE_JOB_CACHE_KIB = 256 * 1024


def widen_sqlite_cache(session: DbSession) -> None:
    """Give this SQLite connection a page cache fit for a month's aggregate queries."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text(f"PRAGMA cache_size=-{SQLITE_JOB_CACHE_KIB}"))


#: From this many officers on (and with two CPUs or more), a run bands its units in a second
#: process while it stores the units already banded: below it, starting the process costs more
#: than the overlap saves.
BANDING_PROCESS_MIN_OFFICERS = 2000

#: How long the run waits for the banding process to end by itself before stopping it (s).
_BANDING_EXIT_SECONDS = 0.5

_UnitWork = list[tuple[int, Sequence[tuple[int, OfficerFacts]]]]


class BandingFailed(RuntimeError):
    """The banding process failed or ended before sending every unit's results."""


def _band_and_send(
    ruleset: RuleSet,
    preview: bool,
    work: MPConnection,
    results: MPConnection,
    run_ends: tuple[MPConnection, MPConnection],
) -> None:
    """The banding process: bands each unit it receives, until None, and sends back its
    results or the error that stopped it. It never touches the database, and it ends when the
    run does (the end of its work pipe)."""
    for end in run_ends:  # the run's ends of the two pipes, inherited: only the run uses them
        end.close()
    try:
        while (item := work.recv()) is not None:
            unit_id, officers = item
            # Sent whole before the next unit is banded: what was sent survives this process.
            results.send((unit_id, band_unit(unit_id, officers, ruleset, preview)))
    except (EOFError, BrokenPipeError):  # the run is gone: nobody waits for the results
        return
    except BaseException:  # reported to the run, which raises it
        results.send((None, traceback.format_exc()))


#: The results pipe's buffer (bytes): a unit's results are about 2 KB per officer, so the
#: banding process can run a few units ahead of the run instead of waiting at each send.
_RESULTS_PIPE_BYTES = 1 << 20


def _widen_pipe(end: MPConnection) -> None:
    """Give the pipe of ``end`` a buffer of :data:`_RESULTS_PIPE_BYTES` where the system allows
    (Linux; up to /proc/sys/fs/pipe-max-size): a smaller buffer only makes the two processes
    wait for each other more often."""
    if hasattr(fcntl, "F_SETPIPE_SZ"):
        with contextlib.suppress(OSError):
            fcntl.fcntl(end.fileno(), fcntl.F_SETPIPE_SZ, _RESULTS_PIPE_BYTES)


class _BandingProcess:
    """A second process that bands units while the run stores the ones already banded.

    Forked when the run begins, before it reads anything, so that it shares only the app's
    memory, not the month's facts or SQLite's page cache. Once the facts are gathered the run
    sends it every unit (:meth:`results`, from a thread, so that the run never waits to send)
    and stores each unit as its results come back: SQLite writes one unit while the next one is
    banded beside it, on the other CPU. Each side holds only its own ends of the two pipes, so
    either sees the other's end: a closed pipe, not a wait.

    Forked, not spawned: the process starts at once and needs nothing pickled but the units.
    The scheduler's process has other threads (APScheduler's); the forked process runs only
    pure computation and pipe I/O, never a lock those threads may have held.
    """

    def __init__(self, ruleset: RuleSet, preview: bool) -> None:
        context = multiprocessing.get_context("fork")
        work_end, self._work = context.Pipe(duplex=False)
        self._results, results_end = context.Pipe(duplex=False)
        self._process = context.Process(
            target=_band_and_send,
            args=(ruleset, preview, work_end, results_end, (self._work, self._results)),
            name="rating-banding",
            daemon=True,
        )
        _widen_pipe(results_end)
        self._process.start()
        work_end.close()
        results_end.close()
        self._sender: threading.Thread | None = None

    def _send(self, work: _UnitWork) -> None:
        try:
            for item in work:
                self._work.send(item)
            self._work.send(None)
        except OSError:  # the process ended (BrokenPipeError): the run learns it by its results
            pass

    def results(self, work: _UnitWork) -> Iterator[list[Banded]]:
        """Each unit's results of ``work``, in order (BandingFailed if the process fails)."""
        self._sender = threading.Thread(
            target=self._send, args=(work,), name="rating-banding-send", daemon=True
        )
        self._sender.start()
        for unit_id, _ in work:
            try:
                got, payload = self._results.recv()
            except EOFError:
                self._process.join(timeout=_BANDING_EXIT_SECONDS)
                raise BandingFailed(
                    f"the banding process ended (exit code {self._process.exitcode})"
                    f" before unit {unit_id}"
                ) from None
            if got is None:
                raise BandingFailed(f"the banding process failed:\n{payload}")
            if got != unit_id:
                raise BandingFailed(f"the banding process sent unit {got} for unit {unit_id}")
            yield payload

    def stop(self) -> None:
        """End the process (at once if it is still banding) and close the pipes."""
        if self._sender is None:  # the run failed before sending any work
            self._work.close()  # the process reads the end of its work and exits
        self._process.join(timeout=_BANDING_EXIT_SECONDS)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join()
        if self._sender is not None:
            self._sender.join()  # done, or failing to write to the ended process
            self._work.close()
        self._results.close()


def _wants_banding_process(session: Session, unit_codes: Sequence[str] | None) -> bool:
    """Whether the run is worth a banding process: two CPUs, fork, and enough officers."""
    if (os.cpu_count() or 1) < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return False
    count = select(func.count()).select_from(Officer)
    if unit_codes:
        count = count.join(Unit, Unit.id == Officer.unit_id).where(Unit.code.in_(unit_codes))
    if session.in_transaction():
        return int(session.scalar(count) or 0) >= BANDING_PROCESS_MIN_OFFICERS
    # A read of its own, ended before the run's snapshot begins (see _snapshot_helper); a
    # commit, not a rollback, so that nothing the caller added before the run is dropped.
    session.connection(execution_options={READ_SNAPSHOT_BEGIN: True})
    try:
        return int(session.scalar(count) or 0) >= BANDING_PROCESS_MIN_OFFICERS
    finally:
        session.commit()


@contextlib.contextmanager
def _banding_process(
    session: Session, unit_codes: Sequence[str] | None, ruleset: RuleSet, preview: bool
) -> Iterator[_BandingProcess | None]:
    """A :class:`_BandingProcess` for the run, or None (the run then bands each unit as it
    stores it); stopped when the run ends, also when the run fails."""
    if not _wants_banding_process(session, unit_codes):
        yield None
        return
    banding = _BandingProcess(ruleset, preview)
    try:
        yield banding
    finally:
        banding.stop()


_Params = ParamSpec("_Params")
_Run = TypeVar("_Run")


def _without_cyclic_gc(function: Callable[_Params, _Run]) -> Callable[_Params, _Run]:
    """Run ``function`` with the cyclic garbage collector paused (restored afterwards).

    A month's run keeps its facts (a few objects per officer) alive to its end and allocates
    more per result, so the cyclic collector would only re-walk a growing heap of live objects
    (one full pass took 0.15 s of a 1 s run at a tenth of the bench's size). Reference counting
    still frees what the run drops; a cycle made during the run is collected once the collector
    is back on.
    """

    @functools.wraps(function)
    def paused(*args: _Params.args, **kwargs: _Params.kwargs) -> _Run:
        enabled = gc.isenabled()
        gc.disable()
        try:
            return function(*args, **kwargs)
        finally:
            if enabled:
                gc.enable()

    return paused


@_without_cyclic_gc
def run_month(
    session: DbSession,
    month: dt.date,
    now: dt.datetime,
    *,
    unit_codes: Sequence[str] | None = None,
    rulesets: Sequence[RuleSet] | None = None,
    progress: Callable[[UnitOutcome], None] | None = None,
) -> RunSummary:
    """Compute ``month`` for every unit (or those of ``unit_codes``), one transaction per unit.

    Raises UnknownUnit for a code that does not exist and RuleSetError when no rule set is in
    effect. An exception while a unit is stored rolls that unit back and propagates: the units
    already done stay committed, and the next run completes the rest. Runs with the cyclic
    garbage collector paused.
    """
    month = first_of_month(month)
    ruleset = ruleset_for_month(rulesets if rulesets is not None else load_rulesets(), month)
    if isinstance(session, scoped_session):  # db.session: the session of this context
        session = session()
    preview = not month_is_over(month, now)
    with _banding_process(session, unit_codes, ruleset, preview) as banding:
        facts = _gather_for_run(session, month, unit_codes)
        return _store_run(session, month, now, ruleset, facts, banding, progress)


def _gather_for_run(
    session: Session, month: dt.date, unit_codes: Sequence[str] | None
) -> MonthFacts:
    """The run's facts, read in one snapshot; the read transaction is ended."""
    snapshot: contextlib.AbstractContextManager[Connection | None] = contextlib.nullcontext()
    if not session.in_transaction():
        # The facts are read in one snapshot without the write lock: seconds of GROUP BYs for
        # a large province must not hold up the kiosks' writes (SQLite; PostgreSQL never did).
        # A second connection reads the same snapshot beside it (SQLite, two CPUs).
        session.connection(execution_options={READ_SNAPSHOT_BEGIN: True})
        snapshot = _snapshot_helper(session)
    with snapshot as helper:
        unit_ids: list[int] | None = None
        if unit_codes:
            rows = session.execute(select(Unit.code, Unit.id).where(Unit.code.in_(unit_codes)))
            found = {code: unit_id for code, unit_id in rows}
            missing = [code for code in unit_codes if code not in found]
            if missing:
                raise UnknownUnit(", ".join(missing))
            unit_ids = [found[code] for code in unit_codes]
        widen_sqlite_cache(session)
        if helper is not None:
            helper.exec_driver_sql(f"PRAGMA cache_size=-{SQLITE_JOB_CACHE_KIB}")
        facts = gather_facts(session, month, unit_ids, helper=helper)
    session.commit()  # end the read transaction before the unit transactions
    return facts


def _store_run(
    session: Session,
    month: dt.date,
    now: dt.datetime,
    ruleset: RuleSet,
    facts: MonthFacts,
    banding: _BandingProcess | None,
    progress: Callable[[UnitOutcome], None] | None,
) -> RunSummary:
    """Band and store each unit in code order, each in its own transaction."""
    outcomes: list[UnitOutcome] = []
    order = sorted(facts.units, key=lambda unit_id: facts.unit_codes.get(unit_id, ""))
    work: _UnitWork = [(unit_id, facts.units[unit_id]) for unit_id in order]
    banded = None if banding is None else banding.results(work)
    for unit_id, officers in work:
        code = facts.unit_codes.get(unit_id, str(unit_id))
        try:
            outcome = store_unit(
                session,
                unit_id,
                month,
                officers,
                ruleset=ruleset,
                now=now,
                unit_code=code,
                banded=None if banded is None else next(banded),
            )
            session.commit()
        except BaseException:
            session.rollback()
            log.exception("rating run %s: unit %s failed, rolled back", month, code)
            raise
        log.info(
            "rating run %s: unit %s, %d officers, %d new results%s",
            month.strftime("%Y-%m"),
            code,
            outcome.officers,
            outcome.stored,
            " (locked)" if outcome.locked else "",
        )
        outcomes.append(outcome)
        if progress is not None:
            progress(outcome)
    return RunSummary(month, outcomes)


# --- reading ------------------------------------------------------------------------------------


def _latest_filter() -> Any:
    newer = aliased(OfficerRating)
    return ~exists().where(
        newer.officer_id == OfficerRating.officer_id,
        newer.month == OfficerRating.month,
        newer.revision > OfficerRating.revision,
    )


def current_ratings(
    session: DbSession, unit_ids: Sequence[int], month: dt.date
) -> list[OfficerRating]:
    """The latest revision of every officer rated in ``unit_ids`` for ``month`` (one query).

    Ordered by unit, staff group and officer code; each result's ``officer`` is loaded with it.
    """
    from sqlalchemy.orm import contains_eager

    if not unit_ids:
        return []
    query = (
        select(OfficerRating)
        .join(OfficerRating.officer)
        .options(contains_eager(OfficerRating.officer))
        .where(
            OfficerRating.unit_id.in_(list(unit_ids)),
            OfficerRating.month == first_of_month(month),
            _latest_filter(),
        )
        .order_by(OfficerRating.unit_id, OfficerRating.group, Officer.code)
    )
    return list(session.scalars(query))


def officer_history(session: DbSession, officer_id: int, months: int = 12) -> list[OfficerRating]:
    """The latest revision of each of the officer's last ``months`` rated months, oldest first."""
    query = (
        select(OfficerRating)
        .where(OfficerRating.officer_id == officer_id, _latest_filter())
        .order_by(OfficerRating.month.desc())
        .limit(months)
    )
    return list(reversed(list(session.scalars(query))))


def revisions(session: DbSession, officer_id: int, month: dt.date) -> list[OfficerRating]:
    """Every stored revision of one officer's month, oldest first."""
    query = (
        select(OfficerRating)
        .where(OfficerRating.officer_id == officer_id, OfficerRating.month == first_of_month(month))
        .order_by(OfficerRating.revision)
    )
    return list(session.scalars(query))
