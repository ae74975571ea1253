"""Views of the kiosk: they parse and render; :mod:`survey_server.services.kiosk` does the work."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from pathlib import Path
from typing import Any

from flask import Response as FlaskResponse
from flask import (
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import force_locale, gettext, lazy_gettext
from werkzeug.wrappers import Response as WerkzeugResponse

from survey_server.extensions import csrf, db
from survey_server.forms_registry import survey_forms
from survey_server.models import Counter, Device, Officer, utcnow
from survey_server.security import bearer_token
from survey_server.services import Refused
from survey_server.services import kiosk as service
from survey_server.services.credentials import device_for_token, integration_key_for_secret

from . import APP_VERSION, DEFAULTS, bp

STATIC = Path(__file__).parent / "static"

LANGUAGE_NAMES = {"vi": "Tiếng Việt", "en": "English"}

ERRORS = {
    "unknown_device": lazy_gettext("This device is not registered. Pair the kiosk again."),
    "revoked_device": lazy_gettext("This device has been revoked and can no longer send answers."),
    "unknown_key": lazy_gettext("The integration key is missing, unknown or revoked."),
    "wrong_pin": lazy_gettext("Wrong officer code or PIN."),
    "no_shift": lazy_gettext("No shift is open at this counter."),
    "shift_conflict": lazy_gettext("Another shift was opened at this counter at the same time."),
    "unknown_counter": lazy_gettext("There is no counter with this code."),
    "invalid_body": lazy_gettext("The request body is not a valid JSON object."),
    "invalid_heartbeat": lazy_gettext("The heartbeat is not valid; see the fields listed."),
    "invalid_current_dossier": lazy_gettext(
        "The dossier code is not valid; see the fields listed."
    ),
}


def setting(key: str) -> float:
    """A KIOSK_* setting; fractions of a second are allowed (the tests use them)."""
    return float(current_app.config.get(key, DEFAULTS[key]))


def _error(status: int, error: str, fields: dict[str, Any] | None = None) -> tuple[Any, int]:
    """The contract's error body, with its message in Vietnamese whoever asks."""
    db.session.rollback()
    with force_locale("vi"):
        message = str(ERRORS.get(error, lazy_gettext("The request was refused.")))
    return jsonify({"error": error, "message": message, "fields": fields or {}}), status


def _device() -> Device:
    token = bearer_token(request.headers.get("Authorization"))
    device = device_for_token(db.session, token) if token else None
    if device is None:
        raise Refused(401, "unknown_device")
    if device.revoked:
        raise Refused(401, "revoked_device")
    return device


def _json_body() -> Any:
    body = request.get_json(force=True, silent=True)
    if body is None:
        raise Refused(422, "invalid_body", {"body": "invalid_json"})
    return body


@bp.errorhandler(Refused)
def _refused(exc: Refused) -> tuple[Any, int]:
    return _error(exc.status, exc.error, exc.fields)


# -- the kiosk app ---------------------------------------------------------------------------


def _audio_url(path: str | None) -> str | None:
    """The prompt's address, only when the file exists (no speaker button otherwise)."""
    if not path:
        return None
    static = Path(current_app.static_folder or "")
    if not (static / "audio" / path).is_file():
        return None
    return url_for("static", filename=f"audio/{path}")


def _form_texts(lang: str) -> dict[str, Any]:
    """Every form's wording in ``lang``, the same definition the API validates against."""
    forms: dict[str, Any] = {}
    for form_id, definition in survey_forms().items():
        forms[form_id] = {
            "title": definition.title_in(lang),
            "detail_intro": definition.detail_intro_in(lang),
            "questions": [
                {
                    "id": question.id,
                    "kind": question.kind,
                    "required": question.required,
                    "text": question.text_in(lang),
                    "max_length": question.max_length,
                    "audio": _audio_url(question.audio.get(lang)),
                    "options": [
                        {"value": option.value, "label": option.label_in(lang)}
                        for option in question.options
                    ],
                }
                for question in definition.questions
            ],
        }
    return forms


