"""The monthly report as a .docx to sign and file, laid out as Decree 30/2020/NĐ-CP asks.

On top a borderless two-column header: the superior body and the issuer, with the number left
blank for the clerk to write in at registration; the national name and motto, with the place
and date. Then the title, "Kính gửi", a short introduction, the table (its header repeated on
each page, a Tổng cộng row), the airings not confirmed, the chart, the audit log's anchor in
small type (so the paper names the log it was counted from), and the bottom block: "Nơi nhận"
on the left, the signatory on the right. What each office writes its own way comes from
``report.document`` in config.yaml. Page, fonts and tables: :mod:`.docx_layout`.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path

from docx import Document
from docx.document import Document as DocxDocument
from docx.shared import Mm, Pt
from docx.table import Table, _Cell

from dispatcher.core.errors import BadInput, Problem
from dispatcher.core.files import replace_file
from dispatcher.core.schedule import format_date_vi, format_datetime_vi
from dispatcher.reports import docx_layout as layout
from dispatcher.reports.activity_fields import parse_day
from dispatcher.reports.chart import chart_png
from dispatcher.reports.docx_layout import CENTER, JUSTIFY, RIGHT, paragraph
from dispatcher.reports.monthly import COLUMNS, MonthlyReport, ReportRow, vi_number
from dispatcher.settings.config import DocumentSettings

ORGANISATION_PT, HEADER_PT, TABLE_PT, LIST_PT, SMALL_PT = 12, 13, 11, 11, 9
NATION = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO = "Độc lập - Tự do - Hạnh phúc"
TITLE = "BÁO CÁO"
TABLE_HEADER = tuple(c for c in COLUMNS if c != "Đơn vị tính")  # with the count, on paper
COLUMNS_MM = (10, 20, 21, 20, 17, 26, 28, 23)  # 165: the text's width on A4
CELL_MARGIN_MM = 1  # Word's 1.9 mm each side would wrap these narrow columns further
# Issuer | nation: wider than the text, 10 mm into the left margin as the decree's samples
# are, so that the issuer and the nation's name each keep to one line at 12 pt.
HEADER_COLUMNS_MM, HEADER_SHIFT_MM = (75, 100), -10
SIGNATURE_COLUMNS_MM = (85, 80)
TOTAL = "Tổng cộng"
NO_ROWS = "Không có hoạt động nào được tính trong tháng"
UNCONFIRMED = "Lượt phát đã qua giờ, xã chưa xác nhận đã phát (không tính ở trên):"
COPIES_TO = "Nơi nhận:"
BLANK_NUMBER = " " * 6  # "Số:      /BC-VHTT": the clerk writes the number on registration
DOTTED_NAME = "." * 40  # no signatory name configured: written in by hand
SIGNING_LINES = 4  # room for the signature and the seal


def decree_date(day: date) -> str:
    """``ngày 05 tháng 01 năm 2025``: Decree 30 pads days below 10 and months below 3 (so
    that nobody can add a digit), and writes ``tháng 3`` to ``tháng 12`` as they are."""
    month = f"{day.month:02d}" if day.month < 3 else str(day.month)
    return f"ngày {day.day:02d} tháng {month} năm {day.year}"


def parse_dated(text: str) -> date:
    """``--dated 05/01/2025`` (or ISO); :class:`BadInput` naming ``--dated`` otherwise."""
    day = parse_day(text)
    if day is None:
        raise BadInput(Problem(f"'{text}' is not a day like 05/01/2025", field="--dated"))
    return day


def subtitle(report: MonthlyReport, settings: DocumentSettings) -> str:
    """``Kết quả tuyên truyền về … tháng 10/2024``, with the days when the period is cut off
    on another day than the 1st, and the unit of one unit's report."""
    words = ["Kết quả tuyên truyền", settings.subject, report.period_label]
    if report.start.day != 1:
        words.append(f"({_period(report)})")
    if report.unit:
        words.append(f"của {report.unit}")
    return " ".join(w for w in words if w)


