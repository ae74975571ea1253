"""The TT 01/2018 quarterly report pages of the dashboard (/dashboard/tt01/)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("tt01", __name__, url_prefix="/dashboard/tt01")

from . import views  # noqa: E402,F401  (routes register on bp)
