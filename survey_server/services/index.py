"""The annual index: criterion 8.3 from our forms, yearly scores per unit and leaf, ranking.

Pure rules live in ``rating.index``; here they meet the database. Scores are stored per leaf in
hundredths of a point (``IndexLeafScore``). The 8.3 leaves of a table that the satisfaction
mapping belongs to are filled automatically from the answers of the year (``source =
"satisfaction"``, computed when read, so that late answers count) unless someone overrode them
with a reason (``source = "override"``, audited). A sub-criterion without data is "no data",
which the index treats as "không đánh giá" (its maximum leaves the denominator), never as 0.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from flask import current_app, has_request_context
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import (
    JSON,
    BigInteger,
    ColumnElement,
    String,
    Text,
    bindparam,
    case,
    cast,
    func,
    literal,
    select,
)
from sqlalchemy.orm import aliased

from rating.index import (
    AnswerCounts,
    IndexTable,
    LeafScore,
    SatisfactionConfig,
    SatisfactionResult,
    ScoringError,
    UnitResult,
    count_answers,
    load_satisfaction_config,
    load_shipped_table,
    rank_units,
    satisfaction_points,
    score_unit,
)

from ..extensions import DbSession
from ..models import (
    Centre,
    Counter,
    Dossier,
    IndexAssessment,
    IndexLeafScore,
    Response,
    SatisfactionSurveyResult,
    Unit,
)
from ..timeutil import LOCAL_TZ
from . import audit

DEFAULT_TABLE = "dien_bien_2024_bang2"
SOURCES = ("entered", "imported", "satisfaction", "override")


P = ParamSpec("P")
R = TypeVar("R")


@contextmanager
def messages_locale() -> Iterator[None]:
    """Translate in the request's language, or in the default language (CLI, jobs)."""
    if has_request_context():
        yield
    else:
        with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
            yield


def translated(function: Callable[P, R]) -> Callable[P, R]:
    """Run ``function`` with its messages in the reader's language (see ``messages_locale``)."""

    @wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with messages_locale():
            return function(*args, **kwargs)

    return wrapper


class IndexInputError(ValueError):
    """Input that cannot be stored; ``problems`` maps a place (code, cell...) to the reason."""

    def __init__(self, problems: Mapping[str, str]) -> None:
        self.problems = dict(problems)
        super().__init__("; ".join(f"{where}: {why}" for where, why in self.problems.items()))


@dataclass(frozen=True)
class LeafEntry:
    """What someone enters for a leaf: two scores, or not assessed (both None)."""

    self_assessed: Decimal | None
    appraised: Decimal | None

    @property
    def not_assessed(self) -> bool:
        return self.self_assessed is None and self.appraised is None


NOT_ASSESSED_ENTRY = LeafEntry(None, None)


@dataclass(frozen=True)
class LeafRow:
    """A leaf as shown and exported: its scores, where they come from, and why if overridden."""

    code: str
    title: str
    max: Decimal
    self_assessed: Decimal | None
    appraised: Decimal | None
    not_assessed: bool
    source: str | None  # None: nothing entered yet
    reason: str | None = None

    @property
    def missing(self) -> bool:
        """Nothing entered yet, or self-assessed and still waiting for the appraisal."""
        return self.source is None or (not self.not_assessed and self.appraised is None)


@dataclass(frozen=True)
class UnitIndex:
    unit_id: int
    unit_code: str
    unit_name: str
    year: int
    table: IndexTable
    rows: tuple[LeafRow, ...]
    result: UnitResult | None
    missing: tuple[str, ...]
    satisfaction: SatisfactionResult | None = None

    def row(self, code: str) -> LeafRow:
        for row in self.rows:
            if row.code == code:
                return row
        raise KeyError(code)


@dataclass(frozen=True)
class UnitSatisfaction:
    unit_id: int
    unit_code: str
    unit_name: str
    year: int
    result: SatisfactionResult
    respondents: Mapping[str, int | None] = field(default_factory=dict)
    """For imported sub-criteria (8.3.1–8.3.4): the survey's respondent count, when known."""


@dataclass(frozen=True)
class RankingRow:
    rank: int
    unit_id: int
    unit_code: str
    unit_name: str
    index_percent: Decimal
    band_label: str
    appraised_total: Decimal


