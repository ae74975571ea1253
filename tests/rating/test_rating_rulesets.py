"""Rule sets as data: the shipped default, the loader's errors, and which rule set is in effect.

Bad files are made from the shipped ``reference-1.toml``: parsed, changed in one place, written
back to a temporary file. Every error names the file and the field.
"""

from __future__ import annotations

import copy
import json
import tomllib
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from rating import RuleSet, RuleSetError, available_rulesets, default_rulesets_dir, load_ruleset
from rating.ruleset import BAND_CODES, Comparison, Group, find_ruleset, ruleset_for_month

REFERENCE = default_rulesets_dir() / "reference-1.toml"


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a valid TOML basic string
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{key} = {toml_value(item)}" for key, item in value.items()) + " }"
    raise TypeError(value)


def to_toml(document: dict[str, Any]) -> str:
    """Just enough TOML writing for rule set documents (the standard library only reads TOML)."""
    lines = [
        f"{key} = {toml_value(value)}"
        for key, value in document.items()
        if key not in ("params", "bands")
    ]
    if "params" in document:
        params = document["params"]
        if isinstance(params, dict):
            lines.append("[params]")
            lines.extend(f"{key} = {toml_value(value)}" for key, value in params.items())
        else:
            lines.insert(0, f"params = {toml_value(params)}")
    for band in document.get("bands", []):
        lines.append("[[bands]]")
        lines.extend(f"{key} = {toml_value(value)}" for key, value in band.items())
    return "\n".join(lines) + "\n"


def reference_document() -> dict[str, Any]:
    return tomllib.loads(REFERENCE.read_text(encoding="utf-8"))


def write(directory: Path, name: str, document: dict[str, Any]) -> Path:
    path = directory / name
    path.write_text(to_toml(document), encoding="utf-8")
    return path


def test_shipped_reference_matches_rating_rules_md() -> None:
    ruleset = load_ruleset(REFERENCE)
    assert (ruleset.id, ruleset.version, ruleset.source) == ("reference", 1, "reference-1.toml")
    assert ruleset.params.min_forms == 10
    assert ruleset.params.excellent_quota_pct is None
    assert [band.code for band in ruleset.bands] == [
        "khong_hoan_thanh",
        "hoan_thanh_xuat_sac",
        "hoan_thanh_tot",
        "hoan_thanh",
    ]
    xs = ruleset.bands[1].condition
    assert xs == Group(
        "all",
        (
            Comparison("forms", ">=", param="min_forms"),
            Comparison("satisfied_pct", ">=", Decimal("95.0")),
            Comparison("dissatisfied", "==", Decimal(0)),
            Comparison("late", "==", Decimal(0)),
            Comparison("violations", "==", Decimal(0)),
            Comparison("misconduct_pending", "==", Decimal(0)),
        ),
    )
    assert ruleset.bands[-1].condition is None  # the catch-all


def test_the_test_writer_round_trips_the_reference(tmp_path: Path) -> None:
    written = load_ruleset(write(tmp_path, "reference-1.toml", reference_document()))
    assert written == load_ruleset(REFERENCE)


Change = Callable[[dict[str, Any]], None]


