"""The dashboard for unit heads, viewers and the province (``/dashboard/``).

Log in and out here; the month page, the officer page and the exports are in ``pages.py`` and
``exports.py``; who may see what is in ``access.py``. The administration of issue 6 lives in
``survey_server/admin/`` and reuses ``access.role_required`` and ``dashboard/base.html``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext, lazy_gettext
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response as WerkzeugResponse
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from .. import auth
from ..extensions import db, limiter
from ..models import utcnow

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")

LOGIN_MESSAGES = {
    "bad_credentials": lazy_gettext("Wrong username or password."),
    "locked": lazy_gettext("Too many failed attempts: this account is locked for 15 minutes."),
    "otp_required": lazy_gettext("Enter the 6-digit code from your authenticator app."),
    "bad_otp": lazy_gettext("The authenticator code is wrong."),
}


class LoginForm(FlaskForm):
    username = StringField(lazy_gettext("Username"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(lazy_gettext("Password"), validators=[DataRequired()])
    otp = StringField(lazy_gettext("Authenticator code (admins)"), validators=[Length(max=10)])


class LogoutForm(FlaskForm):
    """Only a CSRF token: logging out is a POST, so another site cannot log a head out."""


def _login_limit() -> str:
    return str(current_app.config.get("RATELIMIT_LOGIN", "10 per minute"))


def _safe_next(target: str | None) -> str | None:
    """Only a path of this site (no scheme, no host) is followed after login."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login() -> str | WerkzeugResponse:
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.home"))
    form = LoginForm()
    if form.validate_on_submit():
        user, outcome = auth.authenticate(
            db.session,
            form.username.data or "",
            form.password.data or "",
            form.otp.data or None,
            utcnow(),
        )
        if user is not None:
            login_user(user)
            return redirect(_safe_next(request.args.get("next")) or url_for("dashboard.home"))
        flash(str(LOGIN_MESSAGES[outcome]), "error")
        status = 401
    else:
        status = 400 if request.method == "POST" else 200
    return render_template("dashboard/login.html", form=form), status  # type: ignore[return-value]


@bp.post("/logout")
@login_required
def logout() -> WerkzeugResponse:
    form = LogoutForm()
    if form.validate_on_submit():
        auth.end_sessions(db.session, current_user._get_current_object())
        logout_user()
        flash(gettext("You have logged out."), "info")
    return redirect(url_for("dashboard.login"))


@bp.app_context_processor
def _dashboard_context() -> dict[str, Any]:
    if not request.blueprint or not request.blueprint.startswith(("dashboard", "admin")):
        return {}
    return {"logout_form": LogoutForm(), "blueprints": set(current_app.blueprints)}


from . import account, exports, pages  # noqa: E402,F401  (the routes of the pages)
