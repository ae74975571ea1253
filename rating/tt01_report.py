"""The TT 01/2018/TT-VPCP quarterly report: per officer and per agency, pure.

The facts are a quarter's returned dossiers (with the phiếu answers that feed indicators 3 and 4
and the officers a misconduct report was confirmed against) and, for indicators 5, 6, 8 and 9,
the points a head entered for each one-stop desk (centre) of the agency for the quarter.

- Officer: indicators 1, 2, 3, 4, 7 over the dossiers the officer received or resolved; score
  out of 10 and its three levels, exactly as :func:`rating.tt01.officer_score`. Indicator 7
  counts misconduct confirmed against that officer only.
- Agency: the nine indicators; 1, 2, 3, 4, 7 are means over all the agency's dossiers (7 counts
  misconduct confirmed against anyone), 5, 6, 8, 9 means over the desks that entered them. Each
  mean is rounded to one decimal half up before summing. The score is out of 18; an indicator
  without data is left out (the score is then out of less), and the band applies to the sum:

==============  =============
band            score
==============  =============
``xuat_sac``    ≥ 15
``tot``         12 to < 15
``kha``         9 to < 12
``trung_binh``  6 to < 9
``yeu``         < 6
==============  =============
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from rating.dossiers import local_date
from rating.metrics import ratio_tenth
from rating.tt01 import (
    OfficerScore,
    indicator_1,
    indicator_2,
    indicator_3,
    indicator_4,
    indicator_7,
    officer_score,
)

AGENCY_INDICATORS: tuple[int, ...] = (1, 2, 3, 4, 5, 6, 7, 8, 9)
DESK_INDICATORS: tuple[int, ...] = (5, 6, 8, 9)
AGENCY_MAX = Decimal(18)

BAND_EXCELLENT = "xuat_sac"
BAND_GOOD = "tot"
BAND_FAIR = "kha"
BAND_AVERAGE = "trung_binh"
BAND_WEAK = "yeu"
#: Bands best first, each with the lowest score that reaches it.
BAND_FLOORS: tuple[tuple[str, Decimal], ...] = (
    (BAND_EXCELLENT, Decimal(15)),
    (BAND_GOOD, Decimal(12)),
    (BAND_FAIR, Decimal(9)),
    (BAND_AVERAGE, Decimal(6)),
    (BAND_WEAK, Decimal(0)),
)
BANDS: tuple[str, ...] = tuple(band for band, _ in BAND_FLOORS)

_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")


@dataclass(frozen=True, order=True)
class Quarter:
    """A calendar quarter of local (Asia/Ho_Chi_Minh) dates, e.g. ``2026-Q3``."""

    year: int
    number: int

    def __post_init__(self) -> None:
        if not 1 <= self.number <= 4:
            raise ValueError(f"quarter must be 1 to 4, not {self.number}")

    @classmethod
    def parse(cls, text: str) -> Quarter:
        """``YYYY-Qn`` → Quarter; ValueError otherwise."""
        found = _QUARTER.match(text.strip())
        if not found:
            raise ValueError(f"a quarter is written YYYY-Qn (e.g. 2026-Q3), not {text!r}")
        return cls(int(found.group(1)), int(found.group(2)))

    @classmethod
    def containing(cls, moment: date | datetime) -> Quarter:
        day = local_date(moment)
        return cls(day.year, (day.month - 1) // 3 + 1)

    @property
    def first_day(self) -> date:
        return date(self.year, 3 * self.number - 2, 1)

    @property
    def next_first_day(self) -> date:
        """First day of the following quarter (the end, exclusive)."""
        if self.number == 4:
            return date(self.year + 1, 1, 1)
        return date(self.year, 3 * self.number + 1, 1)

    def contains(self, moment: date | datetime) -> bool:
        return self.first_day <= local_date(moment) < self.next_first_day

    def previous(self) -> Quarter:
        return (
            Quarter(self.year - 1, 4) if self.number == 1 else Quarter(self.year, self.number - 1)
        )

    def next(self) -> Quarter:
        return (
            Quarter(self.year + 1, 1) if self.number == 4 else Quarter(self.year, self.number + 1)
        )

    def __str__(self) -> str:
        return f"{self.year}-Q{self.number}"


@dataclass(frozen=True)
class DossierFacts:
    """A dossier returned in the quarter, with what its indicators need.

    ``contacts`` is the phiếu 1 answer ('0', '1', '2+'), ``agencies`` the phiếu 2 answer
    ('1', '2', '3+'), None when unanswered. ``stages`` are (done, due) pairs when the dossier
    system pushes stage deadlines. ``misconduct_confirmed`` names the officers a misconduct
    report about this dossier was confirmed against.
    """

    code: str
    reception: str | None
    resolvers: tuple[str, ...]
    returned_at: datetime
    due_at: datetime
    contacts: str | None = None
    agencies: str | None = None
    stages: tuple[tuple[datetime, datetime], ...] = ()
    misconduct_confirmed: tuple[str, ...] = ()

    def officers(self) -> tuple[str, ...]:
        """Everyone the dossier counts for: its reception officer, then its resolvers."""
        found = [self.reception] if self.reception else []
        found += [code for code in self.resolvers if code not in found]
        return tuple(found)

    def points(self, officer: str | None = None) -> dict[int, int]:
        """Points of indicators 1, 2, 3, 4, 7 that have data; 7 only counts ``officer``'s
        confirmed misconduct when an officer is given, anyone's otherwise."""
        found = {1: indicator_1(self.returned_at, self.due_at)}
        stage_points = indicator_2(self.stages)
        if stage_points is not None:
            found[2] = stage_points
        if self.contacts is not None:
            found[3] = indicator_3(self.contacts)
        if self.agencies is not None:
            found[4] = indicator_4(self.agencies)
        confirmed = (
            len(self.misconduct_confirmed)
            if officer is None
            else self.misconduct_confirmed.count(officer)
        )
        found[7] = indicator_7(self.returned_at, self.due_at, confirmed)
        return found