def set_at(path: str, value: Any) -> Change:
    """A change that sets ``document[path]``; path like ``bands.1.all.1.metric``."""

    def change(document: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = document
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value

    return change


def delete_at(path: str) -> Change:
    def change(document: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = document
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        del node[int(last) if isinstance(node, list) else last]

    return change


GUARD = {"metric": "forms", "op": ">=", "param": "min_forms"}


# One row per kind of bad file: the message names the file and the field.
@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            set_at("bands.1.all.1.metric", "satisfied_pc"),
            "bands[1].all[1].metric: unknown metric 'satisfied_pc'",
        ),
        (delete_at("bands.1.all.1.metric"), "bands[1].all[1].metric: missing"),
        (
            set_at("bands.1.all.1.op", "=>"),
            "bands[1].all[1].op: unknown operator '=>' (known: >= > <= < == !=)",
        ),
        (delete_at("bands.1.all.2.op"), "bands[1].all[2].op: missing"),
        (set_at("bands.1.all.1.value", "95"), "bands[1].all[1].value: must be a number"),
        (set_at("bands.1.all.1.value", True), "bands[1].all[1].value: must be a number"),
        (set_at("bands.0.any.1.value", 1), "bands[0].any[1].value: must be true or false"),
        (
            set_at("bands.0.any.1.op", ">="),
            "bands[0].any[1].op: 'disciplined' is yes/no: use == or !=",
        ),
        (
            set_at("bands.0.any.3.all.0.param", "min_form"),
            "bands[0].any[3].all[0].param: unknown parameter 'min_form' (min_forms)",
        ),
        (
            set_at("bands.1.all.0", {**GUARD, "value": 10}),
            "bands[1].all[0]: needs exactly one of 'value' or 'param'",
        ),
        (
            set_at("bands.1.all.1.threshold", 95.0),
            "bands[1].all[1].threshold: unknown field",
        ),
        (
            set_at("bands.2.all.0", {"all": [GUARD], "any": [GUARD]}),
            "bands[2].all[0]: a group has either 'all' or 'any', not both",
        ),
        (set_at("bands.1.all", []), "bands[1].all: must be a non-empty array of conditions"),
        (
            set_at("bands.1.any", [GUARD]),
            "bands[1]: needs exactly one of 'all', 'any' or 'otherwise'",
        ),
        (set_at("bands.3.code", "xuat_sac"), "bands[3].code: unknown band 'xuat_sac'"),
        (
            set_at("bands.2.code", "hoan_thanh_xuat_sac"),
            "bands[2].code: band 'hoan_thanh_xuat_sac' appears twice",
        ),
        (delete_at("bands.2"), "bands: missing band(s): hoan_thanh_tot"),
        (
            set_at("bands.3", {"code": "hoan_thanh", "all": [GUARD]}),
            "bands[3]: the last band must be the catch-all 'otherwise = true'",
        ),
        (
            set_at("bands.0", {"code": "khong_hoan_thanh", "otherwise": True}),
            "bands[0].otherwise: only the last band may be 'otherwise'",
        ),
        (set_at("bands.3.otherwise", False), "bands[3].otherwise: must be true"),
        (delete_at("bands"), "bands: missing"),
        (set_at("params.min_forms", -1), "params.min_forms: must be a non-negative integer"),
        (set_at("params.min_forms", 9.5), "params.min_forms: must be a non-negative integer"),
        (delete_at("params.min_forms"), "params.min_forms: missing"),
        (
            set_at("params.excellent_quota_pct", 120),
            "params.excellent_quota_pct: must be a number from 0 to 100",
        ),
        (
            set_at("params.min_form", 10),
            "params.min_form: unknown parameter (known: min_forms, excellent_quota_pct)",
        ),
        (set_at("params", 10), "params: must be a table"),
        (delete_at("version"), "version: missing"),
        (set_at("version", 0), "version: must be a positive integer"),
        (
            set_at("effective_from", "2025-01-01"),
            "effective_from: must be a TOML date such as 2025-01-01",
        ),
        (set_at("id", "Reference 1"), "id: must be a string of a-z, 0-9, '_' or '-'"),
        (set_at("title", ""), "title: must be a non-empty string"),
        (set_at("thresholds", 1), "thresholds: unknown field"),
    ],
)
def test_bad_file_names_file_and_field(tmp_path: Path, change: Change, message: str) -> None:
    document = copy.deepcopy(reference_document())
    change(document)
    path = write(tmp_path, "bad-1.toml", document)
    with pytest.raises(RuleSetError) as caught:
        load_ruleset(path)
    assert str(caught.value) == f"bad-1.toml: {message}"
    assert caught.value.file == "bad-1.toml"


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken-1.toml"
    path.write_text('id = "broken"\nversion = \n', encoding="utf-8")
    with pytest.raises(RuleSetError, match=r"^broken-1\.toml: \(file\): invalid TOML: .*line 2"):
        load_ruleset(path)


def test_missing_file_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(RuleSetError, match=r"^absent-1\.toml: \(file\): cannot read"):
        load_ruleset(tmp_path / "absent-1.toml")


# --- registry -----------------------------------------------------------------------------------


def province_dir(directory: Path, versions: list[tuple[str, int, date]]) -> Path:
    for ruleset_id, version, effective in versions:
        document = reference_document()
        document.update(id=ruleset_id, version=version, effective_from=effective)
        write(directory, f"{ruleset_id}-{version}.toml", document)
    return directory


