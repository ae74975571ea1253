"""The administration screens: lists with a "new" link, one edit form per kind of thing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    send_from_directory,
    url_for,
)
from flask_babel import gettext, lazy_gettext
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import func, select
from werkzeug.wrappers import Response as WerkzeugResponse
from wtforms import BooleanField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # WTForms 3.3; stubs: 3.2
from wtforms.validators import Length, Optional

from rating import RuleSetError

from ..dashboard.access import role_required
from ..extensions import db
from ..forms_registry import survey_forms
from ..models import Centre, Counter, Device, Officer, Unit, User, utcnow
from ..services import admin as service
from ..services import officer_import as importer
from ..services.rating_job import local_month, previous_month
from . import bp, photos_bp

admin_only = role_required("admin")
T = TypeVar("T")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
GROUP_LABELS = {"reception": lazy_gettext("Reception"), "resolver": lazy_gettext("Resolver")}
KIND_LABELS = {
    "reception": lazy_gettext("Reception"),
    "return": lazy_gettext("Return of results"),
    "both": lazy_gettext("Reception and return"),
}
ROLE_LABELS = {
    "admin": lazy_gettext("Province administrator"),
    "head": lazy_gettext("Unit head"),
    "viewer": lazy_gettext("Viewer"),
}


def _actor() -> str:
    return str(current_user.username)


def _none(value: str | None) -> int | None:
    return int(value) if value else None


def _choices(pairs: Any) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


def _unit_choices(empty: bool = False) -> list[SelectChoice]:
    units = db.session.scalars(select(Unit).order_by(Unit.code))
    choices = [(str(unit.id), f"{unit.code} · {unit.name}") for unit in units]
    return _choices([("", "—"), *choices] if empty else choices)


def _save(form: FlaskForm, save: Callable[[], T]) -> T | None:
    """Run ``save`` (a service call that audits and commits) and flash "Saved."; the row saved.

    None when the service refuses: nothing it did stays, and the refusal is shown on the field
    at fault, for the view to render the form again.
    """
    try:
        saved = save()
    except service.AdminError as error:
        db.session.rollback()
        _refused(form, error)
        return None
    flash(gettext("Saved."), "info")
    return saved


def _refused(form: FlaskForm, error: service.AdminError) -> None:
    """Show a refused change on the field at fault (or at the top of the form)."""
    field = getattr(form, error.field or "", None)
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        flash(error.message, "error")


# -- overview ---------------------------------------------------------------------------------


@bp.get("/")
@admin_only
def index() -> str:
    def count(model: Any) -> int:
        return int(db.session.scalar(select(func.count()).select_from(model)) or 0)

    counts = {
        "units": count(Unit),
        "centres": count(Centre),
        "counters": count(Counter),
        "officers": count(Officer),
        "devices": int(
            db.session.scalar(select(func.count(Device.id)).where(Device.revoked_at.is_(None))) or 0
        ),
        "users": count(User),
    }
    return render_template("admin/index.html", counts=counts)


def _list(title: str, new_url: str | None, headers: list[str], rows: list[Any]) -> str:
    return render_template(
        "admin/list.html", title=title, new_url=new_url, headers=headers, rows=rows
    )


def _edit(title: str, form: FlaskForm, **context: Any) -> str:
    return render_template("admin/edit.html", title=title, form=form, **context)


# -- units ------------------------------------------------------------------------------------


class UnitForm(FlaskForm):
    code = StringField(lazy_gettext("Code"), validators=[Length(max=64)])
    name = StringField(lazy_gettext("Name"), validators=[Length(max=255)])
    level = SelectField(lazy_gettext("Level"))
    parent_id = SelectField(lazy_gettext("Parent unit"))
    active = BooleanField(lazy_gettext("Active"), default=True)


@bp.get("/units")
@admin_only
def units() -> str:
    rows = [
        (
            [
                unit.code,
                unit.name,
                unit.level,
                unit.parent.code if unit.parent else "",
                _yes(unit.active),
            ],
            url_for("admin.unit", unit_id=unit.id),
        )
        for unit in db.session.scalars(select(Unit).order_by(Unit.code))
    ]
    headers = [
        gettext("Code"),
        gettext("Name"),
        gettext("Level"),
        gettext("Parent unit"),
        gettext("Active"),
    ]
    return _list(gettext("Units"), url_for("admin.unit"), headers, rows)


def _yes(value: bool) -> str:
    return str(gettext("yes") if value else gettext("no"))


@bp.route("/units/new", methods=["GET", "POST"], defaults={"unit_id": None})
@bp.route("/units/<int:unit_id>", methods=["GET", "POST"])
@admin_only
def unit(unit_id: int | None) -> str | WerkzeugResponse:
    row = _get_or_404(Unit, unit_id)
    form = UnitForm(obj=row, data=None if row else {"active": True})
    levels = list(current_app.config["UNIT_LEVELS"])
    form.level.choices = _choices((level, level) for level in levels)
    form.parent_id.choices = _unit_choices(empty=True)
    if row is not None and not form.is_submitted():
        form.parent_id.data = str(row.parent_id or "")
    if form.validate_on_submit():
        saved = _save(
            form,
            lambda: service.save_unit(
                db.session,
                row,
                code=form.code.data or "",
                name=form.name.data or "",
                level=form.level.data or "",
                parent_id=_none(form.parent_id.data),
                levels=levels,
                actor=_actor(),
                active=bool(form.active.data),
            ),
        )
        if saved is not None:
            return redirect(url_for("admin.units"))
    return _edit(gettext("Unit"), form, back=url_for("admin.units"))


def _get_or_404(model: Any, ident: int | None) -> Any:
    if ident is None:
        return None
    row = db.session.get(model, ident)
    if row is None:
        abort(404)
    return row


# -- centres ----------------------------------------------------------------------------------


class CentreForm(FlaskForm):
    code = StringField(lazy_gettext("Code"), validators=[Length(max=64)])
    name = StringField(lazy_gettext("Name"), validators=[Length(max=255)])
    unit_id = SelectField(lazy_gettext("Unit"))
    address = StringField(lazy_gettext("Address"), validators=[Length(max=500)])
    networks = TextAreaField(
        lazy_gettext("The centre's own networks (one per line, e.g. 10.0.0.0/24)"),
        validators=[Length(max=4000)],
    )


@bp.get("/centres")
@admin_only
def centres() -> str:
    rows = [
        (
            [centre.code, centre.name, centre.unit.code, ", ".join(centre.networks or [])],
            url_for("admin.centre", centre_id=centre.id),
        )
        for centre in db.session.scalars(select(Centre).order_by(Centre.code))
    ]
    headers = [gettext("Code"), gettext("Name"), gettext("Unit"), gettext("Networks")]
    return _list(gettext("Centres"), url_for("admin.centre"), headers, rows)


@bp.route("/centres/new", methods=["GET", "POST"], defaults={"centre_id": None})
@bp.route("/centres/<int:centre_id>", methods=["GET", "POST"])
@admin_only
def centre(centre_id: int | None) -> str | WerkzeugResponse:
    row = _get_or_404(Centre, centre_id)
    form = CentreForm(obj=row)
    form.unit_id.choices = _unit_choices()
    if row is not None and not form.is_submitted():
        form.unit_id.data = str(row.unit_id)
        form.networks.data = "\n".join(row.networks or [])
    if form.validate_on_submit():
        saved = _save(
            form,
            lambda: service.save_centre(
                db.session,
                row,
                code=form.code.data or "",
                name=form.name.data or "",
                unit_id=_none(form.unit_id.data),
                address=form.address.data,
                networks=form.networks.data or "",
                actor=_actor(),
            ),
        )
        if saved is not None:
            return redirect(url_for("admin.centres"))
    return _edit(gettext("Centre"), form, back=url_for("admin.centres"))


# -- counters and their kiosks ----------------------------------------------------------------


class CounterForm(FlaskForm):
    code = StringField(lazy_gettext("Code"), validators=[Length(max=64)])
    name = StringField(lazy_gettext("Name"), validators=[Length(max=255)])
    centre_id = SelectField(lazy_gettext("Centre"))
    kind = SelectField(lazy_gettext("Kind"), choices=_choices(KIND_LABELS.items()))


class DeviceForm(FlaskForm):
    name = StringField(lazy_gettext("Kiosk name"), validators=[Optional(), Length(max=255)])


class ConfirmForm(FlaskForm):
    """Only the CSRF token."""


@bp.get("/counters")
@admin_only
def counters() -> str:
    rows = [
        (
            [counter.code, counter.name, counter.centre.code, str(KIND_LABELS[counter.kind])],
            url_for("admin.counter", counter_id=counter.id),
        )
        for counter in db.session.scalars(select(Counter).order_by(Counter.code))
    ]
    headers = [gettext("Code"), gettext("Name"), gettext("Centre"), gettext("Kind")]
    return _list(gettext("Counters and kiosks"), url_for("admin.counter"), headers, rows)


@bp.route("/counters/new", methods=["GET", "POST"], defaults={"counter_id": None})
@bp.route("/counters/<int:counter_id>", methods=["GET", "POST"])
@admin_only
def counter(counter_id: int | None) -> str | WerkzeugResponse:
    row = _get_or_404(Counter, counter_id)
    form = CounterForm(obj=row)
    form.centre_id.choices = _choices(
        (str(item.id), f"{item.code} · {item.name}")
        for item in db.session.scalars(select(Centre).order_by(Centre.code))
    )
    if row is not None and not form.is_submitted():
        form.centre_id.data = str(row.centre_id)
    if form.validate_on_submit():
        saved = _save(
            form,
            lambda: service.save_counter(
                db.session,
                row,
                code=form.code.data or "",
                name=form.name.data or "",
                centre_id=_none(form.centre_id.data),
                kind=form.kind.data or "",
                actor=_actor(),
            ),
        )
        if saved is not None:
            return redirect(url_for("admin.counter", counter_id=saved.id))
    devices = [] if row is None else sorted(row.devices, key=lambda device: device.id)
    return render_template(
        "admin/counter.html",
        form=form,
        counter=row,
        devices=devices,
        device_form=DeviceForm(formdata=None),
        confirm_form=ConfirmForm(formdata=None),
    )


@bp.post("/counters/<int:counter_id>/devices")
@admin_only
def register_device(counter_id: int) -> str | WerkzeugResponse:
    row = _get_or_404(Counter, counter_id)
    form = DeviceForm()
    if not form.validate_on_submit():
        return redirect(url_for("admin.counter", counter_id=row.id))
    device, token = service.register_device(db.session, row, form.name.data, _actor())
    # The token is shown once, on this response only; it is never stored in clear.
    return render_template("admin/device_token.html", device=device, token=token, counter=row)


@bp.post("/devices/<int:device_id>/revoke")
@admin_only
def revoke_device(device_id: int) -> WerkzeugResponse:
    device = _get_or_404(Device, device_id)
    if ConfirmForm().validate_on_submit():
        try:
            service.revoke_device(db.session, device, _actor(), utcnow())
            flash(gettext("The kiosk is revoked: its token no longer works."), "info")
        except service.AdminError as error:
            flash(error.message, "error")
    return redirect(url_for("admin.counter", counter_id=device.counter_id))


# -- officers ---------------------------------------------------------------------------------


class OfficerForm(FlaskForm):
    code = StringField(lazy_gettext("Code"), validators=[Length(max=64)])
    name = StringField(lazy_gettext("Full name"), validators=[Length(max=255)])
    unit_id = SelectField(lazy_gettext("Unit"))
    group = SelectField(lazy_gettext("Staff group"), choices=_choices(GROUP_LABELS.items()))
    title = StringField(lazy_gettext("Position"), validators=[Length(max=255)])
    active = BooleanField(lazy_gettext("Active"), default=True)


class PinForm(FlaskForm):
    pin = PasswordField(lazy_gettext("New PIN (4 to 12 digits)"), validators=[Length(max=12)])


class PhotoForm(FlaskForm):
    photo = FileField(lazy_gettext("Photo (JPEG or PNG)"), validators=[FileRequired()])


class ImportForm(FlaskForm):
    file = FileField(lazy_gettext("Excel file (.xlsx)"), validators=[FileRequired()])


def _photos_dir() -> Path:
    return Path(current_app.instance_path) / "photos"


@bp.get("/officers")
@admin_only
def officers() -> str:
    rows = [
        (
            [
                officer.code,
                officer.name,
                officer.unit.code,
                str(GROUP_LABELS.get(officer.group, officer.group)),
                _yes(officer.active),
                _yes(officer.pin_hash is not None),
            ],
            url_for("admin.officer", officer_id=officer.id),
        )
        for officer in db.session.scalars(select(Officer).order_by(Officer.code))
    ]
    headers = [
        gettext("Code"),
        gettext("Full name"),
        gettext("Unit"),
        gettext("Staff group"),
        gettext("Active"),
        gettext("PIN set"),
    ]
    extra = [(url_for("admin.officer_import"), gettext("Import from Excel"))]
    return render_template(
        "admin/list.html",
        title=gettext("Officers"),
        new_url=url_for("admin.officer"),
        headers=headers,
        rows=rows,
        extra=extra,
    )


@bp.route("/officers/new", methods=["GET", "POST"], defaults={"officer_id": None})
@bp.route("/officers/<int:officer_id>", methods=["GET", "POST"])
@admin_only
def officer(officer_id: int | None) -> str | WerkzeugResponse:
    row = _get_or_404(Officer, officer_id)
    form = OfficerForm(obj=row, data=None if row else {"active": True})
    form.unit_id.choices = _unit_choices()
    if row is not None and not form.is_submitted():
        form.unit_id.data = str(row.unit_id)
    if form.validate_on_submit():
        saved = _save(
            form,
            lambda: service.save_officer(
                db.session,
                row,
                code=form.code.data or "",
                name=form.name.data or "",
                unit_id=_none(form.unit_id.data),
                group=form.group.data or "",
                title=form.title.data,
                active=bool(form.active.data),
                actor=_actor(),
            ),
        )
        if saved is not None:
            return redirect(url_for("admin.officer", officer_id=saved.id))
    return render_template(
        "admin/officer.html",
        form=form,
        officer=row,
        pin_form=PinForm(formdata=None),
        photo_form=PhotoForm(formdata=None),
        confirm_form=ConfirmForm(formdata=None),
    )


def _officer_action(officer_id: int, action: Callable[[Officer], None]) -> WerkzeugResponse:
    row = _get_or_404(Officer, officer_id)
    try:
        action(row)
    except service.AdminError as error:
        db.session.rollback()
        flash(error.message, "error")
    return redirect(url_for("admin.officer", officer_id=row.id))


@bp.post("/officers/<int:officer_id>/pin")
@admin_only
def officer_pin(officer_id: int) -> WerkzeugResponse:
    form = PinForm()

    def set_pin(row: Officer) -> None:
        if form.validate_on_submit():
            service.set_pin(db.session, row, form.pin.data or "", _actor())
            flash(gettext("The PIN is set."), "info")

    return _officer_action(officer_id, set_pin)


@bp.post("/officers/<int:officer_id>/pin/reset")
@admin_only
def officer_pin_reset(officer_id: int) -> WerkzeugResponse:
    def reset(row: Officer) -> None:
        if ConfirmForm().validate_on_submit():
            pin = service.reset_pin(db.session, row, _actor())
            flash(
                gettext("New PIN (hand it to the officer, it is shown once): %(pin)s", pin=pin),
                "info",
            )

    return _officer_action(officer_id, reset)


@bp.post("/officers/<int:officer_id>/photo")
@admin_only
def officer_photo(officer_id: int) -> WerkzeugResponse:
    form = PhotoForm()

    def upload(row: Officer) -> None:
        if not form.validate_on_submit():
            raise service.AdminError("bad_photo", "photo")
        data = form.photo.data.read(service.MAX_PHOTO_BYTES + 1)
        service.save_photo(db.session, row, data, _photos_dir(), _actor())
        flash(gettext("The photo is saved."), "info")

    return _officer_action(officer_id, upload)


@photos_bp.get("/<name>")
def photo(name: str) -> Response:
    """An officer's photo (public: the kiosk shows it; names carry a hash of the content)."""
    return send_from_directory(_photos_dir(), name, mimetype="image/jpeg", max_age=86400)