def report_docx(report: MonthlyReport, settings: DocumentSettings, dated: date) -> bytes:
    """The document's bytes, dated ``dated``."""
    document = Document()
    layout.page_setup(document)
    _header(document, settings, dated)
    _title(document, report, settings)
    _addressees(document, settings.recipients)
    _intro(document, report, settings)
    _table(document, report)
    _unconfirmed(document, report)
    _chart(document, report)
    paragraph(document, report.anchor_line, size=SMALL_PT, italic=True)
    _signature(document, settings)
    properties = document.core_properties
    properties.title = f"Báo cáo kết quả tuyên truyền {report.period_label}"
    properties.author = properties.last_modified_by = settings.issuer
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def write_docx(report: MonthlyReport, path: Path, settings: DocumentSettings, dated: date) -> Path:
    """The document into ``path`` (replaced whole); :class:`BadInput` if it cannot be."""
    return replace_file(path, report_docx(report, settings, dated))


def _header(document: DocxDocument, settings: DocumentSettings, dated: date) -> None:
    table = layout.fixed_table(document, HEADER_COLUMNS_MM, HEADER_SHIFT_MM)
    layout.borderless(table)
    left, right = table.rows[0].cells
    if settings.superior:
        paragraph(left, settings.superior.upper(), size=ORGANISATION_PT, align=CENTER)
    paragraph(left, settings.issuer.upper(), size=ORGANISATION_PT, bold=True, align=CENTER)
    layout.rule(left, indent_mm=24)  # a third to a half of the issuer's line
    number = f"Số: {BLANK_NUMBER}/{settings.number_suffix}"
    paragraph(left, number, size=HEADER_PT, align=CENTER, before=6)
    paragraph(right, NATION, size=ORGANISATION_PT, bold=True, align=CENTER)
    paragraph(right, MOTTO, size=HEADER_PT, bold=True, align=CENTER)
    layout.rule(right, indent_mm=24)  # as long as the motto
    dateline = f"{settings.place}, {decree_date(dated)}"
    paragraph(right, dateline, size=HEADER_PT, italic=True, align=CENTER, before=6)
    for cell in (left, right):
        layout.drop_first_paragraph(cell)
    paragraph(document)


def _title(document: DocxDocument, report: MonthlyReport, settings: DocumentSettings) -> None:
    paragraph(document, TITLE, bold=True, align=CENTER, before=6)
    paragraph(document, subtitle(report, settings), bold=True, align=CENTER)
    layout.rule(document, indent_mm=60)
    paragraph(document, after=6)


def _addressees(document: DocxDocument, recipients: list[str]) -> None:
    if len(recipients) == 1:
        paragraph(document, f"Kính gửi: {_bare(recipients[0])}.", align=CENTER, after=6)
        return
    paragraph(document, "Kính gửi:", align=CENTER)
    for line in _listed(recipients):
        paragraph(document, line).paragraph_format.left_indent = Mm(45)
    paragraph(document, after=6)


def _intro(document: DocxDocument, report: MonthlyReport, settings: DocumentSettings) -> None:
    text = (
        f"{settings.issuer} báo cáo kết quả công tác tuyên truyền {settings.subject} "
        f"{report.period_label} ({_period(report)}): hình thức truyền thông, số lượt thực hiện "
        "và phương tiện sử dụng của từng đơn vị, tổng hợp từ nhật ký gửi tin nhắn, xác nhận "
        "phát thanh của các xã và các hoạt động do đơn vị ghi nhận, như sau:"
    )
    intro = paragraph(document, " ".join(text.split()), align=JUSTIFY, after=6)
    intro.paragraph_format.first_line_indent = Mm(10)


