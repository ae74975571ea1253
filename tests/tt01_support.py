"""A quarter of dossiers for the TT 01 report tests, checkable by hand."""

from __future__ import annotations

from rating_job_support import add_dossier, add_form, add_unit, at
from sqlalchemy import select
from sqlalchemy.orm import Session

from survey_server.models import MisconductReport


def build_quarter(session: Session) -> None:
    """U1's fourth quarter of 2026, checkable by hand (see test_unit_report_by_hand)."""
    # D1: returned 5 Oct, due 7 Oct (early); phiếu 1 contacts '0' with misconduct confirmed
    # against R1; phiếu 2 agencies '1'; a rejected phiếu 1 answering '2+' that must not count.
    d1 = add_dossier(session, "D1", returned_at=at(5))
    confirmed = add_form(session, "phieu1", 2, ["R1"], at(5, 10), dossier=d1, misconduct=True)
    confirmed.answers = {**confirmed.answers, "contacts": "0"}
    rejected = add_form(session, "phieu1", 1, ["R1"], at(5, 11), dossier=d1, valid=False)
    rejected.answers = {**rejected.answers, "contacts": "2+"}
    phieu2 = add_form(session, "phieu2", 5, ["S1", "S2"], at(6), dossier=d1)
    phieu2.answers = {**phieu2.answers, "agencies": "1"}
    for report in session.scalars(select(MisconductReport)):
        report.status = "confirmed"
    # D2: returned 10 Oct, due 8 Oct (late); phiếu 1 contacts '2+'.
    d2 = add_dossier(session, "D2", returned_at=at(10), due_at=at(8))
    late = add_form(session, "phieu1", 3, ["R1"], at(10, 10), dossier=d2)
    late.answers = {**late.answers, "contacts": "2+"}
    # Not in the report: returned in September, not returned, another unit's dossier.
    add_dossier(session, "D3", returned_at=at(29, month=9))
    add_dossier(session, "D4", returned_at=None)
    add_unit(session, "U2", {"R9": "reception", "S9": "resolver"})
    add_dossier(session, "D5", unit="U2", reception="R9", resolvers=("S9",), returned_at=at(6))
    session.commit()