@dataclass(frozen=True)
class OfficerReport:
    """One officer's quarter: how many dossiers and the TT 01 score with its level."""

    code: str
    dossiers: int
    score: OfficerScore


@dataclass(frozen=True)
class AgencyScore:
    """An agency's quarter: the mean of each indicator with data, their sum and its band."""

    means: Mapping[int, Decimal]
    score: Decimal | None
    band: str | None
    dossiers: int = 0
    desks: int = 0
    missing: tuple[int, ...] = field(default=())

    @property
    def out_of(self) -> int:
        """The maximum the score could reach with the indicators that have data."""
        return 2 * len(self.means)


def band_for(score: Decimal) -> str:
    """Agency band: ≥ 15 xuất sắc, 12–< 15 tốt, 9–< 12 khá, 6–< 9 trung bình, < 6 yếu."""
    if score < 0:
        raise ValueError("an agency score is never negative")
    for band, floor in BAND_FLOORS:
        if score >= floor:
            return band
    raise AssertionError("unreachable: the last floor is 0")  # pragma: no cover


def _check_points(indicator: int, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 2:
        raise ValueError(f"indicator {indicator}: points must be 0, 1 or 2, not {value!r}")
    return value


def officer_reports(dossiers: Iterable[DossierFacts]) -> list[OfficerReport]:
    """Each officer who received or resolved a dossier of the quarter, by officer code."""
    points: dict[str, dict[int, list[int]]] = {}
    counts: dict[str, int] = {}
    for dossier in dossiers:
        for code in dossier.officers():
            counts[code] = counts.get(code, 0) + 1
            per_indicator = points.setdefault(code, {})
            for indicator, value in dossier.points(code).items():
                per_indicator.setdefault(indicator, []).append(value)
    return [
        OfficerReport(code=code, dossiers=counts[code], score=officer_score(points[code]))
        for code in sorted(points)
    ]


def agency_score(
    dossiers: Iterable[DossierFacts], desks: Sequence[Mapping[int, int | None]]
) -> AgencyScore:
    """Score an agency from its quarter's dossiers and its desks' entries of 5, 6, 8, 9.

    Each desk entry maps an indicator of 5, 6, 8, 9 to its points, or None where not entered.
    """
    collected: dict[int, list[int]] = {indicator: [] for indicator in AGENCY_INDICATORS}
    count = 0
    for dossier in dossiers:
        count += 1
        for indicator, value in dossier.points().items():
            collected[indicator].append(value)
    for entry in desks:
        for indicator, entered in entry.items():
            if indicator not in DESK_INDICATORS:
                raise ValueError(f"indicator {indicator} is not entered per desk")
            if entered is not None:
                collected[indicator].append(_check_points(indicator, entered))
    means = {
        indicator: ratio_tenth(sum(values), len(values))
        for indicator, values in collected.items()
        if values
    }
    missing = tuple(indicator for indicator, values in collected.items() if not values)
    if not means:
        return AgencyScore({}, None, None, count, len(desks), missing)
    score = sum(means.values(), Decimal(0))
    return AgencyScore(means, score, band_for(score), count, len(desks), missing)
