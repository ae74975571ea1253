"""The citizen's pages behind the receipt QR, and the desk print view. Views parse and render;
the services (tokens, responses, contact, receipts) do the work."""

from __future__ import annotations

import uuid
from typing import Any

from flask import abort, current_app, redirect, render_template, request, session, url_for
from flask_babel import get_locale, lazy_gettext
from flask_limiter.util import get_remote_address
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError
from markupsafe import Markup
from sqlalchemy import select
from werkzeug.wrappers import Response as WerkzeugResponse
from wtforms import BooleanField, StringField
from wtforms.validators import Length, Optional

from forms.wtf import build_form_class
from survey_server import direct
from survey_server.extensions import csrf, db, limiter, login_manager
from survey_server.forms_registry import survey_forms
from survey_server.models import Dossier, Response, User, utcnow
from survey_server.services import Refused
from survey_server.services import contact as contact_service
from survey_server.services.receipts import (
    dossier_by_code,
    network_flags,
    qr_svg,
    qr_url,
    record_print,
)
from survey_server.services.responses import Channel, submit_response
from survey_server.services.tokens import TokenError, dossier_for_token, token_for_dossier

from . import bp, int_setting, setting

Page = tuple[str, int] | WerkzeugResponse

TOKEN_ERRORS = {
    400: (
        lazy_gettext("This QR code is not valid"),
        lazy_gettext(
            "The address may have been typed or copied incompletely. Scan the QR code on your "
            "receipt again, or ask the one-stop desk for help."
        ),
    ),
    404: (
        lazy_gettext("We cannot find this dossier"),
        lazy_gettext(
            "The dossier of this receipt is not in our system. Please ask the one-stop desk "
            "that gave you the receipt."
        ),
    ),
    410: (
        lazy_gettext("This QR code has expired"),
        lazy_gettext(
            "Ratings for this dossier closed %(days)s days after its appointment date. You can "
            "still give your opinion at the one-stop desk or through the hotline posted there."
        ),
    ),
}

CONTACT_ERRORS = {
    "required": lazy_gettext("Please enter your phone number, or untick the box."),
    "invalid_phone": lazy_gettext("This is not a Vietnamese phone number (e.g. 0912 345 678)."),
    "consent": lazy_gettext(
        "We keep your number only if you tick the box. Tick it, or leave the number empty."
    ),
    "already_left": lazy_gettext("You have already left a phone number for this answer."),
}


class ContactForm(FlaskForm):
    consent = BooleanField(lazy_gettext("I agree that my phone number is kept for this purpose."))
    phone = StringField(
        lazy_gettext("Phone number (optional)"), validators=[Optional(), Length(max=20)]
    )


def _token_key() -> str:
    """Rate limits per token: one dossier's QR hammered from many addresses."""
    return "qr-token:" + str((request.view_args or {}).get("token", ""))[:64]


def _lang() -> str:
    return str(get_locale() or "vi")


def _lang_args() -> dict[str, Any]:
    """Keep ``?lang=`` on the links and redirects of these pages (no cookie needed)."""
    lang = request.args.get("lang")
    return {"lang": lang} if lang and lang in current_app.config["LANGUAGES"] else {}


def _dossier(token: str) -> Dossier:
    return dossier_for_token(
        db.session,
        current_app.config["SECRET_KEY"],
        token,
        utcnow(),
        int_setting("QR_TOKEN_TTL_DAYS"),
    )


def _answered(dossier: Dossier, form_id: str) -> bool:
    found = db.session.scalar(
        select(Response.id).where(
            Response.dossier_id == dossier.id, Response.form == form_id, Response.valid.is_(True)
        )
    )
    return found is not None


def _next_form(dossier: Dossier) -> str | None:
    """phieu1 until it is answered; then phieu2 once the result is returned."""
    if not _answered(dossier, "phieu1"):
        return "phieu1"
    if dossier.returned and not _answered(dossier, "phieu2"):
        return "phieu2"
    return None


