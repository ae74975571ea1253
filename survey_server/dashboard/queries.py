"""What the month page, the officer page and the exports read: a fixed number of queries per
page, never one per officer (bench/dashboard_month.py measures it)."""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from ..extensions import DbSession
from ..models import (
    MisconductReport,
    Officer,
    OfficerMonthRecord,
    OfficerRating,
    Response,
    Unit,
    UnitMonth,
    response_officers,
)
from ..services.rating_job import current_ratings, first_of_month, officer_history, previous_month
from ..timeutil import LOCAL_TZ, month_bounds

#: No breakdown (per-question averages, comments) from fewer forms than this: it could point
#: at the citizen who answered.
MIN_BREAKDOWN_FORMS = 5
BANDS = ("hoan_thanh_xuat_sac", "hoan_thanh_tot", "hoan_thanh", "khong_hoan_thanh")


def months_back(month: dt.date, count: int) -> list[dt.date]:
    """``count`` months ending with ``month``, oldest first."""
    months = [first_of_month(month)]
    while len(months) < count:
        months.append(previous_month(months[-1]))
    return list(reversed(months))


def local_now_month(now: dt.datetime) -> dt.date:
    return now.astimezone(LOCAL_TZ).date().replace(day=1)


def fold(text: str) -> str:
    """``text`` for a search that ignores case, Vietnamese accents and extra spaces.

    "Nguyễn  Văn" and "nguyen van" fold alike. "đ" is a letter of its own in Unicode (it does
    not decompose), so it is mapped to "d" by hand.
    """
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(bare.casefold().split())


def officer_matches(officer: Officer, needle: str) -> bool:
    """Whether the folded ``needle`` is part of the officer's name or code."""
    return needle in fold(officer.name) or needle in fold(officer.code)


@dataclass
class OfficerRow:
    officer: Officer
    rating: OfficerRating | None
    previous_band: str | None

    @property
    def band(self) -> str | None:
        return self.rating.band if self.rating else None

    def metric(self, name: str) -> Any:
        return self.rating.metrics.get(name) if self.rating else None

    @property
    def change(self) -> int:
        """+1 better than last month, -1 worse, 0 same or unknown."""
        if not self.band or not self.previous_band:
            return 0
        if self.band not in BANDS or self.previous_band not in BANDS:
            return 0
        return BANDS.index(self.previous_band) - BANDS.index(self.band)


@dataclass
class ReportRow:
    report: MisconductReport
    officer: Officer
    answered_at: dt.datetime
    comment: str | None


@dataclass
class MonthView:
    unit: Unit
    month: dt.date
    rows: list[OfficerRow]
    state: UnitMonth | None
    reports: list[ReportRow]
    history: dict[dt.date, Counter[str]] = field(default_factory=dict)
    satisfaction: dict[dt.date, float | None] = field(default_factory=dict)

    @property
    def approved(self) -> bool:
        return self.state is not None and self.state.state == "approved"

    @property
    def pending_reports(self) -> list[ReportRow]:
        return [row for row in self.reports if row.report.status == "pending"]

    def band_counts(self) -> Counter[str]:
        return Counter(row.band or "" for row in self.rows)


def _history(
    session: DbSession, unit_ids: Sequence[int], months: list[dt.date]
) -> tuple[dict[dt.date, Counter[str]], dict[dt.date, float | None]]:
    """Band counts and the unit's satisfied % per month (latest revisions; one query)."""
    rows = session.execute(
        select(
            OfficerRating.officer_id,
            OfficerRating.month,
            OfficerRating.revision,
            OfficerRating.band,
            OfficerRating.metrics,
        ).where(
            OfficerRating.unit_id.in_(list(unit_ids)),
            OfficerRating.month >= months[0],
            OfficerRating.month <= months[-1],
        )
    ).all()
    latest: dict[tuple[int, dt.date], Any] = {}
    for row in rows:
        key = (row.officer_id, row.month)
        if key not in latest or latest[key].revision < row.revision:
            latest[key] = row
    bands: dict[dt.date, Counter[str]] = {month: Counter() for month in months}
    forms: Counter[dt.date] = Counter()
    satisfied: Counter[dt.date] = Counter()
    for (_, month), row in latest.items():
        bands[month][row.band] += 1
        forms[month] += int(row.metrics.get("forms") or 0)
        satisfied[month] += int(row.metrics.get("satisfied") or 0)
    trend = {
        month: (round(100 * satisfied[month] / forms[month], 1) if forms[month] else None)
        for month in months
    }
    return bands, trend


def _bands_of(session: DbSession, unit_id: int, month: dt.date) -> dict[int, str]:
    """Each officer's latest band of a month (no metrics or reasons loaded)."""
    latest: dict[int, tuple[int, str]] = {}
    query = select(OfficerRating.officer_id, OfficerRating.revision, OfficerRating.band).where(
        OfficerRating.unit_id == unit_id, OfficerRating.month == month
    )
    for officer_id, revision, band in session.execute(query):
        if officer_id not in latest or latest[officer_id][0] < revision:
            latest[officer_id] = (revision, band)
    return {officer_id: band for officer_id, (_, band) in latest.items()}