def _table(document: DocxDocument, report: MonthlyReport) -> None:
    table = layout.fixed_table(document, COLUMNS_MM)
    table.style = "Table Grid"
    layout.cell_margins(table, CELL_MARGIN_MM)
    _fill(table.rows[0].cells, TABLE_HEADER, bold=True, centred=True)
    layout.repeat_on_every_page(table.rows[0])
    for number, row in enumerate(report.rows, start=1):
        _fill(_add_row(table), _cells(number, row))
    if not report.rows:
        cells = _add_row(table)
        cells[0].merge(cells[-1]).paragraphs[0].add_run(NO_ROWS).italic = True
    total = _add_row(table)
    count = vi_number(sum(r.count for r in report.rows))
    _fill(total, ("", TOTAL, "", "", count, "", "", ""), bold=True)
    total[1].merge(total[3])


def _add_row(table: Table) -> list[_Cell]:
    row = table.add_row()
    layout.size_cells(row, COLUMNS_MM)
    return list(row.cells)


def _cells(number: int, row: ReportRow) -> tuple[str, ...]:
    count = f"{vi_number(row.count)} {row.count_unit}"
    return (str(number), row.unit, row.form, row.content, count, row.means, row.result, row.note)


def _fill(
    cells: Sequence[_Cell], texts: tuple[str, ...], *, bold: bool = False, centred: bool = False
) -> None:
    for index, (cell, text) in enumerate(zip(cells, texts, strict=True)):
        first = cell.paragraphs[0]
        if text:  # an empty cell stays empty, so that merging it adds no blank line
            run = first.add_run(text)
            run.bold, run.font.size = bold, Pt(TABLE_PT)
        if centred or index == 0:
            first.alignment = CENTER
        elif index == TABLE_HEADER.index("Số lượt"):
            first.alignment = RIGHT  # numbers line up on the right


def _unconfirmed(document: DocxDocument, report: MonthlyReport) -> None:
    if report.unconfirmed:
        paragraph(document, UNCONFIRMED, size=TABLE_PT + 1, italic=True, before=6)
    for row in report.unconfirmed:
        times = ", ".join(format_datetime_vi(t) for t in row.times)
        line = f"- {row.unit}, {row.means}: {vi_number(row.count)} {row.count_unit} ({times})."
        paragraph(document, line, size=TABLE_PT + 1, align=JUSTIFY)


def _chart(document: DocxDocument, report: MonthlyReport) -> None:
    picture = paragraph(document, align=CENTER, before=12)
    picture.add_run().add_picture(io.BytesIO(chart_png(report)), width=Mm(sum(COLUMNS_MM)))
    picture.paragraph_format.keep_with_next = True  # never a chart without its caption
    caption = f"Biểu đồ: số lượt theo ngày và hình thức truyền thông, {report.period_label}"
    paragraph(document, caption, size=TABLE_PT + 1, italic=True, align=CENTER, after=6)


def _signature(document: DocxDocument, settings: DocumentSettings) -> None:
    paragraph(document)
    table = layout.fixed_table(document, SIGNATURE_COLUMNS_MM)
    layout.borderless(table)
    left, right = table.rows[0].cells
    paragraph(left, COPIES_TO, size=12, bold=True, italic=True)
    for line in _listed(settings.copies_to):
        paragraph(left, line, size=LIST_PT)
    for line in settings.signatory_capacity:
        paragraph(right, line.upper(), bold=True, align=CENTER)
    for _ in range(SIGNING_LINES):
        paragraph(right)
    name = settings.signatory_name or DOTTED_NAME
    paragraph(right, name, bold=bool(settings.signatory_name), align=CENTER)
    for cell in (left, right):
        layout.drop_first_paragraph(cell)


def _listed(lines: list[str]) -> list[str]:
    """``- Như trên;`` … ``- Lưu: VT, VHTT.``: each with its dash, the last with a full stop."""
    bare = [_bare(line) for line in lines]
    return [f"- {text}{'.' if i == len(bare) - 1 else ';'}" for i, text in enumerate(bare)]


def _bare(line: str) -> str:
    """The line without the dash and the final punctuation a clerk may have written."""
    return line.strip().lstrip("-").strip().rstrip(";.").strip()


def _period(report: MonthlyReport) -> str:
    last = (report.end - timedelta(microseconds=1)).date()
    return f"từ ngày {format_date_vi(report.start.date())} đến ngày {format_date_vi(last)}"
