"""Rule sets as data: load, validate and pick the one in effect.

A rule set is a TOML file (see ``rulesets/reference-1.toml`` for the commented default)::

    id = "reference"                # [a-z0-9_-]+
    version = 1                     # positive integer; (id, version) is unique
    effective_from = 2024-01-01     # TOML date: in effect from this day on
    title = "..."
    description = "..."             # optional

    [params]
    min_forms = 10                  # required, integer >= 0
    # excellent_quota_pct = 20      # optional, number 0..100; absent = no quota

    [[bands]]                       # in evaluation order: the first that holds decides
    code = "khong_hoan_thanh"
    any = [                         # or all = [...]
      { metric = "violations", op = ">=", value = 3 },
      { all = [ { metric = "forms", op = ">=", param = "min_forms" },
                { metric = "satisfied_pct", op = "<", value = 50.0 } ] },
    ]
    ...
    [[bands]]
    code = "hoan_thanh"
    otherwise = true                # the last band, and only it, is the catch-all

A condition is either a comparison ``{metric, op, value | param}`` or a nested group ``{all}`` /
``{any}``. A comparison on an undefined metric (a percentage whose denominator is zero) is false,
so the file spells out every guard the rules need (``forms = 0 or dissatisfied_pct <= 5.0``).
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TypeGuard

from rating.metrics import BOOLEAN_METRICS, METRIC_NAMES, json_number

#: Band codes, best first.
BAND_CODES: tuple[str, ...] = (
    "hoan_thanh_xuat_sac",
    "hoan_thanh_tot",
    "hoan_thanh",
    "khong_hoan_thanh",
)
#: Operators as written in a rule set file → the symbol used in explanations.
OPERATORS: dict[str, str] = {">=": "≥", ">": ">", "<=": "≤", "<": "<", "==": "=", "!=": "≠"}
#: Parameters a rule set may set.
PARAM_NAMES: tuple[str, ...] = ("min_forms", "excellent_quota_pct")
#: Parameters a condition may use as its threshold (those that always have a value).
THRESHOLD_PARAMS: tuple[str, ...] = ("min_forms",)

_ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]*")
_TOP_LEVEL_KEYS = ("id", "version", "effective_from", "title", "description", "params", "bands")


class RuleSetError(ValueError):
    """A rule set file or a parameter override is invalid.

    The message names the file (when there is one) and the field, e.g.
    ``reference-1.toml: bands[2].all[1].metric: unknown metric 'satisfied_pc'``.
    """

    def __init__(self, file: str | None, field: str, message: str) -> None:
        prefix = f"{file}: " if file else ""
        super().__init__(f"{prefix}{field}: {message}")
        self.file = file
        self.field = field
        self.message = message


Threshold = Decimal | bool


@dataclass(frozen=True)
class Comparison:
    """``metric op threshold``; the threshold is a literal ``value`` or a ``param`` name."""

    metric: str
    op: str
    value: Threshold | None = None
    param: str | None = None

    def threshold(self, params: Params) -> Threshold:
        """Return the threshold, looking up the parameter when the condition names one."""
        if self.param is not None:
            return params.threshold(self.param)
        assert self.value is not None  # guaranteed by the loader
        return self.value


@dataclass(frozen=True)
class Group:
    """``all`` (every condition holds) or ``any`` (at least one holds)."""

    mode: str
    conditions: tuple[Condition, ...]


Condition = Comparison | Group


@dataclass(frozen=True)
class Band:
    """One band of a rule set; ``condition`` is None for the catch-all ``otherwise`` band."""

    code: str
    condition: Group | None


@dataclass(frozen=True)
class Params:
    """The parameters of a rule set (after any overrides)."""

    min_forms: int
    excellent_quota_pct: Decimal | None = None

    def with_overrides(self, overrides: Mapping[str, object] | None) -> Params:
        """Return a copy with ``overrides`` applied; a bad override raises RuleSetError."""
        if not overrides:
            return self
        values: dict[str, object] = {
            "min_forms": self.min_forms,
            "excellent_quota_pct": self.excellent_quota_pct,
        }
        values.update(overrides)
        return parse_params(values, None, "params")

    def threshold(self, name: str) -> Decimal:
        """Return parameter ``name`` (one of THRESHOLD_PARAMS) as a comparison threshold."""
        if name == "min_forms":
            return Decimal(self.min_forms)
        raise KeyError(name)

    def to_dict(self) -> dict[str, int | float | None]:
        """JSON-friendly mapping."""
        quota = self.excellent_quota_pct
        return {
            "min_forms": self.min_forms,
            "excellent_quota_pct": None if quota is None else json_number(quota),
        }


@dataclass(frozen=True)
class RuleSet:
    """A versioned rule set: parameters and bands in evaluation order."""

    id: str
    version: int
    effective_from: date
    title: str
    params: Params
    bands: tuple[Band, ...]
    description: str = ""
    source: str = ""


def default_rulesets_dir() -> Path:
    """Directory of the rule sets shipped with the package."""
    return Path(__file__).resolve().parent / "rulesets"


def load_ruleset(path: str | Path) -> RuleSet:
    """Load and validate one rule set file; a bad file raises RuleSetError."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except tomllib.TOMLDecodeError as error:
        raise RuleSetError(path.name, "(file)", f"invalid TOML: {error}") from error
    except OSError as error:
        raise RuleSetError(path.name, "(file)", f"cannot read: {error.strerror}") from error
    return parse_ruleset(data, path.name)


