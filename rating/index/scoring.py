"""Scoring one unit for one year against an index table, and ranking units.

Each leaf gets a self-assessed score (tự đánh giá) and an appraised score (thẩm định), between
0 and the leaf's max, or ``NOT_ASSESSED`` ("không đánh giá": the task does not apply to the unit
that year). A criterion with children may also be given as ``NOT_ASSESSED``: all its leaves are
then excluded. Every leaf must be accounted for; a missing leaf is an error, never a silent 0.

Index percent (seed 001, II.1.4.b and II.2.4.b) = appraised total ÷ (table total − maxima of the
not-assessed leaves) × 100, one decimal, half up. The band is read from the rounded percent,
the figure that is published.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from rating.index._numbers import as_points, exact_sum, percent
from rating.index.tree import Band, Criterion, IndexTable

NOT_ASSESSED: Final = None
"""The score of a leaf (or whole criterion) that is "không đánh giá"."""


@dataclass(frozen=True)
class LeafScore:
    """The two scores of one leaf, in points."""

    self_assessed: Decimal
    appraised: Decimal


@dataclass(frozen=True)
class ScoreProblem:
    code: str
    message: str


class ScoringError(ValueError):
    """Scores that cannot be used; ``problems`` lists every faulty code with the reason."""

    def __init__(self, table_id: str, problems: list[ScoreProblem]) -> None:
        self.table_id = table_id
        self.problems = tuple(problems)
        lines = "; ".join(f"{problem.code}: {problem.message}" for problem in problems)
        super().__init__(f"table {table_id}: {lines}")


@dataclass(frozen=True)
class NodeResult:
    """Totals of one node. ``assessed_max`` leaves out the not-assessed leaves under it."""

    code: str
    max: Decimal
    assessed_max: Decimal
    self_assessed: Decimal
    appraised: Decimal

    @property
    def not_assessed(self) -> bool:
        return self.assessed_max == 0


@dataclass(frozen=True)
class UnitResult:
    """A unit's index for one table: per-node totals, percent and band."""

    table_id: str
    nodes: Mapping[str, NodeResult]
    not_assessed: tuple[str, ...]
    self_total: Decimal
    appraised_total: Decimal
    denominator: Decimal
    self_percent: Decimal
    index_percent: Decimal
    band: Band


@dataclass(frozen=True)
class RankedUnit:
    rank: int
    unit: str
    index_percent: Decimal


def score_unit(table: IndexTable, scores: Mapping[str, LeafScore | None]) -> UnitResult:
    """Total a unit's scores over ``table``; raise ``ScoringError`` naming each faulty code."""
    problems: list[ScoreProblem] = []
    excluded = _excluded_leaves(table, scores, problems)
    leaf_scores: dict[str, LeafScore] = {}
    for leaf in table.leaves():
        if leaf.code in excluded:
            continue
        if leaf.code not in scores:
            problems.append(ScoreProblem(leaf.code, "no score given (use NOT_ASSESSED)"))
            continue
        given = scores[leaf.code]
        if isinstance(given, LeafScore):
            checked = _checked(leaf, given, problems)
            if checked is not None:
                leaf_scores[leaf.code] = checked
        else:
            problems.append(ScoreProblem(leaf.code, f"expected a LeafScore, not {given!r}"))
    if problems:
        raise ScoringError(table.id, problems)

    nodes: dict[str, NodeResult] = {}
    for area in table.areas:
        _total(area, leaf_scores, nodes)
    excluded_max = exact_sum([table[code].max for code in excluded])
    denominator = table.total - excluded_max
    if denominator <= 0:
        raise ScoringError(table.id, [ScoreProblem("*", "every criterion is not assessed")])
    self_total = exact_sum([nodes[area.code].self_assessed for area in table.areas])
    appraised_total = exact_sum([nodes[area.code].appraised for area in table.areas])
    index_percent = percent(appraised_total, denominator)
    return UnitResult(
        table_id=table.id,
        nodes=nodes,
        not_assessed=tuple(leaf.code for leaf in table.leaves() if leaf.code in excluded),
        self_total=self_total,
        appraised_total=appraised_total,
        denominator=denominator,
        self_percent=percent(self_total, denominator),
        index_percent=index_percent,
        band=table.band_for(index_percent),
    )


def rank_units(index_percents: Mapping[str, Decimal]) -> tuple[RankedUnit, ...]:
    """Rank units by index percent, highest first; equal percents share a rank (1, 2, 2, 4).

    Compare the published (rounded) percents. Units with the same rank are listed by name.
    """
    ordered = sorted(index_percents.items(), key=lambda item: (-item[1], item[0]))
    ranked: list[RankedUnit] = []
    for position, (unit, value) in enumerate(ordered, start=1):
        tied = bool(ranked) and ranked[-1].index_percent == value
        rank = ranked[-1].rank if tied else position
        ranked.append(RankedUnit(rank=rank, unit=unit, index_percent=value))
    return tuple(ranked)


def _excluded_leaves(
    table: IndexTable, scores: Mapping[str, LeafScore | None], problems: list[ScoreProblem]
) -> set[str]:
    """Leaf codes that are not assessed, directly or through a not-assessed parent."""
    excluded: set[str] = set()
    for code, given in scores.items():
        node = table.get(code)
        if node is None:
            problems.append(ScoreProblem(code, f"not a code of table {table.id}"))
        elif given is NOT_ASSESSED:
            excluded.update(leaf.code for leaf in node.leaves())
        elif not node.is_leaf:
            problems.append(ScoreProblem(code, "has sub-criteria: score those instead"))
    for code, given in scores.items():
        node = table.get(code)
        if node is not None and node.is_leaf and given is not NOT_ASSESSED and code in excluded:
            problems.append(ScoreProblem(code, "scored, but a parent is marked not assessed"))
    return excluded


def _checked(leaf: Criterion, given: LeafScore, problems: list[ScoreProblem]) -> LeafScore | None:
    values: dict[str, Decimal] = {}
    for name in ("self_assessed", "appraised"):
        raw = getattr(given, name)
        value = as_points(raw) if not isinstance(raw, str) else None
        if value is None:
            problems.append(ScoreProblem(leaf.code, f"{name} {raw!r} is not a Decimal number"))
        elif value < 0:
            problems.append(ScoreProblem(leaf.code, f"{name} {value} is negative"))
        elif value > leaf.max:
            problems.append(ScoreProblem(leaf.code, f"{name} {value} is above the max {leaf.max}"))
        else:
            values[name] = value
    if len(values) < 2:
        return None
    return LeafScore(self_assessed=values["self_assessed"], appraised=values["appraised"])


def _total(
    node: Criterion, leaf_scores: Mapping[str, LeafScore], out: dict[str, NodeResult]
) -> None:
    if node.is_leaf:
        score = leaf_scores.get(node.code)
        zero = Decimal(0)
        out[node.code] = NodeResult(
            code=node.code,
            max=node.max,
            assessed_max=node.max if score is not None else zero,
            self_assessed=score.self_assessed if score is not None else zero,
            appraised=score.appraised if score is not None else zero,
        )
        return
    for child in node.children:
        _total(child, leaf_scores, out)
    kids = [out[child.code] for child in node.children]
    out[node.code] = NodeResult(
        code=node.code,
        max=node.max,
        assessed_max=exact_sum([kid.assessed_max for kid in kids]),
        self_assessed=exact_sum([kid.self_assessed for kid in kids]),
        appraised=exact_sum([kid.appraised for kid in kids]),
    )