# -- criterion 8.3 ---------------------------------------------------------------------------


def year_bounds(year: int) -> tuple[dt.datetime, dt.datetime]:
    """The UTC instants that start this calendar year and the next, in local time."""
    start = dt.datetime(year, 1, 1, tzinfo=LOCAL_TZ)
    end = dt.datetime(year + 1, 1, 1, tzinfo=LOCAL_TZ)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


ANSWER_CHUNK = 200
"""Answers held per unit before they are counted: memory stays flat however large the year."""


def _answer_rows(
    session: DbSession, year: int, unit_ids: list[int] | None = None
) -> Iterator[tuple[int, str, Mapping[str, Any]]]:
    """The year's valid answers as ``(unit id, form, answers)``, streamed in no set order.

    ``phieu1`` counts for the unit of the centre where it was given (the kiosk's counter, or
    for the QR page the dossier's centre); ``phieu2`` for the resolving agency (the dossier's
    unit). See index.md, section 1.
    """
    query, unit_id = _year_answers(year, Response.form, Response.answers)
    query = query.execution_options(yield_per=ANSWER_CHUNK)
    if unit_ids is not None:
        query = query.where(unit_id.in_(unit_ids))
    for unit, form, answers in session.execute(query):
        if unit is not None:
            yield unit, form, answers or {}


def _year_answers(year: int, *columns: Any) -> tuple[Any, Any]:
    """``SELECT unit, *columns`` over the year's valid answers, and that unit's expression.

    The unit an answer counts for (index.md, section 1): ``phieu1`` the unit of the centre where
    it was given (the kiosk's counter, or for the QR page the dossier's centre); ``phieu2`` the
    resolving agency (the dossier's unit); None when the answer has neither.
    """
    start, end = year_bounds(year)
    counter_centre = aliased(Centre)
    dossier_centre = aliased(Centre)
    unit_id = case(
        (
            Response.form == "phieu1",
            func.coalesce(counter_centre.unit_id, dossier_centre.unit_id),
        ),
        else_=Dossier.unit_id,
    )
    query = (
        select(unit_id, *columns)
        .outerjoin(Counter, Counter.id == Response.counter_id)
        .outerjoin(counter_centre, counter_centre.id == Counter.centre_id)
        .outerjoin(Dossier, Dossier.id == Response.dossier_id)
        .outerjoin(dossier_centre, dossier_centre.id == Dossier.centre_id)
        .where(
            Response.valid.is_(True),
            Response.answered_at >= start,
            Response.answered_at < end,
        )
    )
    return query, unit_id


def answers_by_unit(
    session: DbSession, year: int, unit_ids: list[int] | None = None
) -> dict[int, list[tuple[str, Mapping[str, Any]]]]:
    """The year's valid answers, grouped by the unit they count for (see ``_answer_rows``)."""
    grouped: dict[int, list[tuple[str, Mapping[str, Any]]]] = {}
    for unit_id, form, answers in _answer_rows(session, year, unit_ids):
        grouped.setdefault(unit_id, []).append((form, answers))
    return grouped


def counts_by_unit(
    session: DbSession, year: int, unit_ids: list[int], config: SatisfactionConfig
) -> dict[int, dict[str, AnswerCounts]]:
    """``count_answers`` of each unit's answers for the year, counted by the database.

    On SQLite and PostgreSQL one GROUP BY unit reads only the questions the mapping names
    (``_sql_counts``); on any other database the rows are streamed and counted in Python
    (``counts_in_python``). Both give exactly what ``count_answers`` gives on the same rows
    (tests/survey_server/test_index_services.py compares them on tricky stored answers).
    """
    if session.get_bind().dialect.name in _SQL_DIALECTS:
        return _sql_counts(session, year, unit_ids, config)
    return counts_in_python(session, year, unit_ids, config)


_SQL_DIALECTS = ("sqlite", "postgresql")
_LEVELS = ("1", "2", "3", "4", "5")
_SATISFIED = ("4", "5")
_FILTERED_UNITS = 20
_SATISFIED_WEIGHT = 1 << 32
"""A satisfied answer adds this to its question's sum, any answer 1..5 adds 1: one sum per
question carries both counts (answered = sum mod 2**32, satisfied = sum div 2**32), so the
database reads each answer once. Exact while a unit has fewer than 2**31 answers a year."""