@pytest.fixture
def rulesets(tmp_path: Path) -> list[RuleSet]:
    return available_rulesets(
        province_dir(
            tmp_path,
            [
                ("reference", 1, date(2024, 1, 1)),
                ("reference", 2, date(2025, 7, 15)),
                ("dien-bien", 1, date(2025, 3, 1)),
            ],
        )
    )


def test_shipped_rulesets() -> None:
    shipped = available_rulesets()
    assert [(ruleset.id, ruleset.version) for ruleset in shipped] == [("reference", 1)]
    assert available_rulesets(default_rulesets_dir()) == shipped


def test_available_rulesets_sorted_by_id_then_version(rulesets: list[RuleSet]) -> None:
    assert [(item.id, item.version) for item in rulesets] == [
        ("dien-bien", 1),
        ("reference", 1),
        ("reference", 2),
    ]


# In effect on the month's first day: the greatest effective_from on or before it.
@pytest.mark.parametrize(
    ("month", "ruleset_id", "expected"),
    [
        (date(2024, 1, 1), "reference", ("reference", 1)),
        (date(2025, 7, 31), "reference", ("reference", 1)),  # v2 starts 15 July: not on 1 July
        (date(2025, 8, 1), "reference", ("reference", 2)),
        (date(2025, 8, 20), "reference", ("reference", 2)),
        (date(2025, 2, 28), "dien-bien", None),  # not yet in effect
        (date(2025, 3, 1), "dien-bien", ("dien-bien", 1)),
        (date(2025, 2, 1), None, ("reference", 1)),  # any id: the latest to take effect
        (date(2025, 5, 1), None, ("dien-bien", 1)),
        (date(2025, 9, 1), None, ("reference", 2)),
        (date(2023, 12, 1), None, None),
        (date(2025, 5, 1), "son-la", None),
    ],
)
def test_ruleset_for_month(
    rulesets: list[RuleSet],
    month: date,
    ruleset_id: str | None,
    expected: tuple[str, int] | None,
) -> None:
    if expected is None:
        with pytest.raises(RuleSetError, match="no rule set"):
            ruleset_for_month(rulesets, month, ruleset_id)
    else:
        found = ruleset_for_month(rulesets, month, ruleset_id)
        assert (found.id, found.version) == expected


def test_two_rule_sets_taking_effect_the_same_day_are_ambiguous(tmp_path: Path) -> None:
    rulesets = available_rulesets(
        province_dir(tmp_path, [("a", 1, date(2025, 1, 1)), ("b", 1, date(2025, 1, 1))])
    )
    with pytest.raises(RuleSetError, match="a v1, b v1 all take effect on 2025-01-01"):
        ruleset_for_month(rulesets, date(2025, 2, 1))
    assert ruleset_for_month(rulesets, date(2025, 2, 1), "b").id == "b"


def test_duplicate_id_and_version_names_both_files(tmp_path: Path) -> None:
    province_dir(tmp_path, [("reference", 1, date(2024, 1, 1))])
    write(tmp_path, "zz-copy.toml", reference_document())
    with pytest.raises(RuleSetError) as caught:
        available_rulesets(tmp_path)
    assert str(caught.value) == (
        "zz-copy.toml: version: reference version 1 is also in reference-1.toml"
    )


@pytest.mark.parametrize(
    ("ruleset_id", "version", "expected"),
    [
        ("reference", None, ("reference", 2)),  # latest version
        ("reference", 1, ("reference", 1)),
        ("reference", 3, "version: rule set 'reference' has no version 3"),
        ("tinh", None, "ruleset: unknown rule set 'tinh'"),
    ],
)
def test_find_ruleset(
    rulesets: list[RuleSet], ruleset_id: str, version: int | None, expected: object
) -> None:
    if isinstance(expected, str):
        with pytest.raises(RuleSetError) as caught:
            find_ruleset(rulesets, ruleset_id, version)
        assert str(caught.value) == expected
    else:
        found = find_ruleset(rulesets, ruleset_id, version)
        assert (found.id, found.version) == expected


def test_band_codes_best_first() -> None:
    assert BAND_CODES == (
        "hoan_thanh_xuat_sac",
        "hoan_thanh_tot",
        "hoan_thanh",
        "khong_hoan_thanh",
    )
