"""A unit head's month in headless Chromium: log in, read a "why", decide, approve, export."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from dashboard_support import DEFAULT_PASSWORD, RatedWorld, build_rated_world, make_user
from flask import Flask
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from browser_support import SCREENSHOTS, LiveServer, screenshot
from builders import World
from survey_server.extensions import db


@pytest.fixture
def rated(app: Flask, world: World) -> RatedWorld:
    with app.app_context():
        world_data = build_rated_world(db.session)
        make_user(db.session, "head", "U1", username="truong.u1")
        return world_data


def _pdf_tool(name: str) -> str:
    tool = shutil.which(name)
    if tool is None:
        pytest.fail(f"{name} is missing: `make test` installs poppler-utils")
    return tool


def test_head_reviews_decides_approves_and_exports(
    page: Page, live_server: LiveServer, rated: RatedWorld, tmp_path: Path
) -> None:
    page.goto(f"{live_server.url}/dashboard/")
    expect(page).to_have_url(f"{live_server.url}/dashboard/login?next=%2Fdashboard%2F")
    page.get_by_label("Tên đăng nhập").fill("truong.u1")
    page.get_by_label("Mật khẩu").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.get_by_role("link", name="UBND xã Thử Nghiệm").click()
    expect(page.locator("h1")).to_contain_text("10/2026")
    expect(page.locator("table.officers")).to_contain_text("Lò Thị Hoa")

    # The "why" opens with one click and names each condition with value and threshold.
    row = page.locator(f"#officer-{rated.officers['S1']}")
    row.get_by_text("Vì sao?").click()
    why = row.locator(".why-body")
    expect(why).to_be_visible()
    expect(why).to_contain_text("Tỷ lệ hài lòng (%) = 100,0; điều kiện ≥ 95,0")
    screenshot(page, "dashboard_month")

    # Confirm the pending misconduct report (its comment is shown, nothing about the citizen).
    report = page.locator(f"#report-{rated.report_id}")
    expect(report).to_contain_text("Bị yêu cầu nộp thêm giấy tờ không cần thiết")
    report.get_by_label("Xác nhận phản ánh là đúng").check()
    report.get_by_label("Lý do").fill("Đã xác minh với công chức và người dân")
    report.get_by_role("button", name="Lưu quyết định").click()
    expect(page.locator(".flash")).to_contain_text("Đã ghi nhận quyết định")
    expect(page.locator(f"#officer-{rated.officers['R1']}")).to_contain_text(
        "Không hoàn thành nhiệm vụ"
    )

    # Approve the month.
    page.locator("#approve").click()
    expect(page.locator(".flash")).to_contain_text("Đã duyệt và khóa")
    expect(page.locator("#approval")).to_contain_text("Đã duyệt")

    # Export xlsx and check it with openpyxl.
    with page.expect_download() as xlsx_download:
        page.get_by_role("link", name="Xuất Excel (xlsx)").click()
    xlsx_path = tmp_path / "month.xlsx"
    xlsx_download.value.save_as(xlsx_path)
    sheet = load_workbook(xlsx_path).worksheets[0]
    assert "Đã duyệt" in str(sheet["A4"].value)
    codes = {row[2]: row for row in sheet.iter_rows(min_row=7, values_only=True)}
    assert codes["R1"][8] == "Không hoàn thành nhiệm vụ"

    # Export PDF: real text, and its first page as a picture for people to look at.
    with page.expect_download() as pdf_download:
        page.get_by_role("link", name="Xuất PDF để in").click()
    pdf_path = tmp_path / "month.pdf"
    pdf_download.value.save_as(pdf_path)
    text = subprocess.run(
        [_pdf_tool("pdftotext"), "-layout", str(pdf_path), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert "BẢNG TỔNG HỢP KẾT QUẢ ĐÁNH GIÁ" in text
    assert "Quàng Văn Nam" in text and "THỦ TRƯỞNG ĐƠN VỊ" in text
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [_pdf_tool("pdftoppm"), "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile",
         str(pdf_path), str(SCREENSHOTS / "dashboard_pdf_page1")],
        check=True,
    )  # fmt: skip
    assert (SCREENSHOTS / "dashboard_pdf_page1.png").stat().st_size > 0

    # The officer page, with the 12-month history.
    page.get_by_role("link", name="Lò Thị Hoa").click()
    expect(page.locator("h1")).to_contain_text("Lò Thị Hoa")
    expect(page.locator("table.history")).to_contain_text("09/2026")
    screenshot(page, "dashboard_officer")


def test_logout_in_the_browser_ends_the_session(
    page: Page, live_server: LiveServer, rated: RatedWorld
) -> None:
    page.goto(f"{live_server.url}/dashboard/login")
    page.get_by_label("Tên đăng nhập").fill("truong.u1")
    page.get_by_label("Mật khẩu").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.get_by_role("button", name="Đăng xuất")).to_be_visible()
    cookies = page.context.cookies()
    page.get_by_role("button", name="Đăng xuất").click()
    expect(page.locator(".flash")).to_contain_text("đăng xuất")
    # Replaying the old cookie does not log anyone back in.
    page.context.add_cookies(cookies)  # type: ignore[arg-type]
    page.goto(f"{live_server.url}/dashboard/")
    expect(page).to_have_url(f"{live_server.url}/dashboard/login?next=%2Fdashboard%2F")
