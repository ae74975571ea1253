"""Points of criterion 8.3 (citizens' satisfaction) from the answers to our forms.

The mapping of form questions to sub-criteria, their maxima and the points method are data:
``rating/index/satisfaction_8_3.toml`` (index.md, section 1). For each sub-criterion:

- percent = 100 × answers at level 4–5 ÷ answers at levels 1–5, one decimal, half up; with no
  answer at all it is None ("no data"), never 0;
- points, method ``linear`` = max × percent ÷ 100, two decimals, half up (from the rounded
  percent, the published figure); method ``banded`` = max × the share of the first cut point
  the percent reaches (0 below the last cut), two decimals, half up.

The 8.3 total is the sum over the sub-criteria with data; the others are listed as no data.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Final, Literal

from rating.index._numbers import (
    HUNDRED,
    ONE_DECIMAL,
    TWO_DECIMALS,
    as_points,
    exact_sum,
    percent,
    round_half_up,
    share_of,
)
from rating.index.tree import IndexTable

Method = Literal["linear", "banded"]

DEFAULT_CONFIG_PATH: Final = Path(__file__).with_name("satisfaction_8_3.toml")

_METHODS: Final = ("linear", "banded")
_QUESTION_PATTERN: Final = re.compile(r"[a-z0-9_]+\.[a-z0-9_]+")
_TOP_LEVEL_KEYS: Final = frozenset(
    {"id", "criterion", "table", "max", "method", "cuts", "sub_criteria"}
)
_SUB_KEYS: Final = frozenset({"code", "title", "max", "questions", "method", "cuts"})
_CUT_KEYS: Final = frozenset({"min", "share"})


class SatisfactionConfigError(ValueError):
    """A satisfaction mapping that cannot be used; ``path`` and ``field`` say where."""

    def __init__(self, path: Path | str, field: str | None, message: str) -> None:
        self.path = str(path)
        self.field = field
        self.problem = message
        where = f"{self.path}: {field}" if field else self.path
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class Cut:
    """A cut point of the banded method: from ``min`` percent, ``share`` of the max."""

    min: Decimal
    share: Decimal


@dataclass(frozen=True)
class SubCriterionRule:
    code: str
    title: str
    max: Decimal
    questions: tuple[str, ...]
    method: Method
    cuts: tuple[Cut, ...]

    @property
    def imported(self) -> bool:
        """True when no question of our forms feeds it: the figure comes from elsewhere."""
        return not self.questions


@dataclass(frozen=True)
class SatisfactionConfig:
    id: str
    criterion: str
    table: str
    max: Decimal
    sub_criteria: tuple[SubCriterionRule, ...]
    path: Path | None = None

    def rule(self, code: str) -> SubCriterionRule:
        for rule in self.sub_criteria:
            if rule.code == code:
                return rule
        raise KeyError(code)


@dataclass(frozen=True)
class AnswerCounts:
    """Answers at level 4–5 (``satisfied``) and at levels 1–5 (``answered``)."""

    satisfied: int = 0
    answered: int = 0


@dataclass(frozen=True)
class SubCriterionResult:
    code: str
    max: Decimal
    method: Method
    answered: int
    satisfied: int
    percent: Decimal | None
    points: Decimal | None
    imported: bool = False

    @property
    def has_data(self) -> bool:
        return self.percent is not None


@dataclass(frozen=True)
class SatisfactionResult:
    criterion: str
    sub_criteria: tuple[SubCriterionResult, ...]
    total_points: Decimal
    max_with_data: Decimal
    no_data: tuple[str, ...]


def load_satisfaction_config(path: Path | str | None = None) -> SatisfactionConfig:
    """Read and validate a mapping file (default: the shipped one)."""
    if path is None:
        return _default_config()
    return _read_config(Path(path))


@cache
def _default_config() -> SatisfactionConfig:
    return _read_config(DEFAULT_CONFIG_PATH)


def count_answers(
    responses: Iterable[tuple[str, Mapping[str, object]]],
    config: SatisfactionConfig | None = None,
) -> dict[str, AnswerCounts]:
    """Count, per sub-criterion, the answers of ``(form_id, answers)`` pairs.

    Only ints 1..5 count (4 and 5 as satisfied); ``khong_phan_anh``, a missing question or any
    other value does not. Every sub-criterion of the mapping is in the result, with zeros when
    nothing fed it.
    """
    config = config or load_satisfaction_config()
    feeds: dict[str, list[tuple[str, str]]] = {}
    for rule in config.sub_criteria:
        for question in rule.questions:
            form_id, _, question_id = question.partition(".")
            feeds.setdefault(form_id, []).append((rule.code, question_id))
    satisfied = {rule.code: 0 for rule in config.sub_criteria}
    answered = dict(satisfied)
    for form_id, answers in responses:
        for code, question_id in feeds.get(form_id, ()):
            value = answers.get(question_id)
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
                continue
            answered[code] += 1
            if value >= 4:
                satisfied[code] += 1
    return {code: AnswerCounts(satisfied[code], answered[code]) for code in answered}


def satisfaction_percent(counts: AnswerCounts) -> Decimal | None:
    """100 × satisfied ÷ answered, one decimal half up; None ("no data") when nothing answered."""
    _check_counts("counts", counts)
    if counts.answered == 0:
        return None
    return percent(Decimal(counts.satisfied), Decimal(counts.answered))


def points_for(rule: SubCriterionRule, percent_value: Decimal) -> Decimal:
    """Points of one sub-criterion for a percent, by the rule's method."""
    if rule.method == "linear":
        return share_of(rule.max, percent_value)
    for cut in rule.cuts:
        if percent_value >= cut.min:
            return round_half_up(rule.max * cut.share, TWO_DECIMALS)
    return round_half_up(Decimal(0), TWO_DECIMALS)


