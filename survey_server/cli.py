"""Command line: ``flask --app survey_server …`` (see contract.md)."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from .extensions import db
from .models import utcnow
from .rating_cli import rating_cli
from .scheduler import scheduler_command
from .services import credentials, demo

demo_cli = AppGroup("demo", help="The demo province.")
device_cli = AppGroup("device", help="Kiosk devices.")
key_cli = AppGroup("integration-key", help="Keys for the provincial dossier system.")


def init_app(app: Flask) -> None:
    for group in (demo_cli, device_cli, key_cli):
        app.cli.add_command(group)
    app.cli.add_command(urls)
    from kiosk import cli as kiosk_cli  # the counter kiosk (issue 3)

    kiosk_cli.init_app(app)
    from . import index_cli  # the annual index (issue 7)

    index_cli.init_app(app)
    from .tt01_cli import tt01_cli  # the TT 01/2018 quarterly report (issue 7)

    app.cli.add_command(tt01_cli)
    from .admin import cli as admin_cli  # alerts (issue 6)

    admin_cli.init_app(app)
    app.cli.add_command(rating_cli)
    app.cli.add_command(scheduler_command)
    from .qr import cli as qr_cli  # the receipt slip (issue 4)

    qr_cli.init_app(app)
    from .dashboard.cli import user_cli  # dashboard accounts (issue 6)

    app.cli.add_command(user_cli)


@demo_cli.command("seed")
def demo_seed() -> None:
    """Load the demo province once; does nothing when data is already there."""
    if demo.demo_loaded(db.session):
        click.echo("Dữ liệu đã có sẵn: không nạp lại tỉnh mẫu.")
        return
    click.echo("Đang nạp tỉnh mẫu (3 tháng hồ sơ và phiếu đánh giá)…")
    now = utcnow()
    summary = demo.seed_demo(db.session, now)
    # Rate the demo months as the scheduler would, so the dashboard shows bands at once.
    from .services import rating_job

    month = rating_job.local_month(now)
    for _ in range(4):
        rated = rating_job.run_month(db.session, month, now)
        click.echo(f"Đã xếp loại tháng {month:%m/%Y}: {rated.stored} kết quả.")
        month = rating_job.previous_month(month)
    tokens_file = Path(current_app.instance_path) / "demo_devices.json"
    devices = {
        counter: {"token": token, "on_duty": summary.shifts.get(counter, {})}
        for counter, token in summary.devices.items()
    }
    tokens_file.write_text(json.dumps(devices, indent=2))
    tokens_file.chmod(0o600)
    click.echo(
        f"Đã nạp: {summary.units} đơn vị, {summary.centres} trung tâm, {summary.counters} quầy, "
        f"{summary.officers} công chức, {summary.dossiers} hồ sơ, {summary.responses} phiếu, "
        f"{summary.reports} phản ánh nhũng nhiễu chờ xử lý."
    )
    click.echo(f"Mã ghép nối các kiosk mẫu, công chức đang trực và mã PIN: {tokens_file}")
    users_file = Path(current_app.instance_path) / "demo_users.json"
    users_file.touch(mode=0o600)
    users_file.chmod(0o600)
    users_file.write_text(json.dumps(summary.users, indent=2, ensure_ascii=False))
    click.echo("Tài khoản trang quản trị mẫu (/dashboard/):")
    for username, account in summary.users.items():
        click.echo(f"  {username:14} {account['password']}  ({account['role']} {account['unit']})")
    click.echo(f"Danh sách tài khoản mẫu: {users_file}")


@click.command("urls")
@with_appcontext
def urls() -> None:
    """Print the addresses to open."""
    from sqlalchemy import select

    from .models import Dossier

    base = current_app.config["PUBLIC_BASE_URL"]
    click.echo(f"Trang chủ:        {base}/")
    # Only what this installation serves: the kiosk, dashboard and receipts are blueprints.
    if "kiosk" in current_app.blueprints:
        click.echo(f"Kiosk:            {base}/kiosk/")
    if "dashboard" in current_app.blueprints:
        click.echo(f"Trang quản trị:   {base}/dashboard/")
    sample = db.session.scalar(select(Dossier.code).order_by(Dossier.id.desc()).limit(1))
    if sample and "qr" in current_app.blueprints:
        click.echo(f"Phiếu hẹn mẫu:    {base}/receipt/{sample}")
    click.echo(f"Kiểm tra hệ thống: {base}/healthz")


@device_cli.command("register")
@click.option("--counter", "counter_code", required=True, help="Counter code, e.g. DBP-01.")
@click.option("--name", default=None, help="A name to recognise the kiosk by.")
def device_register(counter_code: str, name: str | None) -> None:
    """Register a kiosk at a counter and print its token once."""
    try:
        device, token = credentials.register_device(db.session, counter_code, name, actor="cli")
    except credentials.UnknownCounter:
        raise click.ClickException(f"Không có quầy mã '{counter_code}'.") from None
    click.echo(f"Đã đăng ký thiết bị #{device.id} ({device.name}) tại quầy {counter_code}.")
    click.echo("Mã thiết bị (chỉ hiện một lần, hãy nhập vào kiosk ngay):")
    click.echo(token)


@key_cli.command("create")
@click.option("--name", required=True, help="Who uses the key, e.g. 'Hệ thống một cửa tỉnh'.")
def integration_key_create(name: str) -> None:
    """Create a key for the dossier system and print it once."""
    key, secret = credentials.create_integration_key(db.session, name, actor="cli")
    click.echo(f"Đã tạo khóa tích hợp #{key.id} ({name}). Khóa (chỉ hiện một lần):")
    click.echo(secret)
