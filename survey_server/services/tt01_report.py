"""The TT 01/2018 quarterly report: gather a quarter's facts, keep the desks' entries, export.

The rules are pure (``rating/tt01_report.py``); this module reads the dossiers returned in the
quarter with the answers and confirmed misconduct reports tied to them, keeps the indicators 5,
6, 8 and 9 that heads enter per one-stop desk (centre), and writes the xlsx.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal

from flask import current_app, has_request_context
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from rating.tt01_report import (
    AGENCY_INDICATORS,
    DESK_INDICATORS,
    AgencyScore,
    DossierFacts,
    OfficerReport,
    Quarter,
    agency_score,
    officer_reports,
)

from ..extensions import DbSession
from ..models import Centre, Dossier, MisconductReport, Officer, Response, Tt01DeskEntry, Unit
from ..timeutil import LOCAL_TZ
from . import audit

# Short titles for the report. Indicators 1-4 and 7 follow rating-rules.md; the wording of 5, 6,
# 8 and 9 is ours (they are entered by hand), to check against the circular's published text.
INDICATOR_TITLES = {
    1: _l("Time to resolve against the appointment date"),
    2: _l("Time taken by each step and agency"),
    3: _l("Times contacted to complete the dossier"),
    4: _l("Agencies contacted to get the result"),
    5: _l("Procedures offered as online public services"),
    6: _l("Procedures published in full, as required"),
    7: _l("Conduct: no harassment or trouble-making"),
    8: _l("Feedback and complaints taken up and answered"),
    9: _l("Apology for late or faulty results"),
}
LEVEL_LABELS = {
    "100": _l("Completed 100 percent of duties"),
    "70_100": _l("Completed 70 to under 100 percent of duties"),
    "lt70": _l("Completed under 70 percent of duties"),
}
BAND_LABELS = {
    "xuat_sac": _l("Excellent"),
    "tot": _l("Good"),
    "kha": _l("Fair"),
    "trung_binh": _l("Average"),
    "yeu": _l("Weak"),
}


class DeskEntryError(ValueError):
    """Entered points that are not 0, 1, 2 or empty; ``problems`` maps field → message code."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__(", ".join(f"{key}: {value}" for key, value in problems.items()))
        self.problems = problems


@dataclass(frozen=True)
class OfficerRow:
    officer_id: int
    code: str
    name: str
    group: str
    report: OfficerReport


@dataclass(frozen=True)
class DeskRow:
    centre: Centre
    values: dict[int, int | None]
    entry: Tt01DeskEntry | None


@dataclass(frozen=True)
class UnitReport:
    unit: Unit
    quarter: Quarter
    agency: AgencyScore
    officers: list[OfficerRow]
    desks: list[DeskRow]


def quarter_bounds(quarter: Quarter) -> tuple[dt.datetime, dt.datetime]:
    """The UTC instants that start this quarter and the next one in local time."""

    def start(day: dt.date) -> dt.datetime:
        return dt.datetime(day.year, day.month, day.day, tzinfo=LOCAL_TZ).astimezone(dt.UTC)

    return start(quarter.first_day), start(quarter.next_first_day)


def dossier_facts(session: DbSession, unit_id: int, quarter: Quarter) -> list[DossierFacts]:
    """The unit's dossiers returned in the quarter, with their phiếu answers and confirmed
    misconduct (only valid answers count)."""
    begin, end = quarter_bounds(quarter)
    dossiers = session.scalars(
        select(Dossier)
        .where(Dossier.unit_id == unit_id, Dossier.returned_at >= begin, Dossier.returned_at < end)
        .options(selectinload(Dossier.reception_officer), selectinload(Dossier.resolving_officers))
        .order_by(Dossier.code)
    ).all()
    ids = [dossier.id for dossier in dossiers]
    answers: dict[tuple[int, str], dict[str, object]] = {}
    confirmed: dict[int, list[str]] = {}
    if ids:
        for response in session.scalars(
            select(Response)
            .where(Response.dossier_id.in_(ids), Response.valid.is_(True))
            .order_by(Response.answered_at)
        ):
            assert response.dossier_id is not None
            answers[(response.dossier_id, response.form)] = response.answers
        rows = session.execute(
            select(Response.dossier_id, Officer.code)
            .join(MisconductReport, MisconductReport.response_id == Response.id)
            .join(Officer, Officer.id == MisconductReport.officer_id)
            .where(Response.dossier_id.in_(ids), MisconductReport.status == "confirmed")
            .order_by(Officer.code)
        )
        for dossier_id, officer_code in rows:
            if dossier_id is not None:  # always, given the filter; narrows the type
                confirmed.setdefault(dossier_id, []).append(officer_code)
    facts = []
    for dossier in dossiers:
        assert dossier.returned_at is not None
        contacts = answers.get((dossier.id, "phieu1"), {}).get("contacts")
        agencies = answers.get((dossier.id, "phieu2"), {}).get("agencies")
        facts.append(
            DossierFacts(
                code=dossier.code,
                reception=dossier.reception_officer.code,
                resolvers=tuple(officer.code for officer in dossier.resolving_officers),
                returned_at=dossier.returned_at,
                due_at=dossier.due_at,
                contacts=contacts if isinstance(contacts, str) else None,
                agencies=agencies if isinstance(agencies, str) else None,
                misconduct_confirmed=tuple(confirmed.get(dossier.id, ())),
            )
        )
    return facts


def _values(entry: Tt01DeskEntry | None) -> dict[int, int | None]:
    if entry is None:
        return dict.fromkeys(DESK_INDICATORS)
    return {
        5: entry.indicator_5,
        6: entry.indicator_6,
        8: entry.indicator_8,
        9: entry.indicator_9,
    }


