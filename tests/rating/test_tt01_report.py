"""TT 01/2018 quarterly report (index.md section 5, rating-rules.md "TT 01/2018"): each row is a
case to check by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from rating.tt01 import level_for
from rating.tt01_report import (
    AgencyScore,
    DossierFacts,
    Quarter,
    agency_score,
    band_for,
    officer_reports,
)

LOCAL = timezone(timedelta(hours=7))
DUE = datetime(2026, 8, 10, 17, 0, tzinfo=LOCAL)
EARLY = datetime(2026, 8, 9, 9, 0, tzinfo=LOCAL)  # day before: indicator 1 = 2
ON_DAY = datetime(2026, 8, 10, 20, 0, tzinfo=LOCAL)  # same local date, later hour: 1
LATE = datetime(2026, 8, 11, 8, 0, tzinfo=LOCAL)  # next day: 0


@pytest.mark.parametrize(
    ("score", "band"),
    [
        ("18", "xuat_sac"),
        ("15.0", "xuat_sac"),
        ("14.9", "tot"),
        ("12", "tot"),
        ("11.9", "kha"),
        ("9", "kha"),
        ("8.9", "trung_binh"),
        ("6", "trung_binh"),
        ("5.9", "yeu"),
        ("0", "yeu"),
    ],
)
def test_agency_band_boundaries(score: str, band: str) -> None:
    assert band_for(Decimal(score)) == band


def test_negative_agency_score_is_refused() -> None:
    with pytest.raises(ValueError):
        band_for(Decimal("-0.1"))


@pytest.mark.parametrize(
    ("score", "level"),
    [("10", "100"), ("5.0", "100"), ("4.9", "70_100"), ("3.5", "70_100"), ("3.4", "lt70")],
)
def test_officer_level_boundaries(score: str, level: str) -> None:
    assert level_for(Decimal(score)) == level


@pytest.mark.parametrize(
    ("text", "first", "end"),
    [
        ("2026-Q1", (2026, 1, 1), (2026, 4, 1)),
        ("2026-Q3", (2026, 7, 1), (2026, 10, 1)),
        ("2026-Q4", (2026, 10, 1), (2027, 1, 1)),
    ],
)
def test_quarter_bounds(text: str, first: tuple[int, int, int], end: tuple[int, int, int]) -> None:
    quarter = Quarter.parse(text)
    assert str(quarter) == text
    assert quarter.first_day.timetuple()[:3] == first
    assert quarter.next_first_day.timetuple()[:3] == end


@pytest.mark.parametrize("text", ["2026-Q5", "2026Q1", "Q1-2026", "2026-q0", ""])
def test_bad_quarter_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        Quarter.parse(text)


def test_quarter_uses_local_dates() -> None:
    # 30 Sep 2026 18:00 UTC is 1 Oct 01:00 in Hà Nội: the fourth quarter.
    moment = datetime(2026, 9, 30, 18, 0, tzinfo=UTC)
    assert Quarter.containing(moment) == Quarter(2026, 4)
    assert not Quarter(2026, 3).contains(moment)
    assert Quarter(2026, 1).previous() == Quarter(2025, 4)
    assert Quarter(2026, 4).next() == Quarter(2027, 1)


def _dossier(code: str, returned: datetime, **kwargs: object) -> DossierFacts:
    base: dict[str, object] = {
        "code": code,
        "reception": "R1",
        "resolvers": ("S1",),
        "returned_at": returned,
        "due_at": DUE,
    }
    base.update(kwargs)
    return DossierFacts(**base)  # type: ignore[arg-type]


# Three dossiers of one agency:
#   A early, contacts 0, agencies 1                 → 1:2 3:2 4:2 7:2
#   B on the day, contacts 1, no phiếu 2            → 1:1 3:1      7:1
#   C late, contacts 2+, agencies 3+, misconduct confirmed against S1 → 1:0 3:0 4:0 7:0
DOSSIERS = [
    _dossier("A", EARLY, contacts="0", agencies="1"),
    _dossier("B", ON_DAY, contacts="1", resolvers=("S2",)),
    _dossier("C", LATE, contacts="2+", agencies="3+", misconduct_confirmed=("S1",)),
]


def test_officer_scores_by_hand() -> None:
    reports = {report.code: report for report in officer_reports(DOSSIERS)}
    assert sorted(reports) == ["R1", "S1", "S2"]
    # R1 (all three): 1: (2+1+0)/3 = 1.0; 3: 1.0; 4: (2+0)/2 = 1.0; 7: (2+1+0)/3 = 1.0 → 4.0
    r1 = reports["R1"]
    assert r1.dossiers == 3
    assert dict(r1.score.means) == {1: Decimal("1.0"), 3: Decimal("1.0"), 4: Decimal("1.0"), 7: 1}
    assert (r1.score.score, r1.score.level) == (Decimal("4.0"), "70_100")
    # S1 (A, C): 1: 1.0; 3: 1.0; 4: 1.0; 7: (2+0)/2 = 1.0 → 4.0
    assert reports["S1"].score.score == Decimal("4.0")
    # S2 (B only): 1: 1; 3: 1; 7: 1 → 3.0, under 3.5
    s2 = reports["S2"].score
    assert (s2.score, s2.level) == (Decimal("3.0"), "lt70")


def test_misconduct_counts_against_the_officer_it_was_confirmed_for() -> None:
    # Early dossier; misconduct confirmed against S1 only: R1 keeps 2 on indicator 7.
    dossier = _dossier("D", EARLY, misconduct_confirmed=("S1",))
    reports = {report.code: report for report in officer_reports([dossier])}
    assert reports["R1"].score.means[7] == 2
    assert reports["S1"].score.means[7] == 0
    assert agency_score([dossier], []).means[7] == 0  # the agency counts anyone's


def test_agency_score_by_hand() -> None:
    desks: list[dict[int, int | None]] = [
        {5: 2, 6: 2, 8: 1, 9: 2},
        {5: 1, 6: 2, 8: 2, 9: None},  # 9 not entered at this desk
    ]
    result = agency_score(DOSSIERS, desks)
    # 1: 1.0, 3: 1.0, 4: 1.0, 7: 1.0; 5: 1.5, 6: 2.0, 8: 1.5, 9: 2.0 → 11.0; no stages: 2 missing
    assert result.means == {
        1: Decimal("1.0"),
        3: Decimal("1.0"),
        4: Decimal("1.0"),
        5: Decimal("1.5"),
        6: Decimal("2.0"),
        7: Decimal("1.0"),
        8: Decimal("1.5"),
        9: Decimal("2.0"),
    }
    assert (result.score, result.band, result.out_of) == (Decimal("11.0"), "kha", 16)
    assert (result.missing, result.dossiers, result.desks) == ((2,), 3, 2)


def test_agency_with_stages_and_full_marks_is_excellent() -> None:
    stage = ((EARLY - timedelta(days=2), EARLY - timedelta(days=1)),)
    dossier = _dossier("E", EARLY, contacts="0", agencies="1", stages=stage)
    result = agency_score([dossier], [{5: 2, 6: 2, 8: 2, 9: 2}])
    assert (result.score, result.out_of, result.band) == (Decimal(18), 18, "xuat_sac")


def test_agency_without_any_data() -> None:
    assert agency_score([], []) == AgencyScore({}, None, None, 0, 0, (1, 2, 3, 4, 5, 6, 7, 8, 9))


@pytest.mark.parametrize(
    "desk",
    [{5: 3}, {5: -1}, {7: 2}, {5: True}],
)
def test_bad_desk_entry_is_refused(desk: dict[int, int | None]) -> None:
    with pytest.raises(ValueError):
        agency_score([], [desk])
