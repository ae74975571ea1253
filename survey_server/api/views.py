"""Views parse and render; the services do the work."""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
from typing import Any

from flask import Response as FlaskResponse
from flask import current_app, jsonify, request
from flask_babel import force_locale, lazy_gettext
from limits import RateLimitItem, parse_many
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import RequestEntityTooLarge, TooManyRequests

from .. import direct
from ..extensions import csrf, db, limiter
from ..forms_registry import survey_forms
from ..models import IntegrationKey, utcnow
from ..security import bearer_token, hash_secret
from ..services import Refused
from ..services.credentials import integration_key_for_secret, kiosk_for_token, mark_seen
from ..services.dossiers import upsert_dossier
from ..services.responses import Channel, Policy, submit_response
from ..writer_lock import WriterBusy
from . import bp
from .errors import refuse

csrf.exempt(bp)

log = logging.getLogger(__name__)

# How long a client should wait before sending again when the database is busy.
BUSY_RETRY_AFTER_SECONDS = 5
BUSY_MESSAGE = lazy_gettext("The server is busy; the answer was not stored. Please send it again.")
# What SQLite (busy_timeout elapsed) and PostgreSQL (lock_timeout) say when a lock wait gives up.
LOCK_TIMEOUT_MESSAGES = ("database is locked", "database table is locked", "lock timeout")


def _credential_key() -> str:
    """Rate limits count per device or per integration key (per address when there is none)."""
    token = bearer_token(request.headers.get("Authorization"))
    if token:
        return "cred:" + hash_secret(token)[:24]
    return "addr:" + (request.remote_addr or "unknown")


def _device_limit() -> str:
    return str(current_app.config["RATELIMIT_DEVICE"])


@functools.lru_cache(maxsize=16)
def _parsed_limits(text: str) -> tuple[RateLimitItem, ...]:
    return tuple(sorted(parse_many(text)))


# The per-device limit of the response API, counted once per request by a fixed-window hit in
# the limiter's own storage (same key and scope as a decorator's, so the count is the same),
# rather than by Flask-Limiter's decorator and before-request hook, which resolve the route's
# limits twice per request (~15 % of the kiosk API's CPU, bench/ingest.py).
DEVICE_LIMIT_SCOPE = "api.post_response"


@limiter.request_filter
def _response_api_limits_itself() -> bool:
    return request.endpoint == "api.post_response"


def _check_device_limit(key: str) -> None:
    """Count this request against ``RATELIMIT_DEVICE``; 429 (:func:`_too_many`) once over."""
    if not limiter.enabled:
        return
    strategy = limiter.limiter
    for item in _parsed_limits(_device_limit()):
        if not strategy.hit(item, key, DEVICE_LIMIT_SCOPE):
            log.info("ratelimit %s (%s) exceeded at %s", item, key, DEVICE_LIMIT_SCOPE)
            raise TooManyRequests()


def _integration_limit() -> str:
    return str(current_app.config["RATELIMIT_INTEGRATION"])


def _json_body() -> Any:
    try:
        body = request.get_json(force=True, silent=True, cache=True)
    except RecursionError:  # nested deeper than the parser goes: not a form answer either
        body = None
    if body is None:
        raise Refused(422, "invalid_body", {"body": "invalid_json"})
    text = request.get_data(cache=True)
    if b"\\u" not in text and b"\x00" not in text:
        # UTF-8 (no NUL byte: not UTF-16/32) without a \u escape: no lone surrogate possible.
        return body
    try:
        # An escaped lone surrogate ("\ud800") parses, but is not text any database can hold.
        json.dumps(body, ensure_ascii=False).encode("utf-8")
    except (UnicodeEncodeError, RecursionError):
        raise Refused(422, "invalid_body", {"body": "invalid_unicode"}) from None
    return body


def _client_id_of(body: Any) -> str | None:
    return body.get("id") if isinstance(body, dict) and isinstance(body.get("id"), str) else None


@bp.post("/responses")
def post_response() -> tuple[FlaskResponse, int]:
    _check_device_limit(_credential_key())
    # Not through the ORM session: a pooled DBAPI connection and prepared statements
    # (survey_server.direct), the kiosk's hot path. Refusals are recorded through the session.
    with direct.connect(db.engine) as connection:
        token = bearer_token(request.headers.get("Authorization"))
        device = kiosk_for_token(connection, token) if token else None
        if device is None or device.revoked_at is not None:
            error = "revoked_device" if device is not None else "unknown_device"
            return refuse(401, error, device_id=device.id if device else None)
        body: Any = None
        try:
            body = _json_body()
            now = utcnow()
            outcome = submit_response(
                connection,
                body,
                Channel("kiosk", device_id=device.id, counter_id=device.counter_id),
                survey_forms(),
                now,
                Policy(
                    dt.timedelta(seconds=current_app.config["CLOCK_AHEAD_TOLERANCE_SECONDS"]),
                    require_shift=current_app.config["KIOSK_REQUIRE_SHIFT"],
                ),
                # Written with the response (one commit); not for a refusal or a retry.
                on_write=lambda writer: mark_seen(writer, device.id, device.last_seen_at, now),
            )
        except Refused as exc:
            return refuse(
                exc.status,
                exc.error,
                exc.fields,
                device_id=device.id,
                client_id=_client_id_of(body),
            )
    status = "stored" if outcome.status == 201 else "duplicate"
    return jsonify({"id": outcome.client_id, "status": status, "flags": outcome.flags}), (
        outcome.status
    )


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


@bp.errorhandler(OperationalError)
def _database_busy(exc: OperationalError) -> tuple[FlaskResponse, int]:
    """A lock wait that timed out is not an error in the request: the server is overloaded.

    Answer 503 with ``Retry-After`` (the kiosk keeps the answer queued and sends it again)
    rather than 500; nothing was stored. Any other database error stays a 500.
    """
    if not any(text in str(exc.orig).lower() for text in LOCK_TIMEOUT_MESSAGES):
        raise exc
    return _busy(str(exc.orig))


@bp.errorhandler(WriterBusy)
def _writers_busy(exc: WriterBusy) -> tuple[FlaskResponse, int]:
    """The other workers' writes kept the API's writer lock past the busy timeout: 503 too."""
    return _busy(f"writer lock {exc} held past the busy timeout")


def _busy(reason: str) -> tuple[FlaskResponse, int]:
    db.session.rollback()
    log.warning("database busy on %s %s: %s", request.method, request.path, reason)
    with force_locale("vi"):
        body = {"error": "busy", "message": str(BUSY_MESSAGE), "fields": {}}
    response = jsonify(body)
    response.headers["Retry-After"] = str(BUSY_RETRY_AFTER_SECONDS)
    return response, 503
