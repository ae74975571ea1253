"""The kiosk page: the form texts come from the forms registry, rendered into the page."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from kiosk import APP_VERSION
from survey_server.forms_registry import survey_forms

KIOSK_STATIC = Path(__file__).resolve().parents[2] / "kiosk" / "static"


def page_config(client: FlaskClient) -> dict[str, object]:
    page = client.get("/kiosk/")
    assert page.status_code == 200
    match = re.search(
        r'<script type="application/json" id="kiosk-config">(.*?)</script>', page.text, re.S
    )
    assert match is not None
    config: dict[str, object] = json.loads(match.group(1))
    return config


def test_the_page_carries_every_form_in_every_language_from_the_registry(
    app: Flask, client: FlaskClient
) -> None:
    config = page_config(client)
    texts = config["texts"]
    assert isinstance(texts, dict)
    assert set(texts) == {"vi", "en"}
    with app.app_context():
        for lang in ("vi", "en"):
            for form_id, definition in survey_forms().items():
                rendered = texts[lang]["forms"][form_id]
                assert [q["id"] for q in rendered["questions"]] == [
                    q.id for q in definition.questions
                ]
                for question in rendered["questions"]:
                    assert question["text"] == definition.text(question["id"], lang)
                    for option in question["options"]:
                        assert option["label"] == definition.option_label(
                            question["id"], option["value"], lang
                        )
    assert texts["vi"]["ui"]["thanks"] == "Xin cảm ơn Ông/Bà!"
    assert texts["en"]["ui"]["thanks"] == "Thank you!"


def test_no_speaker_button_for_a_missing_audio_file(app: Flask, client: FlaskClient) -> None:
    config = page_config(client)
    static = Path(app.static_folder or "")
    texts = config["texts"]
    assert isinstance(texts, dict)
    with app.app_context():
        definition = survey_forms()["phieu1"]
        for question in texts["vi"]["forms"]["phieu1"]["questions"]:
            path = definition.audio(question["id"], "vi")
            exists = path is not None and (static / "audio" / path).is_file()
            assert (question["audio"] is not None) == exists
            if exists:
                assert question["audio"] == f"/static/audio/{path}"


def test_short_timeouts_come_from_the_configuration(app: Flask, client: FlaskClient) -> None:
    app.config["KIOSK_IDLE_SECONDS"] = 3
    config = page_config(client)
    assert config["idle_seconds"] == 3
    assert config["thanks_seconds"] == 6  # the default


def test_the_service_worker_is_served_from_the_kiosk_scope(client: FlaskClient) -> None:
    answer = client.get("/kiosk/sw.js")
    assert answer.status_code == 200
    assert answer.mimetype == "text/javascript"
    assert '"/kiosk/static/kiosk.js"' in answer.text
    assert '"/kiosk/"' in answer.text


def test_a_change_to_the_kiosk_code_renames_the_cache_so_kiosks_take_it(
    client: FlaskClient,
) -> None:
    """The worker's cache is named after the code's hash, not only APP_VERSION: a deploy that
    changes kiosk.js or kiosk.css changes sw.js, so installed kiosks fetch the new code."""
    digest = hashlib.sha256()
    for name in ("kiosk.js", "kiosk.css"):
        digest.update((KIOSK_STATIC / name).read_bytes())
    build = f"{APP_VERSION}+{digest.hexdigest()[:10]}"
    assert f"const CACHE = 'kiosk-{build}';" in client.get("/kiosk/sw.js").text
    assert page_config(client)["version"] == build  # what heartbeats report


def test_the_kiosk_js_and_css_stay_under_100_kb() -> None:
    size = sum(path.stat().st_size for path in KIOSK_STATIC.iterdir() if path.is_file())
    assert 0 < size < 100 * 1024
