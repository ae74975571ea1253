"""Configuration from environment variables, with safe defaults.

Every setting can be overridden by an environment variable of the same name, or by the
``test_config`` mapping given to :func:`survey_server.create_app`.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

TIME_ZONE = "Asia/Ho_Chi_Minh"


def _secret_key(instance_path: Path) -> str:
    """Return the secret key kept in the instance folder, creating it on first start.

    The key never lives in the repository: a fresh installation makes its own, and it survives
    restarts so that sessions and signed QR tokens stay valid.
    """
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # O_EXCL: two workers starting at once must not both write a key.
    try:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return key_file.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def load_config(instance_path: Path, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Build the configuration from the environment, then apply ``overrides``."""
    env = os.environ
    overrides = overrides or {}
    database_url = env.get("DATABASE_URL") or f"sqlite:///{instance_path / 'survey.db'}"
    if database_url.startswith("postgres://"):
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgres://")
    elif database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgresql://")
    return {
        "SECRET_KEY": overrides.get("SECRET_KEY")
        or env.get("SECRET_KEY")
        or _secret_key(instance_path),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "PUBLIC_BASE_URL": env.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000").rstrip("/"),
        "TIME_ZONE": env.get("TIME_ZONE", TIME_ZONE),
        # Units are configuration: districts were abolished on 1 July 2025.
        "UNIT_LEVELS": env.get("UNIT_LEVELS", "province,department,district,commune").split(","),
        # A form answer is a few hundred bytes; anything far larger is refused with 413.
        "MAX_CONTENT_LENGTH": int(env.get("MAX_CONTENT_LENGTH", 64 * 1024)),
        # Explicit: Flask-Limiter otherwise keeps the last app's setting on its shared object.
        "RATELIMIT_ENABLED": env.get("RATELIMIT_ENABLED", "1") not in ("0", "false", "no"),
        # A kiosk rating counts only when an officer was on duty at the counter (anti-stuffing).
        "KIOSK_REQUIRE_SHIFT": env.get("KIOSK_REQUIRE_SHIFT", "1") not in ("0", "false", "no"),
        "RATELIMIT_STORAGE_URI": env.get("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_DEVICE": env.get("RATELIMIT_DEVICE", "120 per minute"),
        "RATELIMIT_INTEGRATION": env.get("RATELIMIT_INTEGRATION", "600 per minute"),
        # Dashboard login attempts per client address (then 429); accounts also lock (auth.py).
        "RATELIMIT_LOGIN": env.get("RATELIMIT_LOGIN", "10 per minute"),
        "CLOCK_AHEAD_TOLERANCE_SECONDS": int(env.get("CLOCK_AHEAD_TOLERANCE_SECONDS", 300)),
        "FORMS_DIR": env.get("FORMS_DIR") or None,
        # A province's rule set files, loaded beside the shipped ones (rating/rulesets).
        "RULESETS_DIR": env.get("RULESETS_DIR") or None,
        "SQLITE_BUSY_TIMEOUT_MS": int(env.get("SQLITE_BUSY_TIMEOUT_MS", 30_000)),
        "BABEL_DEFAULT_LOCALE": "vi",
        "BABEL_DEFAULT_TIMEZONE": env.get("TIME_ZONE", TIME_ZONE),
        "LANGUAGES": ["vi", "en"],
        "LOG_LEVEL": env.get("LOG_LEVEL", "INFO"),
        # Alerts (services/alerts.py): dissatisfied % of at least N ratings in a window.
        "ALERT_DISSATISFIED_PCT": float(env.get("ALERT_DISSATISFIED_PCT", 50)),
        "ALERT_MIN_RATINGS": int(env.get("ALERT_MIN_RATINGS", 4)),
        "ALERT_WINDOW_MINUTES": int(env.get("ALERT_WINDOW_MINUTES", 30)),
        "KIOSK_OFFLINE_MINUTES": int(env.get("KIOSK_OFFLINE_MINUTES", 10)),
        # Optional alert e-mail: sent only when both are set.
        "MAIL_SERVER": env.get("MAIL_SERVER") or None,
        "MAIL_PORT": int(env.get("MAIL_PORT", 25)),
        "MAIL_FROM": env.get("MAIL_FROM") or None,
        "ALERT_MAIL_TO": env.get("ALERT_MAIL_TO") or None,
        # Behind nginx: how many proxies set X-Forwarded-For/Proto/Host (0: trust none).
        "TRUST_PROXY_HOPS": int(env.get("TRUST_PROXY_HOPS", 0)),
    } | dict(overrides)