def _token_error(exc: TokenError) -> tuple[str, int]:
    title, advice = TOKEN_ERRORS[exc.status]
    if exc.status == 410:
        advice = str(advice) % {"days": int_setting("QR_TOKEN_TTL_DAYS")}
    return render_template("qr/error.html", title=title, advice=advice), exc.status


def _form_page(token: str, dossier: Dossier, form: Any, status: int = 200) -> tuple[str, int]:
    return render_template(
        "qr/form.html", token=token, dossier=dossier, form=form, lang_args=_lang_args()
    ), status


def _answered_page(dossier: Dossier, form_id: str, status: int) -> tuple[str, int]:
    definition = survey_forms()[form_id]
    return render_template(
        "qr/answered.html", dossier=dossier, form_name=definition.name_in(_lang())
    ), status


def _unknown_form_page() -> tuple[str, int]:
    """A POST that names no form of ours: not a page we served (a bot, or a mangled post)."""
    title = lazy_gettext("This form cannot be answered here")
    advice = lazy_gettext(
        "What was sent does not match the survey form of this receipt. Scan the QR code "
        "again and answer on the page that opens."
    )
    return render_template("qr/error.html", title=title, advice=advice), 400


def _come_back_page(dossier: Dossier) -> tuple[str, int]:
    return render_template("qr/come_back.html", dossier=dossier), 200


@bp.errorhandler(CSRFError)
def _csrf_error(_exc: CSRFError) -> tuple[str, int]:
    title = lazy_gettext("This page has expired")
    advice = lazy_gettext(
        "Your answer was not saved because the page was open too long. Scan the QR code "
        "again and answer once more."
    )
    return render_template("qr/error.html", title=title, advice=advice), 400


@bp.route("/q/<token>", methods=["GET", "POST"])
@csrf.exempt  # checked in the view, after the token: a bad QR is reported as such
@limiter.limit(lambda: setting("QR_RATELIMIT_IP"), key_func=get_remote_address)
@limiter.limit(lambda: setting("QR_RATELIMIT_TOKEN"), key_func=_token_key)
def survey(token: str) -> Page:
    """The form open for this dossier now; on POST, store the answer once."""
    try:
        dossier = _dossier(token)
    except TokenError as exc:
        return _token_error(exc)
    definitions = survey_forms()
    if request.method == "GET":
        form_id = _next_form(dossier)
        if form_id is None:
            if not dossier.returned:
                return _come_back_page(dossier)
            return _answered_page(dossier, "phieu2", 200)
        form_class = build_form_class(definitions[form_id], _lang())
        return _form_page(token, dossier, form_class())

    csrf.protect()
    form_id = request.form.get("form", "")
    if form_id not in ("phieu1", "phieu2") or form_id not in definitions:
        return _unknown_form_page()
    if form_id == "phieu2" and not dossier.returned:
        return _come_back_page(dossier)
    if _answered(dossier, form_id):
        return _answered_page(dossier, form_id, 409)
    definition = definitions[form_id]
    form = build_form_class(definition, _lang())()
    if not form.validate():
        return _form_page(token, dossier, form, 422)
    now = utcnow()
    flags = network_flags(
        db.session, dossier, request.remote_addr, now, int_setting("QR_CENTRE_NETWORK_SECONDS")
    )
    body = {
        "id": str(uuid.uuid4()),
        "form": form_id,
        "dossier_code": dossier.code,
        "officer": None,
        "answers": {key: value for key, value in form.answers().items() if value is not None},
        "answered_at": now.isoformat(),
        "lang": _lang(),
    }
    # The page's reads end here (on SQLite the session's transaction holds the write lock): the
    # answer is written on a connection of its own, as the kiosk API writes it.
    db.session.commit()
    try:
        with direct.connect(db.engine) as connection:
            outcome = submit_response(
                connection, body, Channel("qr", flags=flags), definitions, now
            )
    except Refused as exc:
        if exc.status == 409:
            return _answered_page(dossier, form_id, 409)
        current_app.logger.warning("QR answer refused: %s %s", exc.error, exc.fields)
        return _form_page(token, dossier, form, 422)
    stored = db.session.get_one(Response, outcome.response_id)
    if definition.contact_allowed(stored.answers):
        session["qr_contact"] = stored.id
    return redirect(url_for("qr.thanks", token=token, form=form_id, **_lang_args()))


