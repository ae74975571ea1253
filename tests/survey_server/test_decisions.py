"""The head's decisions: each is checked, audited and followed by a recompute of the month."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask
from flask_babel import force_locale
from rating_job_support import (
    AFTER_OCTOBER,
    OCTOBER,
    add_dossier,
    add_form,
    add_unit,
    add_user,
    at,
    officer,
    ratings,
    unit_id,
)
from sqlalchemy import select

from builders import BACKENDS, World
from survey_server.extensions import db
from survey_server.models import AuditEntry, MisconductReport, ResponseContact, UnitMonth
from survey_server.services.decisions import (
    DecisionRefused,
    approve_month,
    decide_report,
    record_month,
    reopen_month,
)
from survey_server.services.rating_job import run_month


def _audit(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def _report(code: str) -> MisconductReport:
    report = db.session.scalar(
        select(MisconductReport).where(MisconductReport.officer_id == officer(db.session, code).id)
    )
    assert report is not None
    return report


@BACKENDS
def test_confirming_a_report_is_audited_and_recomputes_the_month(app: Flask, world: World) -> None:
    with app.app_context():
        head = add_user(db.session, "head1", "head")
        add_form(db.session, "phieu1", 5, ["R1"], at(7), misconduct=True)
        run_month(db.session, OCTOBER, AFTER_OCTOBER)
        assert "pending_reports" in ratings(db.session, "R1")[0].flags
        report = _report("R1")
        decide_report(
            db.session,
            report.id,
            confirm=True,
            reason="Đã xác minh qua camera",
            user=head,
            now=AFTER_OCTOBER,
        )
        assert (report.status, report.decided_by_id) == ("confirmed", head.id)
        first, second = ratings(db.session, "R1")
        assert second.band == "khong_hoan_thanh"
        assert (second.metrics["misconduct_confirmed"], second.metrics["misconduct_pending"]) == (
            1,
            0,
        )
        [entry] = _audit("report.confirm")
        assert (entry.actor, entry.entity_id) == ("head1", str(report.id))
        assert entry.details["reason"] == "Đã xác minh qua camera"
        assert entry.details["previous"] == "pending"

        decide_report(
            db.session, report.id, confirm=False, reason="Nhầm người", user=head, now=AFTER_OCTOBER
        )
        assert ratings(db.session, "R1")[-1].band == "hoan_thanh_tot"
        assert _audit("report.reject")[0].details["previous"] == "confirmed"


FORBIDDEN_VI = "Bạn không có quyền quyết định cho đơn vị này."
REASON_VI = "Vui lòng nêu lý do."


@pytest.mark.parametrize(
    ("role", "unit", "reason", "error", "status", "message"),
    [
        ("head", "U1", "  ", "reason_required", 422, REASON_VI),
        ("viewer", "U1", "lý do", "forbidden", 403, FORBIDDEN_VI),
        ("head", "U2", "lý do", "forbidden", 403, FORBIDDEN_VI),
        ("admin", None, "", "reason_required", 422, REASON_VI),
    ],
)
def test_a_report_decision_is_refused_with_a_vietnamese_message(
    app: Flask,
    world: World,
    role: str,
    unit: str | None,
    reason: str,
    error: str,
    status: int,
    message: str,
) -> None:
    with app.app_context():
        add_unit(db.session, "U2", {"R7": "reception"})
        user = add_user(db.session, "someone", role, unit)
        add_form(db.session, "phieu1", 5, ["R1"], at(7), misconduct=True)
        report = _report("R1")
        with pytest.raises(DecisionRefused) as refused:
            decide_report(
                db.session, report.id, confirm=True, reason=reason, user=user, now=AFTER_OCTOBER
            )
        assert (refused.value.status, refused.value.error) == (status, error)
        assert refused.value.message_vi() == message
        assert report.status == "pending"
        assert _audit("report.confirm") == []


def test_refusal_messages_are_vietnamese_whatever_the_locale(app: Flask) -> None:
    with app.app_context(), force_locale("en"):
        refused = DecisionRefused(409, "pending_reports")
        assert str(refused.message).startswith("Some misconduct reports")
        assert refused.message_vi().startswith("Còn phản ánh nhũng nhiễu")


@BACKENDS
def test_recording_violations_and_discipline_recomputes_the_band(app: Flask, world: World) -> None:
    with app.app_context():
        head = add_user(db.session, "head1", "head")
        s1 = officer(db.session, "S1")
        run_month(db.session, OCTOBER, AFTER_OCTOBER)
        assert ratings(db.session, "S1")[0].band == "hoan_thanh_tot"
        record_month(
            db.session,
            s1.id,
            dt.date(2026, 10, 17),
            violations=3,
            disciplined=False,
            note="Đi muộn 3 lần",
            user=head,
            now=AFTER_OCTOBER,
        )
        latest = ratings(db.session, "S1")[-1]
        assert (latest.revision, latest.band, latest.metrics["violations"]) == (
            2,
            "khong_hoan_thanh",
            3,
        )
        record_month(
            db.session,
            s1.id,
            OCTOBER,
            violations=0,
            disciplined=True,
            note=None,
            user=head,
            now=AFTER_OCTOBER,
        )
        latest = ratings(db.session, "S1")[-1]
        assert (latest.revision, latest.metrics["disciplined"]) == (3, True)
        entries = _audit("month_record.set")
        assert [entry.details["before"] for entry in entries] == [
            None,
            {"violations": 3, "disciplined": False},
        ]
        with pytest.raises(DecisionRefused) as refused:
            record_month(
                db.session,
                s1.id,
                OCTOBER,
                violations=-1,
                disciplined=False,
                note=None,
                user=head,
                now=AFTER_OCTOBER,
            )
        assert refused.value.error == "invalid_violations"


@BACKENDS
def test_approval_waits_for_pending_reports_locks_the_month_and_reopens_with_a_reason(
    app: Flask, world: World
) -> None:
    with app.app_context():
        head = add_user(db.session, "head1", "head")
        u1 = unit_id(db.session, "U1")
        add_form(db.session, "phieu1", 4, ["R1"], at(7), misconduct=True)
        with pytest.raises(DecisionRefused) as refused:
            approve_month(db.session, u1, OCTOBER, user=head, now=at(30))
        assert refused.value.error == "month_not_over"
        with pytest.raises(DecisionRefused) as refused:
            approve_month(db.session, u1, OCTOBER, user=head, now=AFTER_OCTOBER)
        assert (refused.value.error, refused.value.fields) == ("pending_reports", {"pending": 1})
        assert db.session.scalar(select(UnitMonth)) is None

        decide_report(
            db.session,
            _report("R1").id,
            confirm=False,
            reason="Không có căn cứ",
            user=head,
            now=AFTER_OCTOBER,
        )
        month = approve_month(db.session, u1, OCTOBER, user=head, now=AFTER_OCTOBER)
        assert (month.state, month.approved_by_id) == ("approved", head.id)
        assert _audit("month.approve")[0].entity_id == "U1/2026-10"
        approved = [r.revision for r in ratings(db.session, "R1")]

        # Locked: the job stores nothing, decisions are refused, approving twice is refused.
        add_form(db.session, "phieu1", 1, ["R1"], at(8))
        assert run_month(db.session, OCTOBER, AFTER_OCTOBER).stored == 0
        with pytest.raises(DecisionRefused) as refused:
            record_month(
                db.session,
                officer(db.session, "R1").id,
                OCTOBER,
                violations=1,
                disciplined=False,
                note=None,
                user=head,
                now=AFTER_OCTOBER,
            )
        assert refused.value.error == "month_locked"
        with pytest.raises(DecisionRefused) as refused:
            approve_month(db.session, u1, OCTOBER, user=head, now=AFTER_OCTOBER)
        assert refused.value.error == "already_approved"
        assert [r.revision for r in ratings(db.session, "R1")] == approved

        with pytest.raises(DecisionRefused) as refused:
            reopen_month(db.session, u1, OCTOBER, reason="", user=head, now=AFTER_OCTOBER)
        assert refused.value.error == "reason_required"
        reopened = reopen_month(
            db.session,
            u1,
            OCTOBER,
            reason="Sở Nội vụ yêu cầu rà soát",
            user=head,
            now=AFTER_OCTOBER,
        )
        assert (reopened.state, reopened.reopened_reason) == ("open", "Sở Nội vụ yêu cầu rà soát")
        [entry] = _audit("month.reopen")
        assert entry.details["reason"] == "Sở Nội vụ yêu cầu rà soát"
        assert entry.details["approved_by_id"] == head.id
        # The reopen recomputed the month: the late form now counts.
        assert ratings(db.session, "R1")[-1].metrics["forms"] == 2
        assert len(ratings(db.session, "R1")) == len(approved) + 1
        with pytest.raises(DecisionRefused) as refused:
            reopen_month(db.session, u1, OCTOBER, reason="lần nữa", user=head, now=AFTER_OCTOBER)
        assert refused.value.error == "not_approved"


def test_closing_a_report_erases_the_citizens_contact_number(app: Flask, world: World) -> None:
    with app.app_context():
        head = add_user(db.session, "head1", "head")
        d1 = add_dossier(db.session, "D1", returned_at=at(10))
        # A phieu2 about two resolvers: one report each; the number goes once both are decided.
        response = add_form(
            db.session, "phieu2", 1, ["S1", "S2"], at(11), dossier=d1, misconduct=True
        )
        db.session.add(
            ResponseContact(
                response=response, phone="0912345678", consent_at=at(11), notice_version="2026-1"
            )
        )
        db.session.commit()
        contact = db.session.scalar(select(ResponseContact))
        assert contact is not None
        decide_report(
            db.session, _report("S1").id, confirm=True, reason="Đúng", user=head, now=AFTER_OCTOBER
        )
        assert contact.phone == "0912345678"
        decide_report(
            db.session, _report("S2").id, confirm=False, reason="Sai", user=head, now=AFTER_OCTOBER
        )
        assert (contact.phone, contact.erased_at) == (None, AFTER_OCTOBER)
