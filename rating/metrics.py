"""Facts about one officer for one month, and the metrics derived from them.

See ``shared/domain/rating-rules.md``: the percentages are rounded to one decimal, half up, with
``decimal`` (never binary float), and every comparison is made on the rounded value.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Context, Decimal
from typing import TypeGuard

GROUPS: tuple[str, ...] = ("reception", "resolver")

#: Every metric of the monthly rating, in display order.
METRIC_NAMES: tuple[str, ...] = (
    "forms",
    "satisfied",
    "dissatisfied",
    "satisfied_pct",
    "dissatisfied_pct",
    "dossiers",
    "late",
    "on_time_pct",
    "misconduct_confirmed",
    "misconduct_pending",
    "violations",
    "disciplined",
)
_METRIC_SET = frozenset(METRIC_NAMES)
#: Percentages: Decimal with one decimal, or None when the denominator is zero.
PERCENT_METRICS: frozenset[str] = frozenset({"satisfied_pct", "dissatisfied_pct", "on_time_pct"})
#: Yes/no metrics: compared with ``==`` / ``!=`` against true or false only.
BOOLEAN_METRICS: frozenset[str] = frozenset({"disciplined"})

MetricValue = int | bool | Decimal | None

_TENTH = Decimal("0.1")
# A private context so the caller's global decimal settings can never change a result. With 28
# significant digits a quotient a/b (b well below 10**20) cannot land on an artificial ".x5"
# tie, so the single half-up quantize in ratio_tenth is exact.
_CONTEXT = Context(prec=28, rounding=ROUND_HALF_EVEN)


class FactsError(ValueError):
    """Invalid officer facts; ``field`` names the offending field (e.g. ``overall[3]``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@functools.lru_cache(maxsize=1 << 16)
def ratio_tenth(numerator: int, denominator: int) -> Decimal:
    """Return numerator / denominator rounded to one decimal, half up (denominator > 0).

    Memoised: a month's officers share few (count, total) pairs, a Decimal is immutable, and
    the private context makes the result depend on the two integers alone.
    """
    quotient = _CONTEXT.divide(Decimal(numerator), Decimal(denominator))
    return quotient.quantize(_TENTH, rounding=ROUND_HALF_UP, context=_CONTEXT)


def percent(count: int, total: int) -> Decimal | None:
    """Return 100 × count / total rounded to one decimal half up, or None when total is 0."""
    if total == 0:
        return None
    return ratio_tenth(100 * count, total)


def _is_int(value: object) -> TypeGuard[int]:
    # bool is an int subclass; a JSON ``true`` must not pass as a count of 1.
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class OfficerFacts:
    """What the server gathered about one officer of one staff group for one month.

    ``overall`` lists the ``overall`` answers (1..5) of the officer's valid forms in the month.
    Validated on construction; a bad value raises :class:`FactsError` naming the field.
    """

    code: str
    group: str
    overall: tuple[int, ...]
    dossiers: int
    late: int
    misconduct_confirmed: int
    misconduct_pending: int
    violations: int
    disciplined: bool

    def __post_init__(self) -> None:
        if isinstance(self.overall, list):
            # Accept a list for convenience but store a tuple so the facts stay hashable.
            object.__setattr__(self, "overall", tuple(self.overall))
        _check_facts(self)


_PLAIN_INT = frozenset({int})
_ANSWER_SET = frozenset({1, 2, 3, 4, 5})


def _check_facts(facts: OfficerFacts) -> None:
    if not isinstance(facts.code, str) or not facts.code.strip():
        raise FactsError("code", "must be a non-empty string")
    if facts.group not in GROUPS:
        raise FactsError("group", "must be 'reception' or 'resolver'")
    overall = facts.overall
    if not isinstance(overall, tuple):
        raise FactsError("overall", "must be a list of integers 1..5")
    # Fast path (two C loops): only plain ints, each equal to one of 1..5 (an int equal to 3 is
    # 3). Any other content (a bool, an int subclass, 0, 6, "5") takes the loop, which names
    # the field.
    if not (set(map(type, overall)) <= _PLAIN_INT and set(overall) <= _ANSWER_SET):
        for index, answer in enumerate(overall):
            if not _is_int(answer) or not 1 <= answer <= 5:
                raise FactsError(f"overall[{index}]", "must be an integer 1..5")
    for name in ("dossiers", "late", "misconduct_confirmed", "misconduct_pending", "violations"):
        value = getattr(facts, name)
        if not _is_int(value) or value < 0:
            raise FactsError(name, "must be a non-negative integer")
    if facts.late > facts.dossiers:
        raise FactsError("late", "must not exceed dossiers")
    if not isinstance(facts.disciplined, bool):
        raise FactsError("disciplined", "must be true or false")


@dataclass(frozen=True)
class Metrics:
    """The metrics of rating-rules.md for one officer and one month."""

    forms: int
    satisfied: int
    dissatisfied: int
    satisfied_pct: Decimal | None
    dissatisfied_pct: Decimal | None
    dossiers: int
    late: int
    on_time_pct: Decimal | None
    misconduct_confirmed: int
    misconduct_pending: int
    violations: int
    disciplined: bool

    def value(self, name: str) -> MetricValue:
        """Return the metric called ``name`` (one of :data:`METRIC_NAMES`)."""
        if name not in _METRIC_SET:
            raise KeyError(name)
        result: MetricValue = getattr(self, name)
        return result

    def to_dict(self) -> dict[str, int | bool | float | None]:
        """JSON-friendly mapping of every metric; percentages become one-decimal floats."""
        return {name: json_number(getattr(self, name)) for name in METRIC_NAMES}


def json_number(value: MetricValue) -> int | bool | float | None:
    """Convert a metric or threshold to a JSON value; a Decimal keeps its written precision."""
    if isinstance(value, Decimal):
        # Decimal("95") stays an integer, Decimal("94.7") becomes the float whose repr is 94.7.
        return int(value) if value.as_tuple().exponent == 0 else float(value)
    return value


def compute_metrics(facts: OfficerFacts) -> Metrics:
    """Derive every metric from the facts (pure; no rule set needed)."""
    overall = facts.overall
    forms = len(overall)
    # Validated answers are integers 1..5: counting values is counting ">= 4" and "<= 2".
    satisfied = overall.count(4) + overall.count(5)
    dissatisfied = overall.count(1) + overall.count(2)
    return Metrics(
        forms=forms,
        satisfied=satisfied,
        dissatisfied=dissatisfied,
        satisfied_pct=percent(satisfied, forms),
        dissatisfied_pct=percent(dissatisfied, forms),
        dossiers=facts.dossiers,
        late=facts.late,
        on_time_pct=percent(facts.dossiers - facts.late, facts.dossiers),
        misconduct_confirmed=facts.misconduct_confirmed,
        misconduct_pending=facts.misconduct_pending,
        violations=facts.violations,
        disciplined=facts.disciplined,
    )
