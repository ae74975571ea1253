"""Đắk Lắk 2025 (seed 002): the quality of agencies' work and the reform result.

Three indices (provincial agencies, public service units, communes and wards) share six contents
(seed 002, I.4.b): 1 tasks by function 45, 2 administrative reform 35, 3 survey 12, 4 the
chairman's score 5, 5 bonus 3, 6 deductions (no maximum; entered as points to subtract).

- Quality percent = all six contents ÷ the applicable maximum × 100 (one decimal, half up). A
  content the unit is not assigned ("không đánh giá") leaves the maximum.
- Levels (I.5.a): < 60 không hoàn thành; 60–< 75 hoàn thành; 75–< 90 hoàn thành tốt; ≥ 90 hoàn
  thành xuất sắc only if no head or deputy was disciplined that year, and for at most 20% of the
  units at "hoàn thành tốt" or better in the same index group (rounded down); the others fall to
  hoàn thành tốt.
- Order: percent, then content 1, then content 2, all highest first; units still equal are a tie
  that the chairman decides. When such a tie straddles the 20% cap, those units have no level
  until the chairman has chosen (``pending``), and the tie says how many of them may be excellent.
- Reform result (I.5.b) on contents 2–6 only: < 50 Yếu, 50–< 70 Trung bình, 70–< 80 Khá, ≥ 80 Tốt.

Pure and standard library only: the facts are arguments.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Final, Literal

from rating.index._numbers import as_points, exact_sum, percent

ContentNo = Literal[1, 2, 3, 4, 5, 6]
QualityLevel = Literal["xuat_sac", "tot", "hoan_thanh", "khong_hoan_thanh"]
ReformLevel = Literal["tot", "kha", "trung_binh", "yeu"]

CONTENT_MAXIMA: Final[Mapping[int, Decimal]] = {
    1: Decimal(45),
    2: Decimal(35),
    3: Decimal(12),
    4: Decimal(5),
    5: Decimal(3),
}
"""Maximum points per content; content 6 (deductions) has none."""

CONTENT_TITLES: Final[Mapping[int, str]] = {
    1: "Kết quả thực hiện nhiệm vụ theo chức năng",
    2: "Kết quả thực hiện cải cách hành chính và xây dựng cơ quan, đơn vị hoạt động hiệu lực, "
    "hiệu năng, hiệu quả",
    3: "Điểm đánh giá thông qua điều tra, khảo sát",
    4: "Điểm đánh giá của Chủ tịch, các Phó Chủ tịch UBND tỉnh",
    5: "Điểm cộng",
    6: "Điểm trừ",
}

INDEX_GROUPS: Final[Mapping[str, str]] = {
    "co_quan_tinh": "Chỉ số 01: cơ quan cấp tỉnh",
    "don_vi_su_nghiep": "Chỉ số 02: đơn vị sự nghiệp công lập trực thuộc UBND tỉnh",
    "xa_phuong": "Chỉ số 03: UBND các xã, phường",
}

QUALITY_LABELS: Final[Mapping[QualityLevel, str]] = {
    "xuat_sac": "Hoàn thành xuất sắc nhiệm vụ",
    "tot": "Hoàn thành tốt nhiệm vụ",
    "hoan_thanh": "Hoàn thành nhiệm vụ",
    "khong_hoan_thanh": "Không hoàn thành nhiệm vụ",
}

REFORM_LABELS: Final[Mapping[ReformLevel, str]] = {
    "tot": "Tốt",
    "kha": "Khá",
    "trung_binh": "Trung bình",
    "yeu": "Yếu",
}

EXCELLENT_MIN: Final = Decimal(90)
GOOD_MIN: Final = Decimal(75)
DONE_MIN: Final = Decimal(60)
EXCELLENT_SHARE: Final = Decimal("0.2")
_REFORM_CUTS: Final[tuple[tuple[Decimal, ReformLevel], ...]] = (
    (Decimal(80), "tot"),
    (Decimal(70), "kha"),
    (Decimal(50), "trung_binh"),
)


class DaklakError(ValueError):
    """Scores that cannot be used, naming the unit and the content."""


@dataclass(frozen=True)
class UnitScores:
    """One unit's points for a year. ``contents`` maps 1–5 to points, or None for a content the
    unit is not assigned; ``deductions`` (content 6) is the number of points to subtract."""

    unit: str
    contents: Mapping[int, Decimal | None]
    deductions: Decimal = Decimal(0)
    head_disciplined: bool = False


@dataclass(frozen=True)
class UnitOutcome:
    unit: str
    total: Decimal
    applicable_max: Decimal
    quality_percent: Decimal
    by_percent: QualityLevel
    """The level the percent alone gives (before the discipline condition and the cap)."""
    level: QualityLevel | None
    """None while the unit is in a tie at the 20% cap that the chairman must decide."""
    reasons: tuple[str, ...]
    rank: int
    tie_with: tuple[str, ...]
    """Other units with the same percent, content 1 and content 2: the chairman orders them."""
    reform_total: Decimal
    reform_max: Decimal
    reform_percent: Decimal
    reform_level: ReformLevel

    @property
    def pending(self) -> bool:
        return self.level is None

    @property
    def chairman_decides(self) -> bool:
        return bool(self.tie_with)


@dataclass(frozen=True)
class CapTie:
    """Units tied at the 20% cap: ``slots`` of them may be excellent, the chairman chooses."""

    units: tuple[str, ...]
    slots: int


@dataclass(frozen=True)
class GroupResult:
    """The outcome of one index group (Chỉ số 01, 02 or 03)."""

    outcomes: tuple[UnitOutcome, ...]
    """In ranking order."""
    good_or_better: int
    excellent_slots: int
    cap_tie: CapTie | None

    def __getitem__(self, unit: str) -> UnitOutcome:
        for outcome in self.outcomes:
            if outcome.unit == unit:
                return outcome
        raise KeyError(unit)


def level_by_percent(quality_percent: Decimal) -> QualityLevel:
    """The level the percent alone gives, before the discipline condition and the 20% cap."""
    if quality_percent >= EXCELLENT_MIN:
        return "xuat_sac"
    if quality_percent >= GOOD_MIN:
        return "tot"
    if quality_percent >= DONE_MIN:
        return "hoan_thanh"
    return "khong_hoan_thanh"


def reform_level(reform_percent: Decimal) -> ReformLevel:
    for minimum, level in _REFORM_CUTS:
        if reform_percent >= minimum:
            return level
    return "yeu"


def excellent_slots(good_or_better: int) -> int:
    """At most 20% of the units at "hoàn thành tốt" or better, rounded down ("không quá")."""
    return int(EXCELLENT_SHARE * good_or_better)


def assess_group(units: Iterable[UnitScores]) -> GroupResult:
    """Levels, ranking and reform results of every unit of one index group."""
    scored = [_score(unit) for unit in units]
    names = [entry.unit.unit for entry in scored]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise DaklakError(f"đơn vị ghi hai lần: {', '.join(duplicates)}")

    ordered = sorted(scored, key=lambda entry: (_order_key(entry), entry.unit.unit))
    ranks: dict[str, int] = {}
    ties: dict[str, tuple[str, ...]] = {}
    for entry in ordered:
        same = [other for other in ordered if _order_key(other) == _order_key(entry)]
        ranks[entry.unit.unit] = ordered.index(same[0]) + 1
        ties[entry.unit.unit] = tuple(o.unit.unit for o in same if o is not entry)

    good_or_better = sum(1 for entry in scored if entry.percent >= GOOD_MIN)
    slots = excellent_slots(good_or_better)
    candidates = [
        entry
        for entry in ordered
        if entry.percent >= EXCELLENT_MIN and not entry.unit.head_disciplined
    ]
    excellent: set[str] = set()
    pending: set[str] = set()
    cap_tie: CapTie | None = None
    remaining = slots
    groups: list[list[_Scored]] = []
    for entry in candidates:
        if groups and _order_key(groups[-1][0]) == _order_key(entry):
            groups[-1].append(entry)
        else:
            groups.append([entry])
    for group in groups:
        if remaining <= 0:
            break
        if len(group) <= remaining:
            excellent.update(entry.unit.unit for entry in group)
            remaining -= len(group)
        else:
            pending.update(entry.unit.unit for entry in group)
            cap_tie = CapTie(units=tuple(entry.unit.unit for entry in group), slots=remaining)
            remaining = 0

    outcomes = []
    for entry in ordered:
        name = entry.unit.unit
        by_percent = level_by_percent(entry.percent)
        level: QualityLevel | None = by_percent
        reasons: list[str] = []
        if by_percent == "xuat_sac":
            if entry.unit.head_disciplined:
                level = "tot"
                reasons.append("head_disciplined")
            elif name in pending:
                level = None
                reasons.append("cap_tie")
            elif name not in excellent:
                level = "tot"
                reasons.append("cap")
        outcomes.append(
            UnitOutcome(
                unit=name,
                total=entry.total,
                applicable_max=entry.applicable_max,
                quality_percent=entry.percent,
                by_percent=by_percent,
                level=level,
                reasons=tuple(reasons),
                rank=ranks[name],
                tie_with=ties[name],
                reform_total=entry.reform_total,
                reform_max=entry.reform_max,
                reform_percent=entry.reform_percent,
                reform_level=reform_level(entry.reform_percent),
            )
        )
    return GroupResult(
        outcomes=tuple(outcomes),
        good_or_better=good_or_better,
        excellent_slots=slots,
        cap_tie=cap_tie,
    )


@dataclass(frozen=True)
class _Scored:
    unit: UnitScores
    total: Decimal
    applicable_max: Decimal
    percent: Decimal
    content1: Decimal
    content2: Decimal
    reform_total: Decimal
    reform_max: Decimal
    reform_percent: Decimal


def _order_key(entry: _Scored) -> tuple[Decimal, Decimal, Decimal]:
    return (-entry.percent, -entry.content1, -entry.content2)


def _score(unit: UnitScores) -> _Scored:
    contents: dict[int, Decimal | None] = {}
    for number in unit.contents:
        if number not in CONTENT_MAXIMA:
            raise DaklakError(
                f"{unit.unit}: không có nội dung {number} (chỉ có 1–5; điểm trừ ghi riêng)"
            )
    for number, maximum in CONTENT_MAXIMA.items():
        if number not in unit.contents:
            raise DaklakError(
                f"{unit.unit}: thiếu nội dung {number} (để trống nếu không được giao)"
            )
        raw = unit.contents[number]
        if raw is None:
            contents[number] = None
            continue
        value = as_points(raw) if not isinstance(raw, float) else None
        if value is None or not 0 <= value <= maximum:
            raise DaklakError(
                f"{unit.unit}: nội dung {number} = {raw}, phải từ 0 đến {maximum} điểm"
            )
        contents[number] = value
    deductions = as_points(unit.deductions) if not isinstance(unit.deductions, float) else None
    if deductions is None or deductions < 0:
        raise DaklakError(f"{unit.unit}: điểm trừ = {unit.deductions}, phải từ 0 điểm trở lên")
    applicable = [number for number, value in contents.items() if value is not None]
    if not applicable:
        raise DaklakError(f"{unit.unit}: không được giao nội dung nào")
    applicable_max = exact_sum([CONTENT_MAXIMA[number] for number in applicable])
    total = exact_sum([value for value in contents.values() if value is not None]) - deductions
    reform_numbers = [number for number in applicable if number >= 2]
    reform_max = exact_sum([CONTENT_MAXIMA[number] for number in reform_numbers])
    reform_total = exact_sum(_present(contents, reform_numbers)) - deductions
    if reform_max == 0:
        raise DaklakError(f"{unit.unit}: không được giao nội dung nào trong các nội dung 2 đến 5")
    return _Scored(
        unit=unit,
        total=total,
        applicable_max=applicable_max,
        percent=percent(total, applicable_max),
        content1=contents[1] or Decimal(0),
        content2=contents[2] or Decimal(0),
        reform_total=reform_total,
        reform_max=reform_max,
        reform_percent=percent(reform_total, reform_max),
    )


def _present(contents: Mapping[int, Decimal | None], numbers: Sequence[int]) -> list[Decimal]:
    return [value for number in numbers if (value := contents[number]) is not None]