def _contact_response(dossier: Dossier) -> Response | None:
    """The response of this dossier just given in this browser, if it may leave a contact."""
    response_id = session.get("qr_contact")
    if not isinstance(response_id, int):
        return None
    response = db.session.get(Response, response_id)
    if response is None or response.dossier_id != dossier.id:
        return None
    return response


@bp.get("/q/<token>/thanks")
@limiter.limit(lambda: setting("QR_RATELIMIT_IP"), key_func=get_remote_address)
def thanks(token: str) -> Page:
    try:
        dossier = _dossier(token)
    except TokenError as exc:
        return _token_error(exc)
    response = _contact_response(dossier)
    return render_template(
        "qr/thanks.html",
        token=token,
        dossier=dossier,
        next_form=_next_form(dossier),
        contact_form=ContactForm() if response is not None else None,
        notice_version=contact_service.NOTICE_VERSION,
        retention_days=int_setting("CONTACT_RETENTION_DAYS"),
        lang_args=_lang_args(),
    ), 200


@bp.post("/q/<token>/contact")
@csrf.exempt  # checked in the view, after the token
@limiter.limit(lambda: setting("QR_RATELIMIT_IP"), key_func=get_remote_address)
@limiter.limit(lambda: setting("QR_RATELIMIT_TOKEN"), key_func=_token_key)
def contact(token: str) -> Page:
    """The optional phone number: kept only with the ticked consent box."""
    try:
        dossier = _dossier(token)
    except TokenError as exc:
        return _token_error(exc)
    csrf.protect()
    response = _contact_response(dossier)
    if response is None:
        return redirect(url_for("qr.survey", token=token, **_lang_args()))
    form = ContactForm()
    error = None
    if form.validate():
        definition = survey_forms()[response.form]
        try:
            stored = contact_service.record_contact(
                db.session, response, definition, form.phone.data, bool(form.consent.data), utcnow()
            )
        except Refused as exc:
            db.session.rollback()
            code = next(iter(exc.fields.values()), "invalid_phone")
            error = CONTACT_ERRORS["consent" if "consent" in exc.fields else code]
        else:
            session.pop("qr_contact", None)
            return render_template("qr/contact_done.html", stored=stored is not None), 200
    else:
        error = CONTACT_ERRORS["invalid_phone"]
    return render_template(
        "qr/thanks.html",
        token=token,
        dossier=dossier,
        next_form=_next_form(dossier),
        contact_form=form,
        contact_error=error,
        notice_version=contact_service.NOTICE_VERSION,
        retention_days=int_setting("CONTACT_RETENTION_DAYS"),
        lang_args=_lang_args(),
    ), 422


# -- the desk -------------------------------------------------------------------------------


def _desk_user() -> User:
    """The logged-in user (flask_login); anonymous → the login page, or 401 when this
    installation has no dashboard to log in at."""
    if not current_user.is_authenticated:
        if "dashboard" in current_app.blueprints:
            abort(login_manager.unauthorized())
        abort(401)
    user: User = current_user._get_current_object()
    return user


@bp.get("/receipt/<code>")
def receipt(code: str) -> Page:
    """The slip for the desk to print (it reveals the dossier's token: staff only)."""
    user = _desk_user()
    dossier = dossier_by_code(db.session, code)
    # Another unit's dossier answers like an unknown one: codes cannot be probed (access.py).
    from ..dashboard.access import can_see_unit

    if dossier is None or not can_see_unit(user, dossier.unit_id):
        abort(404)
    token = token_for_dossier(
        current_app.config["SECRET_KEY"], dossier, int_setting("QR_TOKEN_TTL_DAYS")
    )
    url = qr_url(current_app.config["PUBLIC_BASE_URL"], token)
    record_print(db.session, dossier, "desk", utcnow())
    db.session.commit()
    return render_template("qr/receipt.html", dossier=dossier, url=url, qr=Markup(qr_svg(url))), 200
