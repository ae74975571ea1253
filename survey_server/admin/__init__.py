"""Administration by the province (``/dashboard/admin/``, role admin only) and the alerts and
kiosk health pages (``/dashboard/alerts/``, admins and heads, each head for their own units).

Views parse and render; the work is in ``services/admin.py``, ``services/officer_import.py`` and
``services/alerts.py``. Access follows the dashboard's convention (``dashboard/access.py``): a
user without the role gets 404.
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/dashboard/admin")
alerts_bp = Blueprint("admin_alerts", __name__, url_prefix="/dashboard/alerts")
# Officers' photos, public: the kiosk shows them to citizens at the counter.
photos_bp = Blueprint("officer_photos", __name__, url_prefix="/photos")

from . import alert_views, views  # noqa: E402,F401  (the routes)
