"""``report monthly``'s files: the workbook, the document to sign and file, the chart alone.

Each has a default name in the working folder, and each is written whole or not at all.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from dispatcher.bootstrap import Runtime
from dispatcher.core.errors import BadInput, Problem
from dispatcher.reports.chart import write_chart
from dispatcher.reports.document import parse_dated, write_docx
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
