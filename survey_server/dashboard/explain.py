"""The "why" of a band, in Vietnamese, from the reasons the rating job stored.

``OfficerRating.reasons`` is the engine's explanation serialised: for the band given and each
better band missed, every condition with its metric, value, threshold and whether it held. Here
it becomes lines a head can read out to the officer; nothing is recomputed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask_babel import format_decimal, gettext

from rating.labels import (
    BAND_LABELS_VI,
    FLAG_LABELS_VI,
    GROUP_LABELS_VI,
    METRIC_LABELS_VI,
    MODE_LABELS_VI,
    OPERATOR_LABELS_VI,
    PARAM_LABELS_VI,
)


@dataclass(frozen=True)
class Line:
    """One condition (or a nested group's heading) with whether it held."""

    text: str
    held: bool
    depth: int = 0


@dataclass(frozen=True)
class ReasonView:
    band: str
    band_label: str
    held: bool
    heading: str
    lines: list[Line] = field(default_factory=list)


def band_label(band: str | None) -> str:
    if not band:
        return str(gettext("Not rated yet"))
    return BAND_LABELS_VI.get(band, band)


def group_label(group: str) -> str:
    return GROUP_LABELS_VI.get(group, group)


def flag_label(flag: str) -> str:
    return FLAG_LABELS_VI.get(flag, flag)


def metric_label(metric: str) -> str:
    return METRIC_LABELS_VI.get(metric, metric)


def format_metric(value: Any) -> str:
    """``94,7`` / ``10`` / ``có`` / ``không xác định`` (Vietnamese number format)."""
    if value is None:
        return str(gettext("undefined"))
    if isinstance(value, bool):
        return str(gettext("yes") if value else gettext("no"))
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(format_decimal(value, format="#,##0.0"))
    return str(value)


def _condition_text(condition: Mapping[str, Any]) -> str:
    metric = metric_label(str(condition.get("metric", "")))
    op = OPERATOR_LABELS_VI.get(str(condition.get("op", "")), str(condition.get("op", "")))
    threshold = format_metric(condition.get("threshold"))
    param = condition.get("param")
    if param:
        threshold = f"{threshold} ({PARAM_LABELS_VI.get(str(param), str(param))})"
    return str(
        gettext(
            "%(metric)s = %(value)s; condition %(op)s %(threshold)s",
            metric=metric,
            value=format_metric(condition.get("value")),
            op=op,
            threshold=threshold,
        )
    )


def _lines(conditions: Sequence[Mapping[str, Any]], depth: int) -> list[Line]:
    lines: list[Line] = []
    for condition in conditions:
        held = bool(condition.get("held"))
        if "conditions" in condition:
            mode = MODE_LABELS_VI.get(str(condition.get("mode")), str(condition.get("mode")))
            lines.append(Line(mode, held, depth))
            lines.extend(_lines(condition["conditions"], depth + 1))
        else:
            lines.append(Line(_condition_text(condition), held, depth))
    return lines


def explain(reasons: Sequence[Mapping[str, Any]] | None) -> list[ReasonView]:
    """Every reason of a result, best band first, as headed lists of conditions."""
    views: list[ReasonView] = []
    for reason in reasons or []:
        band = str(reason.get("band", ""))
        held = bool(reason.get("held"))
        kind = reason.get("kind")
        if kind == "quota":
            heading = gettext(
                "Excellent quota %(pct)s%%: %(allowed)s of %(eligible)s eligible officers may "
                "keep this band; this officer ranks %(rank)s.",
                pct=format_metric(reason.get("quota_pct")),
                allowed=reason.get("allowed"),
                eligible=reason.get("eligible"),
                rank=reason.get("rank"),
            )
            views.append(ReasonView(band, band_label(band), held, heading))
            continue
        if kind == "otherwise":
            heading = MODE_LABELS_VI["otherwise"]
            views.append(ReasonView(band, band_label(band), held, heading))
            continue
        mode = MODE_LABELS_VI.get(str(reason.get("mode")), str(reason.get("mode")))
        lines = _lines(reason.get("conditions") or [], 0)
        views.append(ReasonView(band, band_label(band), held, mode, lines))
    return views