@bp.route("/officers/import", methods=["GET", "POST"])
@admin_only
def officer_import() -> str | WerkzeugResponse:
    form = ImportForm()
    problems: list[importer.Problem] = []
    status = 200
    if form.validate_on_submit():
        data = form.file.data.read(current_app.config["MAX_CONTENT_LENGTH"] or 10**7)
        try:
            summary = importer.import_officers(db.session, data, _actor())
        except importer.ImportRefused as refused:
            db.session.rollback()
            problems = refused.problems
            status = 422
        else:
            flash(
                gettext(
                    "Imported: %(created)s new, %(updated)s updated, %(unchanged)s unchanged.",
                    created=summary.created,
                    updated=summary.updated,
                    unchanged=summary.unchanged,
                ),
                "info",
            )
            return redirect(url_for("admin.officers"))
    page = render_template("admin/officer_import.html", form=form, problems=problems)
    return page if status == 200 else (page, status)  # type: ignore[return-value]


@bp.get("/officers/import/template.xlsx")
@admin_only
def officer_import_template() -> Response:
    return Response(
        importer.template_workbook(),
        mimetype=XLSX,
        headers={"Content-Disposition": "attachment; filename=mau-nhap-can-bo.xlsx"},
    )


# -- users ------------------------------------------------------------------------------------


