"""The job's stored rows and digests are byte for byte what they were before issue 5's tuning.

``reference_row`` is the job's row as first written: the whole ``to_dict`` of the result and one
``json.dumps`` of the canonical fields. The job now splices memoised JSON texts of the reasons
into the digest's text, stores that text as the reasons column, and builds the row only for a
changed result; a deployment must see the same digests, or every officer would get a spurious new
revision.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import replace
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from rating import OfficerFacts, OfficerResult, default_rulesets_dir, evaluate_unit, load_ruleset
from survey_server.extensions import JSONText, json_serializer
from survey_server.services.rating_job import _banded, _digest, _row, band_unit

MONTH = dt.date(2026, 10, 1)


def reference_row(
    result: OfficerResult, officer_id: int, unit_id: int, month: dt.date, preview: bool
) -> dict[str, Any]:
    data = result.to_dict()
    row: dict[str, Any] = {
        "officer_id": officer_id,
        "unit_id": unit_id,
        "month": month,
        "group": result.group,
        "band": result.band,
        "metrics": data["metrics"],
        "flags": data["flags"],
        "reasons": data["reasons"],
        "ruleset_id": result.ruleset_id,
        "ruleset_version": result.ruleset_version,
        "preview": preview,
    }
    canonical = {key: value for key, value in row.items() if key not in ("officer_id", "month")}
    text = json.dumps(canonical, sort_keys=True, default=str, ensure_ascii=False)
    row["digest"] = hashlib.sha256(text.encode()).hexdigest()
    return row


@st.composite
def officer_facts(draw: st.DrawFn) -> OfficerFacts:
    dossiers = draw(st.integers(0, 40))
    return OfficerFacts(
        code="CB",
        group=draw(st.sampled_from(["reception", "resolver"])),
        overall=tuple(draw(st.lists(st.integers(1, 5), max_size=60))),
        dossiers=dossiers,
        late=draw(st.integers(0, dossiers)),
        misconduct_confirmed=draw(st.integers(0, 2)),
        misconduct_pending=draw(st.integers(0, 2)),
        violations=draw(st.integers(0, 4)),
        disciplined=draw(st.booleans()),
    )


@settings(max_examples=80, deadline=None)
@given(
    items=st.lists(officer_facts(), min_size=1, max_size=25),
    quota=st.sampled_from([None, 0, 20, 50.5, 100]),
    preview=st.booleans(),
)
def test_rows_and_digests_are_unchanged(
    items: list[OfficerFacts], quota: float | None, preview: bool
) -> None:
    ruleset = load_ruleset(default_rulesets_dir() / "reference-1.toml")
    facts = [replace(item, code=f"CB{index:03d}") for index, item in enumerate(items)]
    results = evaluate_unit(facts, ruleset, {"excellent_quota_pct": quota})
    # Twice over the same results: the second pass reads the memoised texts.
    for _ in range(2):
        for officer_id, result in enumerate(results, start=1):
            expected = reference_row(result, officer_id, 7, MONTH, preview)
            row = _row(_banded(result, officer_id, 7, preview), 7, MONTH, preview)
            assert row.keys() == expected.keys()
            texts = {"metrics": None, "reasons": None}
            assert {**row, **texts} == {**expected, **texts}
            metrics = result.metrics.to_dict()
            assert _digest(result, 7, preview, metrics) == expected["digest"]
            # The JSON columns as the engine serialises them hold the same values: the metrics
            # and the reasons are the digest's own texts (sorted keys), stored as they are.
            for column in ("metrics", "flags", "reasons"):
                assert json.loads(json_serializer(row[column])) == expected[column]
            assert isinstance(row["metrics"], JSONText) and isinstance(row["reasons"], JSONText)
            text = json_serializer(row["metrics"])
            assert _digest(result, 7, preview, text, row["reasons"]) == expected["digest"]


def test_a_known_digest_is_unchanged() -> None:
    # Computed with the job as it was before issue 5's tuning: pins the digest itself.
    ruleset = load_ruleset(default_rulesets_dir() / "reference-1.toml")
    facts = OfficerFacts("CB001", "reception", (5,) * 18 + (3, 1), 12, 1, 0, 1, 0, False)
    (result,) = evaluate_unit([facts], ruleset)
    assert _row(_banded(result, 1, 3, False), 3, MONTH, False)["digest"] == PINNED
    (banded,) = band_unit(3, [(1, facts)], ruleset, False)
    assert banded.digest == PINNED


PINNED = "dc5f56a8034af5ae5b611ea0d45fa14379089d0c7859d885c504ec5cbc65d35a"
