"""The QR image for the dossier system to print on its own receipt:
``GET /api/v1/dossiers/<code>/qr.png`` (300 dpi) and ``.svg``, with the integration key."""

from __future__ import annotations

from flask import Response as FlaskResponse
from flask import current_app, request
from werkzeug.exceptions import TooManyRequests

from survey_server.api.errors import refuse
from survey_server.api.views import _credential_key, _integration_limit
from survey_server.extensions import db, limiter
from survey_server.models import utcnow
from survey_server.security import bearer_token
from survey_server.services.credentials import integration_key_for_secret
from survey_server.services.receipts import (
    QR_SIDE_MM,
    dossier_by_code,
    qr_png,
    qr_svg,
    qr_url,
    record_print,
)
from survey_server.services.tokens import token_for_dossier
from survey_server.web import http_error

from . import bp, int_setting

MIN_SIDE_MM, MAX_SIDE_MM = 15.0, 60.0


def _side_mm(raw: str | None) -> float | None:
    """``?mm=``: absent → the default; not a number → None (refused, never silently 20 mm)."""
    if raw is None:
        return QR_SIDE_MM
    try:
        return float(raw)
    except ValueError:
        return None


@bp.get("/api/v1/dossiers/<code>/qr.<any(png, svg):kind>")
@limiter.limit(_integration_limit, key_func=_credential_key)
def dossier_qr(code: str, kind: str) -> FlaskResponse | tuple[FlaskResponse, int]:
    """``?mm=`` sets the printed side (15–60 mm, default 20); PNG carries 300 dpi."""
    secret = bearer_token(request.headers.get("Authorization"))
    key = integration_key_for_secret(db.session, secret) if secret else None
    if key is None or key.revoked_at is not None:
        return refuse(401, "unknown_key", integration_key_id=key.id if key else None)
    side_mm = _side_mm(request.args.get("mm"))
    if side_mm is None or not MIN_SIDE_MM <= side_mm <= MAX_SIDE_MM:
        return refuse(422, "invalid_request", {"mm": "out_of_range"}, integration_key_id=key.id)
    dossier = dossier_by_code(db.session, code)
    if dossier is None:
        return refuse(404, "not_found", {"code": "unknown_dossier"}, integration_key_id=key.id)
    token = token_for_dossier(
        current_app.config["SECRET_KEY"], dossier, int_setting("QR_TOKEN_TTL_DAYS")
    )
    url = qr_url(current_app.config["PUBLIC_BASE_URL"], token)
    now = utcnow()
    key.last_used_at = now
    record_print(db.session, dossier, "api", now)
    db.session.commit()
    if kind == "svg":
        response = FlaskResponse(qr_svg(url, side_mm), mimetype="image/svg+xml")
    else:
        png, figures = qr_png(url, side_mm)
        response = FlaskResponse(png, mimetype="image/png")
        response.headers["X-QR-Version"] = str(figures.version)
        response.headers["X-QR-Module-MM"] = f"{figures.module_mm:.3f}"
    response.headers["X-QR-URL"] = url
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.errorhandler(TooManyRequests)
def _too_many(exc: TooManyRequests) -> tuple[FlaskResponse | str, int]:
    """The image API answers 429 like the rest of the API (``rate_limited``, ``Retry-After``,
    recorded); the citizen's pages keep the site's Vietnamese page."""
    if not request.path.startswith("/api/"):
        return http_error(exc)
    response, status = refuse(429, "rate_limited", read_body=False)
    response.headers["Retry-After"] = "60"
    return response, status