class UserForm(FlaskForm):
    username = StringField(lazy_gettext("Username"), validators=[Length(max=64)])
    display_name = StringField(lazy_gettext("Full name"), validators=[Length(max=255)])
    role = SelectField(lazy_gettext("Role"), choices=_choices(ROLE_LABELS.items()))
    unit_id = SelectField(lazy_gettext("Unit (heads and viewers)"))
    active = BooleanField(lazy_gettext("Active"), default=True)
    password = PasswordField(
        lazy_gettext("Password (at least 10 characters; leave empty to keep)"),
        validators=[Length(max=200)],
    )


@bp.get("/users")
@admin_only
def users() -> str:
    rows = [
        (
            [
                user.username,
                user.display_name,
                str(ROLE_LABELS.get(user.role, user.role)),
                user.unit.code if user.unit else "",
                _yes(user.active),
            ],
            url_for("admin.user", user_id=user.id),
        )
        for user in db.session.scalars(select(User).order_by(User.username))
    ]
    headers = [
        gettext("Username"),
        gettext("Full name"),
        gettext("Role"),
        gettext("Unit"),
        gettext("Active"),
    ]
    return _list(gettext("Users"), url_for("admin.user"), headers, rows)


@bp.route("/users/new", methods=["GET", "POST"], defaults={"user_id": None})
@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@admin_only
def user(user_id: int | None) -> str | WerkzeugResponse:
    row = _get_or_404(User, user_id)
    form = UserForm(obj=row, data=None if row else {"active": True})
    form.unit_id.choices = _unit_choices(empty=True)
    if row is not None:
        form.username.render_kw = {"readonly": True}
        if not form.is_submitted():
            form.unit_id.data = str(row.unit_id or "")

    def save() -> User:
        if row is None:
            return service.create_user(
                db.session,
                username=form.username.data or "",
                display_name=form.display_name.data or "",
                password=form.password.data or "",
                role=form.role.data or "",
                unit_id=_none(form.unit_id.data),
                actor=_actor(),
            )
        updated = service.update_user(
            db.session,
            row,
            display_name=form.display_name.data or "",
            role=form.role.data or "",
            unit_id=_none(form.unit_id.data),
            active=bool(form.active.data),
            actor=_actor(),
        )
        if form.password.data:
            service.reset_password(db.session, row, form.password.data, _actor())
        return updated

    if form.validate_on_submit() and _save(form, save) is not None:
        return redirect(url_for("admin.users"))
    return _edit(gettext("User"), form, back=url_for("admin.users"))


