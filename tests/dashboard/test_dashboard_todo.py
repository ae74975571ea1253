"""The home page's to-do (what waits for the head, unit by unit) and the month page's search."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import pytest
from dashboard_support import RatedWorld, build_rated_world, login, make_user
from flask import Flask
from flask.testing import FlaskClient
from rating_job_support import LOCAL, OCTOBER, add_form, add_unit, at, unit_id
from sqlalchemy import select

from builders import BACKENDS, World, executed
from survey_server.dashboard import pages
from survey_server.dashboard.queries import fold
from survey_server.dashboard.todo import unit_todos
from survey_server.extensions import db
from survey_server.models import MisconductReport, Officer
from survey_server.services import decisions
from survey_server.services.rating_job import run_month

#: 10 November 2026, local time: October is the month that ended last, November the current one.
NOW = dt.datetime(2026, 11, 10, 9, 0, tzinfo=LOCAL)
NOVEMBER = dt.date(2026, 11, 1)


@dataclass(frozen=True)
class Province:
    rated: RatedWorld
    units: dict[str, int]


@pytest.fixture
def province(app: Flask, world: World) -> Province:
    """U1: a pending report in October, November previewed; U2: October approved;
    U3: October rated, nothing pending (ready); U4: never rated."""
    with app.app_context():
        session = db.session
        add_unit(session, "U3", {"R3": "reception"})
        rated = build_rated_world(session)
        admin = make_user(session, "admin")
        decisions.decide_report(
            session, rated.other_report_id, confirm=False, reason="Không đúng", user=admin, now=NOW
        )
        decisions.approve_month(session, rated.other_unit_id, OCTOBER, user=admin, now=NOW)
        run_month(session, NOVEMBER, NOW, unit_codes=["U1"])
        add_unit(session, "U4", {"R4": "reception"})
        session.add(
            Officer(
                code="CB042",
                name="Nguyễn Văn Đức",
                unit_id=rated.unit_id,
                group="resolver",
            )
        )
        session.commit()
        units = {code: unit_id(session, code) for code in ("U1", "U2", "U3", "U4")}
        return Province(rated, units)


@pytest.fixture
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pages, "utcnow", lambda: NOW.astimezone(dt.UTC))


def _client(app: Flask, role: str, unit: str | None) -> FlaskClient:
    with app.app_context():
        user = make_user(db.session, role, unit, username=f"{role}-{unit or 'all'}-x".lower())
        username = user.username
    client = app.test_client()
    assert login(client, username).status_code == 302
    return client


EXPECTED = {
    "U1": [("pending_reports", 1), ("in_progress", 0)],
    "U2": [("approved", 0), ("no_results", 0)],
    "U3": [("ready", 0), ("no_results", 0)],
    "U4": [("no_results", 0), ("no_results", 0)],
}


@BACKENDS
def test_each_units_months_get_their_state(app: Flask, province: Province) -> None:
    with app.app_context():
        todo = unit_todos(db.session, None, NOW.astimezone(dt.UTC))
        assert todo.months == [OCTOBER, NOVEMBER]
        states = {
            item.unit.code: [(cell.state, cell.pending) for cell in item.months]
            for item in todo.units
        }
        assert states == EXPECTED
        assert (todo.ready_months, todo.pending_reports) == (1, 1)
        approved = next(item for item in todo.units if item.unit.code == "U2").months[0]
        assert approved.approved_by == "admin-province" and approved.approved_at is not None
        # The count is the one approve_month refuses on.
        for item in todo.units:
            for cell in item.months:
                expected = decisions.pending_reports(db.session, item.unit.id, cell.month)
                assert cell.pending == (0 if cell.state == "approved" else expected)


@BACKENDS
def test_ready_is_exactly_what_approve_accepts(app: Flask, province: Province) -> None:
    with app.app_context():
        admin = make_user(db.session, "admin", username="second-admin")
        todo = unit_todos(db.session, None, NOW.astimezone(dt.UTC))
        for item in todo.units:
            for cell in item.months:
                if cell.state not in ("ready", "pending_reports", "in_progress"):
                    continue
                try:
                    decisions.approve_month(
                        db.session, item.unit.id, cell.month, user=admin, now=NOW
                    )
                except decisions.DecisionRefused:
                    db.session.rollback()
                    accepted = False
                else:
                    accepted = True
                assert accepted == (cell.state == "ready"), (item.unit.code, cell)


def test_home_shows_states_and_summary_to_an_admin(
    app: Flask, province: Province, fixed_clock: None
) -> None:
    html = _client(app, "admin", None).get("/dashboard/").get_data(as_text=True)
    assert "Việc cần làm: 1 tháng chờ phê duyệt, 1 phản ánh chờ xử lý" in html
    for code in ("U1", "U2", "U3", "U4"):
        assert f'id="unit-{province.units[code]}"' in html
    assert "Còn 1 phản ánh chờ xử lý" in html
    assert f'href="/dashboard/units/{province.units["U1"]}/2026-10#reports"' in html
    assert "Sẵn sàng phê duyệt" in html and "Chưa có kết quả" in html
    assert "Đã phê duyệt" in html and "bởi admin-province lúc 10/11/2026" in html
    assert "10/2026" in html and "11/2026" in html


def test_a_head_sees_only_their_units_items(
    app: Flask, province: Province, fixed_clock: None
) -> None:
    html = _client(app, "head", "U1").get("/dashboard/").get_data(as_text=True)
    assert f'id="unit-{province.units["U1"]}"' in html
    for code in ("U2", "U3", "U4"):
        assert f'id="unit-{province.units[code]}"' not in html
        assert f"Đơn vị {code}" not in html
    assert "Việc cần làm: 0 tháng chờ phê duyệt, 1 phản ánh chờ xử lý" in html

    html = _client(app, "viewer", "U3").get("/dashboard/").get_data(as_text=True)
    assert "Việc cần làm: 1 tháng chờ phê duyệt, 0 phản ánh chờ xử lý" in html
    assert "Đơn vị U3" in html and "Lò Thị Hoa" not in html


def test_nothing_waiting_says_so(app: Flask, province: Province, fixed_clock: None) -> None:
    html = _client(app, "head", "U4").get("/dashboard/").get_data(as_text=True)
    assert "Không có việc gì đang chờ" in html
    assert "Việc cần làm" not in html


def _add_busy_units(app: Flask, first: int, count: int) -> None:
    """Units rated in October, every other one approved, the others with a pending report."""
    with app.app_context():
        session = db.session
        codes = [f"B{number}" for number in range(first, first + count)]
        for code in codes:
            add_unit(session, code, {f"O{code}": "reception"})
            add_form(session, "phieu1", 1, [f"O{code}"], at(3), misconduct=True)
        run_month(session, OCTOBER, NOW, unit_codes=codes)
        approver = make_user(session, "admin", username=f"approver-{first}")
        for code in codes[::2]:
            reports = session.scalars(
                select(MisconductReport.id).join(Officer).where(Officer.code == f"O{code}")
            )
            for report_id in list(reports):
                decisions.decide_report(
                    session, report_id, confirm=False, reason="Không đúng", user=approver, now=NOW
                )
            decisions.approve_month(
                session, unit_id(session, code), OCTOBER, user=approver, now=NOW
            )


def test_home_queries_do_not_grow_with_the_units(
    app: Flask, world: World, fixed_clock: None
) -> None:
    _add_busy_units(app, 1, 2)
    client = _client(app, "admin", None)
    with executed(app) as statements:
        small = client.get("/dashboard/")
    few = len(statements)
    _add_busy_units(app, 3, 9)
    with executed(app) as statements:
        large = client.get("/dashboard/")
    many = len(statements)
    assert small.get_data(as_text=True).count('id="unit-') == 3
    assert large.get_data(as_text=True).count('id="unit-') == 12
    assert "Đã phê duyệt" in large.get_data(as_text=True)
    assert few == many
    assert many <= 8


# --- the month page's search -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Nguyễn Văn Đức", "nguyen van duc"),
        ("  NGUYỄN   văn ", "nguyen van"),
        ("Lò Thị Hoa", "lo thi hoa"),
        ("Quàng Ước", "quang uoc"),
        ("CB042", "cb042"),
        ("Nguye\u0302\u0303n", "nguyen"),  # decomposed input folds alike
    ],
)
def test_fold_ignores_case_accents_and_spaces(text: str, folded: str) -> None:
    assert fold(text) == folded


def _month_url(province: Province, query: str = "") -> str:
    return f"/dashboard/units/{province.units['U1']}/2026-10{query}"


def _officer_names(html: str) -> set[str]:
    return set(re.findall(r'<a href="/dashboard/officers/\d+/[\d-]+">([^<]+)</a>', html))


@BACKENDS
@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("?q=nguyen+van", {"Nguyễn Văn Đức"}),
        ("?q=%C4%90%E1%BB%A8C", {"Nguyễn Văn Đức"}),  # "ĐỨC"
        ("?q=cb04", {"Nguyễn Văn Đức"}),
        ("?q=S2", {"Cầm Thị Mai"}),
        ("?q=thi", {"Lò Thị Hoa", "Cầm Thị Mai"}),
        ("?q=thi&group=resolver", {"Cầm Thị Mai"}),
        ("?q=+&group=resolver", {"Quàng Văn Nam", "Cầm Thị Mai", "Nguyễn Văn Đức"}),
        ("", {"Lò Thị Hoa", "Quàng Văn Nam", "Cầm Thị Mai", "Nguyễn Văn Đức"}),
    ],
)
def test_month_search_by_name_or_code(
    app: Flask, province: Province, query: str, names: set[str]
) -> None:
    html = _client(app, "head", "U1").get(_month_url(province, query)).get_data(as_text=True)
    assert _officer_names(html) == names


def test_month_search_without_match_offers_to_clear(app: Flask, province: Province) -> None:
    client = _client(app, "head", "U1")
    page = client.get(_month_url(province, "?q=khong+ai&group=resolver"))
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and _officer_names(html) == set()
    assert "Không có cán bộ nào khớp với “khong ai”." in html
    clear = re.search(r'<a href="([^"]+)" id="clear-search">', html)
    assert clear is not None
    assert clear.group(1) == _month_url(province, "?group=resolver")
    # The search box keeps the text, the month links keep the search and the filter.
    assert 'name="q" id="q" value="khong ai"' in html
    previous = f"/dashboard/units/{province.units['U1']}/2026-09?group=resolver&amp;q=khong+ai"
    assert f'href="{previous}"' in html


def test_month_search_escapes_html(app: Flask, province: Province) -> None:
    html = (
        _client(app, "head", "U1")
        .get(_month_url(province, "?q=%3Cscript%3Ealert(1)%3C/script%3E"))
        .get_data(as_text=True)
    )
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_month_search_adds_no_query(app: Flask, province: Province) -> None:
    client = _client(app, "head", "U1")
    with executed(app) as statements:
        client.get(_month_url(province))
    plain = len(statements)
    with executed(app) as statements:
        client.get(_month_url(province, "?q=nguyen&group=resolver&band=none"))
    assert len(statements) == plain
