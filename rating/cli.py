"""``python -m rating classify``: one JSON document in on stdin, one out on stdout.

Input and output are specified in ``shared/domain/rating-rules.md``. Besides the specified
fields the input may carry ``"version"`` (an integer: that version of the rule set instead of
its latest), and the output carries ``"ruleset"`` (id, version and the parameters used) next to
``"results"``. Bad input exits with status 2 and one line on stderr naming the field, e.g.
``error: officers[0].overall[3]: must be an integer 1..5``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO, TextIO, TypeGuard

from rating.engine import evaluate_unit
from rating.metrics import FactsError, OfficerFacts
from rating.ruleset import RuleSet, RuleSetError, available_rulesets, find_ruleset

EXIT_OK = 0
EXIT_BAD_INPUT = 2

_TOP_LEVEL_KEYS = ("ruleset", "version", "params", "officers")
_OFFICER_KEYS = (
    "code",
    "group",
    "overall",
    "dossiers",
    "late",
    "misconduct_confirmed",
    "misconduct_pending",
    "violations",
    "disciplined",
)
_RESULT_KEYS = ("code", "band", "metrics", "flags", "reasons")


class InputError(Exception):
    """Bad input document; ``field`` is the JSON path of the culprit."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def _reject_constant(name: str) -> None:
    # json accepts NaN and Infinity by default; they are not JSON and not valid counts.
    raise ValueError(f"{name} is not allowed")


def _parse_json(text: str) -> object:
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as error:
        raise InputError("input", f"not valid JSON: {error}") from None
    except ValueError as error:
        raise InputError("input", f"not valid JSON: {error}") from None


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _officer(raw: object, index: int) -> OfficerFacts:
    field = f"officers[{index}]"
    if not isinstance(raw, Mapping):
        raise InputError(field, "must be an object")
    for key in raw:
        if key not in _OFFICER_KEYS:
            raise InputError(f"{field}.{key}", "unknown field")
    for key in _OFFICER_KEYS:
        if key not in raw:
            raise InputError(f"{field}.{key}", "missing")
    values: dict[str, Any] = dict(raw)
    if not isinstance(values["overall"], list):
        raise InputError(f"{field}.overall", "must be a list of integers 1..5")
    values["overall"] = tuple(values["overall"])
    try:
        return OfficerFacts(**values)
    except FactsError as error:
        raise InputError(f"{field}.{error.field}", error.message) from None


def parse_request(
    document: object, rulesets: Sequence[RuleSet]
) -> tuple[RuleSet, Mapping[str, object] | None, list[OfficerFacts]]:
    """Validate a classify request; returns (rule set, parameter overrides, facts)."""
    if not isinstance(document, Mapping):
        raise InputError("input", "must be a JSON object")
    for key in document:
        if key not in _TOP_LEVEL_KEYS:
            raise InputError(str(key), "unknown field")
    for key in ("ruleset", "officers"):
        if key not in document:
            raise InputError(key, "missing")
    ruleset_id = document["ruleset"]
    if not isinstance(ruleset_id, str):
        raise InputError("ruleset", "must be a string")
    version = document.get("version")
    if version is not None and (not _is_int(version) or version < 1):
        raise InputError("version", "must be a positive integer")
    overrides = document.get("params")
    if overrides is not None and not isinstance(overrides, Mapping):
        raise InputError("params", "must be an object")
    officers = document["officers"]
    if not isinstance(officers, list):
        raise InputError("officers", "must be a list")
    try:
        ruleset = find_ruleset(rulesets, ruleset_id, version)
        # Validates the overrides now, so an error names the parameter before any work is done.
        ruleset.params.with_overrides(overrides)
    except RuleSetError as error:
        raise InputError(error.field, error.message) from None
    facts = [_officer(raw, index) for index, raw in enumerate(officers)]
    seen: set[tuple[str, str]] = set()
    for index, item in enumerate(facts):
        if (item.group, item.code) in seen:
            message = f"officer '{item.code}' appears twice in group '{item.group}'"
            raise InputError(f"officers[{index}].code", message)
        seen.add((item.group, item.code))
    return ruleset, overrides, facts


def classify(document: object, rulesets: Sequence[RuleSet]) -> dict[str, object]:
    """Answer a classify request (already parsed JSON); raises InputError on bad input."""
    ruleset, overrides, facts = parse_request(document, rulesets)
    results = evaluate_unit(facts, ruleset, overrides)
    params = ruleset.params.with_overrides(overrides)
    return {
        "results": [
            {key: value for key, value in result.to_dict().items() if key in _RESULT_KEYS}
            for result in results
        ],
        "ruleset": {"id": ruleset.id, "version": ruleset.version, "params": params.to_dict()},
    }


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError("input", "not valid UTF-8") from None


def _run_classify(
    rulesets_dir: Path | None, stdin: BinaryIO, stdout: TextIO, stderr: TextIO
) -> int:
    try:
        rulesets = available_rulesets(rulesets_dir)
    except RuleSetError as error:
        stderr.write(f"error: {_one_line(str(error))}\n")
        return EXIT_BAD_INPUT
    try:
        output = classify(_parse_json(_decode(stdin.read())), rulesets)
    except InputError as error:
        stderr.write(f"error: {_one_line(str(error))}\n")
        return EXIT_BAD_INPUT
    stdout.write(json.dumps(output, ensure_ascii=False) + "\n")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m rating``."""
    parser = argparse.ArgumentParser(prog="python -m rating", description="Monthly rating engine.")
    commands = parser.add_subparsers(dest="command", required=True)
    classify_parser = commands.add_parser(
        "classify", help="band the officers of one unit and month (JSON on stdin → stdout)"
    )
    classify_parser.add_argument(
        "--rulesets-dir",
        type=Path,
        default=None,
        help="directory of rule set files (default: the rule sets shipped with the package)",
    )
    args = parser.parse_args(argv)
    if args.command == "classify":
        return _run_classify(args.rulesets_dir, sys.stdin.buffer, sys.stdout, sys.stderr)
    return EXIT_BAD_INPUT  # pragma: no cover - argparse rejects unknown commands