# -- rule sets and forms ----------------------------------------------------------------------


class RuleSetForm(FlaskForm):
    file = FileField(lazy_gettext("Rule set file (.toml)"), validators=[FileRequired()])


def _rulesets_dir() -> Path:
    return service.rulesets_dir(current_app.config, current_app.instance_path)


@bp.route("/rulesets", methods=["GET", "POST"])
@admin_only
def rulesets() -> str | WerkzeugResponse:
    form = RuleSetForm()
    directory = _rulesets_dir()
    if form.validate_on_submit():
        upload = form.file.data
        try:
            ruleset = service.upload_ruleset(
                db.session,
                upload.filename or "",
                upload.read(service.MAX_RULESET_BYTES + 1),
                directory,
                _actor(),
            )
        except service.AdminError as error:
            flash(error.message, "error")
        else:
            flash(
                gettext(
                    "Rule set %(id)s version %(version)s is stored; in effect from %(date)s.",
                    id=ruleset.id,
                    version=ruleset.version,
                    date=ruleset.effective_from.strftime("%d/%m/%Y"),
                ),
                "info",
            )
            return redirect(url_for("admin.rulesets"))
    infos: list[service.RuleSetInfo] = []
    problem = None
    try:
        infos = service.list_rulesets(directory)
    except RuleSetError as error:
        problem = str(error)
    month = local_month(utcnow())
    months = [previous_month(month), month, _next_month(month), _next_month(_next_month(month))]
    effect = service.in_effect([info.ruleset for info in infos], months)
    return render_template(
        "admin/rulesets.html",
        form=form,
        infos=infos,
        effect=effect,
        problem=problem,
        directory=directory,
    )


def _next_month(month: dt.date) -> dt.date:
    return (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


@bp.get("/forms")
@admin_only
def forms() -> str:
    return render_template("admin/forms.html", forms=list(survey_forms().values()))
