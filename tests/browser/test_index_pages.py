"""The index pages in Chromium: the 8.3 chart loads under the CSP, a head's scoring form saves."""

from __future__ import annotations

import datetime as dt
import uuid

from dashboard_support import DEFAULT_PASSWORD, make_user
from flask import Flask
from playwright.sync_api import Page
from sqlalchemy import select

from browser_support import LiveServer, screenshot
from builders import World
from survey_server.extensions import db
from survey_server.models import Counter, Response

LOCAL = dt.timezone(dt.timedelta(hours=7))
# The natural width of an image once loaded: 0 if the browser refused or could not decode it.
IMAGE_WIDTH = """selector => new Promise(done => {
  const img = document.querySelector(selector);
  if (img.complete) done(img.naturalWidth); else img.onload = () => done(img.naturalWidth);
})"""


def test_satisfaction_chart_and_scoring_form(
    app: Flask, world: World, live_server: LiveServer, page: Page
) -> None:
    with app.app_context():
        make_user(db.session, "head", "U1", username="truong-u1")
        counter = db.session.scalar(select(Counter).where(Counter.code == "K1"))
        for value in (5, 5, 4, 2):
            db.session.add(
                Response(
                    client_id=str(uuid.uuid4()),
                    form="phieu1",
                    counter=counter,
                    channel="kiosk",
                    answers={"overall": value, "facilities": value, "publicity": 5},
                    overall=value,
                    answered_at=dt.datetime(2026, 5, 2, 10, tzinfo=LOCAL),
                    content_hash="x" * 64,
                )
            )
        db.session.commit()
    page.goto(f"{live_server.url}/dashboard/login")
    page.fill("input[name=username]", "truong-u1")
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.click("button[type=submit]")

    page.goto(f"{live_server.url}/dashboard/index/satisfaction/U1?year=2026")
    chart = page.locator("img[src*='chart.svg']")
    chart.wait_for()
    assert page.evaluate(IMAGE_WIDTH, "img[src*='chart.svg']") > 0
    assert "75" in page.locator("#satisfaction").inner_text()  # 8.3.5: 3 of 4
    screenshot(page, "index-satisfaction")

    page.goto(f"{live_server.url}/dashboard/index/score/U1?year=2026")
    # A head enters the self-assessed score; the appraised one is the Department's, read-only.
    assert page.locator("input[name='appraised-1.2']").get_attribute("readonly") is not None
    page.fill("input[name='self-1.2']", "1.5")
    page.click("form button[type=submit] >> nth=-1")
    assert page.locator("input[name='self-1.2']").input_value() == "1.50"
    assert page.locator("input[name='appraised-1.2']").input_value() == ""
    screenshot(page, "index-score")