def satisfaction_points(
    counts: Mapping[str, AnswerCounts],
    config: SatisfactionConfig | None = None,
    imported_percents: Mapping[str, Decimal] | None = None,
) -> SatisfactionResult:
    """Points of every sub-criterion and the 8.3 total over those with data.

    ``imported_percents`` gives a published sub-index (percent) for sub-criteria that are not
    fed by our forms (8.3.1–8.3.4 from the province's survey); it may not be combined with
    counted answers for the same code.
    """
    config = config or load_satisfaction_config()
    imported_percents = imported_percents or {}
    known = {rule.code for rule in config.sub_criteria}
    for code in [*counts, *imported_percents]:
        if code not in known:
            raise ValueError(f"{code}: not a sub-criterion of {config.criterion}")
    results: list[SubCriterionResult] = []
    for rule in config.sub_criteria:
        given = counts.get(rule.code, AnswerCounts())
        _check_counts(rule.code, given)
        value = satisfaction_percent(given)
        imported = rule.code in imported_percents
        if imported:
            if given.answered:
                raise ValueError(f"{rule.code}: both counted answers and an imported percent")
            value = _checked_percent(rule.code, imported_percents[rule.code])
        results.append(
            SubCriterionResult(
                code=rule.code,
                max=rule.max,
                method=rule.method,
                answered=given.answered,
                satisfied=given.satisfied,
                percent=value,
                points=None if value is None else points_for(rule, value),
                imported=imported,
            )
        )
    with_data = [result for result in results if result.points is not None]
    return SatisfactionResult(
        criterion=config.criterion,
        sub_criteria=tuple(results),
        total_points=exact_sum([r.points for r in with_data if r.points is not None]),
        max_with_data=exact_sum([result.max for result in with_data]),
        no_data=tuple(result.code for result in results if result.points is None),
    )


def check_against_table(config: SatisfactionConfig, table: IndexTable) -> None:
    """Refuse a mapping whose codes or maxima differ from the children of its criterion."""
    where = config.path or "satisfaction config"
    if config.table != table.id:
        raise SatisfactionConfigError(where, "table", f"is {config.table}, not {table.id}")
    node = table.get(config.criterion)
    if node is None:
        raise SatisfactionConfigError(where, "criterion", f"{config.criterion} not in {table.id}")
    expected = {child.code: child.max for child in node.children}
    got = {rule.code: rule.max for rule in config.sub_criteria}
    if set(expected) != set(got):
        raise SatisfactionConfigError(
            where, "sub_criteria", f"codes {sorted(got)} differ from {table.id}: {sorted(expected)}"
        )
    for position, rule in enumerate(config.sub_criteria):
        if rule.max != expected[rule.code]:
            raise SatisfactionConfigError(
                where,
                f"sub_criteria[{position}] (code {rule.code}).max",
                f"{rule.max} differs from {table.id}: {expected[rule.code]}",
            )


def _check_counts(code: str, counts: AnswerCounts) -> None:
    for value in (counts.satisfied, counts.answered):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{code}: counts must be whole numbers >= 0, not {counts}")
    if counts.satisfied > counts.answered:
        raise ValueError(f"{code}: more satisfied answers than answers ({counts})")


def _checked_percent(code: str, value: object) -> Decimal:
    number = as_points(value) if isinstance(value, int | Decimal) else None
    if number is None or not 0 <= number <= HUNDRED:
        raise ValueError(f"{code}: imported percent must be a Decimal 0..100, not {value!r}")
    return round_half_up(number, ONE_DECIMAL)


def _read_config(path: Path) -> SatisfactionConfig:
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle, parse_float=Decimal)
    except OSError as error:
        raise SatisfactionConfigError(path, None, f"cannot read ({error.strerror})") from error
    except tomllib.TOMLDecodeError as error:
        raise SatisfactionConfigError(path, None, f"not valid TOML: {error}") from error
    return _ConfigReader(path, data).read()


