"""``report monthly``'s files: the workbook, the document to sign and file, the chart alone.

Each has a default name in the working folder, and each is written whole or not at all. The
auditors' pages hand the same files out as downloads (:func:`report_bytes`).
"""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

from dispatcher.bootstrap import Runtime
from dispatcher.core.errors import BadInput, Problem
from dispatcher.reports.chart import chart_png, write_chart
from dispatcher.reports.document import parse_dated, report_docx, write_docx
from dispatcher.reports.monthly import MonthlyReport
from dispatcher.reports.spreadsheet import write_xlsx

DEFAULT_NAMES = {"xlsx": "bao-cao-{month}.xlsx", "docx": "bao-cao-{month}.docx",
                 "png": "bieu-do-{month}.png"}  # fmt: skip


def dated_option(text: str | None, fmt: str) -> date | None:
    """``--dated``'s day, checked before anything is read; only the document carries one."""
    if text is None:
        return None
    if fmt != "docx":
        raise BadInput(Problem("only the document (--format docx) carries a date", field="--dated"))
    return parse_dated(text)


def write_report_file(
    rt: Runtime, report: MonthlyReport, fmt: str, out: Path | None, dated: date | None
) -> Path:
    """``report`` as ``fmt`` (xlsx, docx or png) into ``out`` or its default name; the
    document dated ``dated``, or today in the configured time zone."""
    path = out or Path(DEFAULT_NAMES[fmt].format(month=report.month))
    if fmt == "xlsx":
        return write_xlsx(report, path)
    if fmt == "png":
        return write_chart(report, path)
    today = rt.clock.now().astimezone(rt.settings.tz).date()
    return write_docx(report, path, rt.settings.report.document, dated or today)


def report_bytes(rt: Runtime, report: MonthlyReport, fmt: str, dated: date | None = None) -> bytes:
    """``report`` as ``fmt`` (xlsx, docx or png): the bytes :func:`write_report_file` writes.
    A report is a few pages, so it is whole in memory (the workbook passes through a
    temporary file: openpyxl saves to files)."""
    if fmt == "png":
        return chart_png(report)
    if fmt == "docx":
        today = rt.clock.now().astimezone(rt.settings.tz).date()
        return report_docx(report, rt.settings.report.document, dated or today)
    with tempfile.TemporaryDirectory(prefix="dispatcher-report-") as folder:
        return write_xlsx(report, Path(folder) / "report.xlsx").read_bytes()


def download_name(report: MonthlyReport, fmt: str) -> str:
    """The file's name for people: ``bao-cao-2024-10.docx``, and the unit of one unit's report
    (``bao-cao-2024-10 Xã Tân Đoàn.docx``; the web sends it RFC 5987-encoded)."""
    name = DEFAULT_NAMES[fmt].format(month=report.month)
    if report.unit:
        stem, _, suffix = name.rpartition(".")
        name = f"{stem} {report.unit}.{suffix}"
    return name
