"""Charts as matplotlib ``Figure`` objects (never pyplot in a server), rendered to SVG or PNG.

DejaVu Sans (matplotlib's own font) has the Vietnamese letters; SVG text stays text.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import matplotlib
from flask_babel import gettext
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from rating.labels import BAND_LABELS_VI

from .queries import BANDS

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

BAND_COLOURS = {
    "hoan_thanh_xuat_sac": "#1e8e3e",
    "hoan_thanh_tot": "#81c995",
    "hoan_thanh": "#f9ab00",
    "khong_hoan_thanh": "#d93025",
}
# fontTools logs every glyph subset at INFO when a PDF embeds its fonts.
logging.getLogger("fontTools").setLevel(logging.WARNING)
FONT: dict[RcKeyType, Any] = {"font.family": "DejaVu Sans", "font.size": 9}


def _month_label(month: dt.date) -> str:
    return f"{month.month:02d}/{month.year % 100:02d}"


def plot_bands(axes: Axes, history: Mapping[dt.date, Counter[str]], title: str) -> None:
    """Stacked bars: how many officers got each band, month by month."""
    months = sorted(history)
    labels = [_month_label(month) for month in months]
    bottom = [0] * len(months)
    for band in BANDS:
        values = [history[month].get(band, 0) for month in months]
        axes.bar(
            labels, values, bottom=bottom, label=BAND_LABELS_VI[band], color=BAND_COLOURS[band]
        )
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    axes.set_xticks(range(len(months)), labels)
    axes.set_title(title)
    axes.set_ylabel(gettext("Officers"))
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    axes.tick_params(axis="x", labelrotation=45)


def plot_trend(axes: Axes, trend: Mapping[dt.date, float | None], title: str) -> None:
    """The satisfied % per month (gaps where nobody answered)."""
    months = sorted(trend)
    values = [math.nan if (value := trend[m]) is None else value for m in months]
    axes.plot(range(len(months)), values, marker="o", color="#0b57d0")
    axes.set_xticks(range(len(months)), [_month_label(m) for m in months])
    axes.set_ylim(0, 100)
    axes.set_ylabel(gettext("Satisfied (percent)"))
    axes.set_title(title)
    axes.grid(axis="y", alpha=0.3)
    axes.tick_params(axis="x", labelrotation=45)


def band_distribution(history: Mapping[dt.date, Counter[str]], title: str) -> Figure:
    with matplotlib.rc_context(FONT):
        figure = Figure(figsize=(6.4, 3.2), layout="constrained")
        plot_bands(figure.add_subplot(), history, title)
    return figure


def satisfaction_trend(trend: Mapping[dt.date, float | None], title: str) -> Figure:
    with matplotlib.rc_context(FONT):
        figure = Figure(figsize=(6.4, 3.0), layout="constrained")
        plot_trend(figure.add_subplot(), trend, title)
    return figure


def question_chart(labels: Sequence[str], averages: Sequence[float], title: str) -> Figure:
    """Horizontal bars: the mean answer (1–5) of each question."""
    with matplotlib.rc_context(FONT):
        height = 1.0 + 0.35 * max(1, len(labels))
        figure = Figure(figsize=(8.0, height), layout="constrained")
        axes = figure.add_subplot()
        short = [label if len(label) <= 48 else label[:45] + "…" for label in labels]
        axes.barh(short, averages, color="#0b57d0")
        axes.invert_yaxis()
        axes.set_xlim(1, 5)
        axes.set_title(title)
        for y, value in enumerate(averages):
            axes.text(value, y, f" {value:.2f}".replace(".", ","), va="center", fontsize=8)
    return figure


def to_svg(figure: Figure) -> str:
    """The figure as an ``<svg>`` element to put inline (no XML prolog, text kept as text)."""
    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none"}):
        figure.savefig(buffer, format="svg")
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def to_png(figure: Figure, dpi: int = 150) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()
