"""The pages of a head: the units they see, the month of a unit, an officer; their decisions."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext, lazy_gettext
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from werkzeug.wrappers import Response as WerkzeugResponse
from wtforms import BooleanField, IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # WTForms 3.3; stubs: 3.2
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from rating.labels import BAND_LABELS_VI, GROUP_LABELS_VI

from ..extensions import db
from ..forms_registry import survey_forms
from ..models import MisconductReport, Officer, OfficerRating, utcnow
from ..services import decisions
from ..services.rating_job import parse_month, previous_month
from . import bp, charts, todo
from .access import (
    can_decide,
    get_officer_or_404,
    get_unit_or_404,
    role_required,
    visible_unit_ids,
)
from .explain import band_label, explain, flag_label, format_metric, group_label, metric_label
from .queries import MIN_BREAKDOWN_FORMS, local_now_month, month_view, officer_view


class ReasonForm(FlaskForm):
    reason = TextAreaField(lazy_gettext("Reason"), validators=[DataRequired(), Length(max=2000)])


class DecideForm(ReasonForm):
    decision = RadioField(
        lazy_gettext("Decision"),
        choices=[
            SelectChoice("confirm", lazy_gettext("Confirm the report")),
            SelectChoice("reject", lazy_gettext("Reject the report")),
        ],
        validators=[InputRequired()],
    )


class ApproveForm(FlaskForm):
    """Only the CSRF token: the month and unit are in the address."""


class RecordForm(FlaskForm):
    violations = IntegerField(
        lazy_gettext("Breaches of office rules"), validators=[InputRequired(), NumberRange(0, 99)]
    )
    disciplined = BooleanField(lazy_gettext("A disciplinary measure took effect this month"))
    note = StringField(lazy_gettext("Note"), validators=[Optional(), Length(max=500)])


class FilterForm(FlaskForm):
    class Meta:
        csrf = False

    group = SelectField(lazy_gettext("Group"), validators=[Optional()])
    band = SelectField(lazy_gettext("Band"), validators=[Optional()])


def _month_or_404(text: str) -> dt.date:
    try:
        return parse_month(text)
    except ValueError:
        abort(404)


def _month_text(month: dt.date) -> str:
    return month.strftime("%Y-%m")


def _default_month(unit_id: int) -> dt.date:
    """The last month with results, else last month."""
    latest = db.session.scalar(
        select(func.max(OfficerRating.month)).where(OfficerRating.unit_id == unit_id)
    )
    return latest or previous_month(local_now_month(utcnow()))


@bp.app_template_filter("band_label")
def _band_label_filter(band: str | None) -> str:
    return band_label(band)


@bp.app_template_filter("metric")
def _metric_filter(value: object) -> str:
    return format_metric(value)


@bp.app_template_global("month_text")
def _month_text_global(month: dt.date) -> str:
    return _month_text(month)


@bp.get("/")
@role_required("admin", "head", "viewer")
def home() -> str:
    waiting = todo.unit_todos(db.session, visible_unit_ids(current_user), utcnow())
    return render_template("dashboard/home.html", todo=waiting)


@bp.get("/units/<int:unit_id>/")
@role_required("admin", "head", "viewer")
def unit(unit_id: int) -> WerkzeugResponse:
    get_unit_or_404(current_user, unit_id)
    month = _default_month(unit_id)
    return redirect(url_for("dashboard.month", unit_id=unit_id, month_text=_month_text(month)))


@bp.get("/units/<int:unit_id>/<month_text>")
@role_required("admin", "head", "viewer")
def month(unit_id: int, month_text: str) -> str:
    unit = get_unit_or_404(current_user, unit_id)
    month = _month_or_404(month_text)
    filters = FilterForm(request.args)
    filters.group.choices = [
        SelectChoice("", gettext("All groups")),
        *(SelectChoice(code, label) for code, label in GROUP_LABELS_VI.items()),
    ]
    filters.band.choices = [
        SelectChoice("", gettext("All bands")),
        *(SelectChoice(code, label) for code, label in BAND_LABELS_VI.items()),
        SelectChoice("none", gettext("Not rated yet")),
    ]
    search = request.args.get("q", "").strip()[:100]
    kept = {"group": filters.group.data or None, "band": filters.band.data or None}
    view = month_view(
        db.session, unit, month, group=kept["group"], band=kept["band"], search=search
    )
    band_chart = charts.to_svg(
        charts.band_distribution(view.history, gettext("Bands over the last 12 months"))
    )
    trend_chart = charts.to_svg(
        charts.satisfaction_trend(view.satisfaction, gettext("Satisfaction over 12 months"))
    )
    return render_template(
        "dashboard/month.html",
        view=view,
        filters=filters,
        why={row.officer.id: explain(row.rating.reasons) for row in view.rows if row.rating},
        band_chart=band_chart,
        trend_chart=trend_chart,
        decide_form=DecideForm(),
        approve_form=ApproveForm(),
        reopen_form=ReasonForm(),
        can_decide=can_decide(current_user),
        previous=previous_month(view.month),
        following=_next_month(view.month),
        group_label=group_label,
        flag_label=flag_label,
        search=search,
        # The month links keep the filters and the search; the exports are the whole unit.
        kept=kept,
        kept_all={**kept, "q": search or None},
    )


def _next_month(month: dt.date) -> dt.date:
    return (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def _act(form: FlaskForm, action: Callable[[], object], done: str, invalid: str | None) -> None:
    """Run a decision once ``form`` validates, and flash how it went.

    ``action`` calls the decisions service; when the service refuses, nothing it did stays and
    its Vietnamese reason is flashed. A bad CSRF token is 400, and so is any invalid form when
    there is no ``invalid`` message to flash (a form that holds only the token).
    """
    if form.validate_on_submit():
        try:
            action()
        except decisions.DecisionRefused as exc:
            db.session.rollback()
            flash(str(exc.message), "error")
        else:
            flash(done, "info")
    elif invalid is None or form.csrf_token.errors:
        abort(400)
    else:
        flash(invalid, "error")


@bp.post("/units/<int:unit_id>/<month_text>/approve")
@role_required("admin", "head")
def approve(unit_id: int, month_text: str) -> WerkzeugResponse:
    unit = get_unit_or_404(current_user, unit_id)
    month = _month_or_404(month_text)
    _act(
        ApproveForm(),
        lambda: decisions.approve_month(
            db.session, unit.id, month, user=current_user, now=utcnow()
        ),
        done=gettext("The month is approved and locked."),
        invalid=None,
    )
    return redirect(url_for("dashboard.month", unit_id=unit.id, month_text=_month_text(month)))


@bp.post("/units/<int:unit_id>/<month_text>/reopen")
@role_required("admin", "head")
def reopen(unit_id: int, month_text: str) -> WerkzeugResponse:
    unit = get_unit_or_404(current_user, unit_id)
    month = _month_or_404(month_text)
    form = ReasonForm()
    _act(
        form,
        lambda: decisions.reopen_month(
            db.session,
            unit.id,
            month,
            reason=form.reason.data or "",
            user=current_user,
            now=utcnow(),
        ),
        done=gettext("The month is open again and has been recomputed."),
        invalid=gettext("Give a reason to reopen the month."),
    )
    return redirect(url_for("dashboard.month", unit_id=unit.id, month_text=_month_text(month)))


@bp.post("/reports/<int:report_id>/decide")
@role_required("admin", "head")
def decide(report_id: int) -> WerkzeugResponse:
    report = db.session.get(MisconductReport, report_id)
    if report is None:
        abort(404)
    officer = get_officer_or_404(current_user, report.officer_id)
    form = DecideForm()
    _act(
        form,
        lambda: decisions.decide_report(
            db.session,
            report.id,
            confirm=form.decision.data == "confirm",
            reason=form.reason.data or "",
            user=current_user,
            now=utcnow(),
        ),
        done=gettext("The decision is recorded and the month recomputed."),
        invalid=gettext("Choose confirm or reject and give a reason."),
    )
    back = request.form.get("back") or ""
    if back.startswith("/dashboard/") and not back.startswith("//"):
        return redirect(back)
    return redirect(url_for("dashboard.unit", unit_id=officer.unit_id))


@bp.get("/officers/<int:officer_id>/<month_text>")
@role_required("admin", "head", "viewer")
def officer(officer_id: int, month_text: str) -> str:
    from .history import month_history  # here: the rest of this module's imports are shared

    officer = get_officer_or_404(current_user, officer_id)
    month = _month_or_404(month_text)
    view = officer_view(db.session, officer, month, survey_forms(), str(get_locale()))
    history_chart = charts.to_svg(
        charts.band_distribution(
            {rating.month: Counter({rating.band: 1}) for rating in view.history},
            gettext("Bands over the last 12 months"),
        )
    )
    trend_chart = charts.to_svg(
        charts.satisfaction_trend(
            {rating.month: rating.metrics.get("satisfied_pct") for rating in view.history},
            gettext("Satisfaction over 12 months"),
        )
    )
    question_chart = None
    answered = [q for q in view.questions if q.average is not None]
    if view.breakdown_allowed and answered:
        question_chart = charts.to_svg(
            charts.question_chart(
                [q.text for q in answered],
                [q.average for q in answered if q.average is not None],
                gettext("Average answer per question (1–5)"),
            )
        )
    record = view.record
    record_form = RecordForm(
        data={
            "violations": record.violations if record else 0,
            "disciplined": record.disciplined if record else False,
            "note": record.note if record else "",
        }
    )
    return render_template(
        "dashboard/officer.html",
        view=view,
        why=explain(view.rating.reasons) if view.rating else [],
        history_chart=history_chart,
        trend_chart=trend_chart,
        question_chart=question_chart,
        record_form=record_form,
        can_decide=can_decide(current_user),
        group_label=group_label,
        flag_label=flag_label,
        metric_label=metric_label,
        min_forms=MIN_BREAKDOWN_FORMS,
        month_history=month_history(db.session, officer, month),
    )


@bp.post("/officers/<int:officer_id>/<month_text>/record")
@role_required("admin", "head")
def record(officer_id: int, month_text: str) -> WerkzeugResponse:
    officer: Officer = get_officer_or_404(current_user, officer_id)
    month = _month_or_404(month_text)
    form = RecordForm()
    _act(
        form,
        lambda: decisions.record_month(
            db.session,
            officer.id,
            month,
            violations=form.violations.data or 0,
            disciplined=bool(form.disciplined.data),
            note=form.note.data or None,
            user=current_user,
            now=utcnow(),
        ),
        done=gettext("Recorded; the month has been recomputed."),
        invalid=gettext("Check the number of breaches (0 to 99)."),
    )
    return redirect(url_for("dashboard.officer", officer_id=officer.id, month_text=month_text))
