"""Views of the TT 01 report: they parse and render; services/tt01_report.py does the work."""

from __future__ import annotations

import datetime as dt

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from rating.tt01_report import AGENCY_INDICATORS, DESK_INDICATORS, Quarter

from ..dashboard.access import (
    can_decide,
    get_unit_by_code_or_404,
    role_required,
    visible_active_units,
)
from ..extensions import db
from ..models import Centre, Unit
from ..services import tt01_report as service
from ..timeutil import LOCAL_TZ
from . import bp

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _quarter() -> Quarter:
    text = request.args.get("quarter")
    if text is None:
        return Quarter.containing(dt.datetime.now(LOCAL_TZ))
    try:
        return Quarter.parse(text)
    except ValueError:
        abort(400)


def _visible_units() -> list[Unit]:
    return visible_active_units(current_user)


def _unit(code: str) -> Unit:
    return get_unit_by_code_or_404(current_user, code)


def _common(quarter: Quarter) -> dict[str, object]:
    return {
        "quarter": quarter,
        "indicators": AGENCY_INDICATORS,
        "officer_indicators": (1, 2, 3, 4, 7),
        "desk_indicators": DESK_INDICATORS,
        "titles": service.INDICATOR_TITLES,
        "levels": service.LEVEL_LABELS,
        "bands": service.BAND_LABELS,
    }


@bp.get("/")
@role_required("admin", "head", "viewer")
def overview() -> str:
    quarter = _quarter()
    reports = service.unit_reports(db.session, quarter, _visible_units())
    return render_template("tt01/overview.html", reports=reports, **_common(quarter))


@bp.get("/unit/<code>")
@role_required("admin", "head", "viewer")
def unit(code: str) -> str:
    quarter = _quarter()
    report = service.unit_report(db.session, _unit(code), quarter)
    return render_template(
        "tt01/unit.html",
        report=report,
        can_enter=can_decide(current_user),
        errors={},
        **_common(quarter),
    )


@bp.post("/unit/<code>/desk/<centre_code>")
@role_required("admin", "head")
def desk(code: str, centre_code: str) -> tuple[str, int] | BaseResponse:
    the_unit, quarter = _unit(code), _quarter()
    centre = db.session.scalar(
        select(Centre).where(Centre.code == centre_code, Centre.unit_id == the_unit.id)
    )
    if centre is None:
        abort(404)
    values: dict[int, int | None] = {}
    errors: dict[str, str] = {}
    for indicator in DESK_INDICATORS:
        text = request.form.get(f"indicator_{indicator}", "").strip()
        if text == "":
            values[indicator] = None
        elif text in ("0", "1", "2"):
            values[indicator] = int(text)
        else:
            errors[f"{centre.code}-{indicator}"] = _("Enter 0, 1 or 2 points, or leave empty.")
    if not errors:
        actor = f"user:{getattr(current_user, 'username', '?')}"
        service.save_desk_entry(db.session, centre, quarter, values, actor, current_user.id)
        flash(_("Indicators of %(desk)s saved.", desk=centre.name))
        return redirect(url_for(".unit", code=code, quarter=str(quarter)))
    report = service.unit_report(db.session, the_unit, quarter)
    return render_template(
        "tt01/unit.html",
        report=report,
        can_enter=True,
        errors=errors,
        **_common(quarter),
    ), 422


@bp.get("/export.xlsx")
@role_required("admin", "head", "viewer")
def export() -> Response:
    quarter = _quarter()
    code = request.args.get("unit")
    units = [_unit(code)] if code else _visible_units()
    data = service.report_workbook(service.unit_reports(db.session, quarter, units), quarter)
    filename = f"tt01-{quarter}{'-' + code if code else ''}.xlsx"
    return Response(
        data,
        mimetype=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
