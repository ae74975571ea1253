"""The spoken prompt in real headless Chromium: the faces screen shows the speaker button, the
audio the button creates loads and decodes (the flags may mute the output: playing out loud
is not tested, decoding is), one prompt plays at a time, and the service worker has cached
the prompts."""

from __future__ import annotations

from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select

from browser_support import LiveServer
from builders import World
from survey_server.extensions import db
from survey_server.models import Counter, Officer, utcnow
from survey_server.services import kiosk as service

# Every `new Audio(url)` the page makes is kept, to look at the one the speaker button made.
RECORD_AUDIO = """
window.__audios = [];
const PageAudio = window.Audio;
window.Audio = class extends PageAudio {
  constructor(url) { super(url); window.__audios.push(this); }
};
"""

# Evaluated, not polled: the page's CSP forbids the eval that wait_for_function's polling uses.
LOADED = """() => new Promise((resolve) => {
  const audio = window.__audios[0];
  const done = () => resolve({src: audio.src, error: audio.error, duration: audio.duration});
  if (audio.readyState >= 1 || audio.error) return done();
  audio.addEventListener('loadedmetadata', done);
  audio.addEventListener('error', done);
})"""

DECODE = """async (url) => {
  const bytes = await (await fetch(url)).arrayBuffer();
  const buffer = await new OfflineAudioContext(1, 16000, 16000).decodeAudioData(bytes);
  return {seconds: buffer.duration, channels: buffer.numberOfChannels};
}"""

CACHED = """async (url) => {
  for (const name of await caches.keys()) {
    if (await (await caches.open(name)).match(url)) return true;
  }
  return false;
}"""


def test_the_speaker_button_loads_and_decodes_the_prompt(
    app: Flask, world: World, live_server: LiveServer, page: Page
) -> None:
    with app.app_context():
        officer = db.session.scalar(select(Officer).where(Officer.code == "R1"))
        counter = db.session.scalar(select(Counter))
        service.open_shift(db.session, counter, officer, "desk", utcnow())
    page.add_init_script(RECORD_AUDIO)
    page.goto(f"{live_server.url}/kiosk/#pair={world.device_token}")
    page.click("#invite")
    expect(page.locator(".face")).to_have_count(5)
    speaker = page.locator("button.speaker")
    expect(speaker).to_be_visible()
    speaker.click()
    assert page.evaluate("window.__audios.length") == 1
    audio = page.evaluate(LOADED)
    assert audio["src"] == f"{live_server.url}/static/audio/vi/phieu1/overall.ogg"
    assert audio["error"] is None
    assert audio["duration"] > 3
    decoded = page.evaluate(DECODE, "/static/audio/vi/phieu1/overall.ogg")
    assert decoded["seconds"] > 3
    assert decoded["channels"] == 1
    # One voice at a time: a second tap restarts the prompt, and answering silences it.
    assert page.evaluate("window.__audios[0].paused") is False  # playing (muted or not)
    speaker.click()
    assert page.evaluate("window.__audios.map((a) => a.paused)") == [True, False]
    page.locator(".face[data-value='4']").click()
    expect(page.locator("#more-yes")).to_be_visible()
    assert page.evaluate("window.__audios.map((a) => a.paused)") == [True, True]
    # The service worker keeps the prompts, so a kiosk that lost the network still speaks.
    assert page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    for name in ("phieu1/overall", "phieu1/comment", "phieu2/feedback_handling"):
        assert page.evaluate(CACHED, f"/static/audio/vi/{name}.ogg"), name
