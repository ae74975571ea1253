"""Views parse and render; the services do the work."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from flask import Response as FlaskResponse
from flask import current_app, jsonify, request
from werkzeug.exceptions import RequestEntityTooLarge, TooManyRequests

from ..extensions import csrf, db, limiter
from ..forms_registry import survey_forms
from ..models import Device, IntegrationKey, utcnow
from ..security import bearer_token, hash_secret
from ..services import Refused
from ..services.credentials import device_for_token, integration_key_for_secret
from ..services.dossiers import upsert_dossier
from ..services.responses import Channel, Policy, submit_response
from . import bp
from .errors import refuse

csrf.exempt(bp)


def _credential_key() -> str:
    """Rate limits count per device or per integration key (per address when there is none)."""
    token = bearer_token(request.headers.get("Authorization"))
    if token:
        return "cred:" + hash_secret(token)[:24]
    return "addr:" + (request.remote_addr or "unknown")


def _device_limit() -> str:
    return str(current_app.config["RATELIMIT_DEVICE"])


def _integration_limit() -> str:
    return str(current_app.config["RATELIMIT_INTEGRATION"])


def _json_body() -> Any:
    try:
        body = request.get_json(force=True, silent=True, cache=True)
    except RecursionError:  # nested deeper than the parser goes: not a form answer either
        body = None
    if body is None:
        raise Refused(422, "invalid_body", {"body": "invalid_json"})
    try:
        # An escaped lone surrogate ("\ud800") parses, but is not text any database can hold.
        json.dumps(body, ensure_ascii=False).encode("utf-8")
    except (UnicodeEncodeError, RecursionError):
        raise Refused(422, "invalid_body", {"body": "invalid_unicode"}) from None
    return body


def _client_id_of(body: Any) -> str | None:
    return body.get("id") if isinstance(body, dict) and isinstance(body.get("id"), str) else None


@bp.post("/responses")
@limiter.limit(_device_limit, key_func=_credential_key)
def post_response() -> tuple[FlaskResponse, int]:
    token = bearer_token(request.headers.get("Authorization"))
    device: Device | None = device_for_token(db.session, token) if token else None
    if device is None or device.revoked:
        error = "revoked_device" if device is not None else "unknown_device"
        return refuse(401, error, device_id=device.id if device else None)
    device_id = device.id
    body: Any = None
    try:
        body = _json_body()
        now = utcnow()
        device.last_seen_at = now
        outcome = submit_response(
            db.session,
            body,
            Channel("kiosk", device=device, counter=device.counter),
            survey_forms(),
            now,
            Policy(
                dt.timedelta(seconds=current_app.config["CLOCK_AHEAD_TOLERANCE_SECONDS"]),
                require_shift=current_app.config["KIOSK_REQUIRE_SHIFT"],
            ),
        )
    except Refused as exc:
        return refuse(
            exc.status, exc.error, exc.fields, device_id=device_id, client_id=_client_id_of(body)
        )
    status = "stored" if outcome.status == 201 else "duplicate"
    return jsonify(
        {"id": outcome.response.client_id, "status": status, "flags": outcome.flags}
    ), outcome.status


@bp.post("/dossiers")
@limiter.limit(_integration_limit, key_func=_credential_key)
def post_dossier() -> tuple[FlaskResponse, int]:
    secret = bearer_token(request.headers.get("Authorization"))
    key: IntegrationKey | None = integration_key_for_secret(db.session, secret) if secret else None
    if key is None or key.revoked_at is not None:
        return refuse(401, "unknown_key", integration_key_id=key.id if key else None)
    key_id = key.id
    try:
        key.last_used_at = utcnow()
        dossier, created = upsert_dossier(db.session, _json_body())
    except Refused as exc:
        return refuse(exc.status, exc.error, exc.fields, integration_key_id=key_id)
    return jsonify(
        {"code": dossier.code, "status": "created" if created else "updated"}
    ), 201 if created else 200


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_exc: RequestEntityTooLarge) -> tuple[FlaskResponse, int]:
    return refuse(413, "too_large", read_body=False)


@bp.errorhandler(TooManyRequests)
def _too_many(_exc: TooManyRequests) -> tuple[FlaskResponse, int]:
    response, status = refuse(429, "rate_limited", read_body=False)
    response.headers["Retry-After"] = "60"
    return response, status
