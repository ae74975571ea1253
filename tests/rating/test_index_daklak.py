"""Đắk Lắk 2025 (seed 002, I.4.b and I.5): quality levels, the 20% cap, ties, reform result."""

from __future__ import annotations

from decimal import Decimal

import pytest

from rating.index.daklak import (
    DaklakError,
    UnitScores,
    assess_group,
    excellent_slots,
    level_by_percent,
    reform_level,
)

D = Decimal


def unit(
    name: str,
    c1: str | None = "45",
    c2: str | None = "35",
    c3: str | None = "12",
    c4: str | None = "5",
    c5: str | None = "3",
    deductions: str = "0",
    disciplined: bool = False,
) -> UnitScores:
    contents = {1: c1, 2: c2, 3: c3, 4: c4, 5: c5}
    return UnitScores(
        unit=name,
        contents={k: None if v is None else D(v) for k, v in contents.items()},
        deductions=D(deductions),
        head_disciplined=disciplined,
    )


def with_percent(name: str, percent: str, disciplined: bool = False, c2: str = "35") -> UnitScores:
    """A unit whose 100-point total equals ``percent``: content 1 absorbs the difference."""
    missing = D(100) - D(percent)
    return unit(name, c1=str(D(45) - missing), c2=c2, disciplined=disciplined)


@pytest.mark.parametrize(
    ("percent", "level"),
    [
        ("100", "xuat_sac"),
        ("90", "xuat_sac"),
        ("89.9", "tot"),
        ("75", "tot"),
        ("74.9", "hoan_thanh"),
        ("60", "hoan_thanh"),
        ("59.9", "khong_hoan_thanh"),
        ("0", "khong_hoan_thanh"),
    ],
)
def test_quality_level_boundaries(percent: str, level: str) -> None:
    assert level_by_percent(D(percent)) == level


@pytest.mark.parametrize(
    ("percent", "level"),
    [
        ("100", "tot"),
        ("80", "tot"),
        ("79.9", "kha"),
        ("70", "kha"),
        ("69.9", "trung_binh"),
        ("50", "trung_binh"),
        ("49.9", "yeu"),
        ("0", "yeu"),
    ],
)
def test_reform_level_boundaries(percent: str, level: str) -> None:
    assert reform_level(D(percent)) == level


@pytest.mark.parametrize(
    ("good_or_better", "slots"), [(0, 0), (4, 0), (5, 1), (9, 1), (10, 2), (14, 2), (15, 3)]
)
def test_twenty_percent_cap_rounds_down(good_or_better: int, slots: int) -> None:
    assert excellent_slots(good_or_better) == slots


@pytest.mark.parametrize(
    ("scores", "total", "applicable_max", "percent", "reform_percent"),
    [
        # Full marks.
        (unit("A"), "100", "100", "100.0", "100.0"),
        # 40 + 30 + 10 + 4 + 1 - 2 = 83 of 100; reform (30+10+4+1-2) / 55 = 78.18 -> 78.2.
        (unit("A", "40", "30", "10", "4", "1", deductions="2"), "83", "100", "83.0", "78.2"),
        # Content 3 not assigned: 45 + 30 + 5 + 3 = 83 of 88 = 94.3; reform 38 / 43 = 88.4.
        (unit("A", "45", "30", None, "5", "3"), "83", "88", "94.3", "88.4"),
    ],
)
def test_totals_percent_and_exclusion(
    scores: UnitScores, total: str, applicable_max: str, percent: str, reform_percent: str
) -> None:
    outcome = assess_group([scores])["A"]
    assert outcome.total == D(total)
    assert outcome.applicable_max == D(applicable_max)
    assert outcome.quality_percent == D(percent)
    assert outcome.reform_percent == D(reform_percent)


def test_the_cap_keeps_the_best_twenty_percent_and_the_rest_fall_to_good() -> None:
    # Ten units at 75 or more: two slots. Three reach 90: the third falls to "tốt".
    units = [
        with_percent("A", "96"),
        with_percent("B", "93"),
        with_percent("C", "91"),
        *(with_percent(f"G{n}", "80") for n in range(7)),
    ]
    result = assess_group(units)
    assert result.good_or_better == 10
    assert result.excellent_slots == 2
    assert [result[name].level for name in "ABC"] == ["xuat_sac", "xuat_sac", "tot"]
    assert result["C"].reasons == ("cap",)
    assert result.cap_tie is None