def available_rulesets(directory: str | Path | None = None) -> list[RuleSet]:
    """Load every ``*.toml`` rule set of ``directory`` (default: the shipped ones).

    Sorted by id then version. Two files with the same id and version raise RuleSetError.
    """
    folder = Path(directory) if directory is not None else default_rulesets_dir()
    rulesets: list[RuleSet] = []
    seen: dict[tuple[str, int], str] = {}
    for path in sorted(folder.glob("*.toml")):
        ruleset = load_ruleset(path)
        key = (ruleset.id, ruleset.version)
        if key in seen:
            raise RuleSetError(
                path.name,
                "version",
                f"{ruleset.id} version {ruleset.version} is also in {seen[key]}",
            )
        seen[key] = path.name
        rulesets.append(ruleset)
    return sorted(rulesets, key=lambda item: (item.id, item.version))


def ruleset_for_month(
    rulesets: Iterable[RuleSet], month: date, ruleset_id: str | None = None
) -> RuleSet:
    """Return the rule set in effect on the first day of ``month``.

    That is the one with the greatest ``effective_from`` on or before that day, among those with
    ``ruleset_id`` (or among all when it is None). Raises RuleSetError when none is in effect or
    when two rule sets take effect on the same day (an ambiguous configuration).
    """
    first_day = date(month.year, month.month, 1)
    candidates = [
        ruleset
        for ruleset in rulesets
        if ruleset.effective_from <= first_day and ruleset_id in (None, ruleset.id)
    ]
    if not candidates:
        label = f"rule set '{ruleset_id}'" if ruleset_id else "rule set"
        raise RuleSetError(None, "ruleset", f"no {label} in effect on {first_day.isoformat()}")
    latest = max(ruleset.effective_from for ruleset in candidates)
    in_effect = [ruleset for ruleset in candidates if ruleset.effective_from == latest]
    if len(in_effect) > 1:
        names = ", ".join(f"{item.id} v{item.version}" for item in in_effect)
        raise RuleSetError(None, "effective_from", f"{names} all take effect on {latest}")
    return in_effect[0]


def find_ruleset(
    rulesets: Iterable[RuleSet], ruleset_id: str, version: int | None = None
) -> RuleSet:
    """Return rule set ``ruleset_id`` at ``version`` (default: its latest version)."""
    matching = [ruleset for ruleset in rulesets if ruleset.id == ruleset_id]
    if not matching:
        raise RuleSetError(None, "ruleset", f"unknown rule set '{ruleset_id}'")
    if version is None:
        return max(matching, key=lambda item: item.version)
    for ruleset in matching:
        if ruleset.version == version:
            return ruleset
    raise RuleSetError(None, "version", f"rule set '{ruleset_id}' has no version {version}")


