"""Scoring a unit for a year (index.md, section 2; seed 001, II.1.3-II.1.4 and II.2.3-II.2.4)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path

import pytest

from rating.index import (
    NOT_ASSESSED,
    IndexTable,
    LeafScore,
    ScoringError,
    load_shipped_table,
    load_table,
    rank_units,
    score_unit,
)

D = Decimal

# A table small enough to check every figure by hand: 100 points, one 2-point leaf.
_TINY = """\
id = "tiny"
title = "Tiny"
source = "tests"
unit_kind = "commune"
total = 100

[[bands]]
key = "tot"
label = "Tốt"
min = 85

[[bands]]
key = "kha"
label = "Khá"
min = 75

[[bands]]
key = "trung_binh"
label = "Trung bình"
min = 50

[[bands]]
key = "yeu"
label = "Yếu"
min = 40

[[bands]]
key = "kem"
label = "Kém"
min = 0

[[criteria]]
code = "1"
title = "Area 1"
max = 50

[[criteria]]
code = "1.1"
title = "Leaf 1.1"
max = 48

[[criteria]]
code = "1.2"
title = "Leaf 1.2"
max = 2

[[criteria]]
code = "2"
title = "Area 2"
max = 50
"""


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> IndexTable:
    path: Path = tmp_path_factory.mktemp("tables") / "tiny.toml"
    path.write_text(_TINY, encoding="utf-8")
    return load_table(path)


def _scores(appraised: Mapping[str, str | None]) -> dict[str, LeafScore | None]:
    """Leaf → LeafScore with the same self-assessed and appraised score, or NOT_ASSESSED."""
    return {
        code: NOT_ASSESSED if value is None else LeafScore(D(value), D(value))
        for code, value in appraised.items()
    }


@pytest.mark.parametrize(
    ("leaf_1_1", "leaf_1_2", "leaf_2", "denominator", "index_percent", "band"),
    [
        # Band boundaries: a band starts at its minimum.
        ("35", "0", "50", "100", "85.0", "tot"),
        ("34.9", "0", "50", "100", "84.9", "kha"),
        ("25", "0", "50", "100", "75.0", "kha"),
        ("24.9", "0", "50", "100", "74.9", "trung_binh"),
        ("0", "0", "50", "100", "50.0", "trung_binh"),
        ("0", "0", "49.9", "100", "49.9", "yeu"),
        ("0", "0", "40", "100", "40.0", "yeu"),
        ("0", "0", "39.9", "100", "39.9", "kem"),
        ("0", "0", "0", "100", "0.0", "kem"),
        ("48", "2", "50", "100", "100.0", "tot"),
        # "Không đánh giá": the 2-point leaf leaves the denominator, 100 − 2 = 98.
        ("48", None, "50", "98", "100.0", "tot"),
        ("33", None, "50", "98", "84.7", "kha"),  # 83 / 98 = 84.69…
        # Half up at one decimal: 83.251 / 98 = 84.95 exactly → 85.0, and the band follows.
        ("33.251", None, "50", "98", "85.0", "tot"),
        # 83.2412 / 98 = 84.9400… → 84.9.
        ("33.2412", None, "50", "98", "84.9", "kha"),
        # A whole area not assessed: 50 / 50.
        ("48", "2", None, "50", "100.0", "tot"),
    ],
)
def test_index_percent_and_band(
    tiny: IndexTable,
    leaf_1_1: str,
    leaf_1_2: str | None,
    leaf_2: str | None,
    denominator: str,
    index_percent: str,
    band: str,
) -> None:
    result = score_unit(tiny, _scores({"1.1": leaf_1_1, "1.2": leaf_1_2, "2": leaf_2}))
    assert result.denominator == D(denominator)
    assert str(result.index_percent) == index_percent
    assert result.band.key == band


def test_self_assessed_and_appraised_are_totalled_per_node(tiny: IndexTable) -> None:
    scores: dict[str, LeafScore | None] = {
        "1.1": LeafScore(self_assessed=D("40"), appraised=D("36.5")),
        "1.2": NOT_ASSESSED,
        "2": LeafScore(self_assessed=D("45.25"), appraised=D("41")),
    }
    result = score_unit(tiny, scores)
    area = result.nodes["1"]
    assert (area.max, area.assessed_max, area.self_assessed, area.appraised) == (
        D(50),
        D(48),
        D(40),
        D("36.5"),
    )
    assert result.nodes["1.2"].not_assessed
    assert not result.nodes["1"].not_assessed
    assert result.not_assessed == ("1.2",)
    assert (result.self_total, result.appraised_total) == (D("85.25"), D("77.5"))
    assert result.self_percent == D("87.0")  # 85.25 / 98 = 86.99 → 87.0
    assert result.index_percent == D("79.1")  # 77.5 / 98 = 79.08 → 79.1
    assert result.band.label == "Khá"


def _full_marks(table: IndexTable) -> dict[str, LeafScore | None]:
    return {leaf.code: LeafScore(leaf.max, leaf.max) for leaf in table.leaves()}


def test_bang1_with_one_2_point_leaf_not_assessed_uses_98() -> None:
    table = load_shipped_table("dien_bien_2024_bang1")
    scores = _full_marks(table)
    assert table["1.7"].max == 2 and table["1.7"].is_leaf
    scores["1.7"] = NOT_ASSESSED
    result = score_unit(table, scores)
    assert result.denominator == 98
    assert result.appraised_total == 98
    assert result.index_percent == D("100.0")
    assert result.nodes["1"].assessed_max == 22


def test_bang2_criterion_not_assessed_excludes_its_leaves() -> None:
    table = load_shipped_table("dien_bien_2024_bang2")
    scores = _full_marks(table)
    for child in table["6.3"].children:
        del scores[child.code]
    scores["6.3"] = NOT_ASSESSED  # a district without public service units (SNCL)
    scores["8.3.1"] = LeafScore(D("1"), D("0.5"))
    result = score_unit(table, scores)
    assert result.not_assessed == ("6.3.1", "6.3.2", "6.3.3")
    assert result.denominator == D("98.5")
    assert result.appraised_total == D("97")
    assert result.index_percent == D("98.5")  # 97 / 98.5 = 98.477… → 98.5
    assert result.nodes["8.3"].appraised == D("13.5")  # 15 − (2 − 0.5)


@pytest.mark.parametrize(
    ("scores", "code", "message"),
    [
        ({"1.1": LeafScore(D("48.01"), D("1"))}, "1.1", "self_assessed 48.01 is above the max 48"),
        ({"1.1": LeafScore(D("1"), D("49"))}, "1.1", "appraised 49 is above the max 48"),
        ({"1.2": LeafScore(D("-0.5"), D("1"))}, "1.2", "self_assessed -0.5 is negative"),
        ({"9.9": LeafScore(D(1), D(1))}, "9.9", "not a code of table tiny"),
        ({"1": LeafScore(D(1), D(1))}, "1", "has sub-criteria"),
        ({"1.1": LeafScore(D(1), 1.5)}, "1.1", "appraised 1.5 is not a Decimal number"),  # type: ignore[arg-type]
        ({"1.1": D(5)}, "1.1", "expected a LeafScore"),
        ({"1": NOT_ASSESSED, "1.2": LeafScore(D(1), D(1))}, "1.2", "a parent is marked not"),
    ],
)
def test_faulty_scores_are_refused_naming_the_leaf(
    tiny: IndexTable, scores: dict[str, LeafScore | None], code: str, message: str
) -> None:
    complete: dict[str, LeafScore | None] = {
        "1.1": LeafScore(D(1), D(1)),
        "1.2": LeafScore(D(1), D(1)),
        "2": LeafScore(D(1), D(1)),
    }
    complete.update(scores)
    if "1" in scores and scores["1"] is NOT_ASSESSED:
        complete.pop("1.1")  # leave only the one conflicting leaf under the excluded area
    with pytest.raises(ScoringError) as caught:
        score_unit(tiny, complete)
    assert [problem.code for problem in caught.value.problems] == [code]
    assert message in caught.value.problems[0].message
    assert f"{code}: " in str(caught.value)


def test_a_missing_leaf_is_an_error_not_a_zero(tiny: IndexTable) -> None:
    with pytest.raises(ScoringError) as caught:
        score_unit(tiny, _scores({"1.1": "1", "2": "1"}))
    assert [(p.code, p.message) for p in caught.value.problems] == [
        ("1.2", "no score given (use NOT_ASSESSED)")
    ]


def test_every_problem_is_reported_at_once(tiny: IndexTable) -> None:
    with pytest.raises(ScoringError) as caught:
        score_unit(tiny, _scores({"1.1": "50", "1.2": "3", "2": "-1"}))
    # Each faulty score is listed: the self-assessed and the appraised one of every leaf.
    assert [problem.code for problem in caught.value.problems] == [
        "1.1",
        "1.1",
        "1.2",
        "1.2",
        "2",
        "2",
    ]


def test_nothing_assessed_is_an_error(tiny: IndexTable) -> None:
    with pytest.raises(ScoringError, match="every criterion is not assessed"):
        score_unit(tiny, {"1": NOT_ASSESSED, "2": NOT_ASSESSED})


@pytest.mark.parametrize(
    ("percents", "expected"),
    [
        (
            {"Mường Nhé": "90.0", "Tủa Chùa": "85.5", "Điện Biên": "85.5", "Mường Ảng": "70.1"},
            [(1, "Mường Nhé"), (2, "Tủa Chùa"), (2, "Điện Biên"), (4, "Mường Ảng")],
        ),
        ({"A": "50.0", "B": "50.0", "C": "50.0"}, [(1, "A"), (1, "B"), (1, "C")]),
        ({"B": "40.0", "A": "60.0"}, [(1, "A"), (2, "B")]),
        ({}, []),
    ],
)
def test_rank_units_shares_ranks_on_equal_percents(
    percents: dict[str, str], expected: list[tuple[int, str]]
) -> None:
    ranked = rank_units({unit: D(value) for unit, value in percents.items()})
    assert [(row.rank, row.unit) for row in ranked] == expected
    assert [row.index_percent for row in ranked] == sorted(
        (D(value) for value in percents.values()), reverse=True
    )