def desk_rows(session: DbSession, unit_id: int, quarter: Quarter) -> list[DeskRow]:
    """Every centre of the unit with what was entered for the quarter (None where nothing)."""
    centres = session.scalars(
        select(Centre).where(Centre.unit_id == unit_id).order_by(Centre.code)
    ).all()
    entries = {
        entry.centre_id: entry
        for entry in session.scalars(
            select(Tt01DeskEntry).where(
                Tt01DeskEntry.centre_id.in_([centre.id for centre in centres]),
                Tt01DeskEntry.year == quarter.year,
                Tt01DeskEntry.quarter == quarter.number,
            )
        )
    }
    return [
        DeskRow(centre, _values(entries.get(centre.id)), entries.get(centre.id))
        for centre in centres
    ]


def save_desk_entry(
    session: DbSession,
    centre: Centre,
    quarter: Quarter,
    values: Mapping[int, int | None],
    actor: str,
    user_id: int | None = None,
) -> Tt01DeskEntry:
    """Record (or replace) a desk's indicators 5, 6, 8, 9 for a quarter; audited, one commit."""
    problems = {
        f"indicator_{indicator}": "not_points"
        for indicator, value in values.items()
        if indicator not in DESK_INDICATORS
        or (value is not None and (isinstance(value, bool) or value not in (0, 1, 2)))
    }
    if problems:
        raise DeskEntryError(problems)
    entry = session.scalar(
        select(Tt01DeskEntry).where(
            Tt01DeskEntry.centre_id == centre.id,
            Tt01DeskEntry.year == quarter.year,
            Tt01DeskEntry.quarter == quarter.number,
        )
    )
    before = _values(entry)
    if entry is None:
        entry = Tt01DeskEntry(centre_id=centre.id, year=quarter.year, quarter=quarter.number)
        session.add(entry)
    after = {indicator: values.get(indicator) for indicator in DESK_INDICATORS}
    entry.indicator_5, entry.indicator_6 = after[5], after[6]
    entry.indicator_8, entry.indicator_9 = after[8], after[9]
    entry.entered_by_id = user_id
    entry.entered_at = dt.datetime.now(dt.UTC)
    audit.record(
        session,
        actor,
        "tt01_desk_entry",
        "centre",
        centre.code,
        quarter=str(quarter),
        before={str(key): value for key, value in before.items()},
        after={str(key): value for key, value in after.items()},
    )
    session.commit()
    return entry


def unit_report(session: DbSession, unit: Unit, quarter: Quarter) -> UnitReport:
    facts = dossier_facts(session, unit.id, quarter)
    desks = desk_rows(session, unit.id, quarter)
    entered = [row.values for row in desks if row.entry is not None]
    reports = officer_reports(facts)
    officers = {
        officer.code: officer
        for officer in session.scalars(
            select(Officer).where(Officer.code.in_([report.code for report in reports]))
        )
    }
    rows = [
        OfficerRow(
            officer_id=officers[report.code].id,
            code=report.code,
            name=officers[report.code].name,
            group=officers[report.code].group,
            report=report,
        )
        for report in reports
    ]
    return UnitReport(unit, quarter, agency_score(facts, entered), rows, desks)


def unit_reports(session: DbSession, quarter: Quarter, units: Sequence[Unit]) -> list[UnitReport]:
    return [unit_report(session, unit, quarter) for unit in units]


def _number(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


@contextmanager
def _messages_locale() -> Iterator[None]:
    """The reader's language on a page; the default language (Vietnamese) from the CLI."""
    if has_request_context():
        yield
    else:
        with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
            yield


def report_workbook(reports: Sequence[UnitReport], quarter: Quarter) -> bytes:
    """Sheets: agencies (nine indicators, score /18, band), officers (score /10, level), titles."""
    with _messages_locale():
        return _workbook(reports, quarter)


def _workbook(reports: Sequence[UnitReport], quarter: Quarter) -> bytes:
    book = Workbook()
    agencies = book.active
    assert agencies is not None
    agencies.title = _("Agencies")
    bold = Font(bold=True)
    agencies.append([_("TT 01/2018 quarterly report"), str(quarter)])
    header = [_("Unit code"), _("Unit"), _("Dossiers")]
    header += [_("Indicator %(number)s", number=number) for number in AGENCY_INDICATORS]
    header += [_("Score"), _("Out of"), _("Band")]
    agencies.append(header)
    for report in reports:
        agency = report.agency
        agencies.append(
            [report.unit.code, report.unit.name, agency.dossiers]
            + [_number(agency.means.get(number)) for number in AGENCY_INDICATORS]
            + [
                _number(agency.score),
                agency.out_of,
                str(BAND_LABELS[agency.band]) if agency.band else _("no data"),
            ]
        )
    officers = book.create_sheet(_("Officers"))
    officers.append([_("TT 01/2018 quarterly report"), str(quarter)])
    officer_indicators = (1, 2, 3, 4, 7)
    officers.append(
        [_("Unit code"), _("Officer code"), _("Officer"), _("Dossiers")]
        + [_("Indicator %(number)s", number=number) for number in officer_indicators]
        + [_("Score"), _("Duties completed")]
    )
    for report in reports:
        for row in report.officers:
            score = row.report.score
            officers.append(
                [report.unit.code, row.code, row.name, row.report.dossiers]
                + [_number(score.means.get(number)) for number in officer_indicators]
                + [
                    _number(score.score),
                    str(LEVEL_LABELS[score.level]) if score.level else _("no data"),
                ]
            )
    for sheet in (agencies, officers):
        for cell in sheet[2]:
            cell.font = bold
    titles = book.create_sheet(_("Indicators"))
    titles.append([_("Indicator"), _("Title")])
    for number, title in INDICATOR_TITLES.items():
        titles.append([number, str(title)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