def test_a_disciplined_head_is_never_excellent_and_frees_the_slot() -> None:
    units = [
        with_percent("A", "96", disciplined=True),
        with_percent("B", "93"),
        with_percent("C", "91"),
        *(with_percent(f"G{n}", "80") for n in range(7)),
    ]
    result = assess_group(units)
    assert result["A"].level == "tot"
    assert result["A"].reasons == ("head_disciplined",)
    assert result["A"].by_percent == "xuat_sac"
    assert [result[name].level for name in "BC"] == ["xuat_sac", "xuat_sac"]


def test_ties_are_broken_by_content_1_then_content_2() -> None:
    # Same percent 92; B has more in content 1 than A; C and D are equal on content 1 and D has
    # more in content 2.
    units = [
        unit("A", c1="40", c2="35", c3="12", c4="5", c5="0"),
        unit("B", c1="44", c2="31", c3="12", c4="5", c5="0"),
        unit("C", c1="42", c2="32", c3="12", c4="3", c5="3"),
        unit("D", c1="42", c2="34", c3="12", c4="1", c5="3"),
        *(with_percent(f"G{n}", "80") for n in range(6)),
    ]
    result = assess_group(units)
    assert [o.unit for o in result.outcomes[:4]] == ["B", "D", "C", "A"]
    assert [o.rank for o in result.outcomes[:4]] == [1, 2, 3, 4]
    assert result.excellent_slots == 2
    assert [result[name].level for name in "BDCA"] == ["xuat_sac", "xuat_sac", "tot", "tot"]
    assert not any(o.chairman_decides for o in result.outcomes[:4])


def test_a_tie_that_remains_at_the_cap_is_left_to_the_chairman() -> None:
    # Two units equal on percent, content 1 and content 2, one slot left for them.
    units = [
        with_percent("A", "97"),
        unit("B", c1="43", c2="33", c3="12", c4="5", c5="0"),
        unit("C", c1="43", c2="33", c3="10", c4="5", c5="2"),
        *(with_percent(f"G{n}", "80") for n in range(12)),
    ]
    result = assess_group(units)
    assert result.excellent_slots == 3
    assert result["A"].level == "xuat_sac"
    # B and C take the 2 remaining slots together: no decision needed for the level...
    assert result["B"].level == result["C"].level == "xuat_sac"
    # ...but their order is the chairman's.
    assert result["B"].tie_with == ("C",) and result["C"].tie_with == ("B",)
    assert result["B"].rank == result["C"].rank == 2

    fewer = assess_group(units[:-5])  # 10 good-or-better: 2 slots, 1 left for B and C
    assert fewer.excellent_slots == 2
    assert fewer["A"].level == "xuat_sac"
    assert fewer["B"].level is None and fewer["C"].level is None
    assert fewer["B"].pending and fewer["B"].reasons == ("cap_tie",)
    assert fewer.cap_tie is not None
    assert fewer.cap_tie.units == ("B", "C") and fewer.cap_tie.slots == 1


def test_ties_below_the_cap_only_share_a_rank() -> None:
    result = assess_group([with_percent("A", "70"), with_percent("B", "70")])
    assert result["A"].rank == result["B"].rank == 1
    assert result["A"].level == result["B"].level == "hoan_thanh"
    assert result["A"].chairman_decides


@pytest.mark.parametrize(
    ("scores", "message"),
    [
        (unit("A", c1="46"), "nội dung 1 = 46"),
        (unit("A", c2="-1"), "nội dung 2 = -1"),
        (unit("A", deductions="-1"), "điểm trừ = -1"),
        (UnitScores("A", {1: D(1), 2: D(1), 3: D(1), 4: D(1)}), "thiếu nội dung 5"),
        (
            UnitScores("A", {1: D(1), 2: D(1), 3: D(1), 4: D(1), 5: D(1), 6: D(1)}),
            "không có nội dung 6",
        ),
        (unit("A", c2=None, c3=None, c4=None, c5=None), "các nội dung 2 đến 5"),
    ],
)
def test_bad_scores_are_refused_naming_the_unit(scores: UnitScores, message: str) -> None:
    with pytest.raises(DaklakError, match=message):
        assess_group([scores])


def test_a_unit_listed_twice_is_refused() -> None:
    with pytest.raises(DaklakError, match="ghi hai lần: A"):
        assess_group([unit("A"), unit("A")])
