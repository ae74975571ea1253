"""Charts of the index pages: matplotlib's ``Figure`` (never pyplot in the server), as SVG."""

from __future__ import annotations

import io

from matplotlib.figure import Figure

from rating.index import SatisfactionResult


def satisfaction_svg(result: SatisfactionResult, title: str, no_data_label: str) -> bytes:
    """Bars of the percent per sub-criterion, each with its answer count; "no data" marked."""
    figure = Figure(figsize=(8, 3.6), dpi=100)
    axes = figure.add_subplot()
    codes = [sub.code for sub in result.sub_criteria]
    values = [float(sub.percent) if sub.percent is not None else 0.0 for sub in result.sub_criteria]
    colours = ["#1f6f8b" if sub.percent is not None else "#cccccc" for sub in result.sub_criteria]
    bars = axes.bar(codes, values, color=colours)
    for bar, sub in zip(bars, result.sub_criteria, strict=True):
        if sub.percent is None:
            axes.annotate(
                no_data_label,
                (bar.get_x() + bar.get_width() / 2, 2),
                ha="center",
                va="bottom",
                rotation=90,
                fontsize=8,
                color="#5f6368",
            )
            continue
        label = f"{sub.percent}%" if sub.imported else f"{sub.percent}%\nn={sub.answered}"
        axes.annotate(
            label,
            (bar.get_x() + bar.get_width() / 2, bar.get_height()),
            ha="center",
            va="bottom",
            fontsize=8,
        )
    axes.set_ylim(0, 115)
    axes.set_ylabel("%")
    axes.set_title(title, fontsize=11)
    axes.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()
