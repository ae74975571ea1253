"""Administration in Chromium: a refused import, a kiosk registered, the fleet's health."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

from dashboard_support import DEFAULT_PASSWORD, make_user
from flask import Flask
from openpyxl import Workbook
from playwright.sync_api import Page
from sqlalchemy import select

from browser_support import LiveServer, screenshot
from builders import World
from survey_server.extensions import db
from survey_server.models import Device, Officer, utcnow


def _bad_sheet(path: Path) -> Path:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["Mã cán bộ", "Họ và tên", "Mã đơn vị", "Nhóm"])
    sheet.append(["CB7", "Lò Văn Bảy", "U1", "tiếp nhận"])
    sheet.append(["CB8", "Lò Văn Tám", "U1", "bảo vệ"])
    output = io.BytesIO()
    workbook.save(output)
    path.write_bytes(output.getvalue())
    return path


def test_admin_imports_registers_and_watches_kiosks(
    app: Flask, world: World, live_server: LiveServer, page: Page, tmp_path: Path
) -> None:
    with app.app_context():
        make_user(db.session, "admin", username="sonoivu")
        device = db.session.get(Device, world.device_id)
        assert device is not None
        device.last_seen_at = utcnow() - dt.timedelta(hours=2)
        device.queue_length = 7
        db.session.commit()
    base = live_server.url
    page.goto(f"{base}/dashboard/login")
    page.fill("input[name=username]", "sonoivu")
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{base}/dashboard/admin/officers/import")
    page.set_input_files("input[name=file]", str(_bad_sheet(tmp_path / "cb.xlsx")))
    page.click("form.stacked button[type=submit]")
    problems = page.locator("ul.problems li").all_inner_texts()
    assert problems == [
        "Dòng 3, cột Nhóm: bảo vệ không phải là nhóm (ghi: tiếp nhận hoặc giải quyết)"
    ]
    with app.app_context():
        assert db.session.scalar(select(Officer).where(Officer.code == "CB7")) is None

    page.goto(f"{base}/dashboard/admin/counters")
    page.click("text=Sửa")
    register = page.locator("form[action$='/devices']")
    register.locator("input[name=name]").fill("Kiosk sảnh")
    register.locator("button[type=submit]").click()
    token = page.locator("code.token").inner_text()
    assert token.startswith("dev_")

    page.goto(f"{base}/dashboard/alerts/kiosks")
    offline = page.locator("tr.offline").all_inner_texts()
    assert len(offline) == 2  # the silent demo kiosk and the new one that never called
    assert any("Kiosk K1" in row and "7" in row for row in offline)
    assert any("Kiosk sảnh" in row and "chưa bao giờ" in row for row in offline)
    screenshot(page, "admin-kiosk-health")
