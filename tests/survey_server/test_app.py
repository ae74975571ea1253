"""The factory, configuration, SQLite settings, health check and translations."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from builders import make_app
from survey_server import create_app
from survey_server.extensions import db

TRANSLATIONS = Path(__file__).parents[2] / "survey_server" / "translations"


def test_testing_config_is_applied(app: Flask) -> None:
    assert app.testing
    assert not create_app({"SECRET_KEY": "x"}).testing


def test_secret_key_is_generated_once_into_the_instance_folder(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    first = make_app(url, instance, SECRET_KEY=None)
    second = make_app(url, instance, SECRET_KEY=None)
    key_file = instance / "secret_key"
    assert key_file.exists() and oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert first.secret_key == second.secret_key == key_file.read_text()
    assert len(first.secret_key) >= 40
    other = make_app(url, tmp_path / "other-instance", SECRET_KEY=None)
    assert other.secret_key != first.secret_key


def test_sqlite_is_configured_for_durability_and_concurrency(app: Flask) -> None:
    with app.app_context():
        pragma = {
            name: db.session.execute(text(f"PRAGMA {name}")).scalar()
            for name in ("journal_mode", "foreign_keys", "synchronous", "busy_timeout")
        }
    assert pragma == {"journal_mode": "wal", "foreign_keys": 1, "synchronous": 2,
                      "busy_timeout": 30_000}  # fmt: skip


def test_database_url_defaults_to_sqlite_in_the_instance_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "inst"))
    app = create_app({"SECRET_KEY": "x"})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'inst' / 'survey.db'}"
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@db.example/survey")
    app = create_app({"SECRET_KEY": "x"})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db.example/survey"


def test_healthz_ok(client: FlaskClient) -> None:
    reply = client.get("/healthz")
    assert reply.status_code == 200
    assert reply.json == {"status": "ok", "db": "ok"}


def test_healthz_503_when_the_database_is_unreachable(tmp_path: Path) -> None:
    app = make_app(f"sqlite:///{tmp_path / 'missing-dir' / 'db.sqlite'}", tmp_path / "i")
    reply = app.test_client().get("/healthz")
    assert reply.status_code == 503
    assert reply.json == {"status": "error", "db": "unreachable"}


def test_home_page_is_vietnamese_with_an_english_switch(client: FlaskClient) -> None:
    page = client.get("/").get_data(as_text=True)
    assert "Đánh giá sự hài lòng tại Bộ phận Một cửa" in page
    assert 'lang="vi"' in page
    assert "Chưa có dữ liệu" in page  # the empty state says what to do
    english = client.get("/?lang=en").get_data(as_text=True)
    assert "Citizen feedback at the one-stop desk" in english


def test_unknown_page_is_a_vietnamese_404(client: FlaskClient) -> None:
    reply = client.get("/khong-co")
    assert reply.status_code == 404
    assert "Không tìm thấy trang" in reply.get_data(as_text=True)


def test_vietnamese_catalogue_is_complete_and_current() -> None:
    with (TRANSLATIONS / "messages.pot").open("rb") as handle:
        template_ids = {message.id for message in read_po(handle) if message.id}
    with (TRANSLATIONS / "vi" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalogue = read_po(handle)
    translated = {m.id for m in catalogue if m.id and m.string and not m.fuzzy}
    assert template_ids - translated == set()


def test_every_message_in_the_code_is_in_the_template(tmp_path: Path) -> None:
    """`make extract-messages` was run after the last change to user-facing text."""
    from babel.messages.frontend import CommandLineInterface

    out = tmp_path / "fresh.pot"
    root = Path(__file__).parents[2]
    sources = [str(root / name) for name in ("survey_server", "kiosk") if (root / name).is_dir()]
    CommandLineInterface().run(
        ["pybabel", "-q", "extract", "-F", str(root / "babel.cfg"), "-k", "_l", "-k",
         "lazy_gettext", "-o", str(out), *sources]
    )  # fmt: skip
    with out.open("rb") as fresh, (TRANSLATIONS / "messages.pot").open("rb") as committed:
        fresh_ids = {m.id for m in read_po(fresh) if m.id}
        committed_ids = {m.id for m in read_po(committed) if m.id}
    assert fresh_ids - committed_ids == set()


def test_api_error_json_is_valid_utf8(client: FlaskClient) -> None:
    reply = client.post("/api/v1/responses", json={})
    assert reply.status_code == 401
    assert json.loads(reply.get_data(as_text=True))["message"].startswith("Thiết bị")
