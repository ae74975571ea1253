"""The compiled, memoising engine gives exactly what a plain evaluation of the rules gives.

The reference below is the straightforward reading of rating-rules.md (the engine as it was
before issue 5's tuning): metrics by looping over the answers, every condition walked
recursively, nothing shared. Random facts and random parameter overrides must give equal results,
equal ``to_dict`` and equal explanations, one officer at a time and a whole unit at once (where
checks are shared between officers).
"""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rating import OfficerFacts, RuleSet, default_rulesets_dir, evaluate_unit, load_ruleset
from rating.engine import (
    GroupCheck,
    OfficerResult,
    Reason,
    _better,
    _check,
    _flags,
    evaluate_officer,
)
from rating.metrics import Metrics, percent
from rating.ruleset import Comparison, Group, Params


def reference_metrics(facts: OfficerFacts) -> Metrics:
    forms = len(facts.overall)
    satisfied = sum(1 for answer in facts.overall if answer >= 4)
    dissatisfied = sum(1 for answer in facts.overall if answer <= 2)
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


def reference_evaluate(facts: OfficerFacts, ruleset: RuleSet, params: Params) -> OfficerResult:
    metrics = reference_metrics(facts)
    evaluated: list[Reason] = []
    for band in ruleset.bands:
        if band.condition is None:
            evaluated.append(Reason(band.code, "otherwise", True))
            break
        check = _check(band.condition, metrics, params)
        assert isinstance(check, GroupCheck)
        evaluated.append(Reason(band.code, "conditions", check.held, check=check))
        if check.held:
            break
    decided = evaluated[-1].band
    reasons = tuple(r for r in evaluated if r.band == decided or _better(r.band, decided))
    return OfficerResult(
        code=facts.code,
        group=facts.group,
        band=decided,
        metrics=metrics,
        flags=_flags(metrics, params),
        reasons=reasons,
        ruleset_id=ruleset.id,
        ruleset_version=ruleset.version,
        params=params,
    )


def reference_ruleset() -> RuleSet:
    return load_ruleset(default_rulesets_dir() / "reference-1.toml")


@st.composite
def officer_facts(draw: st.DrawFn, code: str = "CB001") -> OfficerFacts:
    # Few forms and dossiers reach every band and every rounding edge of the thresholds.
    dossiers = draw(st.integers(0, 60))
    return OfficerFacts(
        code=code,
        group=draw(st.sampled_from(["reception", "resolver"])),
        overall=tuple(draw(st.lists(st.integers(1, 5), max_size=80))),
        dossiers=dossiers,
        late=draw(st.integers(0, dossiers)),
        misconduct_confirmed=draw(st.integers(0, 3)),
        misconduct_pending=draw(st.integers(0, 2)),
        violations=draw(st.integers(0, 4)),
        disciplined=draw(st.booleans()),
    )


MIN_FORMS = st.one_of(st.none(), st.integers(0, 40))


def same(fast: OfficerResult, plain: OfficerResult) -> None:
    assert fast == plain
    assert json.dumps(fast.to_dict(), sort_keys=True) == json.dumps(plain.to_dict(), sort_keys=True)
    assert fast.describe() == plain.describe()


@settings(max_examples=300, deadline=None)
@given(facts=officer_facts(), min_forms=MIN_FORMS)
def test_one_officer_matches_the_plain_evaluation(
    facts: OfficerFacts, min_forms: int | None
) -> None:
    ruleset = reference_ruleset()
    overrides = None if min_forms is None else {"min_forms": min_forms}
    params = ruleset.params.with_overrides(overrides)
    plain = reference_evaluate(facts, ruleset, params)
    same(evaluate_officer(facts, ruleset, overrides), plain)
    # Twice on the same rule set object: the second answer comes from the memoised checks.
    same(evaluate_officer(facts, ruleset, overrides), plain)


@settings(max_examples=60, deadline=None)
@given(st.lists(officer_facts(), min_size=1, max_size=30))
def test_a_unit_matches_the_plain_evaluation(items: list[OfficerFacts]) -> None:
    ruleset = reference_ruleset()
    facts = [replace(item, code=f"CB{index:03d}") for index, item in enumerate(items)]
    unit = evaluate_unit(facts, ruleset, {"excellent_quota_pct": None})
    plain = [reference_evaluate(item, ruleset, ruleset.params) for item in facts]
    for fast, expected in zip(unit, plain, strict=True):
        same(fast, expected)


def test_equal_rule_sets_keep_their_own_spelling_of_a_threshold() -> None:
    # 95 and 95.0 are equal Decimals; each rule set explains its threshold as it was written.
    def ruleset(value: Decimal) -> RuleSet:
        base = reference_ruleset()
        condition = Group("all", (Comparison("satisfied_pct", ">=", value=value),))
        bands = (replace(base.bands[0], condition=condition), *base.bands[1:])
        return replace(base, bands=bands)

    facts = OfficerFacts("CB001", "reception", (5,) * 20, 0, 0, 0, 0, 0, False)
    whole, tenth = ruleset(Decimal("95")), ruleset(Decimal("95.0"))
    assert whole == tenth
    assert "≥ 95:" in evaluate_officer(facts, whole).describe()
    assert "≥ 95.0:" in evaluate_officer(facts, tenth).describe()


def test_a_bad_condition_built_by_hand_still_fails_when_reached() -> None:
    base = reference_ruleset()
    condition = Group("all", (Comparison("no_such_metric", ">=", value=Decimal(1)),))
    bands = (replace(base.bands[0], condition=condition), *base.bands[1:])
    facts = OfficerFacts("CB001", "reception", (5,) * 20, 0, 0, 0, 0, 0, False)
    with pytest.raises(KeyError):
        evaluate_officer(facts, replace(base, bands=bands))


def test_to_dict_gives_each_caller_its_own_mapping() -> None:
    facts = OfficerFacts("CB001", "reception", (5,) * 20, 0, 0, 0, 0, 0, False)
    ruleset = reference_ruleset()
    first = evaluate_officer(facts, ruleset).to_dict()
    first["reasons"][0]["conditions"][0]["held"] = "changed"  # type: ignore[index]
    second = evaluate_officer(facts, ruleset).to_dict()
    assert second["reasons"][0]["conditions"][0]["held"] != "changed"  # type: ignore[index]