# --- validation -------------------------------------------------------------------------------


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _number(value: object) -> Decimal | None:
    """Return an int or finite float as an exact Decimal of what was written, else None."""
    if _is_int(value):
        return Decimal(value)
    if isinstance(value, float) and math.isfinite(value):
        # repr gives the shortest text that reads back as this float: what the author wrote.
        return Decimal(repr(value))
    return None


def parse_params(data: object, file: str | None, field: str) -> Params:
    """Validate a ``params`` table (from a file, or merged overrides)."""
    if not isinstance(data, Mapping):
        raise RuleSetError(file, field, "must be a table")
    for key in data:
        if key not in PARAM_NAMES:
            known = ", ".join(PARAM_NAMES)
            raise RuleSetError(file, f"{field}.{key}", f"unknown parameter (known: {known})")
    if "min_forms" not in data:
        raise RuleSetError(file, f"{field}.min_forms", "missing")
    min_forms = data["min_forms"]
    if not _is_int(min_forms) or min_forms < 0:
        raise RuleSetError(file, f"{field}.min_forms", "must be a non-negative integer")
    quota: Decimal | None = None
    # TOML has no null, so None means "absent"; a JSON override may use null to switch it off.
    raw_quota = data.get("excellent_quota_pct")
    if raw_quota is not None:
        quota = _number(raw_quota)
        if quota is None or not 0 <= quota <= 100:
            raise RuleSetError(
                file, f"{field}.excellent_quota_pct", "must be a number from 0 to 100"
            )
    return Params(min_forms=min_forms, excellent_quota_pct=quota)


