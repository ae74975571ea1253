"""Dashboard accounts: passwords, sessions that can be revoked, throttling, two-factor, headers.

The session cookie holds ``<user id>:<session_version>`` (see ``User.get_id``). Logging out or
changing the password bumps the version, so every copy of an older cookie stops working: Flask's
signed cookie alone cannot be revoked.
"""

from __future__ import annotations

import datetime as dt

import pyotp
from flask import Flask, request
from flask import Response as FlaskResponse
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask.wrappers import Request
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from .extensions import DbSession, db, login_manager
from .models import User

ROLES = ("admin", "head", "viewer")
MIN_PASSWORD_LENGTH = 10
# After this many wrong passwords in a row the account waits LOCK_MINUTES (whatever the address).
MAX_FAILED_LOGINS = 5
LOCK_MINUTES = 15
# A hash to compare against when the username is unknown, so both cases take the same time.
_DUMMY_HASH = generate_password_hash("not-a-real-password", method="scrypt")

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'self'; "
    "frame-ancestors 'none'; form-action 'self'; img-src 'self' data:; "
    # Inline SVG charts carry style attributes; styles cannot run code.
    "style-src 'self' 'unsafe-inline'"
)


class AccountError(ValueError):
    """A refused account change; the message is a code (``weak_password``, ``bad_role``…)."""


def hash_password(password: str) -> str:
    """scrypt (memory-hard), with a random salt, in werkzeug's self-describing format."""
    return generate_password_hash(password, method="scrypt")


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError("weak_password")


def create_user(
    session: DbSession,
    *,
    username: str,
    password: str,
    role: str,
    display_name: str | None = None,
    unit_id: int | None = None,
) -> User:
    """Create an account (committed). A head or viewer belongs to a unit; an admin may not."""
    if role not in ROLES:
        raise AccountError("bad_role")
    if role in ("head", "viewer") and unit_id is None:
        raise AccountError("unit_required")
    check_password_strength(password)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise AccountError("username_taken")
    user = User(
        username=username,
        display_name=display_name or username,
        password_hash=hash_password(password),
        role=role,
        unit_id=unit_id,
        active=True,
        session_version=0,
        failed_logins=0,
    )
    session.add(user)
    session.commit()
    return user


def change_password(session: DbSession, user: User, new_password: str) -> None:
    """Set a new password and end every session of the account (committed)."""
    check_password_strength(new_password)
    user.password_hash = hash_password(new_password)
    user.session_version += 1
    user.failed_logins = 0
    user.locked_until = None
    session.commit()


def end_sessions(session: DbSession, user: User) -> None:
    """Log the account out everywhere (committed)."""
    user.session_version += 1
    session.commit()


def authenticate(
    session: DbSession, username: str, password: str, otp: str | None, now: dt.datetime
) -> tuple[User | None, str]:
    """The user if the credentials are right, else None and why (``bad_credentials``,
    ``locked``, ``otp_required``, ``bad_otp``). Failures are counted per account (committed)."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.active:
        check_password_hash(_DUMMY_HASH, password)
        return None, "bad_credentials"
    if user.locked_until is not None and user.locked_until > now:
        return None, "locked"
    if not check_password_hash(user.password_hash, password):
        _count_failure(user, now)
        session.commit()
        return None, "bad_credentials"
    if user.totp_secret:
        if not otp:
            return None, "otp_required"
        if not pyotp.TOTP(user.totp_secret).verify(otp.strip(), valid_window=1, for_time=now):
            _count_failure(user, now)
            session.commit()
            return None, "bad_otp"
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    session.commit()
    return user, "ok"


def _count_failure(user: User, now: dt.datetime) -> None:
    user.failed_logins = (user.failed_logins or 0) + 1
    if user.failed_logins >= MAX_FAILED_LOGINS:
        user.locked_until = now + dt.timedelta(minutes=LOCK_MINUTES)
        user.failed_logins = 0


def enable_totp(session: DbSession, user: User) -> str:
    """Give the account a new TOTP secret (committed); returns the provisioning URI."""
    secret = pyotp.random_base32()
    user.totp_secret = secret
    session.commit()
    return pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name="Mot cua")


def check_current_password(session: DbSession, user: User, password: str, now: dt.datetime) -> str:
    """Confirm a signed-in user's password before a change to the account: ``ok``, ``locked`` or
    ``bad_credentials``. A wrong one counts as a failed login (committed), so a stolen session
    cannot guess the password around the login throttling."""
    if user.locked_until is not None and user.locked_until > now:
        return "locked"
    if not check_password_hash(user.password_hash, password):
        _count_failure(user, now)
        session.commit()
        return "bad_credentials"
    return "ok"


def check_totp_code(session: DbSession, user: User, code: str, now: dt.datetime) -> bool:
    """Whether ``code`` is the account's current TOTP code; a wrong one counts as a failed login
    (committed), as at login."""
    if user.totp_secret and pyotp.TOTP(user.totp_secret).verify(
        code.strip(), valid_window=1, for_time=now
    ):
        return True
    _count_failure(user, now)
    session.commit()
    return False


def set_totp_secret(session: DbSession, user: User, secret: str | None) -> None:
    """Turn two-factor sign-in on (a verified secret) or off (None) and end every session of the
    account (committed)."""
    user.totp_secret = secret
    user.session_version += 1
    session.commit()


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """The active user of the session's ``<id>:<version>``, or None (then anonymous)."""
    ident, _, version = user_id.partition(":")
    if not ident.isdigit() or not version.isdigit():
        return None
    user = db.session.get(User, int(ident))
    if user is None or not user.active or user.session_version != int(version):
        return None
    return user


def security_headers(response: FlaskResponse) -> FlaskResponse:
    """Headers for every page: no inline script, no framing, no sniffing; HSTS over HTTPS."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response


#: The machine APIs (kiosks, the dossier system): a bearer token per request, never a cookie.
TOKEN_API_PREFIX = "/api/"


class CookieSessionExceptAPIs(SecureCookieSessionInterface):
    """Flask's signed-cookie session, except on the token APIs under :data:`TOKEN_API_PREFIX`.

    Those requests get Flask's null session: empty, readable, and never saved, so an API
    response sets no cookie and does not ``Vary: Cookie``. The API never uses the session;
    opening and saving it (a signing serializer per request) cost every kiosk rating about
    5 % of its CPU.
    """

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if request.path.startswith(TOKEN_API_PREFIX):
            return None  # Flask makes it a NullSession
        return super().open_session(app, request)


def init_app(app: Flask) -> None:
    if app.config.get("SESSION_COOKIE_SAMESITE") is None:
        app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.session_interface = CookieSessionExceptAPIs()
    app.after_request(security_headers)
