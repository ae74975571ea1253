"""The excellent quota (rating-rules.md, "Quota"): per unit, per staff group, floor(q × N / 100).

N is the number of officers banded hoan_thanh_tot or hoan_thanh_xuat_sac before the quota. The
excellent ones are ranked by satisfied_pct desc, forms desc, on_time_pct desc (undefined last),
dissatisfied asc, code asc; those beyond the quota become hoan_thanh_tot with reason ``quota``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from rating import (
    OfficerFacts,
    OfficerResult,
    RuleSet,
    default_rulesets_dir,
    evaluate_unit,
    load_ruleset,
)
from rating.ruleset import parse_ruleset

XS, TOT, HT = "hoan_thanh_xuat_sac", "hoan_thanh_tot", "hoan_thanh"


@pytest.fixture(scope="module")
def reference() -> RuleSet:
    return load_ruleset(default_rulesets_dir() / "reference-1.toml")


@pytest.fixture(scope="module")
def lenient() -> RuleSet:
    """A province-style rule set whose "excellent" allows a late dossier and a dissatisfied form,
    so that every tie-break level can be reached."""
    return parse_ruleset(
        {
            "id": "lenient",
            "version": 1,
            "effective_from": date(2025, 1, 1),
            "title": "test",
            "params": {"min_forms": 10},
            "bands": [
                {
                    "code": "khong_hoan_thanh",
                    "any": [{"metric": "violations", "op": ">=", "value": 3}],
                },
                {
                    "code": "hoan_thanh_xuat_sac",
                    "all": [
                        {"metric": "forms", "op": ">=", "param": "min_forms"},
                        {"metric": "satisfied_pct", "op": ">=", "value": 90.0},
                    ],
                },
                {
                    "code": "hoan_thanh_tot",
                    "all": [{"metric": "violations", "op": "==", "value": 0}],
                },
                {"code": "hoan_thanh", "otherwise": True},
            ],
        },
        "lenient.toml",
    )


def officer(code: str, overall: tuple[int, ...], **changes: object) -> OfficerFacts:
    values: dict[str, object] = {
        "code": code,
        "group": "reception",
        "overall": overall,
        "dossiers": 20,
        "late": 0,
        "misconduct_confirmed": 0,
        "misconduct_pending": 0,
        "violations": 0,
        "disciplined": False,
    }
    values.update(changes)
    return OfficerFacts(**values)  # type: ignore[arg-type]


def excellent(code: str, **changes: object) -> OfficerFacts:
    return officer(code, (5,) * 20, **changes)


def good(code: str, **changes: object) -> OfficerFacts:
    return officer(code, (5,) * 17 + (3,) * 3, **changes)


def completed(code: str) -> OfficerFacts:
    return officer(code, (5,) * 20, violations=1)


def bands(results: list[OfficerResult]) -> list[str]:
    return [result.band for result in results]


# How many keep "excellent": floor(q × N / 100), exactly (never binary float).
@pytest.mark.parametrize(
    ("quota", "eligible", "kept"),
    [
        (20, 5, 1),
        (20, 4, 0),  # 0.8 → 0
        (20, 10, 2),
        (10, 9, 0),
        (10, 10, 1),
        (33.3, 3, 0),  # 0.999 → 0
        (33.4, 3, 1),  # 1.002 → 1
        (29, 100, 29),  # in float, 0.29 * 100 = 28.999999999999996 would floor to 28
        (0, 5, 0),
        (100, 3, 3),
    ],
)
def test_quota_size(reference: RuleSet, quota: float, eligible: int, kept: int) -> None:
    unit = [excellent(f"CB{number:03d}") for number in range(eligible)]
    results = evaluate_unit(unit, reference, {"excellent_quota_pct": quota})
    assert bands(results).count(XS) == kept
    assert bands(results).count(TOT) == eligible - kept


# N counts "good" and "excellent" officers only, per staff group.
@pytest.mark.parametrize(
    ("unit", "expected"),
    [
        ([excellent("A"), good("B"), good("C"), good("D"), good("E")], [XS, TOT, TOT, TOT, TOT]),
        ([excellent("A"), good("B"), good("C"), good("D")], [TOT, TOT, TOT, TOT]),
        (
            [excellent("A"), good("B"), good("C"), good("D"), completed("E"), completed("F")],
            [TOT, TOT, TOT, TOT, HT, HT],
        ),
        (
            # Five excellent in each group: one place per group, not two for the unit.
            [excellent(f"R{n}") for n in range(5)]
            + [excellent(f"S{n}", group="resolver") for n in range(5)],
            [XS, TOT, TOT, TOT, TOT, XS, TOT, TOT, TOT, TOT],
        ),
    ],
)
def test_quota_base_is_good_or_excellent_per_group(
    reference: RuleSet, unit: list[OfficerFacts], expected: list[str]
) -> None:
    results = evaluate_unit(unit, reference, {"excellent_quota_pct": 20})
    assert bands(results) == expected


# Tie-breaks: two excellent officers, one place (q = 50, N = 2). A always wins, by one level.
@pytest.mark.parametrize(
    ("a", "b"),
    [
        pytest.param(
            officer("B", (5,) * 20), officer("A", (5,) * 19 + (3,)), id="satisfied 100.0 > 95.0"
        ),
        pytest.param(officer("B", (5,) * 20), officer("A", (5,) * 10), id="same %: forms 20 > 10"),
        pytest.param(
            officer("B", (5,) * 20, dossiers=20, late=0),
            officer("A", (5,) * 20, dossiers=20, late=1),
            id="same % and forms: on time 100.0 > 95.0",
        ),
        pytest.param(
            officer("B", (5,) * 20, dossiers=1),
            officer("A", (5,) * 20, dossiers=0),
            id="on time 100.0 before undefined",
        ),
        pytest.param(
            officer("B", (5,) * 19 + (3,)),
            officer("A", (5,) * 19 + (1,)),
            id="same %, forms, on time: dissatisfied 0 < 1",
        ),
        pytest.param(officer("A", (5,) * 20), officer("B", (5,) * 20), id="all equal: code A < B"),
    ],
)
def test_quota_tie_breaks(lenient: RuleSet, a: OfficerFacts, b: OfficerFacts) -> None:
    for unit in ([a, b], [b, a]):  # input order never matters
        results = {
            result.code: result
            for result in evaluate_unit(unit, lenient, {"excellent_quota_pct": 50})
        }
        winner, loser = results[a.code], results[b.code]
        assert (winner.band, loser.band) == (XS, TOT)


def test_demoted_officer_carries_the_quota_reason(reference: RuleSet) -> None:
    unit = [
        excellent("CB001"),
        excellent("CB002", dossiers=0),
        good("CB003"),
        good("CB004"),
        good("CB005"),
    ]
    results = evaluate_unit(unit, reference, {"excellent_quota_pct": 20})
    kept, demoted = results[0], results[1]
    assert (kept.band, demoted.band) == (XS, TOT)
    # The excellent conditions held; the quota then decided.
    assert [(reason.band, reason.kind, reason.held) for reason in demoted.reasons] == [
        (XS, "conditions", True),
        (TOT, "quota", True),
    ]
    assert demoted.reasons[-1].to_dict() == {
        "band": TOT,
        "kind": "quota",
        "held": True,
        "quota_pct": 20,
        "eligible": 5,
        "allowed": 1,
        "rank": 2,
        "within_quota": False,
    }
    assert demoted.reasons[-1].describe() == (
        "hoan_thanh_tot (quota): 20% of 5 eligible = 1 may stay hoan_thanh_xuat_sac; rank 2 ≤ 1: no"
    )
    assert kept.reasons[-1].to_dict()["within_quota"] is True


def test_no_quota_without_the_parameter(reference: RuleSet) -> None:
    results = evaluate_unit([excellent(f"CB{n}") for n in range(5)], reference)
    assert bands(results) == [XS] * 5
    assert all(reason.kind != "quota" for result in results for reason in result.reasons)


def test_a_null_override_switches_the_quota_off(reference: RuleSet) -> None:
    params = replace(reference.params, excellent_quota_pct=Decimal(20))
    with_quota = replace(reference, params=params)
    unit = [excellent(f"CB{n}") for n in range(5)]
    assert bands(evaluate_unit(unit, with_quota)) == [XS, TOT, TOT, TOT, TOT]
    assert bands(evaluate_unit(unit, with_quota, {"excellent_quota_pct": None})) == [XS] * 5