class _Parser:
    """Walks the TOML document, naming the file and the field in every error."""

    def __init__(self, file: str) -> None:
        self.file = file

    def fail(self, field: str, message: str) -> RuleSetError:
        return RuleSetError(self.file, field, message)

    def ruleset(self, data: Mapping[str, object]) -> RuleSet:
        for key in data:
            if key not in _TOP_LEVEL_KEYS:
                raise self.fail(key, "unknown field")
        for key in ("id", "version", "effective_from", "title", "params", "bands"):
            if key not in data:
                raise self.fail(key, "missing")
        ruleset_id = data["id"]
        if not isinstance(ruleset_id, str) or not _ID_PATTERN.fullmatch(ruleset_id):
            raise self.fail("id", "must be a string of a-z, 0-9, '_' or '-'")
        version = data["version"]
        if not _is_int(version) or version < 1:
            raise self.fail("version", "must be a positive integer")
        effective_from = data["effective_from"]
        if isinstance(effective_from, datetime) or not isinstance(effective_from, date):
            raise self.fail("effective_from", "must be a TOML date such as 2025-01-01")
        title = data["title"]
        if not isinstance(title, str) or not title.strip():
            raise self.fail("title", "must be a non-empty string")
        description = data.get("description", "")
        if not isinstance(description, str):
            raise self.fail("description", "must be a string")
        params = parse_params(data["params"], self.file, "params")
        bands = self.bands(data["bands"])
        return RuleSet(
            id=ruleset_id,
            version=version,
            effective_from=effective_from,
            title=title,
            params=params,
            bands=bands,
            description=description,
            source=self.file,
        )

    def bands(self, data: object) -> tuple[Band, ...]:
        if not isinstance(data, list) or not data:
            raise self.fail("bands", "must be a non-empty array of tables ([[bands]])")
        bands: list[Band] = []
        for index, item in enumerate(data):
            field = f"bands[{index}]"
            is_last = index == len(data) - 1
            bands.append(self.band(item, field, is_last))
        codes = [band.code for band in bands]
        for index, code in enumerate(codes):
            if code in codes[:index]:
                raise self.fail(f"bands[{index}].code", f"band '{code}' appears twice")
        missing = [code for code in BAND_CODES if code not in codes]
        if missing:
            raise self.fail("bands", f"missing band(s): {', '.join(missing)}")
        return tuple(bands)

    def band(self, data: object, field: str, is_last: bool) -> Band:
        if not isinstance(data, Mapping):
            raise self.fail(field, "must be a table")
        for key in data:
            if key not in ("code", "all", "any", "otherwise"):
                raise self.fail(f"{field}.{key}", "unknown field")
        code = data.get("code")
        if code is None:
            raise self.fail(f"{field}.code", "missing")
        if code not in BAND_CODES:
            raise self.fail(f"{field}.code", f"unknown band {_quote(code)}")
        assert isinstance(code, str)
        modes = [key for key in ("all", "any", "otherwise") if key in data]
        if len(modes) != 1:
            raise self.fail(field, "needs exactly one of 'all', 'any' or 'otherwise'")
        if modes[0] == "otherwise":
            if data["otherwise"] is not True:
                raise self.fail(f"{field}.otherwise", "must be true")
            if not is_last:
                raise self.fail(f"{field}.otherwise", "only the last band may be 'otherwise'")
            return Band(code=code, condition=None)
        if is_last:
            raise self.fail(field, "the last band must be the catch-all 'otherwise = true'")
        return Band(code=code, condition=self.group(modes[0], data[modes[0]], field))

    def group(self, mode: str, data: object, field: str) -> Group:
        field = f"{field}.{mode}"
        if not isinstance(data, list) or not data:
            raise self.fail(field, "must be a non-empty array of conditions")
        conditions = tuple(
            self.condition(item, f"{field}[{index}]") for index, item in enumerate(data)
        )
        return Group(mode=mode, conditions=conditions)

    def condition(self, data: object, field: str) -> Condition:
        if not isinstance(data, Mapping):
            raise self.fail(field, "must be a table")
        if "all" in data or "any" in data:
            for key in data:
                if key not in ("all", "any"):
                    raise self.fail(f"{field}.{key}", "unknown field in a group")
            if len(data) != 1:
                raise self.fail(field, "a group has either 'all' or 'any', not both")
            mode = "all" if "all" in data else "any"
            return self.group(mode, data[mode], field)
        return self.comparison(data, field)

    def comparison(self, data: Mapping[str, object], field: str) -> Comparison:
        for key in data:
            if key not in ("metric", "op", "value", "param"):
                raise self.fail(f"{field}.{key}", "unknown field")
        metric = data.get("metric")
        if metric is None:
            raise self.fail(f"{field}.metric", "missing")
        if metric not in METRIC_NAMES:
            raise self.fail(f"{field}.metric", f"unknown metric {_quote(metric)}")
        assert isinstance(metric, str)
        op = data.get("op")
        if op is None:
            raise self.fail(f"{field}.op", "missing")
        if op not in OPERATORS:
            known = " ".join(OPERATORS)
            raise self.fail(f"{field}.op", f"unknown operator {_quote(op)} (known: {known})")
        assert isinstance(op, str)
        if ("value" in data) == ("param" in data):
            raise self.fail(field, "needs exactly one of 'value' or 'param'")
        if metric in BOOLEAN_METRICS:
            if op not in ("==", "!="):
                raise self.fail(f"{field}.op", f"'{metric}' is yes/no: use == or !=")
            if "param" in data:
                raise self.fail(f"{field}.param", f"'{metric}' is compared with true or false")
            if not isinstance(data["value"], bool):
                raise self.fail(f"{field}.value", "must be true or false")
            return Comparison(metric=metric, op=op, value=data["value"])
        if "param" in data:
            param = data["param"]
            if param not in THRESHOLD_PARAMS:
                known = ", ".join(THRESHOLD_PARAMS)
                raise self.fail(f"{field}.param", f"unknown parameter {_quote(param)} ({known})")
            assert isinstance(param, str)
            return Comparison(metric=metric, op=op, param=param)
        value = _number(data["value"])
        if value is None:
            raise self.fail(f"{field}.value", "must be a number")
        return Comparison(metric=metric, op=op, value=value)


def _quote(value: object) -> str:
    return f"'{value}'" if isinstance(value, str) else repr(value)


def parse_ruleset(data: Mapping[str, object], file: str) -> RuleSet:
    """Validate an already-parsed TOML document; ``file`` is used in error messages."""
    return _Parser(file).ruleset(data)
