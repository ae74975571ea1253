"""``flask --app survey_server receipt --dossier CODE --out FILE``: the printable slip."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from survey_server.extensions import db
from survey_server.models import Dossier, utcnow
from survey_server.services.receipts import qr_url, record_print, render_slip
from survey_server.services.tokens import token_for_dossier

from . import int_setting


def init_app(app: Flask) -> None:
    app.cli.add_command(receipt_command)


@click.command("receipt")
@click.option("--dossier", "code", required=True, help="Dossier code, e.g. DBP.261005.00012.")
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Output file: PNG at 300 dpi, or PDF when it ends in .pdf.",
)
@with_appcontext
def receipt_command(code: str, out: Path) -> None:
    """Render the receipt slip of a dossier with its QR code."""
    dossier = db.session.scalar(select(Dossier).where(Dossier.code == code))
    if dossier is None:
        raise click.ClickException(f"Không có hồ sơ mã '{code}'.")
    token = token_for_dossier(
        current_app.config["SECRET_KEY"], dossier, int_setting("QR_TOKEN_TTL_DAYS")
    )
    url = qr_url(current_app.config["PUBLIC_BASE_URL"], token)
    slip = render_slip(dossier, url)
    out.write_bytes(slip.pdf() if out.suffix.lower() == ".pdf" else slip.png())
    record_print(db.session, dossier, "cli", utcnow())
    db.session.commit()
    click.echo(f"Đã tạo phiếu {out} cho hồ sơ {dossier.code}.")
    click.echo(f"Địa chỉ trong mã QR ({len(url)} ký tự): {url}")
    click.echo(slip.figures.describe())
