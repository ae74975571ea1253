"""The officer page's history of the month: revisions, what changed, and the head's decisions."""

from __future__ import annotations

import datetime as dt
import html as html_lib
import re
from typing import Any

import pytest
from dashboard_support import RatedWorld, csrf_token
from flask import Flask
from flask.testing import FlaskClient
from rating_job_support import AFTER_OCTOBER, OCTOBER, add_form, at

from builders import BACKENDS, executed
from survey_server.dashboard.history import (
    SAME_REQUEST,
    Change,
    Decision,
    Revision,
    Snapshot,
    diff,
    interleave,
    month_history,
)
from survey_server.extensions import db
from survey_server.models import Officer
from survey_server.services.rating_job import run_month

# --- what changed (pure) ------------------------------------------------------------------------

METRICS = {"forms": 20, "satisfied": 19, "dissatisfied": 1, "satisfied_pct": 95.0, "late": 0}


def snap(**changes: Any) -> Snapshot:
    fields: dict[str, Any] = {
        "band": "hoan_thanh_tot",
        "metrics": METRICS,
        "flags": [],
        "ruleset_id": "tinh-2026",
        "ruleset_version": 1,
        "preview": False,
        "unit_id": 1,
    }
    fields.update(changes)
    return Snapshot(**fields)


@pytest.mark.parametrize(
    ("previous", "current", "expected"),
    [
        pytest.param(None, snap(), [Change("first")], id="first revision"),
        pytest.param(
            snap(),
            snap(band="hoan_thanh"),
            [Change("band", before="hoan_thanh_tot", after="hoan_thanh")],
            id="band",
        ),
        pytest.param(
            snap(),
            snap(metrics={**METRICS, "late": 2}),
            [Change("metric", "late", 0, 2)],
            id="one metric",
        ),
        pytest.param(
            snap(),
            snap(
                band="hoan_thanh",
                metrics={
                    **METRICS,
                    "forms": 25,
                    "satisfied": 20,
                    "dissatisfied": 5,
                    "satisfied_pct": 80.0,
                },
            ),
            [
                Change("band", before="hoan_thanh_tot", after="hoan_thanh"),
                Change("metric", "forms", 20, 25),
                Change("metric", "satisfied", 19, 20),
                Change("metric", "dissatisfied", 1, 5),
                Change("metric", "satisfied_pct", 95.0, 80.0),
            ],
            id="five new forms: every figure",
        ),
        pytest.param(
            snap(),
            snap(metrics={**METRICS, "forms": 21, "dissatisfied": 2, "satisfied_pct": 90.5}),
            [Change("metric", "forms", 20, 21), Change("answers_hidden", before=5)],
            id="one new form: its answer is not told",
        ),
        pytest.param(
            snap(),
            snap(metrics={**METRICS, "disciplined": True}),
            [Change("metric", "disciplined", None, True)],
            id="metric appears",
        ),
        pytest.param(
            snap(flags=["pending_reports"]),
            snap(flags=["insufficient_forms"]),
            [
                Change("flag_added", "insufficient_forms"),
                Change("flag_removed", "pending_reports"),
            ],
            id="flags",
        ),
        pytest.param(
            snap(),
            snap(ruleset_id="tinh-2027", ruleset_version=2),
            [Change("ruleset", before="tinh-2026 v1", after="tinh-2027 v2")],
            id="rule set",
        ),
        pytest.param(snap(preview=True), snap(), [Change("final")], id="preview to final"),
        pytest.param(
            snap(unit_id=1), snap(unit_id=2), [Change("unit", before=1, after=2)], id="moved"
        ),
        # The digest also covers the explanation (an Excellent quota's ranks move when a
        # colleague's result changes), so a revision with the same figures can exist.
        pytest.param(snap(), snap(), [Change("unchanged")], id="same result"),
    ],
)
def test_diff(previous: Snapshot | None, current: Snapshot, expected: list[Change]) -> None:
    assert diff(previous, current) == expected


NOON = dt.datetime(2026, 11, 2, 5, 0, tzinfo=dt.UTC)


def _revision(number: int, when: dt.datetime) -> Revision:
    return Revision(number, when, False, "hoan_thanh", "tinh-2026", 1, [])


def _decision(when: dt.datetime, action: str = "report.confirm") -> Decision:
    return Decision(when, action, "head", "reason", {})


def test_interleave_puts_each_decision_below_the_revision_it_led_to() -> None:
    first, second = _revision(1, NOON), _revision(2, NOON + dt.timedelta(days=1))
    # Audited a moment after its own request's revision was stamped.
    same_request = _decision(second.computed_at + SAME_REQUEST / 2)
    between = _decision(NOON + dt.timedelta(hours=3), "month_record.set")
    later = _decision(NOON + dt.timedelta(days=2), "month.approve")
    items = interleave([first, second], [between, later, same_request])
    assert items == [later, second, same_request, between, first]


def test_interleave_without_revisions_keeps_the_decisions() -> None:
    decision = _decision(NOON)
    assert interleave([], [decision]) == [decision]


# --- with the real job and decisions ------------------------------------------------------------


REASON = "Đã xác minh qua camera quầy: yêu cầu giấy tờ không cần thiết"