def month_reports(session: DbSession, unit_id: int, month: dt.date) -> list[ReportRow]:
    """The misconduct reports of the unit's month, with the citizen's comment (one query).

    Only the comment and the day are read: nothing that identifies the citizen is.
    """
    start, end = month_bounds(month.year, month.month)
    query = (
        select(MisconductReport, Officer, Response.answered_at, Response.answers)
        .join(Officer, Officer.id == MisconductReport.officer_id)
        .join(Response, Response.id == MisconductReport.response_id)
        .where(
            Officer.unit_id == unit_id,
            Response.valid,
            Response.answered_at >= start,
            Response.answered_at < end,
        )
        .order_by(MisconductReport.status != "pending", Response.answered_at, MisconductReport.id)
    )
    result = []
    for report, officer, answered_at, answers in session.execute(query):
        comment = answers.get("comment") if isinstance(answers, dict) else None
        result.append(ReportRow(report, officer, answered_at, comment or None))
    return result


def month_view(
    session: DbSession,
    unit: Unit,
    month: dt.date,
    *,
    group: str | None = None,
    band: str | None = None,
    search: str | None = None,
    history_months: int = 12,
) -> MonthView:
    """Everything the month page of a unit shows, in seven queries whatever the staff size.

    ``group``, ``band`` and ``search`` (part of a name or code, accents ignored) narrow the
    officers listed, in memory.
    """
    month = first_of_month(month)
    officers = list(
        session.scalars(
            select(Officer).where(Officer.unit_id == unit.id).order_by(Officer.group, Officer.code)
        )
    )
    ratings = {rating.officer_id: rating for rating in current_ratings(session, [unit.id], month)}
    before = _bands_of(session, unit.id, previous_month(month))
    # Officers moved out of the unit keep their rating of the month here.
    listed = {officer.id for officer in officers}
    officers += [rating.officer for rating in ratings.values() if rating.officer_id not in listed]
    rows = [
        OfficerRow(officer, ratings.get(officer.id), before.get(officer.id))
        for officer in officers
        if officer.active or officer.id in ratings
    ]
    if group:
        rows = [
            row for row in rows if (row.rating.group if row.rating else row.officer.group) == group
        ]
    if band:
        rows = [row for row in rows if (row.band or "none") == band]
    needle = fold(search or "")
    if needle:
        rows = [row for row in rows if officer_matches(row.officer, needle)]
    state = session.scalar(
        select(UnitMonth).where(UnitMonth.unit_id == unit.id, UnitMonth.month == month)
    )
    bands, trend = _history(session, [unit.id], months_back(month, history_months))
    return MonthView(unit, month, rows, state, month_reports(session, unit.id, month), bands, trend)


@dataclass
class QuestionAverage:
    id: str
    text: str
    average: float | None
    count: int


@dataclass
class OfficerView:
    officer: Officer
    month: dt.date
    history: list[OfficerRating]
    rating: OfficerRating | None
    record: OfficerMonthRecord | None
    forms: int
    questions: list[QuestionAverage]
    comments: list[str]

    @property
    def breakdown_allowed(self) -> bool:
        return self.forms >= MIN_BREAKDOWN_FORMS


def officer_responses(
    session: DbSession, officer_id: int, month: dt.date
) -> list[tuple[str, dict[str, Any]]]:
    """(form, answers) of the valid forms about the officer in the month."""
    start, end = month_bounds(month.year, month.month)
    query = (
        select(Response.form, Response.answers)
        .join(response_officers, response_officers.c.response_id == Response.id)
        .where(
            response_officers.c.officer_id == officer_id,
            Response.valid,
            Response.answered_at >= start,
            Response.answered_at < end,
        )
        .order_by(Response.answered_at)
    )
    return [(form, answers) for form, answers in session.execute(query)]


def question_averages(
    responses: Iterable[tuple[str, dict[str, Any]]], forms: dict[str, Any], lang: str
) -> tuple[list[QuestionAverage], list[str]]:
    """Mean of every 1–5 question, in form order, and the comments (free text)."""
    totals: Counter[tuple[str, str]] = Counter()
    counts: Counter[tuple[str, str]] = Counter()
    comments: list[str] = []
    used_forms: list[str] = []
    for form_id, answers in responses:
        if form_id not in used_forms:
            used_forms.append(form_id)
        definition = forms.get(form_id)
        if definition is None:
            continue
        for question in definition.questions:
            value = answers.get(question.id)
            if question.kind == "scale5" and isinstance(value, int) and 1 <= value <= 5:
                totals[(form_id, question.id)] += value
                counts[(form_id, question.id)] += 1
            elif question.kind == "text" and isinstance(value, str) and value.strip():
                comments.append(value.strip())
    averages = []
    for form_id in used_forms:
        definition = forms.get(form_id)
        if definition is None:
            continue
        for question in definition.questions:
            if question.kind != "scale5":
                continue
            count = counts[(form_id, question.id)]
            average = round(totals[(form_id, question.id)] / count, 2) if count else None
            averages.append(QuestionAverage(question.id, question.text_in(lang), average, count))
    return averages, comments


def officer_view(
    session: DbSession, officer: Officer, month: dt.date, forms: dict[str, Any], lang: str
) -> OfficerView:
    month = first_of_month(month)
    history = officer_history(session, officer.id, months=12)
    history = [rating for rating in history if rating.month <= month][-12:]
    rating = next((r for r in history if r.month == month), None)
    record = session.scalar(
        select(OfficerMonthRecord).where(
            OfficerMonthRecord.officer_id == officer.id, OfficerMonthRecord.month == month
        )
    )
    responses = officer_responses(session, officer.id, month)
    questions, comments = question_averages(responses, forms, lang)
    return OfficerView(officer, month, history, rating, record, len(responses), questions, comments)
