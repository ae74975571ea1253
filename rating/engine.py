"""Band evaluation, flags, the excellent quota and the explanations of each result."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from fractions import Fraction

from rating.metrics import (
    GROUPS,
    METRIC_NAMES,
    Metrics,
    MetricValue,
    OfficerFacts,
    compute_metrics,
    json_number,
)
from rating.ruleset import BAND_CODES, OPERATORS, Comparison, Group, Params, RuleSet, Threshold

EXCELLENT = "hoan_thanh_xuat_sac"
GOOD = "hoan_thanh_tot"
#: Flag codes, in the order they are listed on a result.
FLAG_CODES: tuple[str, ...] = ("insufficient_forms", "no_data", "pending_reports")

_COMPARE = {
    ">=": lambda left, right: left >= right,
    ">": lambda left, right: left > right,
    "<=": lambda left, right: left <= right,
    "<": lambda left, right: left < right,
    "==": lambda left, right: left == right,
    "!=": lambda left, right: left != right,
}


def format_value(value: MetricValue) -> str:
    """Plain text of a metric value or threshold: ``94.7``, ``10``, ``true``, ``undefined``."""
    if value is None:
        return "undefined"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _yes_no(held: bool) -> str:
    return "yes" if held else "no"


@dataclass(frozen=True)
class ComparisonCheck:
    """One comparison as evaluated: ``value op threshold`` and whether it held.

    ``undefined`` is true when the metric has no value (a percentage of nothing); such a
    comparison never holds.
    """

    metric: str
    op: str
    value: MetricValue
    threshold: Threshold
    param: str | None
    held: bool

    @property
    def undefined(self) -> bool:
        return self.value is None

    def describe(self) -> str:
        """E.g. ``satisfied_pct 94.7 ≥ 95.0: no``."""
        symbol = OPERATORS[self.op]
        value, threshold = format_value(self.value), format_value(self.threshold)
        return f"{self.metric} {value} {symbol} {threshold}: {_yes_no(self.held)}"

    def to_dict(self) -> dict[str, object]:
        # Checks are immutable and shared between officers (see _compile): the mapping is built
        # once per check and each caller gets its own copy.
        cached: dict[str, object] | None = self.__dict__.get("_dict")
        if cached is None:
            cached = {
                "metric": self.metric,
                "op": self.op,
                "value": json_number(self.value),
                "threshold": json_number(self.threshold),
                "param": self.param,
                "undefined": self.undefined,
                "held": self.held,
            }
            object.__setattr__(self, "_dict", cached)
        return dict(cached)


@dataclass(frozen=True)
class GroupCheck:
    """An ``all`` / ``any`` group as evaluated, with every member (no short-circuit)."""

    mode: str
    held: bool
    conditions: tuple[Check, ...]

    def describe_lines(self, indent: str = "") -> list[str]:
        lines: list[str] = []
        for check in self.conditions:
            if isinstance(check, GroupCheck):
                lines.append(f"{indent}{check.mode} of: {_yes_no(check.held)}")
                lines.extend(check.describe_lines(indent + "  "))
            else:
                lines.append(indent + check.describe())
        return lines

    def to_dict(self) -> dict[str, object]:
        return {
            "mode": self.mode,
            "held": self.held,
            "conditions": [check.to_dict() for check in self.conditions],
        }


Check = ComparisonCheck | GroupCheck


@dataclass(frozen=True)
class QuotaCheck:
    """How the excellent quota treated one officer who met the excellent conditions."""

    quota_pct: Decimal
    eligible: int
    allowed: int
    rank: int

    @property
    def within(self) -> bool:
        return self.rank <= self.allowed


@dataclass(frozen=True)
class Reason:
    """Why a band was or was not given.

    ``kind`` is ``conditions`` (the band's conditions, see ``check``), ``otherwise`` (the
    catch-all band) or ``quota`` (the excellent quota decided, see ``quota``). ``held`` says
    whether the band's rule applied to the officer.
    """

    band: str
    kind: str
    held: bool
    check: GroupCheck | None = None
    quota: QuotaCheck | None = None

    def describe(self) -> str:
        """Plain text, one line per condition."""
        if self.check is not None:
            head = f"{self.band} ({self.check.mode} of): {_yes_no(self.held)}"
            return "\n".join([head, *self.check.describe_lines("  ")])
        if self.quota is not None:
            quota = self.quota
            return (
                f"{self.band} (quota): {format_value(quota.quota_pct)}% of {quota.eligible}"
                f" eligible = {quota.allowed} may stay {EXCELLENT};"
                f" rank {quota.rank} ≤ {quota.allowed}: {_yes_no(quota.within)}"
            )
        return f"{self.band} (otherwise): {_yes_no(self.held)}"

    def to_dict(self) -> dict[str, object]:
        data: dict[str, object] = {"band": self.band, "kind": self.kind, "held": self.held}
        if self.check is not None:
            data.update(self.check.to_dict())
            data["held"] = self.held
        if self.quota is not None:
            data.update(
                quota_pct=json_number(self.quota.quota_pct),
                eligible=self.quota.eligible,
                allowed=self.quota.allowed,
                rank=self.quota.rank,
                within_quota=self.quota.within,
            )
        return data


_SORTED_JSON = json.JSONEncoder(sort_keys=True, ensure_ascii=False, default=str)


def reason_json(reason: Reason) -> str:
    """``json.dumps(reason.to_dict(), sort_keys=True, ensure_ascii=False, default=str)``.

    The text of a ``conditions`` reason depends only on its band and its check, which the
    engine shares between officers (see ``_compile``): it is encoded once per band and check.
    """
    check = reason.check
    if check is None or reason.quota is not None or reason.held is not check.held:
        return _SORTED_JSON.encode(reason.to_dict())
    texts: dict[tuple[str, str], str] | None = check.__dict__.get("_json")
    if texts is None:
        texts = {}
        object.__setattr__(check, "_json", texts)
    key = (reason.band, reason.kind)
    text = texts.get(key)
    if text is None:
        text = texts[key] = _SORTED_JSON.encode(reason.to_dict())
    return text


@dataclass(frozen=True)
class OfficerResult:
    """The band of one officer for one month, with its metrics, flags and reasons.

    ``reasons`` hold, in evaluation order, every better band the officer missed and then the
    band given (plus a ``quota`` entry when the quota applied).
    """

    code: str
    group: str
    band: str
    metrics: Metrics
    flags: tuple[str, ...]
    reasons: tuple[Reason, ...]
    ruleset_id: str
    ruleset_version: int
    params: Params

    def to_dict(self) -> dict[str, object]:
        """JSON-friendly mapping (percentages as one-decimal numbers, undefined as None)."""
        return {
            "code": self.code,
            "group": self.group,
            "band": self.band,
            "metrics": self.metrics.to_dict(),
            "flags": list(self.flags),
            "reasons": [reason.to_dict() for reason in self.reasons],
            "ruleset": {"id": self.ruleset_id, "version": self.ruleset_version},
            "params": self.params.to_dict(),
        }

    def describe(self) -> str:
        """Plain-text explanation: band, flags, then every reason."""
        flags = f" [{', '.join(self.flags)}]" if self.flags else ""
        lines = [f"{self.code} ({self.group}): {self.band}{flags}"]
        lines.extend(reason.describe() for reason in self.reasons)
        lines.append(f"rule set {self.ruleset_id} v{self.ruleset_version}")
        return "\n".join(lines)


def _check(condition: Comparison | Group, metrics: Metrics, params: Params) -> Check:
    if isinstance(condition, Group):
        # Every member is evaluated so the explanation shows all of them, not just the first.
        checks = tuple(_check(member, metrics, params) for member in condition.conditions)
        combine = all if condition.mode == "all" else any
        return GroupCheck(condition.mode, combine(check.held for check in checks), checks)
    value = metrics.value(condition.metric)
    threshold = condition.threshold(params)
    held = value is not None and bool(_COMPARE[condition.op](value, threshold))
    return ComparisonCheck(condition.metric, condition.op, value, threshold, condition.param, held)


def _flags(metrics: Metrics, params: Params) -> tuple[str, ...]:
    flags: list[str] = []
    if metrics.forms < params.min_forms:
        flags.append("insufficient_forms")
        if metrics.dossiers == 0:
            flags.append("no_data")
    if metrics.misconduct_pending > 0:
        flags.append("pending_reports")
    return tuple(flags)


def _better(band: str, than: str) -> bool:
    return BAND_CODES.index(band) < BAND_CODES.index(than)


def _effective_params(ruleset: RuleSet, params: Mapping[str, object] | None) -> Params:
    return ruleset.params.with_overrides(params)


CheckFunction = Callable[[Metrics], Check]


def _compile(condition: Comparison | Group, params: Params) -> CheckFunction:
    """Turn a condition into a function of the metrics giving the same check as :func:`_check`.

    Each comparison resolves its metric, operator and threshold once, and memoises its checks by
    metric value: a check depends on nothing else, and officers share few distinct values. A
    group memoises by the identity of its members' (memoised, so long-lived) checks. Checks are
    frozen, so sharing them between results changes no output.
    """
    if isinstance(condition, Group):
        members = tuple(_compile(member, params) for member in condition.conditions)
        mode = condition.mode
        combine = all if mode == "all" else any
        groups: dict[tuple[int, ...], GroupCheck] = {}

        def group(metrics: Metrics) -> Check:
            checks = tuple([member(metrics) for member in members])
            key = tuple(map(id, checks))
            found = groups.get(key)
            if found is None:
                found = GroupCheck(mode, combine(check.held for check in checks), checks)
                groups[key] = found
            return found

        return group
    metric, op, param = condition.metric, condition.op, condition.param
    compare = _COMPARE.get(op)
    try:
        threshold = condition.threshold(params)
    except (KeyError, AssertionError):
        threshold = None
    if metric not in METRIC_NAMES or compare is None or threshold is None:
        # Not from a loaded file: evaluate it the plain way, raising where that raises.
        return lambda metrics: _check(condition, metrics, params)
    comparisons: dict[tuple[type, MetricValue], ComparisonCheck] = {}

    def comparison(metrics: Metrics) -> Check:
        value: MetricValue = getattr(metrics, metric)
        # The type is part of the key: True == 1 == Decimal(1), yet they print differently.
        # Percentages always carry exactly one decimal (ratio_tenth), so equal means same text.
        key = (value.__class__, value)
        found = comparisons.get(key)
        if found is None:
            held = value is not None and bool(compare(value, threshold))
            found = ComparisonCheck(metric, op, value, threshold, param, held)
            comparisons[key] = found
        return found

    return comparison


_Compiled = tuple[tuple[str, CheckFunction | None], ...]


def _compiled(ruleset: RuleSet, params: Params) -> _Compiled:
    """The rule set's bands compiled for ``params``, kept on the (immutable) rule set object.

    Keyed by the rule set object itself, not by equality: two equal rule sets may spell a
    threshold differently (95 and 95.0 are equal Decimals) and must explain it as written.
    """
    cache: dict[Params, _Compiled] | None = ruleset.__dict__.get("_compiled")
    if cache is None:
        cache = {}
        object.__setattr__(ruleset, "_compiled", cache)
    compiled = cache.get(params)
    if compiled is None:
        compiled = tuple(
            (band.code, None if band.condition is None else _compile(band.condition, params))
            for band in ruleset.bands
        )
        cache[params] = compiled
    return compiled


def _evaluate(facts: OfficerFacts, ruleset: RuleSet, params: Params) -> OfficerResult:
    metrics = compute_metrics(facts)
    evaluated: list[Reason] = []
    for code, compiled in _compiled(ruleset, params):
        if compiled is None:
            evaluated.append(Reason(code, "otherwise", True))
            break
        check = compiled(metrics)
        assert isinstance(check, GroupCheck)
        evaluated.append(Reason(code, "conditions", check.held, check=check))
        if check.held:
            break
    decided = evaluated[-1].band
    reasons = tuple(
        reason for reason in evaluated if reason.band == decided or _better(reason.band, decided)
    )
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


def evaluate_officer(
    facts: OfficerFacts, ruleset: RuleSet, params: Mapping[str, object] | None = None
) -> OfficerResult:
    """Band one officer by the rule set alone (no quota: that needs the whole unit)."""
    return _evaluate(facts, ruleset, _effective_params(ruleset, params))


def _rank_key(result: OfficerResult) -> tuple[object, ...]:
    metrics = result.metrics
    # Descending on numbers by negating them; an undefined percentage sorts after any number.
    satisfied = metrics.satisfied_pct
    on_time = metrics.on_time_pct
    return (
        satisfied is None,
        -(satisfied or 0),
        -metrics.forms,
        on_time is None,
        -(on_time or 0),
        metrics.dissatisfied,
        result.code,
    )


def _apply_quota(results: list[OfficerResult], quota_pct: Decimal) -> list[OfficerResult]:
    updated = list(results)
    for group in GROUPS:
        members = [index for index, result in enumerate(results) if result.group == group]
        eligible = [index for index in members if results[index].band in (GOOD, EXCELLENT)]
        excellent = [index for index in eligible if results[index].band == EXCELLENT]
        if not excellent:
            continue
        # Exact arithmetic: floor(q × N / 100) must not depend on binary float rounding.
        allowed = math.floor(Fraction(quota_pct) * len(eligible) / 100)
        ranked = sorted(excellent, key=lambda index: _rank_key(results[index]))
        for rank, index in enumerate(ranked, start=1):
            quota = QuotaCheck(quota_pct, len(eligible), allowed, rank)
            result = results[index]
            band = EXCELLENT if quota.within else GOOD
            reason = Reason(band, "quota", True, quota=quota)
            updated[index] = replace(result, band=band, reasons=(*result.reasons, reason))
    return updated


def evaluate_unit(
    facts: Sequence[OfficerFacts], ruleset: RuleSet, params: Mapping[str, object] | None = None
) -> list[OfficerResult]:
    """Band every officer of one unit for one month, quota applied per staff group.

    Results come in input order. ``params`` overrides the rule set's parameters. Raises
    ValueError when an officer code appears twice in one group, and RuleSetError on a bad
    override.
    """
    effective = _effective_params(ruleset, params)
    seen: set[tuple[str, str]] = set()
    for item in facts:
        key = (item.group, item.code)
        if key in seen:
            raise ValueError(f"officer '{item.code}' appears twice in group '{item.group}'")
        seen.add(key)
    results = [_evaluate(item, ruleset, effective) for item in facts]
    if effective.excellent_quota_pct is not None:
        results = _apply_quota(results, effective.excellent_quota_pct)
    return results
