"""Sơn La (seed 003, QĐ 884/QĐ-UBND 2019, Điều 19–20): consequences for the head of a unit.

From the unit's yearly PAR index score (points out of 100):

- ≥ 90 → the unit and its head are proposed for commendation (Điều 19);
- < 50 → the chairman criticises the head for the first time (Điều 20.6);
- < 50 in two consecutive years → the chairman considers discipline (Điều 20.7). The second
  such year gives this instead of a first criticism, and so does every further year in a row.

"Consecutive" means calendar years that follow each other: a year without a score breaks the
run. Each consequence carries the years that triggered it. Pure, standard library only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Final, Literal

from rating.index._numbers import HUNDRED, as_points

Consequence = Literal["commendation", "first_criticism", "discipline_considered"]

COMMENDATION_MIN: Final = Decimal(90)
CRITICISM_BELOW: Final = Decimal(50)

LABELS: Final[Mapping[Consequence, str]] = {
    "commendation": "Xét khen thưởng tập thể và người đứng đầu",
    "first_criticism": "Chủ tịch UBND tỉnh phê bình người đứng đầu lần thứ nhất",
    "discipline_considered": "Chủ tịch UBND tỉnh xem xét kỷ luật người đứng đầu",
}


@dataclass(frozen=True)
class YearConsequence:
    year: int
    score: Decimal
    consequence: Consequence
    triggered_by: tuple[int, ...]
    """The years whose scores caused it (one year, or the consecutive years below 50)."""


def consequences(scores: Mapping[int, Decimal]) -> tuple[YearConsequence, ...]:
    """The consequences for one unit's head, per year in order, from its yearly scores."""
    checked: dict[int, Decimal] = {}
    for year, raw in scores.items():
        if isinstance(year, bool) or not isinstance(year, int):
            raise ValueError(f"year {year!r} is not a whole number")
        value = as_points(raw) if not isinstance(raw, float) else None
        if value is None or not 0 <= value <= HUNDRED:
            raise ValueError(f"{year}: score {raw!r} is not a number 0..100")
        checked[year] = value
    found: list[YearConsequence] = []
    for year in sorted(checked):
        score = checked[year]
        if score >= COMMENDATION_MIN:
            found.append(YearConsequence(year, score, "commendation", (year,)))
        elif score < CRITICISM_BELOW:
            previous = checked.get(year - 1)
            if previous is not None and previous < CRITICISM_BELOW:
                found.append(
                    YearConsequence(year, score, "discipline_considered", (year - 1, year))
                )
            else:
                found.append(YearConsequence(year, score, "first_criticism", (year,)))
    return tuple(found)
