"""Views of the index pages: they parse and render; the services do the work."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response as BaseResponse

from rating.index import IndexTable, available_tables, load_satisfaction_config
from rating.index.sonla import consequences

from ..dashboard.access import (
    can_appraise,
    get_unit_by_code_or_404,
    role_required,
    visible_active_units,
    visible_unit_ids,
)
from ..extensions import db
from ..models import IndexAssessment, Unit
from ..services import index as service
from ..services import index_daklak as daklak
from ..services import index_xlsx
from ..timeutil import LOCAL_TZ
from ..web import http_error
from . import bp
from .charts import satisfaction_svg
from .forms import DaklakForm

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DAKLAK_ROLES = ("admin", "head")
DAKLAK_MAX_BYTES = 1024 * 1024
"""The Đắk Lắk file's limit where the app sets no upload limit."""


def _year() -> int:
    default = dt.datetime.now(LOCAL_TZ).year
    year = request.args.get("year", default, type=int)
    if year is None or not 2000 <= year <= 2100:
        abort(400)
    return year


def _table() -> IndexTable:
    table_id = request.args.get("table", service.DEFAULT_TABLE)
    if table_id not in available_tables():
        abort(404)
    return service.table_for(table_id)


def _visible_units() -> list[Unit]:
    return visible_active_units(current_user)


def _unit(code: str) -> Unit:
    return get_unit_by_code_or_404(current_user, code)


def _actor() -> str:
    return f"user:{getattr(current_user, 'username', '?')}"


@bp.get("/")
@role_required("admin", "head", "viewer")
def overview() -> str:
    year, table = _year(), _table()
    units = _visible_units()
    rows, incomplete = service.ranking(db.session, year, table, [unit.id for unit in units])
    return render_template(
        "index/overview.html",
        year=year,
        table=table,
        tables=list(available_tables()),
        units=units,
        rows=rows,
        incomplete=incomplete,
        can_appraise=can_appraise(current_user),
        can_open_daklak=can_open_daklak(),
    )


@bp.get("/satisfaction/<code>")
@role_required("admin", "head", "viewer")
def satisfaction(code: str) -> str:
    unit, year = _unit(code), _year()
    found = service.unit_satisfaction(db.session, unit, year)
    titles = {rule.code: rule.title for rule in load_satisfaction_config().sub_criteria}
    return render_template(
        "index/satisfaction.html", unit=unit, year=year, found=found, titles=titles
    )


@bp.get("/satisfaction/<code>/chart.svg")
@role_required("admin", "head", "viewer")
def satisfaction_chart(code: str) -> Response:
    unit, year = _unit(code), _year()
    found = service.unit_satisfaction(db.session, unit, year)
    title = _("Satisfaction (8.3), %(unit)s, %(year)s", unit=unit.name, year=year)
    svg = satisfaction_svg(found.result, title, _("no data"))
    return Response(svg, mimetype="image/svg+xml")


@bp.route("/score/<code>", methods=["GET", "POST"])
@role_required("admin", "head")
def score(code: str) -> tuple[str, int] | BaseResponse:
    unit, year, table = _unit(code), _year(), _table()
    appraise = can_appraise(current_user)
    errors: dict[str, str] = {}
    if request.method == "POST":
        entries, errors = _entries_from_form(table, appraise)
        reason = request.form.get("reason", "").strip() or None
        if not errors:
            try:
                service.save_scores(
                    db.session,
                    unit,
                    year,
                    table,
                    entries,
                    _actor(),
                    "entered",
                    reason,
                    appraise=appraise,
                )
            except service.IndexInputError as error:
                db.session.rollback()
                errors = error.problems
            else:
                flash(_("Scores saved."))
                return redirect(url_for(".score", code=code, year=year, table=table.id))
    index = service.unit_index(db.session, unit, year, table)
    years = sorted(
        db.session.scalars(
            select(IndexAssessment.year).where(
                IndexAssessment.unit_id == unit.id, IndexAssessment.table_id == table.id
            )
        )
    )
    history: dict[int, Decimal] = {}
    for other in years:
        result = service.unit_index(db.session, unit, other, table).result
        if result is not None:
            history[other] = result.index_percent
    return render_template(
        "index/score.html",
        unit=unit,
        year=year,
        table=table,
        index=index,
        errors=errors,
        form=request.form if request.method == "POST" else None,
        consequences=consequences(history),
        can_appraise=appraise,
    ), (422 if errors else 200)


@bp.post("/score/<code>/clear/<leaf>")
@role_required("admin")
def clear_override(code: str, leaf: str) -> BaseResponse:
    unit, year, table = _unit(code), _year(), _table()
    service.clear_override(db.session, unit, year, table, leaf, _actor())
    return redirect(url_for(".score", code=code, year=year, table=table.id))


