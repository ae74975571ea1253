"""Đắk Lắk 2025 (seed 002) from a CSV: read the units, assess each group, word the outcome.

Shared by ``flask index daklak`` and the page /dashboard/index/daklak; nothing is stored. The
wording is the regulation's (Vietnamese, like the engine's labels), so both say the same.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from rating.index.daklak import (
    INDEX_GROUPS,
    QUALITY_LABELS,
    REFORM_LABELS,
    DaklakError,
    GroupResult,
    UnitOutcome,
    UnitScores,
    assess_group,
)

COLUMNS = ("unit", "group", "c1", "c2", "c3", "c4", "c5", "deductions", "head_disciplined")
PENDING_LEVEL = "chờ Chủ tịch UBND tỉnh quyết định"
_DISCIPLINED = frozenset({"1", "x", "co", "có", "yes", "true"})
NO_GROUP = "-"

SAMPLE_CSV = (
    ",".join(COLUMNS) + "\n"
    "SO_NOI_VU,co_quan_tinh,44,34,11,5,2,0,\n"
    "SO_TAI_CHINH,co_quan_tinh,40,30,10,4,1,0.5,\n"
    "SO_XAY_DUNG,co_quan_tinh,35,28,9,4,,1,x\n"
    "XA_EA_KAO,xa_phuong,42,33,11,5,3,0,\n"
    "PHUONG_BUON_MA_THUOT,xa_phuong,30,25,8,3,0,2,\n"
)
"""A small file in the expected layout, offered for download on the page."""


class DaklakFileError(ValueError):
    """A file that cannot be assessed; the message (Vietnamese) names the line or the group."""


@dataclass(frozen=True)
class GroupReport:
    """One index group assessed, with the lines a person reads."""

    group: str
    title: str
    result: GroupResult
    summary: str
    cap_tie: str | None


def read_units(text: str) -> dict[str, list[UnitScores]]:
    """The units of a CSV (``COLUMNS``), by group in the file's order; an empty cell in c1–c5
    is a content the unit is not assigned. Raises DaklakFileError naming the line."""
    groups: dict[str, list[UnitScores]] = {}
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    try:
        for line, record in enumerate(reader, start=2):
            _read_record(groups, line, record)
    except csv.Error:
        raise DaklakFileError(f"Dòng {reader.line_num}: không đọc được dòng CSV.") from None
    return groups


def _read_record(groups: dict[str, list[UnitScores]], line: int, record: dict[str, str]) -> None:
    try:
        contents = {number: _optional_decimal(record.get(f"c{number}")) for number in range(1, 6)}
        deductions = _optional_decimal(record.get("deductions")) or Decimal(0)
    except InvalidOperation:
        raise DaklakFileError(f"Dòng {line}: số không hợp lệ.") from None
    disciplined = (record.get("head_disciplined") or "").strip().lower()
    groups.setdefault((record.get("group") or "").strip() or NO_GROUP, []).append(
        UnitScores(
            unit=(record.get("unit") or "").strip(),
            contents=contents,
            deductions=deductions,
            head_disciplined=disciplined in _DISCIPLINED,
        )
    )


def assess(groups: dict[str, list[UnitScores]]) -> list[GroupReport]:
    """Every group assessed, in the file's order; raises DaklakFileError on the first group
    the engine refuses."""
    return [assess_one(group, units) for group, units in groups.items()]


def assess_one(group: str, units: list[UnitScores]) -> GroupReport:
    """One group assessed, or DaklakFileError ("Nhóm …: " and the engine's reason)."""
    try:
        result = assess_group(units)
    except DaklakError as error:
        raise DaklakFileError(f"Nhóm {group}: {error}") from None
    cap_tie = None
    if result.cap_tie is not None:
        cap_tie = (
            f"Chủ tịch UBND tỉnh chọn {result.cap_tie.slots} trong số "
            f"{', '.join(result.cap_tie.units)} để xếp hoàn thành xuất sắc."
        )
    return GroupReport(
        group=group,
        title=INDEX_GROUPS.get(group, group),
        result=result,
        summary=(
            f"{result.good_or_better} đơn vị từ hoàn thành tốt trở lên; "
            f"tối đa {result.excellent_slots} đơn vị hoàn thành xuất sắc (20%)."
        ),
        cap_tie=cap_tie,
    )


def level_text(outcome: UnitOutcome) -> str:
    """The quality level, or that the chairman has still to decide (a tie at the 20% cap)."""
    return PENDING_LEVEL if outcome.level is None else QUALITY_LABELS[outcome.level]


def reform_text(outcome: UnitOutcome) -> str:
    return REFORM_LABELS[outcome.reform_level]


def notes(outcome: UnitOutcome) -> list[str]:
    """Why the level is not the percent's alone, and the units tied with this one."""
    found = []
    if "head_disciplined" in outcome.reasons:
        found.append("người đứng đầu/cấp phó bị kỷ luật")
    if "cap" in outcome.reasons:
        found.append("vượt tỷ lệ 20%")
    if outcome.tie_with:
        found.append("bằng điểm với " + ", ".join(outcome.tie_with) + ": Chủ tịch quyết định")
    return found


def _optional_decimal(text: str | None) -> Decimal | None:
    """A number written with a dot or a comma, None for an empty cell; NaN and infinities are
    not numbers here."""
    text = (text or "").strip()
    if not text:
        return None
    value = Decimal(text.replace(",", "."))
    if not value.is_finite():
        raise InvalidOperation(text)
    return value
