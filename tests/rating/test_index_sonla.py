"""Sơn La (seed 003, Điều 19-20): consequences for the head by yearly index score."""

from __future__ import annotations

from decimal import Decimal

import pytest

from rating.index.sonla import consequences

D = Decimal


@pytest.mark.parametrize(
    ("scores", "expected"),
    [
        # One year at each boundary.
        ({2022: "90"}, [(2022, "commendation", (2022,))]),
        ({2022: "89.9"}, []),
        ({2022: "50"}, []),
        ({2022: "49.9"}, [(2022, "first_criticism", (2022,))]),
        # Three years: criticism, then discipline twice in a row.
        (
            {2021: "45", 2022: "48", 2023: "40"},
            [
                (2021, "first_criticism", (2021,)),
                (2022, "discipline_considered", (2021, 2022)),
                (2023, "discipline_considered", (2022, 2023)),
            ],
        ),
        # A year at 50 or more breaks the run: criticism again, no discipline.
        (
            {2021: "45", 2022: "60", 2023: "40"},
            [(2021, "first_criticism", (2021,)), (2023, "first_criticism", (2023,))],
        ),
        # A missing year breaks the run too.
        (
            {2021: "45", 2023: "40"},
            [(2021, "first_criticism", (2021,)), (2023, "first_criticism", (2023,))],
        ),
        # Commendation, then a fall below 50 (first criticism only).
        (
            {2021: "95", 2022: "49", 2023: "70"},
            [(2021, "commendation", (2021,)), (2022, "first_criticism", (2022,))],
        ),
    ],
)
def test_consequences_over_the_years(
    scores: dict[int, str], expected: list[tuple[int, str, tuple[int, ...]]]
) -> None:
    found = consequences({year: D(value) for year, value in scores.items()})
    assert [(c.year, c.consequence, c.triggered_by) for c in found] == expected


@pytest.mark.parametrize("bad", [D("100.5"), D("-1"), "abc", 90.0])
def test_a_score_that_is_not_0_to_100_is_refused(bad: object) -> None:
    with pytest.raises(ValueError, match="2022"):
        consequences({2022: bad})  # type: ignore[dict-item]
