"""My account (``/dashboard/account``): any signed-in user changes their own password and turns
two-factor sign-in (TOTP) on or off.

Every change asks for proof: the current password (a wrong one counts as a failed login, see
``auth.check_current_password``) or, to turn TOTP on, a code from the new secret, which waits in
the Flask session and reaches the database only once a code has verified against it. Each change
is audited and ends the account's other sessions; this one is signed in again with the new
session version. The POSTs share the login's rate limit (``RATELIMIT_LOGIN``, per address).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pyotp
from flask import current_app, flash, redirect, render_template, session, url_for
from flask_babel import gettext, lazy_gettext
from flask_login import current_user, login_required, login_user
from flask_wtf import FlaskForm
from markupsafe import Markup
from werkzeug.wrappers import Response as WerkzeugResponse
from wtforms import Field, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from .. import auth
from ..extensions import DbSession, db, limiter
from ..models import User, utcnow
from ..services import audit
from ..services.receipts import qr_svg
from . import bp

TOTP_ISSUER = "Một cửa - Đánh giá cán bộ"
PENDING_TOTP_KEY = "pending_totp"
QR_SIDE_MM = 45.0

REFUSALS = {
    "bad_credentials": lazy_gettext("The current password is wrong."),
    "locked": lazy_gettext("Too many failed attempts: this account is locked for 15 minutes."),
    "bad_otp": lazy_gettext("The authenticator code is wrong."),
    "same_password": lazy_gettext("The new password must differ from the current one."),
}


def _strong_enough(form: FlaskForm, field: Field) -> None:
    try:
        auth.check_password_strength(field.data or "")
    except auth.AccountError:
        raise ValidationError(
            gettext(
                "The password is too weak: use at least %(count)d characters.",
                count=auth.MIN_PASSWORD_LENGTH,
            )
        ) from None


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(lazy_gettext("Current password"), [DataRequired()])
    new_password = PasswordField(
        lazy_gettext("New password"), [DataRequired(), Length(max=200), _strong_enough]
    )
    new_password_again = PasswordField(
        lazy_gettext("New password again"),
        [
            DataRequired(),
            EqualTo("new_password", message=lazy_gettext("The two new passwords differ.")),
        ],
    )


class TotpStartForm(FlaskForm):
    """Only the CSRF token: a new secret is drawn and kept in the session until verified."""


class TotpEnableForm(FlaskForm):
    code = StringField(lazy_gettext("6-digit code"), [DataRequired(), Length(max=10)])


class TotpDisableForm(FlaskForm):
    password = PasswordField(lazy_gettext("Current password"), [DataRequired()])
    code = StringField(lazy_gettext("6-digit code"), [DataRequired(), Length(max=10)])


# --- the use-cases (a session and the user in, a refusal code or None out) ---------------------


def change_own_password(
    db_session: DbSession, user: User, current: str, new: str, now: dt.datetime
) -> str | None:
    """Check the current password, then set the new one (audited, other sessions ended)."""
    outcome = auth.check_current_password(db_session, user, current, now)
    if outcome != "ok":
        return outcome
    if new == current:
        return "same_password"
    audit.record(db_session, user.username, "change_password", "user", user.id, by="self")
    auth.change_password(db_session, user, new)
    return None


def enable_totp(
    db_session: DbSession, user: User, secret: str, code: str, now: dt.datetime
) -> bool:
    """Store ``secret`` once ``code`` verifies against it (audited, other sessions ended)."""
    if not pyotp.TOTP(secret).verify(code.strip(), valid_window=1, for_time=now):
        return False
    audit.record(db_session, user.username, "enable_totp", "user", user.id, by="self")
    auth.set_totp_secret(db_session, user, secret)
    return True


def disable_totp(
    db_session: DbSession, user: User, password: str, code: str, now: dt.datetime
) -> str | None:
    """Turn TOTP off given the password and a current code (audited, other sessions ended)."""
    outcome = auth.check_current_password(db_session, user, password, now)
    if outcome != "ok":
        return outcome
    if not auth.check_totp_code(db_session, user, code, now):
        return "bad_otp"
    audit.record(db_session, user.username, "disable_totp", "user", user.id, by="self")
    auth.set_totp_secret(db_session, user, None)
    return None


# --- the views ---------------------------------------------------------------------------------


def _account_limit() -> str:
    return str(current_app.config.get("RATELIMIT_LOGIN", "10 per minute"))


_limited = limiter.shared_limit(_account_limit, scope="dashboard-account")


def _me() -> User:
    user: User = current_user._get_current_object()
    return user


def _pending_secret(user: User) -> str | None:
    """The secret waiting for its first code, if it was drawn for this user."""
    pending = session.get(PENDING_TOTP_KEY)
    if isinstance(pending, dict) and pending.get("user") == user.id:
        secret = pending.get("secret")
        return secret if isinstance(secret, str) else None
    return None


def totp_uri(secret: str, username: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=TOTP_ISSUER)


def _page(status: int = 200, **forms: FlaskForm) -> tuple[str, int]:
    user = _me()
    context: dict[str, Any] = {
        "password_form": forms.get("password_form") or PasswordChangeForm(formdata=None),
        "start_form": TotpStartForm(formdata=None),
        "enable_form": forms.get("enable_form") or TotpEnableForm(formdata=None),
        "disable_form": forms.get("disable_form") or TotpDisableForm(formdata=None),
        "totp_on": bool(user.totp_secret),
        "pending_secret": None,
        "pending_qr": None,
    }
    secret = None if user.totp_secret else _pending_secret(user)
    if secret:
        context["pending_secret"] = secret
        context["pending_qr"] = Markup(qr_svg(totp_uri(secret, user.username), QR_SIDE_MM))
    return render_template("dashboard/account.html", **context), status


def _refuse(field: Field, outcome: str) -> None:
    field.errors = [*field.errors, str(REFUSALS[outcome])]


def _changed(user: User, message: str) -> WerkzeugResponse:
    """After a change that ended the account's sessions: sign this browser in again (its cookie
    then carries the new session version), say what changed, back to the page."""
    login_user(user)
    flash(message, "info")
    return redirect(url_for("dashboard.account"))


@bp.get("/account")
@login_required
def account() -> tuple[str, int]:
    return _page()


@bp.post("/account/password")
@login_required
@_limited
def account_password() -> tuple[str, int] | WerkzeugResponse:
    form = PasswordChangeForm()
    if not form.validate_on_submit():
        return _page(400, password_form=form)
    user = _me()
    outcome = change_own_password(
        db.session, user, form.current_password.data or "", form.new_password.data or "", utcnow()
    )
    if outcome == "same_password":
        _refuse(form.new_password, outcome)
        return _page(400, password_form=form)
    if outcome is not None:
        _refuse(form.current_password, outcome)
        return _page(401, password_form=form)
    return _changed(
        user, gettext("Your password has been changed; your other sessions have ended.")
    )


@bp.post("/account/totp/start")
@login_required
@_limited
def account_totp_start() -> tuple[str, int] | WerkzeugResponse:
    form = TotpStartForm()
    if not form.validate_on_submit():
        return _page(400)
    user = _me()
    if not user.totp_secret:
        session[PENDING_TOTP_KEY] = {"user": user.id, "secret": pyotp.random_base32()}
    return redirect(url_for("dashboard.account", _anchor="two-factor"))


@bp.post("/account/totp/enable")
@login_required
@_limited
def account_totp_enable() -> tuple[str, int] | WerkzeugResponse:
    form = TotpEnableForm()
    user = _me()
    secret = _pending_secret(user)
    if not form.validate_on_submit() or secret is None or user.totp_secret:
        return _page(400, enable_form=form)
    if not enable_totp(db.session, user, secret, form.code.data or "", utcnow()):
        _refuse(form.code, "bad_otp")
        return _page(400, enable_form=form)
    session.pop(PENDING_TOTP_KEY, None)
    return _changed(user, gettext("Two-factor sign-in is on; your other sessions have ended."))


@bp.post("/account/totp/disable")
@login_required
@_limited
def account_totp_disable() -> tuple[str, int] | WerkzeugResponse:
    form = TotpDisableForm()
    user = _me()
    if not form.validate_on_submit() or not user.totp_secret:
        return _page(400, disable_form=form)
    outcome = disable_totp(
        db.session, user, form.password.data or "", form.code.data or "", utcnow()
    )
    if outcome is not None:
        _refuse(form.code if outcome == "bad_otp" else form.password, outcome)
        return _page(401, disable_form=form)
    return _changed(user, gettext("Two-factor sign-in is off; your other sessions have ended."))