def _three_revisions(app: Flask, client: FlaskClient, rated: RatedWorld) -> str:
    """Five poor forms and a rerun (revision 2), then the head confirms R1's report (3)."""
    with app.app_context():
        for day in range(22, 27):
            add_form(db.session, "phieu1", 1, ["R1"], at(day))
        run_month(db.session, OCTOBER, AFTER_OCTOBER + dt.timedelta(days=1))
    page = f"/dashboard/officers/{rated.officers['R1']}/{rated.month_text}"
    decided = client.post(
        f"/dashboard/reports/{rated.report_id}/decide",
        data={
            "decision": "confirm",
            "reason": REASON,
            "back": page,
            "csrf_token": csrf_token(client, page),
        },
    )
    assert decided.status_code == 302
    return page


@BACKENDS
def test_month_history_reads_revisions_and_decisions_in_two_queries(
    app: Flask, head_client: FlaskClient, rated: RatedWorld
) -> None:
    _three_revisions(app, head_client, rated)
    with app.app_context():
        db.session.expire_all()
        officer = db.session.get(Officer, rated.officers["R1"])
        assert officer is not None
        with executed(app) as statements:
            items = month_history(db.session, officer, OCTOBER)
        assert len(statements) == 2
    kinds = [(item.kind, getattr(item, "revision", getattr(item, "action", ""))) for item in items]
    assert kinds == [
        ("revision", 3),
        ("decision", "report.confirm"),
        ("revision", 2),
        ("revision", 1),
    ]
    third, decision, second, first = items
    assert isinstance(first, Revision) and isinstance(second, Revision)
    assert isinstance(third, Revision) and isinstance(decision, Decision)
    assert first.changes == [Change("first")]
    assert Change("metric", "forms", 12, 17) in second.changes
    assert Change("metric", "dissatisfied", 1, 6) in second.changes
    assert Change("metric", "misconduct_confirmed", 0, 1) in third.changes
    assert Change("metric", "misconduct_pending", 1, 0) in third.changes
    assert Change("flag_removed", "pending_reports") in third.changes
    assert decision.role == "head" and decision.reason == REASON
    assert not any(rev.preview for rev in (first, second, third))
    # Another officer's month and another month of this officer have no decision.
    with app.app_context():
        other = db.session.get(Officer, rated.officers["S1"])
        assert other is not None
        assert all(item.kind == "revision" for item in month_history(db.session, other, OCTOBER))
        september = month_history(db.session, officer, dt.date(2026, 9, 1))
        assert [item.kind for item in september] == ["revision"]


def _section(html: str) -> str:
    match = re.search(r'<section class="month-history">(.*?)</section>', html, re.S)
    assert match, "no history section"
    return html_lib.unescape(match.group(1))


def test_officer_page_lists_the_revisions_with_what_changed_and_the_reason(
    app: Flask, head_client: FlaskClient, rated: RatedWorld
) -> None:
    page = _three_revisions(app, head_client, rated)
    section = _section(head_client.get(page).get_data(as_text=True))
    assert "Lịch sử tính điểm của tháng" in section
    rows = re.findall(r'<tr class="(revision|decision)">(.*?)</tr>', section, re.S)
    assert [kind for kind, _ in rows] == ["revision", "decision", "revision", "revision"]
    third, decision, second, first = (text for _, text in rows)
    assert "Lần tính 3" in third and "chính thức" in third
    assert "Xếp loại: Hoàn thành nhiệm vụ → Không hoàn thành nhiệm vụ" in third
    assert "Phản ánh nhũng nhiễu đã xác minh: 0 → 1" in third
    assert "Không còn cờ: Còn phản ánh chưa xử lý" in third
    assert "Phản ánh nhũng nhiễu được xác nhận" in decision
    assert "Thủ trưởng đơn vị" in decision and REASON in decision
    assert "Số phiếu hợp lệ: 12 → 17" in second and "Số phiếu không hài lòng: 1 → 6" in second
    assert "Lần tính 1" in first and "Kết quả đầu tiên của tháng" in first
    # Times in local time, as on the rest of the page: revision 1 at 02:00 on 2 November.
    assert "02/11/2026 02:00" in first
    # Nobody is named: neither the head (the audit log's actor) nor a citizen.
    assert "head-u1" not in section


def test_officer_page_of_a_month_without_result_shows_the_empty_state(
    head_client: FlaskClient, rated: RatedWorld
) -> None:
    html = head_client.get(f"/dashboard/officers/{rated.officers['R1']}/2026-08").get_data(
        as_text=True
    )
    section = _section(html)
    assert "Chưa có kết quả của tháng này nên chưa có lịch sử." in section
    assert '<tr class="revision">' not in section


def test_history_shows_a_head_s_record_with_its_note(
    app: Flask, head_client: FlaskClient, rated: RatedWorld
) -> None:
    page = f"/dashboard/officers/{rated.officers['S1']}/{rated.month_text}"
    posted = head_client.post(
        f"{page}/record",
        data={
            "violations": "2",
            "note": "Đi muộn hai buổi",
            "csrf_token": csrf_token(head_client, page),
        },
    )
    assert posted.status_code == 302
    section = _section(head_client.get(page).get_data(as_text=True))
    assert "Đã ghi nhận vi phạm và kỷ luật: 2 lần vi phạm; bị kỷ luật: không" in section
    assert "Đi muộn hai buổi" in section
    assert "Số lần vi phạm nội quy, văn hóa công sở: 0 → 2" in section
