"""The kiosk in real headless Chromium: pairing, one tap, detail questions, walk-away, language,
no shift, revoked device. Short timeouts come from the KIOSK_* settings, not from sleeps."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import func, select

from browser_support import LiveServer, screenshot
from builders import World, returned_dossier_body
from survey_server.extensions import db
from survey_server.models import Counter, Device, Officer, Response, utcnow
from survey_server.services import credentials
from survey_server.services import kiosk as service

FAST = {
    "KIOSK_IDLE_SECONDS": 2,
    "KIOSK_THANKS_SECONDS": 1,
    "KIOSK_MIN_INTERVAL_SECONDS": 0,
    "KIOSK_STATE_SECONDS": 1,
    "KIOSK_HEARTBEAT_SECONDS": 1,
    "KIOSK_RETRY_MAX_SECONDS": 1,
}


@pytest.fixture
def kiosk_app(app: Flask, world: World) -> Flask:
    app.config.update(FAST)
    return app


def open_shift(app: Flask, officer_code: str = "R1") -> None:
    with app.app_context():
        officer = db.session.scalar(select(Officer).where(Officer.code == officer_code))
        counter = db.session.scalar(select(Counter))
        service.open_shift(db.session, counter, officer, "desk", utcnow())


def responses(app: Flask) -> list[dict[str, Any]]:
    """The stored responses, oldest first, as plain data."""
    with app.app_context():
        rows = db.session.scalars(select(Response).order_by(Response.id)).all()
        return [
            {
                "client_id": r.client_id,
                "form": r.form,
                "overall": r.overall,
                "answers": r.answers,
                "channel": r.channel,
                "lang": r.lang,
                "answered_at": r.answered_at,
                "dossier": r.dossier.code if r.dossier else None,
                "officers": [o.code for o in r.officers],
            }
            for r in rows
        ]


def count_responses(app: Flask) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(Response)) or 0)


def pair(page: Page, live: LiveServer, world: World) -> None:
    page.goto(f"{live.url}/kiosk/")
    page.fill("#pair-token", world.device_token)
    page.click("#pair-button")


@pytest.fixture
def paired(kiosk_app: Flask, world: World, live_server: LiveServer, page: Page) -> Page:
    open_shift(kiosk_app)
    pair(page, live_server, world)
    expect(page.locator("#officer-name")).to_have_text("Lò Thị Hoa")
    return page


def wait_for_rows(app: Flask, page: Page, expected: int) -> None:
    for _ in range(100):
        if count_responses(app) >= expected:
            return
        page.wait_for_timeout(100)
    assert count_responses(app) == expected


def test_pairing_with_a_wrong_token_then_the_right_one(
    kiosk_app: Flask, world: World, live_server: LiveServer, page: Page
) -> None:
    open_shift(kiosk_app)
    page.goto(f"{live_server.url}/kiosk/")
    expect(page.locator("h1")).to_have_text("Ghép nối kiosk này")
    page.fill("#pair-token", "dev_wrong")
    page.click("#pair-button")
    expect(page.locator("#pair-note")).to_have_text("Mã này không hợp lệ hoặc đã bị thu hồi.")
    page.fill("#pair-token", world.device_token)
    page.click("#pair-button")
    expect(page.locator("#officer-name")).to_have_text("Lò Thị Hoa")
    # Paired for good: a reload (a reboot) comes back to the idle screen, not to pairing.
    page.reload()
    expect(page.locator("#invite")).to_be_visible()
    assert page.evaluate("localStorage.getItem('kiosk.token')") == world.device_token


def test_pairing_from_the_qr_link(
    kiosk_app: Flask, world: World, live_server: LiveServer, page: Page
) -> None:
    open_shift(kiosk_app)
    page.goto(f"{live_server.url}/kiosk/#pair={world.device_token}")
    expect(page.locator("#officer-name")).to_have_text("Lò Thị Hoa")
    assert "pair=" not in page.url


@pytest.mark.parametrize(
    ("width", "height", "layout"), [(800, 1280, "portrait"), (1280, 800, "landscape")]
)
def test_idle_rate_thank_you_idle_with_one_tap(
    kiosk_app: Flask,
    world: World,
    live_server: LiveServer,
    browser: Browser,
    width: int,
    height: int,
    layout: str,
) -> None:
    open_shift(kiosk_app)
    context = browser.new_context(
        locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh", viewport={"width": width, "height": height}
    )
    try:
        page = context.new_page()
        pair(page, live_server, world)
        expect(page.locator("#invite")).to_contain_text("Mời Ông/Bà đánh giá sự phục vụ")
        screenshot(page, f"kiosk-idle-{layout}")
        page.click("#invite")
        faces = page.locator(".face")
        expect(faces).to_have_count(5)
        expect(faces.nth(4)).to_contain_text("Rất hài lòng")
        expect(page.locator("h1.question")).to_have_text(
            "Ông/Bà hài lòng như thế nào với công chức tiếp nhận, trả kết quả hồ sơ?"
        )
        for index in range(5):
            box = faces.nth(index).bounding_box()
            assert box is not None and box["height"] >= 64 and box["width"] >= 64
        screenshot(page, f"kiosk-faces-{layout}")
        faces.nth(4).click()
        expect(page.locator(".thanks-title")).to_have_text("Xin cảm ơn Ông/Bà!")
        screenshot(page, f"kiosk-more-{layout}")
        page.click("#more-no")
        expect(page.locator(".tick")).to_be_visible()
        screenshot(page, f"kiosk-thanks-{layout}")
        expect(page.locator("#invite")).to_be_visible()
        wait_for_rows(kiosk_app, page, 1)
        [row] = responses(kiosk_app)
        assert (row["form"], row["overall"], row["answers"]) == ("phieu1", 5, {"overall": 5})
        assert (row["channel"], row["officers"]) == ("kiosk", ["R1"])
    finally:
        context.close()


def test_detail_questions_one_per_screen(kiosk_app: Flask, paired: Page) -> None:
    page = paired
    kiosk_app.config["KIOSK_IDLE_SECONDS"] = 30
    page.click("#invite")
    page.locator(".face[data-value='4']").click()
    page.click("#more-yes")
    expect(page.locator("h1.question")).to_have_text(
        "Thái độ tiếp đón, giao tiếp có lịch sự, tôn trọng không?"
    )
    page.click(".option[data-value='5']")  # courtesy
    page.click("#skip")  # guidance
    expect(page.locator("h1.question")).to_contain_text("bao nhiêu lần")
    page.click(".option[data-value='2+']")  # contacts
    page.click(".option[data-value='3']")  # publicity
    page.click(".option[data-value='4']")  # facilities
    page.click(".option[data-value='khong']")  # misconduct
    page.fill("#answer-text", "Cán bộ nhiệt tình")
    page.click("#send-text")
    expect(page.locator(".thanks-title")).to_be_visible()
    wait_for_rows(kiosk_app, page, 1)
    [row] = responses(kiosk_app)
    assert row["answers"] == {
        "overall": 4,
        "courtesy": 5,
        "contacts": "2+",
        "publicity": 3,
        "facilities": 4,
        "misconduct": "khong",
        "comment": "Cán bộ nhiệt tình",
    }
    expect(page.locator("#invite")).to_be_visible()


def test_walking_away_submits_what_the_citizen_answered(kiosk_app: Flask, paired: Page) -> None:
    page = paired
    page.click("#invite")
    page.locator(".face[data-value='2']").click()
    page.click("#more-yes")
    page.click(".option[data-value='1']")  # courtesy, then the citizen walks away
    expect(page.locator("h1.question")).to_contain_text("Hướng dẫn")
    # KIOSK_IDLE_SECONDS = 2: the kiosk sends the partial form and returns to idle.
    expect(page.locator("#invite")).to_be_visible(timeout=6000)
    wait_for_rows(kiosk_app, page, 1)
    [row] = responses(kiosk_app)
    assert row["answers"] == {"overall": 2, "courtesy": 1}


def test_walking_away_before_any_tap_sends_nothing(kiosk_app: Flask, paired: Page) -> None:
    page = paired
    page.click("#invite")
    expect(page.locator(".face")).to_have_count(5)
    expect(page.locator("#invite")).to_be_visible(timeout=6000)
    page.wait_for_timeout(300)
    assert count_responses(kiosk_app) == 0


def test_language_switch_and_back_to_vietnamese_for_the_next_citizen(
    kiosk_app: Flask, paired: Page
) -> None:
    page = paired
    page.click("button[data-lang='en']")
    expect(page.locator("#invite h1")).to_have_text("Please rate our service")
    assert page.evaluate("document.documentElement.lang") == "en"
    page.click("#invite")
    expect(page.locator("h1.question")).to_have_text(
        "How satisfied are you with the officer who received your dossier and returned the result?"
    )
    expect(page.locator(".face[data-value='5']")).to_contain_text("Very satisfied")
    page.locator(".face[data-value='5']").click()
    page.click("#more-no")
    expect(page.locator("#invite h1")).to_have_text("Mời Ông/Bà đánh giá sự phục vụ")
    wait_for_rows(kiosk_app, page, 1)
    assert responses(kiosk_app)[0]["lang"] == "en"


def test_no_shift_no_rating(
    kiosk_app: Flask, world: World, live_server: LiveServer, page: Page
) -> None:
    pair(page, live_server, world)
    expect(page.locator("#no-shift")).to_contain_text("Hiện không có công chức trực")
    page.click("#no-shift")
    expect(page.locator(".face")).to_have_count(0)
    # The officer opens a shift on the staff screen: the kiosk takes ratings.
    with kiosk_app.app_context():
        officer = db.session.scalar(select(Officer).where(Officer.code == "R1"))
        service.set_officer_pin(db.session, officer, "2468", actor="test")
    page.click("#staff-button")
    page.fill("#staff-officer", "R1")
    page.fill("#staff-pin", "2468")
    page.click("#staff-open")
    expect(page.locator("#staff-note")).to_have_text("Đã mở ca trực.")
    page.click("#staff-back")
    expect(page.locator("#officer-name")).to_have_text("Lò Thị Hoa")
    page.click("#invite")
    expect(page.locator(".face")).to_have_count(5)


def test_a_revoked_kiosk_says_so_and_stops_sending(
    kiosk_app: Flask, world: World, paired: Page
) -> None:
    page = paired
    with kiosk_app.app_context():
        device = db.session.get(Device, world.device_id)
        credentials.revoke_device(db.session, device, "test", utcnow())
    expect(page.locator("#revoked h1")).to_have_text("Kiosk này đã bị thu hồi", timeout=5000)
    page.reload()
    expect(page.locator("#revoked")).to_be_visible()
    expect(page.locator(".face")).to_have_count(0)
    sent: list[str] = []
    page.on("request", lambda request: sent.append(request.url) if "/api/" in request.url else None)
    page.wait_for_timeout(2500)  # more than two state and heartbeat periods (1 s each here)
    assert sent == []


def test_a_tap_inside_the_minimum_interval_is_ignored_gently(
    kiosk_app: Flask, paired: Page
) -> None:
    page = paired
    kiosk_app.config["KIOSK_MIN_INTERVAL_SECONDS"] = 600
    page.reload()  # the page takes its settings when it loads
    page.click("#invite")
    page.locator(".face[data-value='5']").click()
    page.click("#more-no")
    expect(page.locator("#invite")).to_be_visible()
    page.click("#invite")
    page.locator(".face[data-value='1']").click()
    expect(page.locator("#note")).to_have_text("Xin vui lòng chờ một lát trước khi đánh giá tiếp.")
    expect(page.locator(".thanks-title")).to_have_count(0)
    wait_for_rows(kiosk_app, page, 1)
    page.wait_for_timeout(300)
    assert [row["overall"] for row in responses(kiosk_app)] == [5]


def test_phieu2_for_a_returned_dossier_at_the_return_counter(
    kiosk_app: Flask, world: World, paired: Page
) -> None:
    page = paired
    client = kiosk_app.test_client()
    assert (
        client.post(
            "/api/v1/dossiers", json=returned_dossier_body(), headers=world.key_auth
        ).status_code
        == 201
    )
    client.put(
        "/kiosk/api/counters/K1/current-dossier",
        json={"dossier_code": "HS-0001"},
        headers=world.key_auth,
    )
    expect(page.locator(".dossier")).to_have_text("Hồ sơ HS-0001", timeout=5000)
    page.click("#invite")
    expect(page.locator("h1.question")).to_have_text(
        "Ông/Bà hài lòng như thế nào với kết quả và việc giải quyết hồ sơ?"
    )
    page.locator(".face[data-value='4']").click()
    page.click("#more-no")
    wait_for_rows(kiosk_app, page, 1)
    [row] = responses(kiosk_app)
    assert (row["form"], row["dossier"], row["officers"]) == ("phieu2", "HS-0001", ["S1", "S2"])
    # The dossier is not tied again to the next citizen's rating.
    expect(page.locator(".dossier")).to_have_count(0)


def test_the_thank_you_screen_does_not_wait_for_the_network(
    kiosk_app: Flask, paired: Page, live_server: LiveServer
) -> None:
    page = paired
    live_server.stop()
    page.click("#invite")
    shown_in_the_same_tick = page.evaluate(
        """() => {
          document.querySelector(".face[data-value='3']").click();
          document.querySelector('#more-no').click();
          return document.querySelector('.tick') !== null;
        }"""
    )
    assert shown_in_the_same_tick


def test_one_tap_then_walking_away_is_a_rating(kiosk_app: Flask, paired: Page) -> None:
    page = paired
    page.click("#invite")
    page.locator(".face[data-value='1']").click()
    expect(page.locator("#more-yes")).to_be_visible()
    # Nobody answers "a few more questions?": the rating is sent and the kiosk waits again.
    expect(page.locator("#invite")).to_be_visible(timeout=6000)
    wait_for_rows(kiosk_app, page, 1)
    assert responses(kiosk_app)[0]["answers"] == {"overall": 1}
