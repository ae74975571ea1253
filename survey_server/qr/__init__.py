"""Receipt QR codes and the mobile forms (issue 4): ``GET/POST /q/<token>`` for citizens, the
desk print view ``/receipt/<code>``, the QR image for the dossier system
(``/api/v1/dossiers/<code>/qr.png`` and ``.svg``) and the ``receipt`` CLI command."""

from __future__ import annotations

import os

from flask import Blueprint, current_app

#: Settings of this area. Each can be set like any configuration key (``create_app``'s
#: ``test_config``) or by an environment variable of the same name.
DEFAULTS: dict[str, int | str] = {
    # A token opens the forms until this many days after the dossier's due date (or return).
    "QR_TOKEN_TTL_DAYS": 30,
    # Answers from the centre's own networks this soon after a print are flagged for review.
    "QR_CENTRE_NETWORK_SECONDS": 300,
    # Per token (one dossier) and per address; a centre's public Wi-Fi shares one address.
    "QR_RATELIMIT_TOKEN": "30 per hour",
    "QR_RATELIMIT_IP": "60 per minute",
    # A number left with a low rating but no misconduct report is erased after this many days.
    "CONTACT_RETENTION_DAYS": 30,
}

bp = Blueprint("qr", __name__)


def setting(key: str) -> str:
    value = current_app.config.get(key, os.environ.get(key, DEFAULTS[key]))
    return str(value)


def int_setting(key: str) -> int:
    return int(setting(key))


from . import api, views  # noqa: E402,F401  (the routes register themselves on bp)
