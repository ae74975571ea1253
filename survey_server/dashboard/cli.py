"""``flask --app survey_server user …``: dashboard accounts."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from .. import auth
from ..extensions import db
from ..models import Unit, User

user_cli = AppGroup("user", help="Dashboard accounts.")


def _user(username: str) -> User:
    user: User | None = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        raise click.ClickException(f"Không có tài khoản '{username}'.")
    return user


@user_cli.command("create")
@click.option("--username", required=True)
@click.option("--role", required=True, type=click.Choice(auth.ROLES))
@click.option("--unit", "unit_code", default=None, help="Unit code (heads and viewers).")
@click.option("--name", "display_name", default=None, help="The name shown in the dashboard.")
@click.password_option(help="Prompted for when not given (at least 10 characters).")
def user_create(
    username: str, role: str, unit_code: str | None, display_name: str | None, password: str
) -> None:
    """Create an account; the password is prompted for twice and stored hashed (scrypt)."""
    unit_id = None
    if unit_code:
        unit_id = db.session.scalar(select(Unit.id).where(Unit.code == unit_code))
        if unit_id is None:
            raise click.ClickException(f"Không có đơn vị mã '{unit_code}'.")
    try:
        user = auth.create_user(
            db.session,
            username=username,
            password=password,
            role=role,
            display_name=display_name,
            unit_id=unit_id,
        )
    except auth.AccountError as exc:
        messages = {
            "weak_password": f"Mật khẩu phải có ít nhất {auth.MIN_PASSWORD_LENGTH} ký tự.",
            "unit_required": "Thủ trưởng và người xem phải thuộc một đơn vị (--unit).",
            "username_taken": f"Tên đăng nhập '{username}' đã có.",
            "bad_role": "Vai trò không hợp lệ.",
        }
        raise click.ClickException(messages[str(exc)]) from None
    click.echo(f"Đã tạo tài khoản #{user.id} {user.username} ({user.role}).")


@user_cli.command("set-password")
@click.option("--username", required=True)
@click.password_option()
def user_set_password(username: str, password: str) -> None:
    """Change a password; every open session of the account ends."""
    try:
        auth.change_password(db.session, _user(username), password)
    except auth.AccountError:
        raise click.ClickException(
            f"Mật khẩu phải có ít nhất {auth.MIN_PASSWORD_LENGTH} ký tự."
        ) from None
    click.echo(f"Đã đổi mật khẩu của {username}; các phiên đăng nhập cũ đã hết hiệu lực.")


@user_cli.command("totp-enable")
@click.option("--username", required=True)
def user_totp_enable(username: str) -> None:
    """Turn on two-factor login; prints the otpauth:// URI to add to an authenticator app."""
    uri = auth.enable_totp(db.session, _user(username))
    click.echo("Thêm vào ứng dụng xác thực (chỉ hiện một lần):")
    click.echo(uri)
