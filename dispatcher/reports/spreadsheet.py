"""The monthly report as an .xlsx workbook, ready to print or send on: a summary sheet (with the
month's chart below it), one sheet per unit, and the airings not confirmed.

Vietnamese headers in bold on a frozen row, columns sized to their text, counts as numbers (a
Tổng cộng row sums them), text cells a spreadsheet would run as formulas neutralised. Written
to a temporary file beside the target and renamed, so a reader never sees half a workbook.
"""

from __future__ import annotations

import contextlib
import io
import re
from collections.abc import Iterable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.drawing.image import Image
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from dispatcher.core.files import replace_with
from dispatcher.core.schedule import format_date_vi, format_datetime_vi
from dispatcher.core.text import spreadsheet_safe
from dispatcher.reports.chart import chart_png
from dispatcher.reports.monthly import COLUMNS, MonthlyReport, ReportRow

UNCONFIRMED_HEADER = ("STT", "Đơn vị", "Phương tiện", "Số lượt", "Giờ phát dự kiến")
MAX_WIDTH = 60  # characters; longer text wraps
CHART_PX = (800, 450)  # shown at half its pixels: a screen's width, sharp when printed
_BOLD = Font(bold=True)
_TITLE = Font(bold=True, size=14)
_FILL = PatternFill("solid", fgColor="DDEBF7")
_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


def write_xlsx(report: MonthlyReport, path: Path) -> Path:
    """Write the workbook to ``path`` (replaced whole); :class:`BadInput` if it cannot be."""
    book = Workbook()
    summary = book.active
    assert summary is not None  # a new workbook has one sheet
    summary.title = "Tổng hợp"
    _sheet(summary, report, report.rows, "")
    summary.append([])
    summary.append([report.anchor_line])
    _chart(summary, report)
    used = {summary.title}
    for unit in sorted({r.unit for r in report.rows}):
        sheet = book.create_sheet(_sheet_name(unit, used))
        _sheet(sheet, report, [r for r in report.rows if r.unit == unit], unit)
    if report.unconfirmed:
        _unconfirmed(book.create_sheet(_sheet_name("Chưa xác nhận", used)), report)
    _save(book, path)
    return path


def _chart(sheet: Worksheet, report: MonthlyReport) -> None:
    """The month's chart below the summary (an image: Pillow reads it for openpyxl)."""
    image = Image(io.BytesIO(chart_png(report)))
    image.width, image.height = CHART_PX
    sheet.add_image(image, f"A{sheet.max_row + 2}")


def _sheet(sheet: Worksheet, report: MonthlyReport, rows: Sequence[ReportRow], unit: str) -> None:
    last_day = (report.end - timedelta(microseconds=1)).date()
    title = f"BÁO CÁO KẾT QUẢ TUYÊN TRUYỀN {report.period_label.upper()}"
    sheet.append([title + (f" — {unit}" if unit else "")])
    sheet["A1"].font = _TITLE
    sheet.append([f"Từ ngày {format_date_vi(report.start.date())} đến ngày "
                  f"{format_date_vi(last_day)}"])  # fmt: skip
    sheet.append([])
    _header(sheet, COLUMNS)
    for number, row in enumerate(rows, start=1):
        sheet.append([_cell(value) for value in row.cells(number)])
    total = sheet.max_row + 1
    sheet.append(["", "Tổng cộng", "", "", sum(r.count for r in rows), "", "", "", ""])
    for cell in sheet[total]:
        cell.font = _BOLD
    _widths(sheet, start_row=4)


def _unconfirmed(sheet: Worksheet, report: MonthlyReport) -> None:
    sheet.append([f"Lượt phát đã qua giờ, xã chưa xác nhận ({report.period_label}): không tính"])
    sheet["A1"].font = _TITLE
    sheet.append([])
    _header(sheet, UNCONFIRMED_HEADER, row=3)
    for number, row in enumerate(report.unconfirmed, start=1):
        times = ", ".join(format_datetime_vi(t) for t in row.times)
        sheet.append([number, _safe(row.unit), _safe(row.means), row.count, times])
    _widths(sheet, start_row=3)


def _header(sheet: Worksheet, names: Sequence[str], row: int = 4) -> None:
    sheet.append(list(names))
    for cell in sheet[row]:
        cell.font, cell.fill = _BOLD, _FILL
        cell.alignment = Alignment(vertical="center", wrap_text=True)
    sheet.freeze_panes = f"A{row + 1}"  # the header stays in view


def _widths(sheet: Worksheet, start_row: int) -> None:
    for column in sheet.iter_cols(min_row=start_row):
        width = max((len(str(c.value)) for c in column if c.value is not None), default=4)
        letter = get_column_letter(column[0].column)
        sheet.column_dimensions[letter].width = min(MAX_WIDTH, width + 2)
        if width > MAX_WIDTH:
            for cell in column:
                cell.alignment = Alignment(wrap_text=True, vertical="top")


def _sheet_name(name: str, used: set[str]) -> str:
    """Excel's rules: at most 31 characters, none of ``[]:*?/\\``, unique."""
    base = _SHEET_CHARS.sub(" ", name)[:31].strip() or "Đơn vị"
    candidate, n = base, 2
    while candidate in used:
        suffix = f" ({n})"
        candidate, n = base[: 31 - len(suffix)] + suffix, n + 1
    used.add(candidate)
    return candidate


def _safe(value: str) -> str:
    return spreadsheet_safe(value)


def _save(book: Workbook, path: Path) -> None:
    replace_with(path, book.save)


def write_records(
    path: Path, title: str, fields: Sequence[str], records: Iterable[dict[str, Any]]
) -> int:
    """Stream ``records`` into a one-sheet workbook at ``path`` (openpyxl's write-only mode:
    constant memory for a million rows); text a spreadsheet would run is neutralised. How
    many rows were written."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(_sheet_name(title, set()))
    sheet.freeze_panes = "A2"
    sheet.append(list(fields))
    count = 0
    try:
        for record in records:
            sheet.append([_cell(record[f]) for f in fields])
            count += 1
    except BaseException:
        with contextlib.suppress(Exception):  # finish the sheet's stream; nothing is saved
            sheet.close()
        raise
    _save(book, path)
    return count


def _cell(value: object) -> object:
    return spreadsheet_safe(value) if isinstance(value, str) else value
