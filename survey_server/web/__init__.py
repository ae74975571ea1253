"""The home page, the health check, and the error pages shared by every part of the site."""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify, render_template, request
from flask import Response as FlaskResponse
from flask_babel import gettext
from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from ..extensions import db, limiter
from ..models import Counter, Dossier, Response, Unit

bp = Blueprint("web", __name__)
log = logging.getLogger(__name__)


@bp.get("/healthz")
@limiter.exempt
def healthz() -> tuple[FlaskResponse, int]:
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        log.exception("health check: database unreachable")
        db.session.rollback()
        return jsonify({"status": "error", "db": "unreachable"}), 503
    return jsonify({"status": "ok", "db": "ok"}), 200


@bp.get("/")
def home() -> str:
    counts = {
        "units": db.session.scalar(select(func.count()).select_from(Unit)),
        "counters": db.session.scalar(select(func.count()).select_from(Counter)),
        "dossiers": db.session.scalar(select(func.count()).select_from(Dossier)),
        "responses": db.session.scalar(select(func.count()).select_from(Response)),
    }
    return render_template("web/home.html", counts=counts)


@bp.app_errorhandler(HTTPException)
def http_error(exc: HTTPException) -> tuple[FlaskResponse | str, int]:
    """JSON under /api/ (the contract's body), a Vietnamese page elsewhere."""
    status = exc.code or 500
    if request.path.startswith("/api/"):
        from ..api.errors import error_body

        code = {404: "not_found", 405: "method_not_allowed", 413: "too_large"}.get(status, "error")
        return jsonify(error_body(code)), status
    titles = {
        404: gettext("Page not found"),
        405: gettext("This action is not allowed here"),
        413: gettext("What you sent is too large"),
        429: gettext("Too many requests"),
    }
    title = titles.get(status, gettext("Something went wrong"))
    return render_template("web/error.html", status=status, title=title), status
