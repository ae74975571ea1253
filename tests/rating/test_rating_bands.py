"""Bands, flags and explanations of the default rule set ``reference`` v1 (rating-rules.md).

Each table is one rule; each row changes one fact of a baseline officer, so a reader can check
it by hand against the rule. ``answers(s, n, d)`` is s forms answered 5, n answered 3 (neither
satisfied nor dissatisfied) and d answered 1.
"""

from __future__ import annotations

import json
import random

import pytest

from rating import (
    OfficerFacts,
    OfficerResult,
    RuleSet,
    RuleSetError,
    default_rulesets_dir,
    evaluate_unit,
    load_ruleset,
)
from rating.engine import ComparisonCheck, GroupCheck, evaluate_officer

XS, TOT, HT, KHONG = "hoan_thanh_xuat_sac", "hoan_thanh_tot", "hoan_thanh", "khong_hoan_thanh"


@pytest.fixture(scope="module")
def reference() -> RuleSet:
    return load_ruleset(default_rulesets_dir() / "reference-1.toml")


def answers(satisfied: int = 0, neutral: int = 0, dissatisfied: int = 0) -> tuple[int, ...]:
    return (5,) * satisfied + (3,) * neutral + (1,) * dissatisfied


def officer(overall: tuple[int, ...], **changes: object) -> OfficerFacts:
    values: dict[str, object] = {
        "code": "CB001",
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


def band_of(ruleset: RuleSet, facts: OfficerFacts, **params: object) -> str:
    return evaluate_officer(facts, ruleset, params or None).band


# An officer who meets every "excellent" condition: 20 forms all 5, 20 dossiers, none late.
EXCELLENT = answers(20)
# An officer who is "good" but not "excellent": 85.0 % satisfied, nobody dissatisfied.
GOOD = answers(17, 3)


# Rule 1, khong_hoan_thanh if ANY of its conditions holds.
@pytest.mark.parametrize(
    ("overall", "changes", "band"),
    [
        pytest.param(EXCELLENT, {}, XS, id="baseline"),
        pytest.param(EXCELLENT, {"misconduct_confirmed": 1}, KHONG, id="misconduct 1"),
        pytest.param(EXCELLENT, {"disciplined": True}, KHONG, id="disciplined"),
        pytest.param(EXCELLENT, {"violations": 2}, HT, id="violations 2 (<3)"),
        pytest.param(EXCELLENT, {"violations": 3}, KHONG, id="violations 3"),
        pytest.param(answers(5, 5), {}, HT, id="satisfied 50.0 of 10: not <50"),
        pytest.param(answers(4, 6), {}, KHONG, id="satisfied 40.0 of 10"),
        pytest.param(answers(167, 168), {}, KHONG, id="satisfied 49.9 (167/335)"),
        pytest.param(answers(168, 167), {}, HT, id="satisfied 50.1 (168/335)"),
        pytest.param(answers(999, 1001), {}, HT, id="satisfied 49.95 rounds to 50.0"),
        pytest.param(answers(0, 9), {}, TOT, id="satisfied 0.0 of 9 forms: below min_forms"),
        pytest.param(answers(0, 10), {}, KHONG, id="satisfied 0.0 of 10 forms"),
        pytest.param(EXCELLENT, {"dossiers": 10, "late": 3}, HT, id="on time 70.0: not <70"),
        pytest.param(EXCELLENT, {"dossiers": 10, "late": 4}, KHONG, id="on time 60.0"),
        pytest.param(EXCELLENT, {"dossiers": 73, "late": 22}, KHONG, id="on time 69.9"),
        pytest.param(EXCELLENT, {"dossiers": 67, "late": 20}, HT, id="on time 70.1"),
        pytest.param(EXCELLENT, {"dossiers": 1, "late": 1}, KHONG, id="on time 0.0 of 1"),
        pytest.param(EXCELLENT, {"dossiers": 0}, XS, id="no dossier: on time undefined"),
    ],
)
def test_khong_hoan_thanh(
    reference: RuleSet, overall: tuple[int, ...], changes: dict[str, object], band: str
) -> None:
    assert band_of(reference, officer(overall, **changes)) == band


# Rule 2, hoan_thanh_xuat_sac if ALL of its conditions hold.
@pytest.mark.parametrize(
    ("overall", "changes", "band"),
    [
        pytest.param(answers(10), {}, XS, id="forms 10 = min_forms"),
        pytest.param(answers(9), {}, TOT, id="forms 9 < min_forms"),
        pytest.param(answers(19, 1), {}, XS, id="satisfied 95.0 (19/20)"),
        pytest.param(answers(37, 2), {}, TOT, id="satisfied 94.9 (37/39)"),
        pytest.param(answers(39, 2), {}, XS, id="satisfied 95.1 (39/41)"),
        pytest.param(answers(18, 1), {}, TOT, id="satisfied 94.7 (18/19)"),
        pytest.param(answers(1899, 101), {}, XS, id="satisfied 94.95 rounds to 95.0"),
        pytest.param(answers(39, 0, 1), {}, TOT, id="dissatisfied 1"),
        pytest.param(EXCELLENT, {"late": 1}, TOT, id="late 1 (on time 95.0)"),
        pytest.param(EXCELLENT, {"violations": 1}, HT, id="violations 1"),
        pytest.param(EXCELLENT, {"misconduct_pending": 1}, TOT, id="misconduct pending 1"),
    ],
)
def test_hoan_thanh_xuat_sac(
    reference: RuleSet, overall: tuple[int, ...], changes: dict[str, object], band: str
) -> None:
    assert band_of(reference, officer(overall, **changes)) == band


# Rule 3, hoan_thanh_tot if ALL of its conditions hold; hoan_thanh otherwise (rule 4).
@pytest.mark.parametrize(
    ("overall", "changes", "band"),
    [
        pytest.param(GOOD, {}, TOT, id="baseline 85.0"),
        pytest.param(answers(16, 4), {}, TOT, id="satisfied 80.0 (16/20)"),
        pytest.param(answers(107, 27), {}, HT, id="satisfied 79.9 (107/134)"),
        pytest.param(answers(109, 27), {}, TOT, id="satisfied 80.1 (109/136)"),
        pytest.param(answers(6, 3), {}, TOT, id="satisfied 66.7 of 9 forms: below min_forms"),
        pytest.param(answers(7, 3), {}, HT, id="satisfied 70.0 of 10 forms"),
        pytest.param(answers(19, 0, 1), {}, TOT, id="dissatisfied 5.0 (1/20)"),
        pytest.param(answers(39, 0, 2), {}, TOT, id="dissatisfied 4.9 (2/41)"),
        pytest.param(answers(37, 0, 2), {}, HT, id="dissatisfied 5.1 (2/39)"),
        pytest.param(answers(4, 0, 1), {}, HT, id="dissatisfied 20.0 of 5 forms: small too"),
        pytest.param((), {}, TOT, id="no form: dissatisfied undefined, forms = 0"),
        pytest.param(GOOD, {"dossiers": 20, "late": 1}, TOT, id="on time 95.0 (19/20)"),
        pytest.param(GOOD, {"dossiers": 39, "late": 2}, HT, id="on time 94.9 (37/39)"),
        pytest.param(GOOD, {"dossiers": 41, "late": 2}, TOT, id="on time 95.1 (39/41)"),
        pytest.param(GOOD, {"dossiers": 0}, TOT, id="no dossier: on time undefined"),
        pytest.param(GOOD, {"violations": 1}, HT, id="violations 1"),
        pytest.param((), {"dossiers": 0}, TOT, id="no data at all"),
    ],
)
def test_hoan_thanh_tot_and_otherwise(
    reference: RuleSet, overall: tuple[int, ...], changes: dict[str, object], band: str
) -> None:
    assert band_of(reference, officer(overall, **changes)) == band


# Flags (rating-rules.md, "Flags shown beside the band").
@pytest.mark.parametrize(
    ("forms", "dossiers", "pending", "params", "flags"),
    [
        (9, 1, 0, {}, ["insufficient_forms"]),
        (10, 0, 0, {}, []),
        (9, 0, 0, {}, ["insufficient_forms", "no_data"]),
        (0, 0, 0, {}, ["insufficient_forms", "no_data"]),
        (20, 0, 1, {}, ["pending_reports"]),
        (0, 0, 2, {}, ["insufficient_forms", "no_data", "pending_reports"]),
        (5, 0, 0, {"min_forms": 5}, []),  # the threshold is the parameter, not a constant
        (4, 0, 0, {"min_forms": 5}, ["insufficient_forms", "no_data"]),
    ],
)
def test_flags(
    reference: RuleSet,
    forms: int,
    dossiers: int,
    pending: int,
    params: dict[str, object],
    flags: list[str],
) -> None:
    facts = officer(answers(forms), dossiers=dossiers, misconduct_pending=pending)
    assert list(evaluate_officer(facts, reference, params).flags) == flags


@pytest.mark.parametrize(
    ("params", "overall", "band"),
    [
        ({"min_forms": 5}, answers(5), XS),
        ({"min_forms": 5}, answers(4), TOT),
        ({"min_forms": 20}, answers(19), TOT),
    ],
)
def test_params_override_the_rule_set(
    reference: RuleSet, params: dict[str, object], overall: tuple[int, ...], band: str
) -> None:
    assert band_of(reference, officer(overall), **params) == band


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"min_forms": -1}, "params.min_forms"),
        ({"min_forms": "10"}, "params.min_forms"),
        ({"excellent_quota_pct": 101}, "params.excellent_quota_pct"),
        ({"quota": 20}, "params.quota"),
    ],
)
def test_bad_param_override(reference: RuleSet, params: dict[str, object], field: str) -> None:
    with pytest.raises(RuleSetError) as caught:
        evaluate_officer(officer(GOOD), reference, params)
    assert caught.value.field == field


