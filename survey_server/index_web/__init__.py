"""The annual index pages of the dashboard (/dashboard/index/): 8.3 per unit, scoring, ranking."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("index", __name__, url_prefix="/dashboard/index")

from . import views  # noqa: E402,F401  (routes register on bp)
