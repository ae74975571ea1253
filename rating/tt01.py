"""The national TT 01/2018/TT-VPCP per-dossier indicators and the officer score.

Each indicator gives a dossier 0, 1 or 2 points. The officer score is the sum, over indicators
1, 2, 3, 4 and 7, of the indicator's mean over the officer's dossiers; each mean is rounded to
one decimal half up before summing, so the parts shown on a report add up to the score shown.
An indicator without data is left out (the score is then out of less than 10).

Level codes (of the share of duties done):

==========  =====================  ===============================
code        score                  meaning
==========  =====================  ===============================
``100``     score ≥ 5              100 % of duties
``70_100``  3.5 ≤ score < 5        70 % to under 100 % of duties
``lt70``    score < 3.5            under 70 % of duties
==========  =====================  ===============================
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from rating.dossiers import local_date
from rating.metrics import json_number, ratio_tenth

INDICATORS: tuple[int, ...] = (1, 2, 3, 4, 7)
LEVEL_FULL = "100"
LEVEL_PARTIAL = "70_100"
LEVEL_LOW = "lt70"
LEVELS: tuple[str, ...] = (LEVEL_FULL, LEVEL_PARTIAL, LEVEL_LOW)

_FULL_FROM = Decimal("5")
_PARTIAL_FROM = Decimal("3.5")
_CONTACT_POINTS = {"0": 2, "1": 1, "2+": 0}
_AGENCY_POINTS = {"1": 2, "2": 1, "3+": 0}

Moment = date | datetime


def timeliness(returned: Moment, due: Moment) -> int:
    """-1 early, 0 on the due date, 1 late: compared on local (Asia/Ho_Chi_Minh) dates."""
    returned_day, due_day = local_date(returned), local_date(due)
    return (returned_day > due_day) - (returned_day < due_day)


def indicator_1(returned: Moment, due: Moment) -> int:
    """Result returned before (2), on (1) or after (0) the due date."""
    return 1 - timeliness(returned, due)


def indicator_2(stages: Iterable[tuple[Moment, Moment]]) -> int | None:
    """Stage deadlines, as (done, due) pairs: 2 all early, 1 none late, 0 any late.

    Only where the one-stop system pushes stage deadlines; None (no data) without stages. The
    worst stage decides, as for the dossier itself under indicator 1.
    """
    points = [indicator_1(done, due) for done, due in stages]
    return min(points) if points else None


def indicator_3(contacts: str) -> int:
    """``contacts`` answer of phiếu 1 ('0', '1', '2+') → 2, 1, 0 points."""
    try:
        return _CONTACT_POINTS[contacts]
    except KeyError:
        raise ValueError(f"contacts must be one of '0', '1', '2+', not {contacts!r}") from None


def indicator_4(agencies: str) -> int:
    """``agencies`` answer of phiếu 2 ('1', '2', '3+') → 2, 1, 0 points."""
    try:
        return _AGENCY_POINTS[agencies]
    except KeyError:
        raise ValueError(f"agencies must be one of '1', '2', '3+', not {agencies!r}") from None


def indicator_7(returned: Moment, due: Moment, misconduct_confirmed: int) -> int:
    """Early with no confirmed misconduct → 2; on time and none → 1; late or any confirmed → 0."""
    if misconduct_confirmed < 0:
        raise ValueError("misconduct_confirmed must not be negative")
    if misconduct_confirmed:
        return 0
    # Without confirmed misconduct the points follow timeliness exactly as indicator 1 does.
    return indicator_1(returned, due)


@dataclass(frozen=True)
class OfficerScore:
    """TT 01 score of one officer: per-indicator means, their sum and its level code."""

    means: Mapping[int, Decimal]
    score: Decimal | None
    level: str | None

    def to_dict(self) -> dict[str, object]:
        return {
            "means": {str(key): json_number(value) for key, value in self.means.items()},
            "score": json_number(self.score),
            "level": self.level,
        }


def level_for(score: Decimal) -> str:
    """Level code of a score: ``100`` (≥ 5), ``70_100`` (3.5 to < 5) or ``lt70`` (< 3.5)."""
    if score >= _FULL_FROM:
        return LEVEL_FULL
    if score >= _PARTIAL_FROM:
        return LEVEL_PARTIAL
    return LEVEL_LOW


def officer_score(points: Mapping[int, Sequence[int]]) -> OfficerScore:
    """Score an officer from each indicator's per-dossier points (e.g. ``{1: [2, 1], 3: [2]}``).

    Indicators with no points are left out; with no data at all the score and level are None.
    """
    means: dict[int, Decimal] = {}
    for indicator in sorted(points):
        if indicator not in INDICATORS:
            raise ValueError(f"indicator {indicator} is not one of {INDICATORS}")
        values = points[indicator]
        for value in values:
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 2:
                raise ValueError(f"indicator {indicator}: points must be 0, 1 or 2, not {value!r}")
        if values:
            means[indicator] = ratio_tenth(sum(values), len(values))
    if not means:
        return OfficerScore(means={}, score=None, level=None)
    # Each mean is at most 2 and there are at most 5 indicators, so the sum is at most 10.
    score = sum(means.values(), Decimal(0))
    return OfficerScore(means=means, score=score, level=level_for(score))
