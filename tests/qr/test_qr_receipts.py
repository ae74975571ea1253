"""The receipt slip and the QR image: decoded by a real decoder (zbar) at the printed size."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from PIL import Image
from pyzbar.pyzbar import decode
from qr_support import push_dossier, token_of
from sqlalchemy import func, select

from builders import BACKENDS, World
from survey_server.extensions import db
from survey_server.models import ReceiptPrint
from survey_server.services.receipts import DPI, qr_image, qr_png, qr_svg

BASE = "https://motcua.dienbien.gov.vn"


def _decoded(image: Image.Image) -> list[str]:
    return [symbol.data.decode("utf-8") for symbol in decode(image.convert("L"))]


def test_a_qr_of_the_url_is_at_most_2_cm_wide_with_even_modules() -> None:
    url = f"{BASE}/q/1z-2b7.q0J3mGf5r8Zs"
    image, figures = qr_image(url)
    # 300 dpi, 2 cm: whole dots per module, never wider than 20 mm without its quiet zone.
    assert figures.side_mm <= 20.0
    assert figures.side_mm >= 17.0
    assert image.width == (figures.modules + 8) * figures.dots_per_module
    assert figures.modules == 17 + 4 * figures.version
    assert _decoded(image) == [url]


@pytest.mark.parametrize(
    ("base", "max_version"),
    [
        ("http://127.0.0.1:5000", 3),  # the default PUBLIC_BASE_URL
        (BASE, 4),  # a province's real address
    ],
)
def test_the_token_url_fits_a_small_qr_version(
    app: Flask, client: FlaskClient, world: World, base: str, max_version: int
) -> None:
    push_dossier(client, world, "DBP.261005.00012")
    url = f"{base}/q/{token_of(app, 'DBP.261005.00012')}"
    _, figures = qr_png(url)
    assert figures.version <= max_version
    # Each module at least half a millimetre: readable by a cheap phone and a 203 dpi printer.
    assert figures.module_mm >= 0.5


def test_the_svg_is_the_same_qr_at_its_printed_size() -> None:
    svg = qr_svg(f"{BASE}/q/abc", side_mm=20)
    side = float(re.search(r'width="([\d.]+)mm"', svg).group(1))  # type: ignore[union-attr]
    assert 20 < side < 30  # 2 cm plus the quiet zone
    assert svg.startswith("<svg") and "<script" not in svg


@BACKENDS
def test_the_cli_renders_a_slip_whose_qr_decodes_to_the_dossier_url(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, world: World, tmp_path: Path
) -> None:
    app.config["PUBLIC_BASE_URL"] = BASE
    push_dossier(client, world, "DBP.261005.00012")
    out = tmp_path / "slip.png"
    result = runner.invoke(args=["receipt", "--dossier", "DBP.261005.00012", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "QR version" in result.output
    with Image.open(out) as slip:
        assert slip.info["dpi"] == pytest.approx((DPI, DPI), abs=0.01)
        # 80 mm wide at 300 dpi: the printed size, decoded as printed.
        assert slip.width == round(80 / 25.4 * DPI)
        assert _decoded(slip) == [f"{BASE}/q/{token_of(app, 'DBP.261005.00012')}"]
    with app.app_context():
        prints = db.session.scalar(select(func.count()).select_from(ReceiptPrint))
        assert prints == 1


def test_the_cli_writes_a_pdf_and_refuses_an_unknown_dossier(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, world: World, tmp_path: Path
) -> None:
    push_dossier(client, world, "HS-0001")
    out = tmp_path / "slip.pdf"
    result = runner.invoke(args=["receipt", "--dossier", "HS-0001", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF")
    # 80 mm wide page: 226.8 pt.
    assert re.search(rb"/MediaBox \[ ?0 0 226\.[78]", out.read_bytes())
    missing = runner.invoke(args=["receipt", "--dossier", "NOPE", "--out", str(out)])
    assert missing.exit_code != 0
    assert "NOPE" in missing.output


@BACKENDS
def test_the_dossier_system_fetches_the_qr_png_and_svg_with_its_key(
    app: Flask, client: FlaskClient, world: World
) -> None:
    push_dossier(client, world, "HS-0001")
    url = f"{app.config['PUBLIC_BASE_URL']}/q/{token_of(app, 'HS-0001')}"
    png = client.get("/api/v1/dossiers/HS-0001/qr.png", headers=world.key_auth)
    assert png.status_code == 200 and png.mimetype == "image/png"
    with Image.open(io.BytesIO(png.data)) as image:
        assert _decoded(image) == [url]
        assert image.info["dpi"] == pytest.approx((DPI, DPI), abs=0.01)
    assert png.headers["X-QR-URL"] == url
    svg = client.get("/api/v1/dossiers/HS-0001/qr.svg?mm=30", headers=world.key_auth)
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    assert svg.get_data(as_text=True).startswith("<svg")


@pytest.mark.parametrize(
    ("path", "auth", "status", "error"),
    [
        ("/api/v1/dossiers/HS-0001/qr.png", False, 401, "unknown_key"),
        ("/api/v1/dossiers/NOPE/qr.png", True, 404, "not_found"),
        ("/api/v1/dossiers/HS-0001/qr.png?mm=5", True, 422, "invalid_request"),
        ("/api/v1/dossiers/HS-0001/qr.gif", True, 404, "not_found"),
    ],
)
def test_the_qr_api_refuses_with_the_contract_body(
    app: Flask, client: FlaskClient, world: World, path: str, auth: bool, status: int, error: str
) -> None:
    push_dossier(client, world, "HS-0001")
    response = client.get(path, headers=world.key_auth if auth else {})
    assert response.status_code == status
    body = response.get_json()
    assert body["error"] == error and body["message"]