@bp.get("/export.xlsx")
@role_required("admin", "head", "viewer")
def export() -> Response:
    year, table = _year(), _table()
    data = index_xlsx.export_units(db.session, _visible_units(), year, table)
    filename = f"chi-so-{table.id}-{year}.xlsx"
    return Response(
        data,
        mimetype=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.post("/import")
@role_required("admin", "head")
def import_xlsx() -> tuple[str, int] | BaseResponse:
    year, table = _year(), _table()
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash(_("Choose an xlsx file."))
        return redirect(url_for(".overview", year=year, table=table.id))
    try:
        codes = index_xlsx.import_workbook(
            db.session,
            upload.read(),
            year,
            table,
            _actor(),
            appraise=can_appraise(current_user),
            unit_ids=visible_unit_ids(current_user),
        )
    except index_xlsx.XlsxImportError as error:
        return render_template(
            "index/import_errors.html", year=year, table=table, problems=error.problems
        ), 422
    flash(_("Imported the scores of %(count)s units.", count=len(codes)))
    return redirect(url_for(".overview", year=year, table=table.id))


@bp.route("/daklak", methods=["GET", "POST"])
@role_required(*DAKLAK_ROLES)
def daklak_assessment() -> tuple[str, int]:
    """Đắk Lắk 2025 (seed 002) from an uploaded CSV, as ``flask index daklak``: nothing is
    stored."""
    form = DaklakForm()
    if not form.validate_on_submit():
        return _daklak_page(form), (400 if form.errors else 200)
    limit = request.max_content_length or DAKLAK_MAX_BYTES
    data = form.file.data.read(limit + 1)
    if len(data) > limit:
        return _daklak_page(form, error=_daklak_too_large(limit)), 422
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        error = _('The file is not UTF-8 text: save it as "CSV UTF-8" and upload it again.')
        return _daklak_page(form, error=error), 422
    try:
        groups = daklak.read_units(text)
        if not groups:
            error = _("The file has no unit: a header line, then one line per unit.")
            return _daklak_page(form, error=error), 422
        reports = daklak.assess(groups)
    except daklak.DaklakFileError as refused:
        return _daklak_page(form, error=str(refused)), 422
    return _daklak_page(form, reports=reports), 200


@bp.get("/daklak/sample.csv")
@role_required(*DAKLAK_ROLES)
def daklak_sample() -> Response:
    return Response(
        daklak.SAMPLE_CSV.encode("utf-8"),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="mau-danh-gia-dak-lak.csv"'},
    )


@bp.errorhandler(RequestEntityTooLarge)
def too_large(exc: RequestEntityTooLarge) -> tuple[Response | str, int]:
    """A file over the app's upload limit: the Đắk Lắk page says so beside its form (the body
    is never read, so the form is built without it)."""
    if request.endpoint != "index.daklak_assessment" or not can_open_daklak():
        return http_error(exc)
    limit = request.max_content_length or DAKLAK_MAX_BYTES
    page = _daklak_page(DaklakForm(formdata=None), error=_daklak_too_large(limit))
    return page, 413


def can_open_daklak() -> bool:
    return bool(current_user.is_authenticated and current_user.role in DAKLAK_ROLES)


def _daklak_too_large(limit: int) -> str:
    return str(_("The file is too large (at most %(size)s KB).", size=limit // 1024))


def _daklak_page(
    form: DaklakForm, error: str | None = None, reports: list[daklak.GroupReport] | None = None
) -> str:
    return render_template(
        "index/daklak.html",
        form=form,
        error=error,
        reports=reports or [],
        columns=daklak.COLUMNS,
        level_text=daklak.level_text,
        reform_text=daklak.reform_text,
        notes=daklak.notes,
    )


def _entries_from_form(
    table: IndexTable, appraise: bool
) -> tuple[dict[str, service.LeafEntry], dict[str, str]]:
    """Leaves whose fields were filled: two numbers, or the "không đánh giá" box.

    A head (``appraise`` False) fills the self-assessed score; the appraised one shown read-only
    comes back as it was, and the service refuses it if it does not.
    """
    entries: dict[str, service.LeafEntry] = {}
    errors: dict[str, str] = {}
    for leaf in table.leaves():
        if request.form.get(f"na-{leaf.code}"):
            entries[leaf.code] = service.NOT_ASSESSED_ENTRY
            continue
        own = request.form.get(f"self-{leaf.code}", "").strip()
        appraised = request.form.get(f"appraised-{leaf.code}", "").strip()
        if not own and not appraised:
            continue
        values = [_number(text) if text else None for text in (own, appraised)]
        if not appraise:
            if (own and values[0] is None) or (appraised and values[1] is None):
                errors[leaf.code] = _("Enter the self-assessed score as a number, e.g. 0.75.")
                continue
        elif values[0] is None or values[1] is None:
            errors[leaf.code] = _("Enter both scores as numbers, e.g. 0.75.")
            continue
        entries[leaf.code] = service.LeafEntry(values[0], values[1])
    return entries, errors


def _number(text: str) -> Decimal | None:
    try:
        value = Decimal(text.replace(",", "."))
    except InvalidOperation:
        return None
    return value if value.is_finite() else None
