"""Metrics of rating-rules.md, "Facts and metrics": counts, percentages and half-up rounding."""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal, localcontext

import pytest

from rating import FactsError, OfficerFacts, compute_metrics
from rating.metrics import percent


def officer(overall: tuple[int, ...] = (), **changes: object) -> OfficerFacts:
    values: dict[str, object] = {
        "code": "CB001",
        "group": "reception",
        "overall": overall,
        "dossiers": 0,
        "late": 0,
        "misconduct_confirmed": 0,
        "misconduct_pending": 0,
        "violations": 0,
        "disciplined": False,
    }
    values.update(changes)
    return OfficerFacts(**values)  # type: ignore[arg-type]


# 100 × count / total, one decimal, half up: rows checkable with pencil and paper.
@pytest.mark.parametrize(
    ("count", "total", "expected"),
    [
        (2, 3, "66.7"),  # 66.666…
        (1, 3, "33.3"),  # 33.333…
        (1, 6, "16.7"),  # 16.666…
        (1, 8, "12.5"),  # exact
        (1, 16, "6.3"),  # 6.25 exactly: half up gives 6.3 (float round() gives 6.2)
        (5, 16, "31.3"),  # 31.25 exactly: half up (float round() gives 31.2)
        (1, 80, "1.3"),  # 1.25 exactly: half up (float round() gives 1.2)
        (19, 20, "95.0"),
        (18, 19, "94.7"),  # 94.736…
        (37, 39, "94.9"),  # 94.871…
        (39, 41, "95.1"),  # 95.121…
        (1899, 2000, "95.0"),  # 94.95 exactly → 95.0
        (999, 2000, "50.0"),  # 49.95 exactly → 50.0
        (0, 5, "0.0"),
        (5, 5, "100.0"),
    ],
)
def test_percent_rounds_half_up_to_one_decimal(count: int, total: int, expected: str) -> None:
    value = percent(count, total)
    assert value == Decimal(expected)
    assert str(value) == expected


@pytest.mark.parametrize(("count", "total", "float_rounding"), [(1, 16, 6.2), (5, 16, 31.2)])
def test_float_rounding_would_differ(count: int, total: int, float_rounding: float) -> None:
    # Why decimal: binary float round() is half-even, so it disagrees with the rule here.
    assert round(100 * count / total, 1) == float_rounding
    assert percent(count, total) == Decimal(str(float_rounding)) + Decimal("0.1")


def test_percent_of_nothing_is_undefined() -> None:
    assert percent(0, 0) is None


def test_percent_ignores_the_callers_decimal_context() -> None:
    with localcontext() as context:
        context.prec = 2
        context.rounding = ROUND_DOWN
        assert percent(2, 3) == Decimal("66.7")
        assert percent(1, 16) == Decimal("6.3")


@pytest.mark.parametrize(
    ("overall", "forms", "satisfied", "dissatisfied", "satisfied_pct", "dissatisfied_pct"),
    [
        ((5, 4, 3, 2, 1), 5, 2, 2, "40.0", "40.0"),  # 4–5 satisfied, 1–2 dissatisfied, 3 neither
        ((5, 5, 4, 3, 5), 5, 4, 0, "80.0", "0.0"),  # the spec's example officer
        ((3, 3, 3), 3, 0, 0, "0.0", "0.0"),
        ((4, 2, 2), 3, 1, 2, "33.3", "66.7"),
        ((), 0, 0, 0, None, None),  # no form: percentages undefined
    ],
)
def test_form_metrics(
    overall: tuple[int, ...],
    forms: int,
    satisfied: int,
    dissatisfied: int,
    satisfied_pct: str | None,
    dissatisfied_pct: str | None,
) -> None:
    metrics = compute_metrics(officer(overall))
    assert (metrics.forms, metrics.satisfied, metrics.dissatisfied) == (
        forms,
        satisfied,
        dissatisfied,
    )
    assert metrics.satisfied_pct == (None if satisfied_pct is None else Decimal(satisfied_pct))
    assert metrics.dissatisfied_pct == (
        None if dissatisfied_pct is None else Decimal(dissatisfied_pct)
    )


@pytest.mark.parametrize(
    ("dossiers", "late", "on_time_pct"),
    [
        (120, 0, "100.0"),
        (20, 1, "95.0"),
        (10, 3, "70.0"),
        (73, 22, "69.9"),  # 51/73 = 69.86…
        (3, 1, "66.7"),
        (1, 1, "0.0"),
        (0, 0, None),  # no dossier: undefined
    ],
)
def test_on_time_pct(dossiers: int, late: int, on_time_pct: str | None) -> None:
    metrics = compute_metrics(officer(dossiers=dossiers, late=late))
    assert metrics.on_time_pct == (None if on_time_pct is None else Decimal(on_time_pct))


def test_metrics_to_dict_names_every_metric_and_uses_one_decimal_numbers() -> None:
    data = compute_metrics(
        officer((5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 3))
    ).to_dict()
    assert list(data) == [
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
    ]
    assert data["satisfied_pct"] == 94.7
    assert data["dissatisfied_pct"] == 0.0
    assert data["on_time_pct"] is None


# Each bad fact raises FactsError naming the field.
@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"code": ""}, "code"),
        ({"group": "desk"}, "group"),
        ({"overall": (5, 0)}, "overall[1]"),
        ({"overall": (5, 5, 5, 6)}, "overall[3]"),
        ({"overall": (True,)}, "overall[0]"),
        ({"overall": "55"}, "overall"),
        ({"dossiers": -1}, "dossiers"),
        ({"late": 1}, "late"),  # more late dossiers than dossiers
        ({"violations": 1.0}, "violations"),
        ({"misconduct_pending": True}, "misconduct_pending"),
        ({"disciplined": 0}, "disciplined"),
    ],
)
def test_bad_facts_name_the_field(changes: dict[str, object], field: str) -> None:
    with pytest.raises(FactsError) as caught:
        officer(**changes)
    assert caught.value.field == field


def test_overall_given_as_a_list_is_frozen_to_a_tuple() -> None:
    facts = officer([5, 4])  # type: ignore[arg-type]
    assert facts.overall == (5, 4)
    assert hash(facts) == hash(officer((5, 4)))