def _ui_texts() -> dict[str, str]:
    """What the kiosk's own screens say, in the current locale (the JS has no catalogue)."""
    return {
        "idle_title": gettext("Please rate our service"),
        "idle_touch": gettext("Touch the screen to rate the officer who served you"),
        "on_duty": gettext("Officer on duty"),
        "no_shift": gettext("No officer is on duty at this counter. Ratings are not taken now."),
        "dossier": gettext("Dossier {code}"),
        "thanks": gettext("Thank you!"),
        "recorded": gettext("Your rating has been recorded."),
        "more_yes": gettext("Yes, a few more questions"),
        "more_no": gettext("No, I am done"),
        "skip": gettext("Skip"),
        "finish": gettext("Finish"),
        "send": gettext("Send"),
        "question_of": gettext("Question {n} of {total}"),
        "too_soon": gettext("Please wait a moment before rating again."),
        "listen": gettext("Listen"),
        "pair_title": gettext("Pair this kiosk"),
        "pair_help": gettext(
            "Enter the device token printed by the 'device register' command, "
            "or scan its pairing QR code."
        ),
        "pair_token": gettext("Device token"),
        "pair_button": gettext("Pair"),
        "pair_invalid": gettext("This token is not valid or has been revoked."),
        "offline": gettext("Cannot reach the server. Check the network and try again."),
        "revoked_title": gettext("This kiosk has been revoked"),
        "revoked_text": gettext(
            "This device can no longer send ratings. Please contact the administrator "
            "to pair it again."
        ),
        "staff": gettext("Staff"),
        "officer_code": gettext("Officer code"),
        "pin": gettext("PIN"),
        "open_shift": gettext("Open my shift"),
        "close_shift": gettext("Close the shift"),
        "back": gettext("Back"),
        "queued": gettext("Answers waiting to be sent"),
        "refused": gettext("Answers refused by the server"),
        "wrong_pin": gettext("Wrong officer code or PIN."),
        "shift_opened": gettext("Shift opened."),
        "shift_closed": gettext("Shift closed."),
        "unpair": gettext("Unpair this kiosk"),
        "counter": gettext("Counter"),
    }


@bp.get("/")
def app_page() -> str:
    languages = list(current_app.config["LANGUAGES"])
    texts = {}
    for lang in languages:
        with force_locale(lang):
            texts[lang] = {"ui": _ui_texts(), "forms": _form_texts(lang)}
    config = {
        "version": app_build(),
        "default_lang": current_app.config["BABEL_DEFAULT_LOCALE"],
        "languages": [{"code": lang, "name": LANGUAGE_NAMES.get(lang, lang)} for lang in languages],
        "idle_seconds": setting("KIOSK_IDLE_SECONDS"),
        "thanks_seconds": setting("KIOSK_THANKS_SECONDS"),
        "min_interval_seconds": setting("KIOSK_MIN_INTERVAL_SECONDS"),
        "heartbeat_seconds": setting("KIOSK_HEARTBEAT_SECONDS"),
        "state_seconds": setting("KIOSK_STATE_SECONDS"),
        "retry_max_seconds": setting("KIOSK_RETRY_MAX_SECONDS"),
        "urls": {
            "root": url_for("kiosk.app_page"),
            "sw": url_for("kiosk.service_worker"),
            "state": url_for("kiosk.api_state"),
            "heartbeat": url_for("kiosk.api_heartbeat"),
            "shift": url_for("kiosk.api_shift"),
            "responses": url_for("api.post_response"),
            "static": url_for("static", filename=""),
        },
        "texts": texts,
    }
    return render_template("kiosk/app.html", config=config)


@functools.cache
def app_build() -> str:
    """``APP_VERSION+<hash of kiosk.js and kiosk.css>``: the service worker's cache is named after
    it, so a deploy that changes the kiosk's code reaches every kiosk (sw.js changes with it and
    the new worker fetches fresh copies) even when nobody bumps APP_VERSION; heartbeats report it.
    """
    digest = hashlib.sha256()
    for name in ("kiosk.js", "kiosk.css"):
        digest.update((STATIC / name).read_bytes())
    return f"{APP_VERSION}+{digest.hexdigest()[:10]}"


def _cached_assets() -> list[str]:
    assets = [
        url_for("kiosk.app_page"),
        url_for("kiosk.static", filename="kiosk.js"),
        url_for("kiosk.static", filename="kiosk.css"),
    ]
    for definition in survey_forms().values():
        for question in definition.questions:
            for path in question.audio.values():
                url = _audio_url(path)
                if url and url not in assets:
                    assets.append(url)
    return assets


def _prompts_digest() -> str:
    """A hash of the audio prompts' bytes, written into sw.js. A recording that replaces a
    synthetic prompt keeps its URL; the hash changes sw.js all the same, so kiosks install the
    new worker, which fetches the prompts afresh, instead of playing the old one from their cache
    for ever."""
    static = Path(current_app.static_folder or "") / "audio"
    digest = hashlib.sha256()
    for definition in survey_forms().values():
        for question in definition.questions:
            for path in sorted(question.audio.values()):
                if (static / path).is_file():
                    digest.update(path.encode() + b"\0" + (static / path).read_bytes())
    return digest.hexdigest()[:10]