# --- explanations ------------------------------------------------------------------------------


def leaves(check: GroupCheck) -> list[ComparisonCheck]:
    found: list[ComparisonCheck] = []
    for item in check.conditions:
        found.extend(leaves(item) if isinstance(item, GroupCheck) else [item])
    return found


def failures(check: GroupCheck) -> list[ComparisonCheck]:
    """The comparisons that made a failed group fail (held alternatives are not reasons)."""
    found: list[ComparisonCheck] = []
    for item in check.conditions:
        if item.held:
            continue
        found.extend(failures(item) if isinstance(item, GroupCheck) else [item])
    return found


def failed_lines(result: OfficerResult, band: str) -> list[str]:
    """What a head reads to answer "why not <band>?"."""
    (reason,) = [reason for reason in result.reasons if reason.band == band]
    assert reason.check is not None
    return [leaf.describe() for leaf in failures(reason.check)]


# Reasons: the band given, and each better band missed (in evaluation order).
@pytest.mark.parametrize(
    ("overall", "changes", "bands"),
    [
        (EXCELLENT, {}, [XS]),
        (GOOD, {}, [XS, TOT]),
        (GOOD, {"violations": 1}, [XS, TOT, HT]),
        (EXCELLENT, {"misconduct_confirmed": 1}, [KHONG]),
    ],
)
def test_reasons_cover_the_band_and_every_better_band_missed(
    reference: RuleSet, overall: tuple[int, ...], changes: dict[str, object], bands: list[str]
) -> None:
    result = evaluate_officer(officer(overall, **changes), reference)
    assert [reason.band for reason in result.reasons] == bands
    assert [reason.held for reason in result.reasons] == [False] * (len(bands) - 1) + [True]


