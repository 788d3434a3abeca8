"""The month's activity as a chart: a stacked bar per day of the reporting period, one colour
per form of communication, for the filed report (.docx, .xlsx) or on its own (.png).

matplotlib is imported inside the functions, never with this module: the command line imports
its report modules lazily, and matplotlib costs a second to load. No pyplot either: a Figure
of its own draws with Agg and leaves no global state behind. The PNG carries no software
version or time, so the same report draws the same bytes.
"""

from __future__ import annotations

import io
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from dispatcher.core.files import replace_file
from dispatcher.core.schedule import format_date_vi
from dispatcher.reports.forms import FORMS
from dispatcher.reports.monthly import MonthlyReport, vi_number

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

# Inches, near the size it prints at (the 165 mm between A4's margins), so its text prints
# near the size it is set in; at DPI, 1600 x 900 pixels.
SIZE_IN = (8.0, 4.5)
DPI = 200
FONT = "DejaVu Sans"  # ships with matplotlib and has every Vietnamese letter
Y_LABEL = "Số lượt"
NO_ACTIVITY = "Không có hoạt động nào được tính trong tháng"
# A form keeps its colour from month to month: its place in the vocabulary picks it.
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf")  # fmt: skip
_ORDER = {form.label: i for i, form in enumerate(FORMS)}
_COLOUR = {label: PALETTE[i % len(PALETTE)] for label, i in _ORDER.items()}


def chart_title(report: MonthlyReport) -> str:
    """``Hoạt động tuyên truyền tháng 10/2024`` (and the unit, for one unit's report)."""
    title = f"Hoạt động tuyên truyền {report.period_label}"
    return f"{title} — {report.unit}" if report.unit else title


def period_days(report: MonthlyReport) -> list[date]:
    """Every day of the reporting period, in the report's time zone."""
    first = report.start.date()
    last = (report.end - timedelta(microseconds=1)).date()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def chart_figure(report: MonthlyReport) -> Figure:
    """The chart as a matplotlib Figure (drawn by :func:`chart_png`; tests read its texts)."""
    from matplotlib import rc_context
    from matplotlib.figure import Figure

    with rc_context({"font.family": FONT, "font.size": 10}):
        figure = Figure(figsize=SIZE_IN, dpi=DPI, layout="constrained")
        axes = figure.subplots()
        days = period_days(report)
        by_form = _counts_by_form(report, days)
        _bars(axes, days, by_form)
        axes.set_title(chart_title(report), fontsize=12, fontweight="bold")
        if not by_form:
            axes.text(0.5, 0.5, NO_ACTIVITY, transform=axes.transAxes, ha="center",
                      va="center", fontsize=11, color="#555555")  # fmt: skip
            axes.set_yticks([])
    return figure


def chart_png(report: MonthlyReport) -> bytes:
    """The chart as PNG bytes, the same for the same report."""
    figure = chart_figure(report)
    buffer = io.BytesIO()
    # No "Software" entry (matplotlib's version) and no time: the bytes depend on the data only.
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def write_chart(report: MonthlyReport, path: Path) -> Path:
    """The chart into ``path`` (replaced whole); :class:`BadInput` if it cannot be written."""
    return replace_file(path, chart_png(report))


def _counts_by_form(report: MonthlyReport, days: list[date]) -> dict[str, list[int]]:
    """Per form, in the vocabulary's order, its count on each of ``days`` (all units summed)."""
    index = {day: n for n, day in enumerate(days)}
    counts: dict[str, list[int]] = defaultdict(lambda: [0] * len(days))
    for (_unit, form, day), n in report.daily.items():
        if day in index and n:
            counts[form][index[day]] += n
    return {form: counts[form] for form in sorted(counts, key=lambda f: (_ORDER.get(f, 99), f))}


def _bars(axes: Axes, days: list[date], by_form: dict[str, list[int]]) -> None:
    from matplotlib.ticker import MaxNLocator

    positions = list(range(len(days)))
    bottom = [0] * len(days)
    for form, counts in by_form.items():
        label = f"{form} ({vi_number(sum(counts))})"  # the month's total: SMS dwarf the rest
        axes.bar(positions, counts, bottom=bottom, label=label, width=0.8,
                 color=_COLOUR.get(form, "#999999"))  # fmt: skip
        bottom = [b + c for b, c in zip(bottom, counts, strict=True)]
    axes.set_xticks(positions, [format_date_vi(d)[:5] for d in days], rotation=90, fontsize=7)
    axes.set_xlim(-0.6, len(days) - 0.4)
    axes.set_ylabel(Y_LABEL)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.grid(axis="y", color="#dddddd", linewidth=0.6)
    axes.set_axisbelow(True)
    axes.spines[["top", "right"]].set_visible(False)
    if by_form:
        axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncols=2, frameon=False)
