"""``python -m rating classify`` run as a real process (rating-rules.md, last section)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from rating import default_rulesets_dir

SPEC_EXAMPLE = """
{"ruleset": "reference",
 "params": {"excellent_quota_pct": 20},
 "officers": [
   {"code": "CB001", "group": "reception",
    "overall": [5, 5, 4, 3, 5],
    "dossiers": 120, "late": 0,
    "misconduct_confirmed": 0, "misconduct_pending": 0,
    "violations": 0, "disciplined": false}
 ]}
"""


def run(stdin: str | bytes, *args: str) -> subprocess.CompletedProcess[bytes]:
    data = stdin.encode("utf-8") if isinstance(stdin, str) else stdin
    return subprocess.run(
        [sys.executable, "-m", "rating", "classify", *args],
        input=data,
        capture_output=True,
        timeout=60,
        check=False,
    )


def officer(code: str = "CB001", **changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "code": code,
        "group": "reception",
        "overall": [5] * 20,
        "dossiers": 20,
        "late": 0,
        "misconduct_confirmed": 0,
        "misconduct_pending": 0,
        "violations": 0,
        "disciplined": False,
    }
    values.update(changes)
    return values


def request(*officers: dict[str, Any], **fields: Any) -> str:
    return json.dumps({"ruleset": "reference", "officers": list(officers), **fields})


def test_spec_example() -> None:
    completed = run(SPEC_EXAMPLE)
    assert completed.returncode == 0, completed.stderr
    assert completed.stderr == b""
    output = json.loads(completed.stdout)
    (result,) = output["results"]
    assert list(result) == ["code", "band", "metrics", "flags", "reasons"]
    assert result["code"] == "CB001"
    assert result["band"] == "hoan_thanh_tot"  # 5 forms < min_forms, 80.0 %, 0 dissatisfied
    assert result["metrics"] == {
        "forms": 5,
        "satisfied": 4,
        "dissatisfied": 0,
        "satisfied_pct": 80.0,
        "dissatisfied_pct": 0.0,
        "dossiers": 120,
        "late": 0,
        "on_time_pct": 100.0,
        "misconduct_confirmed": 0,
        "misconduct_pending": 0,
        "violations": 0,
        "disciplined": False,
    }
    assert result["flags"] == ["insufficient_forms"]
    assert [reason["band"] for reason in result["reasons"]] == [
        "hoan_thanh_xuat_sac",
        "hoan_thanh_tot",
    ]
    assert output["ruleset"] == {
        "id": "reference",
        "version": 1,
        "params": {"min_forms": 10, "excellent_quota_pct": 20},
    }


def test_numbers_have_one_decimal_and_undefined_is_null() -> None:
    completed = run(request(officer(overall=[5] * 18 + [3], dossiers=0)))
    assert completed.returncode == 0
    text = completed.stdout.decode()
    assert '"satisfied_pct": 94.7' in text
    assert '"dissatisfied_pct": 0.0' in text
    assert '"on_time_pct": null' in text


def test_results_in_input_order_with_quota_per_group() -> None:
    officers = [officer(f"CB00{n}") for n in (3, 1, 2)] + [officer("CB009", group="resolver")]
    completed = run(request(*officers, params={"excellent_quota_pct": 50}))
    assert completed.returncode == 0
    results = json.loads(completed.stdout)["results"]
    assert [(item["code"], item["band"]) for item in results] == [
        ("CB003", "hoan_thanh_tot"),  # equal metrics: code order decides, CB001 first
        ("CB001", "hoan_thanh_xuat_sac"),
        ("CB002", "hoan_thanh_tot"),
        ("CB009", "hoan_thanh_tot"),  # resolver group: N = 1, floor(0.5) = 0 places
    ]
    assert results[0]["reasons"][-1]["kind"] == "quota"


def test_same_input_gives_byte_identical_output() -> None:
    assert run(SPEC_EXAMPLE).stdout == run(SPEC_EXAMPLE).stdout


def test_version_and_rulesets_dir(tmp_path: Path) -> None:
    shutil.copy(default_rulesets_dir() / "reference-1.toml", tmp_path / "reference-1.toml")
    text = (default_rulesets_dir() / "reference-1.toml").read_text(encoding="utf-8")
    province = text.replace('id = "reference"', 'id = "dien-bien"').replace(
        "min_forms = 10", "min_forms = 5"
    )
    (tmp_path / "dien-bien-1.toml").write_text(province, encoding="utf-8")
    five_forms = officer(overall=[5] * 5)

    completed = run(request(five_forms), "--rulesets-dir", str(tmp_path))
    assert json.loads(completed.stdout)["results"][0]["band"] == "hoan_thanh_tot"

    body = json.dumps({"ruleset": "dien-bien", "version": 1, "officers": [five_forms]})
    completed = run(body, "--rulesets-dir", str(tmp_path))
    assert completed.returncode == 0, completed.stderr
    output = json.loads(completed.stdout)
    assert output["results"][0]["band"] == "hoan_thanh_xuat_sac"
    assert output["ruleset"]["id"] == "dien-bien"


def test_bad_rule_set_directory_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "bad-1.toml").write_text("id = \n", encoding="utf-8")
    completed = run(SPEC_EXAMPLE, "--rulesets-dir", str(tmp_path))
    assert completed.returncode == 2
    assert completed.stderr.decode().startswith("error: bad-1.toml: (file): invalid TOML")
    assert completed.stderr.decode().count("\n") == 1


BAD_OVERALL = officer(overall=[5, 5, 5, 6])


# Bad input: exit 2, nothing on stdout, exactly one line on stderr naming the field.
@pytest.mark.parametrize(
    ("stdin", "line"),
    [
        ("not json", "error: input: not valid JSON: Expecting value: line 1 column 1 (char 0)"),
        (b"\xff\xfe{", "error: input: not valid UTF-8"),
        ("[]", "error: input: must be a JSON object"),
        ('{"officers": []}', "error: ruleset: missing"),
        ('{"ruleset": 5, "officers": []}', "error: ruleset: must be a string"),
        ('{"ruleset": "tinh", "officers": []}', "error: ruleset: unknown rule set 'tinh'"),
        (
            '{"ruleset": "reference", "version": 9, "officers": []}',
            "error: version: rule set 'reference' has no version 9",
        ),
        ('{"ruleset": "reference"}', "error: officers: missing"),
        ('{"ruleset": "reference", "officers": {}}', "error: officers: must be a list"),
        ('{"ruleset": "reference", "officer": []}', "error: officer: unknown field"),
        ('{"ruleset": "reference", "officers": [1]}', "error: officers[0]: must be an object"),
        (request(BAD_OVERALL), "error: officers[0].overall[3]: must be an integer 1..5"),
        (
            request(officer(overall=[5, "5"])),
            "error: officers[0].overall[1]: must be an integer 1..5",
        ),
        (
            request(officer(overall=[True])),
            "error: officers[0].overall[0]: must be an integer 1..5",
        ),
        (request(officer(overall=[0])), "error: officers[0].overall[0]: must be an integer 1..5"),
        (
            request(officer(overall=5)),
            "error: officers[0].overall: must be a list of integers 1..5",
        ),
        (
            request(officer(group="desk")),
            "error: officers[0].group: must be 'reception' or 'resolver'",
        ),
        (request(officer(code="")), "error: officers[0].code: must be a non-empty string"),
        (
            request(officer(dossiers=-1)),
            "error: officers[0].dossiers: must be a non-negative integer",
        ),
        (
            request(officer(dossiers=1.5)),
            "error: officers[0].dossiers: must be a non-negative integer",
        ),
        (request(officer(late=21)), "error: officers[0].late: must not exceed dossiers"),
        (request(officer(disciplined=0)), "error: officers[0].disciplined: must be true or false"),
        (request(officer(name="Lò Văn A")), "error: officers[0].name: unknown field"),
        (
            request(officer(), {k: v for k, v in officer("CB002").items() if k != "violations"}),
            "error: officers[1].violations: missing",
        ),
        (
            request(officer(), officer()),
            "error: officers[1].code: officer 'CB001' appears twice in group 'reception'",
        ),
        (
            request(officer(), params={"min_forms": "10"}),
            "error: params.min_forms: must be a non-negative integer",
        ),
        (
            request(officer(), params={"quota": 20}),
            "error: params.quota: unknown parameter (known: min_forms, excellent_quota_pct)",
        ),
        (request(officer(), params=[]), "error: params: must be an object"),
        (
            '{"ruleset": "reference", "officers": [], "params": {"excellent_quota_pct": NaN}}',
            "error: input: not valid JSON: NaN is not allowed",
        ),
    ],
)
def test_bad_input_exits_2_with_one_line(stdin: str | bytes, line: str) -> None:
    completed = run(stdin)
    assert completed.returncode == 2
    assert completed.stdout == b""
    assert completed.stderr.decode("utf-8") == line + "\n"
