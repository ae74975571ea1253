"""Issue 4, end to end: a slip is rendered, its QR decoded by zbar, and the decoded URL opened
in headless Chromium emulating a phone (390×844, touch), where phieu1 is answered."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from PIL import Image
from playwright.sync_api import Browser, BrowserContext, Page
from pyzbar.pyzbar import decode
from qr_support import push_dossier, token_of
from sqlalchemy import select

from browser_support import LiveServer, screenshot
from builders import World
from survey_server.extensions import db
from survey_server.models import Response

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="vi-VN",
        timezone_id="Asia/Ho_Chi_Minh",
        java_script_enabled=False,  # the pages must work without it
    )
    yield context
    context.close()


def _fits_the_screen(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def _slip_url(app: Flask, code: str, tmp_path: Path) -> str:
    out = tmp_path / f"{code}.png"
    result = app.test_cli_runner().invoke(args=["receipt", "--dossier", code, "--out", str(out)])
    assert result.exit_code == 0, result.output
    with Image.open(out) as slip:
        symbols = decode(slip.convert("L"))
    assert len(symbols) == 1
    return symbols[0].data.decode("utf-8")


def test_scan_the_slip_and_answer_phieu1_on_a_phone(
    app: Flask, world: World, live_server: LiveServer, phone: BrowserContext, tmp_path: Path
) -> None:
    app.config["PUBLIC_BASE_URL"] = live_server.url
    client = app.test_client()
    push_dossier(client, world, "DBP.261005.00012")
    url = _slip_url(app, "DBP.261005.00012", tmp_path)
    assert url == f"{live_server.url}/q/{token_of(app, 'DBP.261005.00012')}"

    page = phone.new_page()
    second = phone.new_page()  # the same QR opened twice: the later submission must not count
    page.goto(url)
    second.goto(url)
    assert page.locator("html").get_attribute("lang") == "vi"
    assert page.locator("h1").inner_text().startswith("Phiếu đánh giá")
    _fits_the_screen(page)
    screenshot(page, "qr_phone_form")

    page.locator("#q-overall").get_by_label("Hài lòng", exact=True).tap()
    page.locator("#q-courtesy").get_by_label("Rất hài lòng", exact=True).tap()
    page.locator("textarea").fill("Cán bộ hướng dẫn tận tình")
    page.get_by_role("button", name="Gửi đánh giá").tap()
    page.wait_for_url("**/thanks?form=phieu1")
    assert "Cảm ơn Ông/Bà đã đánh giá" in page.locator("h1").inner_text()
    _fits_the_screen(page)
    screenshot(page, "qr_phone_thanks")

    second.locator("#q-overall").get_by_label("Không hài lòng", exact=True).tap()
    with second.expect_navigation():
        second.get_by_role("button", name="Gửi đánh giá").tap()
    assert second.locator("h1").inner_text() == "Đã trả lời"
    screenshot(second, "qr_phone_already_answered")

    with app.app_context():
        responses = db.session.scalars(select(Response)).all()
        assert len(responses) == 1
        (response,) = responses
        assert response.channel == "qr" and response.form == "phieu1"
        assert response.dossier is not None and response.dossier.code == "DBP.261005.00012"
        assert [officer.code for officer in response.officers] == [world.desk_officer]
        assert response.answers == {
            "overall": 4,
            "courtesy": 5,
            "comment": "Cán bộ hướng dẫn tận tình",
        }


def test_phone_pages_for_phieu2_contact_and_errors(
    app: Flask, world: World, live_server: LiveServer, phone: BrowserContext, tmp_path: Path
) -> None:
    app.config["PUBLIC_BASE_URL"] = live_server.url
    client = app.test_client()
    push_dossier(client, world, "HS-RETURNED", returned=True)
    now = dt.datetime.now(dt.UTC)
    push_dossier(
        client,
        world,
        "HS-OLD",
        received_at=(now - dt.timedelta(days=60)).isoformat(),
        due_at=(now - dt.timedelta(days=40)).isoformat(),
    )
    page = phone.new_page()
    page.goto(_slip_url(app, "HS-RETURNED", tmp_path))
    page.locator("#q-overall").get_by_label("Rất hài lòng", exact=True).tap()
    page.get_by_role("button", name="Gửi đánh giá").tap()
    page.get_by_role("link", name="Đánh giá tiếp việc giải quyết hồ sơ").tap()
    assert "Phiếu số 2" in page.locator(".meta").first.inner_text()
    screenshot(page, "qr_phone_phieu2")
    page.locator("#q-overall").get_by_label("Rất không hài lòng", exact=True).tap()
    page.get_by_role("button", name="Gửi đánh giá").tap()
    page.wait_for_url("**/thanks?form=phieu2")
    assert not page.locator("input[name=consent]").is_checked()
    _fits_the_screen(page)
    screenshot(page, "qr_phone_contact_offer")
    page.locator("input[name=consent]").tap()
    page.locator("input[name=phone]").fill("0912 345 678")
    with page.expect_navigation():
        page.get_by_role("button", name="Gửi số điện thoại").tap()
    assert page.locator("h1").inner_text() == "Xin cảm ơn"

    page.goto(f"{live_server.url}/q/{token_of(app, 'HS-OLD')}")
    assert page.locator("h1").inner_text() == "Mã QR đã hết hạn"
    _fits_the_screen(page)
    screenshot(page, "qr_phone_expired")
    page.goto(f"{live_server.url}/q/{token_of(app, 'HS-OLD')[:-3]}xyz")
    assert page.locator("h1").inner_text() == "Mã QR không hợp lệ"
    screenshot(page, "qr_phone_forged")