class _ConfigReader:
    def __init__(self, path: Path, data: dict[str, object]) -> None:
        self.path = path
        self.data = data

    def error(self, field: str | None, message: str) -> SatisfactionConfigError:
        return SatisfactionConfigError(self.path, field, message)

    def read(self) -> SatisfactionConfig:
        self.refuse_unknown_keys(self.data, _TOP_LEVEL_KEYS, None)
        config_id = self.text(self.data, "id", None)
        criterion = self.text(self.data, "criterion", None)
        table = self.text(self.data, "table", None)
        total = self.points(self.data, "max", None)
        default_method = self.method(self.data, None, default="linear")
        default_cuts = self.cuts(self.data.get("cuts", []), "cuts")
        rules = self.sub_criteria(default_method, default_cuts)
        rules_sum = exact_sum([rule.max for rule in rules])
        if rules_sum != total:
            raise self.error("max", f"{total} declared, but the sub-criteria add up to {rules_sum}")
        return SatisfactionConfig(
            id=config_id,
            criterion=criterion,
            table=table,
            max=total,
            sub_criteria=rules,
            path=self.path,
        )

    def sub_criteria(
        self, default_method: Method, default_cuts: tuple[Cut, ...]
    ) -> tuple[SubCriterionRule, ...]:
        entries = self.data.get("sub_criteria")
        if not isinstance(entries, list) or not entries:
            raise self.error("sub_criteria", "missing: write at least one [[sub_criteria]] entry")
        rules: list[SubCriterionRule] = []
        for position, entry in enumerate(entries):
            where = f"sub_criteria[{position}]"
            if not isinstance(entry, dict):
                raise self.error(where, "must be a table of fields")
            code = self.text(entry, "code", where)
            where = f"sub_criteria[{position}] (code {code})"
            self.refuse_unknown_keys(entry, _SUB_KEYS, where)
            if any(rule.code == code for rule in rules):
                raise self.error(f"{where}.code", "duplicate code")
            method = self.method(entry, where, default=default_method)
            cuts = self.cuts(entry["cuts"], f"{where}.cuts") if "cuts" in entry else default_cuts
            if method == "banded" and not cuts:
                raise self.error(f"{where}.method", "banded needs cut points ([[cuts]] or cuts)")
            rules.append(
                SubCriterionRule(
                    code=code,
                    title=self.text(entry, "title", where),
                    max=self.points(entry, "max", where),
                    questions=self.questions(entry, where),
                    method=method,
                    cuts=cuts,
                )
            )
        return tuple(rules)

    def questions(self, entry: Mapping[str, object], where: str) -> tuple[str, ...]:
        field = f"{where}.questions"
        value = entry.get("questions")
        if not isinstance(value, list):
            raise self.error(field, 'missing: a list like ["phieu1.overall"], or [] if imported')
        seen: list[str] = []
        for question in value:
            if not isinstance(question, str) or not _QUESTION_PATTERN.fullmatch(question):
                raise self.error(
                    field, f'{question!r} is not "form.question" (e.g. phieu1.overall)'
                )
            if question in seen:
                raise self.error(field, f"{question} listed twice")
            seen.append(question)
        return tuple(seen)

    def cuts(self, value: object, field: str) -> tuple[Cut, ...]:
        if not isinstance(value, list):
            raise self.error(field, "must be a list of { min = ..., share = ... }")
        cuts: list[Cut] = []
        for position, entry in enumerate(value):
            where = f"{field}[{position}]"
            if not isinstance(entry, dict):
                raise self.error(where, "must be { min = ..., share = ... }")
            self.refuse_unknown_keys(entry, _CUT_KEYS, where)
            minimum = as_points(entry.get("min"))
            if minimum is None or not 0 <= minimum <= HUNDRED:
                raise self.error(
                    f"{where}.min", f"must be a percent 0..100, not {entry.get('min')!r}"
                )
            share = as_points(entry.get("share"))
            if share is None or not 0 <= share <= 1:
                raise self.error(f"{where}.share", f"must be 0..1, not {entry.get('share')!r}")
            if cuts and minimum >= cuts[-1].min:
                raise self.error(
                    f"{where}.min", "cut points must be listed best first, minima falling"
                )
            cuts.append(Cut(min=minimum, share=share))
        return tuple(cuts)

    def method(self, entry: Mapping[str, object], where: str | None, default: Method) -> Method:
        value = entry.get("method", default)
        if value == "linear":
            return "linear"
        if value == "banded":
            return "banded"
        field = f"{where}.method" if where else "method"
        raise self.error(field, f"must be one of {', '.join(_METHODS)}, not {value!r}")

    def refuse_unknown_keys(
        self, entry: Mapping[str, object], allowed: frozenset[str], where: str | None
    ) -> None:
        for key in entry:
            if key not in allowed:
                field = f"{where}.{key}" if where else key
                raise self.error(field, f"unknown field (allowed: {', '.join(sorted(allowed))})")

    def text(self, entry: Mapping[str, object], key: str, where: str | None) -> str:
        field = f"{where}.{key}" if where else key
        value = entry.get(key)
        if not isinstance(value, str) or not value.strip():
            raise self.error(field, f"missing or not text: {value!r}")
        return value.strip()

    def points(self, entry: Mapping[str, object], key: str, where: str | None) -> Decimal:
        field = f"{where}.{key}" if where else key
        if key not in entry:
            raise self.error(field, "missing")
        value = as_points(entry[key])
        if value is None or value <= 0:
            raise self.error(field, f"not a positive number: {entry[key]!r} (write e.g. 1.25)")
        return value