def test_why_not_excellent_is_answered_by_the_failed_condition(reference: RuleSet) -> None:
    result = evaluate_officer(officer(answers(18, 1)), reference)
    assert result.band == TOT
    assert failed_lines(result, XS) == ["satisfied_pct 94.7 ≥ 95.0: no"]


def test_why_not_good_lists_each_failed_condition(reference: RuleSet) -> None:
    result = evaluate_officer(officer(answers(107, 27), dossiers=39, late=2), reference)
    assert result.band == HT
    assert failed_lines(result, TOT) == [
        "forms 134 < 10: no",
        "satisfied_pct 79.9 ≥ 80.0: no",
        "dossiers 39 = 0: no",
        "on_time_pct 94.9 ≥ 95.0: no",
    ]


def test_why_not_completed_shows_what_held(reference: RuleSet) -> None:
    result = evaluate_officer(officer(EXCELLENT, misconduct_confirmed=1, dossiers=0), reference)
    (reason,) = result.reasons
    assert reason.check is not None
    # Of the "any" list, only the misconduct condition held (the forms guard held alone).
    held = [item for item in reason.check.conditions if item.held]
    assert [item.describe() for item in held if isinstance(item, ComparisonCheck)] == [
        "misconduct_confirmed 1 ≥ 1: yes"
    ]
    assert len(held) == 1
    # With no dossier the on-time percentage is undefined: the comparison is false, and says so.
    (on_time,) = [leaf for leaf in leaves(reason.check) if leaf.metric == "on_time_pct"]
    assert (on_time.undefined, on_time.held) == (True, False)
    assert on_time.describe() == "on_time_pct undefined < 70.0: no"


