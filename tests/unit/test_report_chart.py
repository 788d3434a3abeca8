"""The month's chart: a PNG of the counts per day and form, the same bytes for the same report."""

from __future__ import annotations

import struct
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

from dispatcher.reports import chart
from dispatcher.reports.monthly import FORM_LOUDSPEAKER, FORM_SMS
from tests.report_samples import MEETING, VN, empty, october

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _size(png: bytes) -> tuple[int, int]:
    assert png[:8] == PNG_SIGNATURE
    assert png[12:16] == b"IHDR"  # the first chunk holds width and height
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def test_the_chart_is_a_png_of_the_size_it_prints_at() -> None:
    png = chart.chart_png(october())
    width_in, height_in = chart.SIZE_IN
    assert _size(png) == (round(width_in * chart.DPI), round(height_in * chart.DPI))
    assert _size(png) == (1600, 900)


def test_the_same_report_draws_the_same_bytes_and_other_counts_do_not() -> None:
    first, second = chart.chart_png(october()), chart.chart_png(october())
    assert first == second
    assert b"Matplotlib" not in first  # no software version in the metadata
    more = {**october().daily, ("Xã Tân Đoàn", MEETING, date(2024, 10, 11)): 1}
    assert chart.chart_png(replace(october(), daily=more)) != first


def test_one_bar_a_day_of_the_period_labelled_dd_mm_and_stacked_by_form() -> None:
    figure = chart.chart_figure(october())
    axes = figure.axes[0]
    labels = [t.get_text() for t in axes.get_xticklabels()]
    assert len(labels) == 31 and labels[:3] == ["01/10", "02/10", "03/10"]
    assert labels[-1] == "31/10"
    assert axes.get_title() == "Hoạt động tuyên truyền tháng 10/2024"
    assert axes.get_ylabel() == "Số lượt"
    legend = [t.get_text() for t in axes.get_legend().get_texts()]
    assert legend == [f"{FORM_SMS} (1.234)", f"{FORM_LOUDSPEAKER} (8)", f"{MEETING} (2)"]
    heights = {
        label: [round(bar.get_height()) for bar in container]
        for label, container in zip(legend, axes.containers, strict=True)
    }
    assert heights[f"{FORM_LOUDSPEAKER} (8)"][2] == 3 and heights[f"{FORM_LOUDSPEAKER} (8)"][6] == 5
    on_the_3rd = [container[2] for container in axes.containers]
    assert [round(bar.get_y()) for bar in on_the_3rd] == [0, 1234, 1237]  # stacked


def test_a_period_cut_off_on_the_15th_shows_its_own_days() -> None:
    report = replace(empty(10, 2024), start=datetime(2024, 9, 15, tzinfo=VN),
                     end=datetime(2024, 10, 15, tzinfo=VN))  # fmt: skip
    labels = [t.get_text() for t in chart.chart_figure(report).axes[0].get_xticklabels()]
    assert labels[0] == "15/09" and labels[-1] == "14/10" and len(labels) == 30


def test_one_units_chart_names_the_unit() -> None:
    title = chart.chart_figure(october(unit="Xã Tân Đoàn")).axes[0].get_title()
    assert title == "Hoạt động tuyên truyền tháng 10/2024 — Xã Tân Đoàn"


def test_an_empty_month_is_a_chart_saying_so() -> None:
    figure = chart.chart_figure(empty())
    axes = figure.axes[0]
    assert chart.NO_ACTIVITY in [t.get_text() for t in axes.texts]
    assert axes.get_legend() is None and len(axes.get_xticklabels()) == 28  # 02/2025
    png = chart.chart_png(empty())
    assert _size(png) == (1600, 900) and png == chart.chart_png(empty())
    assert chart.NO_ACTIVITY not in [
        t.get_text() for t in chart.chart_figure(october()).axes[0].texts
    ]


def test_the_chart_is_written_whole(tmp_path: Path) -> None:
    path = tmp_path / "bieu-do.png"
    assert chart.write_chart(october(), path) == path
    assert path.read_bytes() == chart.chart_png(october())
    assert [p.name for p in path.parent.iterdir()] == ["bieu-do.png"]  # no temporary left
