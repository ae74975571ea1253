"""The contract's error bodies, and the log of refused submissions."""

from __future__ import annotations

import logging
from typing import Any

from flask import Response as FlaskResponse
from flask import jsonify, request
from flask_babel import force_locale, gettext, lazy_gettext
from sqlalchemy.exc import SQLAlchemyError

from ..extensions import db
from ..models import RefusedSubmission

log = logging.getLogger(__name__)

BODY_EXCERPT_CHARS = 2000

MESSAGES = {
    "invalid_body": lazy_gettext("The request body is not a valid JSON object."),
    "invalid_response": lazy_gettext("The form answer is not valid; see the fields listed."),
    "invalid_dossier": lazy_gettext("The dossier data is not valid; see the fields listed."),
    "already_answered": lazy_gettext(
        "This dossier already has a valid answer to this form; the first answer is kept."
    ),
    "id_conflict": lazy_gettext(
        "This answer id was already used for an answer with other content; the first is kept."
    ),
    "no_shift": lazy_gettext(
        "No officer was on duty at this counter when the rating was made; it is not counted."
    ),
    "unknown_device": lazy_gettext("This device is not registered. Pair the kiosk again."),
    "revoked_device": lazy_gettext("This device has been revoked and can no longer send answers."),
    "unknown_key": lazy_gettext("The integration key is missing, unknown or revoked."),
    "too_large": lazy_gettext("The request body is too large."),
    "rate_limited": lazy_gettext("Too many requests; please try again in a moment."),
    "not_found": lazy_gettext("There is no such address in the API."),
    "method_not_allowed": lazy_gettext("This method is not allowed at this address."),
}


def error_body(error: str, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    """``{"error", "message", "fields"}`` with the message in Vietnamese, whoever asks."""
    with force_locale("vi"):
        message = str(MESSAGES[error]) if error in MESSAGES else gettext("The request was refused.")
    return {"error": error, "message": message, "fields": fields or {}}


def refuse(
    status: int,
    error: str,
    fields: dict[str, Any] | None = None,
    *,
    device_id: int | None = None,
    integration_key_id: int | None = None,
    client_id: str | None = None,
    read_body: bool = True,
) -> tuple[FlaskResponse, int]:
    """Answer with the contract's error body and record the refusal (and log it)."""
    db.session.rollback()
    excerpt = None
    if read_body:
        excerpt = _storable(request.get_data(cache=True, as_text=True)[:BODY_EXCERPT_CHARS])
    log.warning(
        "refused %s %s: %s %s fields=%s device=%s key=%s",
        request.method,
        request.path,
        status,
        error,
        fields,
        device_id,
        integration_key_id,
    )
    try:
        db.session.add(
            RefusedSubmission(
                endpoint=_storable(request.path[:64]),
                channel="kiosk" if request.path.endswith("/responses") else "integration",
                device_id=device_id,
                integration_key_id=integration_key_id,
                client_id=_storable(client_id[:64]) if isinstance(client_id, str) else None,
                status_code=status,
                error=error,
                fields={_storable(str(key)): value for key, value in (fields or {}).items()},
                body_excerpt=excerpt,
            )
        )
        db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()
        log.exception("could not record a refused submission")
    return jsonify(error_body(error, fields)), status


def _storable(text: str) -> str:
    """The text without NUL characters, which PostgreSQL text columns cannot hold: a refusal
    caused by a NUL must still be recorded."""
    return text.replace("\x00", "\ufffd")