def test_undefined_metric_is_explicit_in_the_structured_reason(reference: RuleSet) -> None:
    result = evaluate_officer(officer((), dossiers=0), reference)
    reasons = result.to_dict()["reasons"]
    assert isinstance(reasons, list)
    good = reasons[-1]
    assert good["band"] == TOT and good["held"] is True
    forms_or_dissatisfied = good["conditions"][1]
    assert forms_or_dissatisfied == {
        "mode": "any",
        "held": True,
        "conditions": [
            {
                "metric": "forms",
                "op": "==",
                "value": 0,
                "threshold": 0,
                "param": None,
                "undefined": False,
                "held": True,
            },
            {
                "metric": "dissatisfied_pct",
                "op": "<=",
                "value": None,
                "threshold": 5.0,
                "param": None,
                "undefined": True,
                "held": False,
            },
        ],
    }


def test_describe_gives_the_whole_explanation_as_plain_text(reference: RuleSet) -> None:
    text = evaluate_officer(officer(answers(18, 1), misconduct_pending=1), reference).describe()
    assert text.splitlines() == [
        "CB001 (reception): hoan_thanh_tot [pending_reports]",
        "hoan_thanh_xuat_sac (all of): no",
        "  forms 19 ≥ 10: yes",
        "  satisfied_pct 94.7 ≥ 95.0: no",
        "  dissatisfied 0 = 0: yes",
        "  late 0 = 0: yes",
        "  violations 0 = 0: yes",
        "  misconduct_pending 1 = 0: no",
        "hoan_thanh_tot (all of): yes",
        "  any of: yes",
        "    forms 19 < 10: no",
        "    satisfied_pct 94.7 ≥ 80.0: yes",
        "  any of: yes",
        "    forms 19 = 0: no",
        "    dissatisfied_pct 0.0 ≤ 5.0: yes",
        "  any of: yes",
        "    dossiers 20 = 0: no",
        "    on_time_pct 100.0 ≥ 95.0: yes",
        "  violations 0 = 0: yes",
        "rule set reference v1",
    ]


def test_result_records_rule_set_and_is_json_serialisable(reference: RuleSet) -> None:
    data = evaluate_officer(officer(GOOD), reference).to_dict()
    assert data["ruleset"] == {"id": "reference", "version": 1}
    assert data["params"] == {"min_forms": 10, "excellent_quota_pct": None}
    assert json.loads(json.dumps(data)) == data


# --- determinism --------------------------------------------------------------------------------


def random_unit(seed: int) -> list[OfficerFacts]:
    generator = random.Random(seed)
    unit = []
    for number in range(40):
        dossiers = generator.randint(0, 30)
        unit.append(
            OfficerFacts(
                code=f"CB{number:03d}",
                group=generator.choice(["reception", "resolver"]),
                overall=tuple(
                    generator.choice([5, 5, 5, 5, 4, 3, 2, 1])
                    for _ in range(generator.randint(0, 30))
                ),
                dossiers=dossiers,
                late=generator.choice([0, 0, 0, generator.randint(0, dossiers)]),
                misconduct_confirmed=generator.choice([0] * 9 + [1]),
                misconduct_pending=generator.choice([0] * 5 + [1]),
                violations=generator.choice([0] * 6 + [1, 3]),
                disciplined=generator.random() < 0.05,
            )
        )
    return unit


@pytest.mark.parametrize("seed", range(5))
def test_same_facts_and_rule_set_give_identical_output(reference: RuleSet, seed: int) -> None:
    unit = random_unit(seed)
    params = {"excellent_quota_pct": 25}
    first = [result.to_dict() for result in evaluate_unit(unit, reference, params)]
    again = [result.to_dict() for result in evaluate_unit(random_unit(seed), reference, params)]
    assert json.dumps(first, sort_keys=True) == json.dumps(again, sort_keys=True)
    # Input order does not change anyone's result (the quota ranks by metrics, then code).
    shuffled = list(unit)
    random.Random(seed).shuffle(shuffled)
    by_code = {
        result.code: result.to_dict() for result in evaluate_unit(shuffled, reference, params)
    }
    assert [by_code[item["code"]] for item in first] == first


def test_results_come_in_input_order(reference: RuleSet) -> None:
    unit = [officer(GOOD, code="CB009"), officer(GOOD, code="CB001", group="resolver")]
    assert [result.code for result in evaluate_unit(unit, reference)] == ["CB009", "CB001"]


def test_an_officer_twice_in_one_group_is_refused(reference: RuleSet) -> None:
    with pytest.raises(ValueError, match="CB001"):
        evaluate_unit([officer(GOOD), officer(EXCELLENT)], reference)