def _answer_text(dialect: str, question_id: str) -> ColumnElement[str]:
    """The stored JSON text of one answer (``4``, ``4.0``, ``"4"``, ``true``...), NULL if absent.

    Its text tells a JSON whole number from a string, a real or a boolean, which is the rule of
    ``count_answers`` (only Python ints 1..5 decoded from JSON count): exactly the texts ``1`` to
    ``5`` are such ints. SQLite's ``->`` (3.38+) and PostgreSQL's ``json -> key`` both give it.
    """
    if dialect == "sqlite":
        path = bindparam(None, f'$."{question_id}"', type_=String)
        return Response.answers.op("->", return_type=String)(path)
    return cast(
        Response.answers.op("->", return_type=JSON)(bindparam(None, question_id, type_=String)),
        Text,
    )


def _sql_counts(
    session: DbSession, year: int, unit_ids: list[int], config: SatisfactionConfig
) -> dict[int, dict[str, AnswerCounts]]:
    """``counts_by_unit`` as one GROUP BY unit with a CASE per question of the mapping."""
    dialect = session.get_bind().dialect.name
    questions = sorted({question for rule in config.sub_criteria for question in rule.questions})
    empty = {rule.code: AnswerCounts() for rule in config.sub_criteria}
    if not questions or not unit_ids:
        return {}
    sums = []
    for question in questions:
        form, _, question_id = question.partition(".")
        answer = _answer_text(dialect, question_id)
        # CASE answer WHEN '1' ...: the answer is read once per form.
        weight = case(
            {
                level: literal(_SATISFIED_WEIGHT + 1 if level in _SATISFIED else 1, BigInteger)
                for level in _LEVELS
            },
            value=answer,
            else_=literal(0, BigInteger),
        )
        sums.append(func.sum(case((Response.form == form, weight), else_=literal(0, BigInteger))))
    forms = sorted({question.partition(".")[0] for question in questions})
    query, unit_id = _year_answers(year, *sums)
    query = query.where(Response.form.in_(forms)).group_by(unit_id)
    if len(unit_ids) <= _FILTERED_UNITS:
        # A few units (a unit's page): skip the other units' answers row by row. For many, the
        # IN costs more per row than it saves, and the unwanted groups are dropped below.
        query = query.where(unit_id.in_(unit_ids))
    wanted = set(unit_ids)
    totals: dict[int, dict[str, AnswerCounts]] = {}
    for row in session.execute(query):
        if row[0] not in wanted:
            continue
        found = {
            question: (int(total or 0) % _SATISFIED_WEIGHT, int(total or 0) // _SATISFIED_WEIGHT)
            for question, total in zip(questions, row[1:], strict=True)
        }
        counts = dict(empty)
        for rule in config.sub_criteria:
            answered = sum(found[question][0] for question in rule.questions)
            satisfied = sum(found[question][1] for question in rule.questions)
            counts[rule.code] = AnswerCounts(satisfied, answered)
        totals[int(row[0])] = counts
    return totals


def counts_in_python(
    session: DbSession, year: int, unit_ids: list[int], config: SatisfactionConfig
) -> dict[int, dict[str, AnswerCounts]]:
    """``count_answers`` of each unit's answers for the year, without holding them all.

    The answers are streamed and counted ``ANSWER_CHUNK`` at a time per unit; the counts of
    the chunks are added up (a count is a sum, so the order and the chunking do not matter).
    """
    totals: dict[int, dict[str, AnswerCounts]] = {}
    pending: dict[int, list[tuple[str, Mapping[str, Any]]]] = {}

    def count(unit_id: int) -> None:
        counts = count_answers(pending.pop(unit_id), config)
        before = totals.get(unit_id)
        if before is not None:
            counts = {
                code: AnswerCounts(
                    before[code].satisfied + found.satisfied,
                    before[code].answered + found.answered,
                )
                for code, found in counts.items()
            }
        totals[unit_id] = counts

    for unit_id, form, answers in _answer_rows(session, year, unit_ids):
        chunk = pending.setdefault(unit_id, [])
        chunk.append((form, answers))
        if len(chunk) >= ANSWER_CHUNK:
            count(unit_id)
    for unit_id in list(pending):
        count(unit_id)
    return totals


def satisfaction_for_units(
    session: DbSession,
    year: int,
    units: Iterable[Unit],
    config: SatisfactionConfig | None = None,
) -> list[UnitSatisfaction]:
    """Criterion 8.3 for each unit and the year: our forms plus the imported survey results."""
    config = config or load_satisfaction_config()
    units = list(units)
    counted = counts_by_unit(session, year, [unit.id for unit in units], config)
    imported = _imported_results(session, year, [unit.id for unit in units])
    results = []
    for unit in units:
        counts = dict(counted.get(unit.id) or count_answers([], config))
        rows = imported.get(unit.id, {})
        percents: dict[str, Decimal] = {}
        respondents: dict[str, int | None] = {}
        for code, row in rows.items():
            rule = next((r for r in config.sub_criteria if r.code == code), None)
            if rule is None or (not rule.imported and counts[code].answered):
                continue  # our own answers win over an import for a sub-criterion we feed
            percents[code] = Decimal(row.percent_tenths) / 10
            respondents[code] = row.respondents
            counts[code] = AnswerCounts()
        results.append(
            UnitSatisfaction(
                unit_id=unit.id,
                unit_code=unit.code,
                unit_name=unit.name,
                year=year,
                result=satisfaction_points(counts, config, percents),
                respondents=respondents,
            )
        )
    return results


def unit_satisfaction(
    session: DbSession, unit: Unit, year: int, config: SatisfactionConfig | None = None
) -> UnitSatisfaction:
    return satisfaction_for_units(session, year, [unit], config)[0]


@translated
def import_survey_results(
    session: DbSession,
    year: int,
    rows: Iterable[tuple[str, str, Decimal, int | None]],
    actor: str,
    source: str | None = None,
    config: SatisfactionConfig | None = None,
) -> int:
    """Store the province's survey sub-indices ``(unit code, sub-criterion, percent,
    respondents)``; all or nothing. Returns the number of rows stored."""
    config = config or load_satisfaction_config()
    codes = {rule.code for rule in config.sub_criteria}
    units = {unit.code: unit for unit in session.scalars(select(Unit))}
    problems: dict[str, str] = {}
    clean: list[tuple[Unit, str, int, int | None]] = []
    for position, (unit_code, code, value, respondents) in enumerate(rows, start=1):
        where = f"row {position}"
        unit = units.get(unit_code)
        if unit is None:
            problems[where] = _("unknown unit %(unit)s", unit=unit_code)
        elif code not in codes:
            problems[where] = _(
                "%(code)s is not a sub-criterion of %(criterion)s",
                code=code,
                criterion=config.criterion,
            )
        elif not isinstance(value, Decimal) or not value.is_finite() or not 0 <= value <= 100:
            problems[where] = _("percent %(value)s is not 0..100", value=value)
        elif respondents is not None and respondents < 0:
            problems[where] = _("respondents %(value)s is negative", value=respondents)
        else:
            tenths = int((value * 10).to_integral_value())
            clean.append((unit, code, tenths, respondents))
    if problems:
        raise IndexInputError(problems)
    for unit, code, tenths, respondents in clean:
        existing = session.scalar(
            select(SatisfactionSurveyResult).where(
                SatisfactionSurveyResult.unit_id == unit.id,
                SatisfactionSurveyResult.year == year,
                SatisfactionSurveyResult.code == code,
            )
        )
        if existing is None:
            existing = SatisfactionSurveyResult(unit_id=unit.id, year=year, code=code)
            session.add(existing)
        existing.percent_tenths = tenths
        existing.respondents = respondents
        existing.source = source
    audit.record(
        session, actor, "import", "index_survey_results", year, rows=len(clean), source=source
    )
    session.commit()
    return len(clean)


def _imported_results(
    session: DbSession, year: int, unit_ids: list[int]
) -> dict[int, dict[str, SatisfactionSurveyResult]]:
    rows = session.scalars(
        select(SatisfactionSurveyResult).where(
            SatisfactionSurveyResult.year == year, SatisfactionSurveyResult.unit_id.in_(unit_ids)
        )
    )
    found: dict[int, dict[str, SatisfactionSurveyResult]] = {}
    for row in rows:
        found.setdefault(row.unit_id, {})[row.code] = row
    return found


# -- scoring a year --------------------------------------------------------------------------


def table_for(table_id: str) -> IndexTable:
    try:
        return load_shipped_table(table_id)
    except KeyError as error:
        raise IndexInputError({"table": str(error.args[0])}) from None


def to_cp(value: Decimal) -> int:
    return int(value * 100)


def from_cp(value: int | None) -> Decimal | None:
    return None if value is None else (Decimal(value) / 100).quantize(Decimal("0.01"))


def check_points(where: str, raw: object, maximum: Decimal, problems: dict[str, str]) -> Decimal:
    """A score 0..max with at most two decimals; records the problem and returns 0 otherwise."""
    value: Decimal | None = None
    if isinstance(raw, Decimal):
        value = raw
    elif isinstance(raw, int | str) and not isinstance(raw, bool):
        try:
            value = Decimal(str(raw).strip())
        except InvalidOperation:
            value = None
    if value is None or not value.is_finite():
        problems[where] = _("%(value)r is not a number", value=raw)
    elif value < 0:
        problems[where] = _("%(value)s is negative", value=value)
    elif value > maximum:
        problems[where] = _("%(value)s is above the max %(max)s", value=value, max=maximum)
    elif value != value.quantize(Decimal("0.01")):
        problems[where] = _("%(value)s has more than two decimals", value=value)
    else:
        return value
    return Decimal(0)


def satisfaction_applies(table: IndexTable, config: SatisfactionConfig) -> bool:
    return config.table == table.id and config.criterion in table


@translated
def save_scores(
    session: DbSession,
    unit: Unit,
    year: int,
    table: IndexTable,
    entries: Mapping[str, LeafEntry],
    actor: str,
    source: str = "entered",
    reason: str | None = None,
    config: SatisfactionConfig | None = None,
    commit: bool = True,
    appraise: bool = True,
) -> IndexAssessment:
    """Store scores for some leaves of a unit's year, all or nothing.

    8.3 leaves that the satisfaction mapping fills are only stored when they differ from what
    is stored or computed now; they then become an override and need ``reason``.

    ``appraise`` False is a unit head's entry: self-assessed scores only. The appraised scores
    are the Department of Home Affairs' to enter; each leaf keeps the one it has (an entry may
    repeat it unchanged, as a downloaded file does), and "không đánh giá" cannot erase one.
    """
    config = config or load_satisfaction_config()
    auto = satisfaction_applies(table, config)
    assessment = _assessment(session, unit, year, table.id, create=False)
    current = (
        _current_rows(session, unit, year, table, assessment, config)
        if auto or not appraise
        else {}
    )
    problems: dict[str, str] = {}
    checked: dict[str, LeafEntry] = {}
    for code, entry in entries.items():
        node = table.get(code)
        if node is None:
            problems[code] = _("not a code of table %(table)s", table=table.id)
            continue
        if not node.is_leaf:
            problems[code] = _("has sub-criteria: score those instead")
            continue
        if not appraise:
            kept = current[code].appraised
            if entry.appraised is not None and entry.appraised != kept:
                problems[f"{code} appraised"] = _(
                    "appraised scores are entered by the Department of Home Affairs"
                )
                continue
            if entry.not_assessed and kept is not None:
                problems[code] = _(
                    "already appraised by the Department of Home Affairs: "
                    "only the Department can mark it “không đánh giá”"
                )
                continue
            if entry.self_assessed is not None:
                own = check_points(f"{code} self_assessed", entry.self_assessed, node.max, problems)
                checked[code] = LeafEntry(own, kept)
                continue
            if not entry.not_assessed:
                continue  # the stored appraised score echoed back alone: nothing to store
        if entry.not_assessed:
            checked[code] = NOT_ASSESSED_ENTRY
            continue
        if entry.self_assessed is None or entry.appraised is None:
            problems[code] = _("give both scores, or neither for “không đánh giá”")
            continue
        checked[code] = LeafEntry(
            check_points(f"{code} self_assessed", entry.self_assessed, node.max, problems),
            check_points(f"{code} appraised", entry.appraised, node.max, problems),
        )
    if problems:
        raise IndexInputError(problems)

    overrides: list[dict[str, Any]] = []
    automatic: set[str] = set()
    for code, entry in checked.items():
        if not (auto and table[code].parent == config.criterion):
            continue
        automatic.add(code)
        row = current[code]
        same = (
            row.not_assessed == entry.not_assessed
            and row.self_assessed == entry.self_assessed
            and row.appraised == entry.appraised
        )
        if same:
            continue
        if not (reason and reason.strip()):
            problems[code] = _(
                "filled from the satisfaction survey: a reason is needed to change it"
            )
            continue
        overrides.append(
            {
                "code": code,
                "old": [_text(row.self_assessed), _text(row.appraised)],
                "new": [_text(entry.self_assessed), _text(entry.appraised)],
            }
        )
    if problems:
        raise IndexInputError(problems)
    if assessment is None:
        assessment = _assessment(session, unit, year, table.id, create=True)
        assert assessment is not None
    stored = {score.code: score for score in assessment.scores}
    changed_automatic = {override["code"] for override in overrides}
    for code, entry in checked.items():
        if code in automatic and code not in changed_automatic:
            continue
        score = stored.get(code)
        if score is None:
            score = IndexLeafScore(code=code)
            assessment.scores.append(score)
            stored[code] = score
        score.not_assessed = entry.not_assessed
        score.self_assessed_cp = None if entry.self_assessed is None else to_cp(entry.self_assessed)
        score.appraised_cp = None if entry.appraised is None else to_cp(entry.appraised)
        score.source = "override" if code in automatic else source
        score.reason = reason.strip() if code in automatic and reason else None
    assessment.updated_at = dt.datetime.now(dt.UTC)
    audit.record(
        session,
        actor,
        "score",
        "index_assessment",
        f"{unit.code}/{year}/{table.id}",
        leaves=len(checked),
        source=source,
    )
    for override in overrides:
        audit.record(
            session,
            actor,
            "override",
            "index_leaf_score",
            f"{unit.code}/{year}/{table.id}/{override['code']}",
            reason=reason,
            old=override["old"],
            new=override["new"],
        )
    if commit:
        session.commit()
    else:
        session.flush()
    return assessment


def clear_override(
    session: DbSession, unit: Unit, year: int, table: IndexTable, code: str, actor: str
) -> bool:
    """Give an overridden 8.3 leaf back to the automatic figure. True if there was one."""
    assessment = _assessment(session, unit, year, table.id, create=False)
    if assessment is None:
        return False
    for score in list(assessment.scores):
        if score.code == code and score.source == "override":
            assessment.scores.remove(score)
            audit.record(
                session,
                actor,
                "clear_override",
                "index_leaf_score",
                f"{unit.code}/{year}/{table.id}/{code}",
            )
            session.commit()
            return True
    return False


def unit_index(
    session: DbSession,
    unit: Unit,
    year: int,
    table: IndexTable,
    config: SatisfactionConfig | None = None,
) -> UnitIndex:
    """Every leaf of the unit's year with its source, and the index when no leaf is missing."""
    config = config or load_satisfaction_config()
    assessment = _assessment(session, unit, year, table.id, create=False)
    satisfaction = None
    if satisfaction_applies(table, config):
        satisfaction = unit_satisfaction(session, unit, year, config).result
    rows = _current_rows(session, unit, year, table, assessment, config, satisfaction)
    missing = tuple(code for code, row in rows.items() if row.missing)
    result = None
    if not missing:
        scores: dict[str, LeafScore | None] = {}
        for code, row in rows.items():
            if row.not_assessed or row.self_assessed is None or row.appraised is None:
                scores[code] = None
            else:
                scores[code] = LeafScore(row.self_assessed, row.appraised)
        try:
            result = score_unit(table, scores)
        except ScoringError:
            result = None  # e.g. every leaf not assessed: nothing to publish
    return UnitIndex(
        unit_id=unit.id,
        unit_code=unit.code,
        unit_name=unit.name,
        year=year,
        table=table,
        rows=tuple(rows.values()),
        result=result,
        missing=missing,
        satisfaction=satisfaction,
    )


def ranking(
    session: DbSession,
    year: int,
    table: IndexTable,
    unit_ids: Iterable[int] | None = None,
    config: SatisfactionConfig | None = None,
) -> tuple[list[RankingRow], list[UnitIndex]]:
    """Units with a complete index for the year, ranked; and those still incomplete."""
    query = select(IndexAssessment).where(
        IndexAssessment.year == year, IndexAssessment.table_id == table.id
    )
    if unit_ids is not None:
        query = query.where(IndexAssessment.unit_id.in_(list(unit_ids)))
    complete: dict[str, UnitIndex] = {}
    incomplete: list[UnitIndex] = []
    for assessment in session.scalars(query):
        index = unit_index(session, assessment.unit, year, table, config)
        if index.result is None:
            incomplete.append(index)
        else:
            complete[index.unit_code] = index
    ranked = rank_units(
        {code: index.result.index_percent for code, index in complete.items() if index.result}
    )
    rows = []
    for entry in ranked:
        index = complete[entry.unit]
        assert index.result is not None
        rows.append(
            RankingRow(
                rank=entry.rank,
                unit_id=index.unit_id,
                unit_code=index.unit_code,
                unit_name=index.unit_name,
                index_percent=index.result.index_percent,
                band_label=index.result.band.label,
                appraised_total=index.result.appraised_total,
            )
        )
    return rows, sorted(incomplete, key=lambda index: index.unit_code)


def _assessment(
    session: DbSession, unit: Unit, year: int, table_id: str, create: bool
) -> IndexAssessment | None:
    assessment = session.scalar(
        select(IndexAssessment).where(
            IndexAssessment.unit_id == unit.id,
            IndexAssessment.year == year,
            IndexAssessment.table_id == table_id,
        )
    )
    if assessment is None and create:
        assessment = IndexAssessment(unit=unit, year=year, table_id=table_id)
        session.add(assessment)
    return assessment


def _current_rows(
    session: DbSession,
    unit: Unit,
    year: int,
    table: IndexTable,
    assessment: IndexAssessment | None,
    config: SatisfactionConfig,
    satisfaction: SatisfactionResult | None = None,
) -> dict[str, LeafRow]:
    stored = {score.code: score for score in assessment.scores} if assessment else {}
    auto: dict[str, tuple[Decimal | None, bool]] = {}
    if satisfaction_applies(table, config):
        result = satisfaction or unit_satisfaction(session, unit, year, config).result
        for sub in result.sub_criteria:
            auto[sub.code] = (sub.points, sub.points is None)
    rows: dict[str, LeafRow] = {}
    for leaf in table.leaves():
        score = stored.get(leaf.code)
        if leaf.code in auto and (score is None or score.source != "override"):
            points, no_data = auto[leaf.code]
            rows[leaf.code] = LeafRow(
                leaf.code, leaf.title, leaf.max, points, points, no_data, "satisfaction"
            )
        elif score is None:
            rows[leaf.code] = LeafRow(leaf.code, leaf.title, leaf.max, None, None, False, None)
        else:
            rows[leaf.code] = LeafRow(
                code=leaf.code,
                title=leaf.title,
                max=leaf.max,
                self_assessed=from_cp(score.self_assessed_cp),
                appraised=from_cp(score.appraised_cp),
                not_assessed=score.not_assessed,
                source=score.source,
                reason=score.reason,
            )
    return rows


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


__all__ = [
    "DEFAULT_TABLE",
    "NOT_ASSESSED_ENTRY",
    "IndexInputError",
    "LeafEntry",
    "LeafRow",
    "RankingRow",
    "UnitIndex",
    "UnitSatisfaction",
    "answers_by_unit",
    "clear_override",
    "counts_by_unit",
    "counts_in_python",
    "import_survey_results",
    "ranking",
    "satisfaction_for_units",
    "save_scores",
    "table_for",
    "unit_index",
    "unit_satisfaction",
    "year_bounds",
]