@bp.get("/sw.js")
def service_worker() -> FlaskResponse:
    """Served from /kiosk/ so that its scope covers the kiosk app."""
    body = render_template("kiosk/sw.js", version=app_build(), assets=_cached_assets())
    body = body.rstrip("\n") + f"\n// audio prompts {_prompts_digest()}\n"
    response = current_app.response_class(body, mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-cache"
    return response


# -- the kiosk's API (device token) ----------------------------------------------------------


@bp.get("/api/state")
def api_state() -> tuple[Any, int]:
    device = _device()
    state = service.kiosk_state(db.session, device)
    if state["officer"] and state["officer"]["photo"]:
        state["officer"]["photo"] = url_for("officer_photos.photo", name=state["officer"]["photo"])
    device.last_seen_at = utcnow()
    db.session.commit()
    return jsonify(state), 200


@bp.post("/api/heartbeat")
def api_heartbeat() -> tuple[Any, int]:
    device = _device()
    policy = service.BurstPolicy(
        int(setting("KIOSK_BURST_COUNT")), dt.timedelta(seconds=setting("KIOSK_BURST_SECONDS"))
    )
    flagged = service.record_heartbeat(db.session, device, _json_body(), utcnow(), policy)
    return jsonify({"status": "ok", "flagged_bursts": len(flagged)}), 200


@bp.post("/api/shift")
def api_shift() -> tuple[Any, int]:
    """The kiosk's staff screen: an officer opens their shift with their code and PIN."""
    device = _device()
    body = _json_body()
    if not isinstance(body, dict):
        raise Refused(422, "invalid_body", {"body": "not_an_object"})
    officer = service.authenticate_officer(db.session, body.get("officer"), body.get("pin"))
    shift = service.open_shift(db.session, device.counter, officer, "kiosk", utcnow())
    return jsonify({"status": "open", "officer": officer.code, "shift": shift.id}), 201


@bp.delete("/api/shift")
def api_close_shift() -> tuple[Any, int]:
    """The officer on duty closes the shift with their PIN."""
    device = _device()
    body = _json_body()
    shift = service.current_shift(db.session, device.counter)
    if shift is None:
        raise Refused(409, "no_shift")
    pin = body.get("pin") if isinstance(body, dict) else None
    officer = service.authenticate_officer(db.session, shift.officer.code, pin)
    service.close_shift(db.session, device.counter, utcnow(), f"officer:{officer.code}")
    return jsonify({"status": "closed"}), 200


@bp.put("/api/counters/<code>/current-dossier")
def api_current_dossier(code: str) -> tuple[Any, int]:
    """The dossier system (integration key) says which dossier is being served at a counter."""
    secret = bearer_token(request.headers.get("Authorization"))
    key = integration_key_for_secret(db.session, secret) if secret else None
    if key is None or key.revoked_at is not None:
        raise Refused(401, "unknown_key")
    counter = service.counter_by_code(db.session, code)
    body = _json_body()
    if not isinstance(body, dict) or set(body) - {"dossier_code"} or "dossier_code" not in body:
        raise Refused(422, "invalid_current_dossier", {"body": "expected_dossier_code_only"})
    key.last_used_at = utcnow()
    dossier = service.set_current_dossier(
        db.session, counter, body["dossier_code"], "api", utcnow()
    )
    return jsonify(
        {"counter": counter.code, "dossier_code": dossier.code if dossier else None}
    ), 200


for _view in (api_state, api_heartbeat, api_shift, api_close_shift, api_current_dossier):
    csrf.exempt(_view)


# -- the desk page (officer code + PIN) ------------------------------------------------------


def _desk_officer_and_counter() -> tuple[Officer, Counter] | None:
    officer_id, counter_id = session.get("desk_officer"), session.get("desk_counter")
    if not isinstance(officer_id, int) or not isinstance(counter_id, int):
        return None
    officer, counter = db.session.get(Officer, officer_id), db.session.get(Counter, counter_id)
    if officer is None or counter is None:
        return None
    shift = service.current_shift(db.session, counter)
    if shift is None or shift.officer_id != officer.id:
        return None  # the shift was closed or taken over at the kiosk
    return officer, counter


@bp.route("/desk/", methods=["GET", "POST"])
def desk() -> str | WerkzeugResponse:
    on_duty = _desk_officer_and_counter()
    if request.method == "POST":
        action = request.form.get("action")
        if action == "login":
            counter_code = (request.form.get("counter") or "").strip()
            try:
                counter = service.counter_by_code(db.session, counter_code)
                officer = service.authenticate_officer(
                    db.session, request.form.get("officer"), request.form.get("pin")
                )
            except Refused:
                flash(gettext("Wrong counter, officer code or PIN."), "error")
                return redirect(url_for("kiosk.desk"))
            service.open_shift(db.session, counter, officer, "desk", utcnow())
            session["desk_officer"], session["desk_counter"] = officer.id, counter.id
            return redirect(url_for("kiosk.desk"))
        if on_duty is None:
            return redirect(url_for("kiosk.desk"))
        officer, counter = on_duty
        if action == "dossier":
            code = (request.form.get("dossier_code") or "").strip() or None
            try:
                service.set_current_dossier(db.session, counter, code, "desk", utcnow())
            except Refused:
                flash(gettext("Unknown dossier code."), "error")
            return redirect(url_for("kiosk.desk"))
        if action == "logout":
            service.close_shift(db.session, counter, utcnow(), f"officer:{officer.code}")
            session.pop("desk_officer", None)
            session.pop("desk_counter", None)
        return redirect(url_for("kiosk.desk"))
    dossier = service.current_dossier(db.session, on_duty[1]) if on_duty else None
    return render_template(
        "kiosk/desk.html",
        officer=on_duty[0] if on_duty else None,
        counter=on_duty[1] if on_duty else None,
        dossier=dossier,
    )
