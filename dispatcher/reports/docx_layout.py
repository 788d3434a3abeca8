"""What an administrative .docx needs that python-docx does not offer: the page and fonts of
Decree 30/2020/NĐ-CP, borderless and fixed-width tables, short rules under a line, a header
row repeated on every page.

Word refuses a document whose properties are out of the schema's order, so the elements added
here by hand go where the schema puts them, never simply at the end.
"""

from __future__ import annotations

from docx.document import Document as DocxDocument
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.oxml.xmlchemy import BaseOxmlElement
from docx.shared import Mm, Pt
from docx.styles.style import ParagraphStyle
from docx.table import Table, _Cell, _Row
from docx.text.paragraph import Paragraph

FONT = "Times New Roman"
BODY_PT = 14
CENTER, RIGHT, JUSTIFY = (WD_ALIGN_PARAGRAPH.CENTER, WD_ALIGN_PARAGRAPH.RIGHT,
                          WD_ALIGN_PARAGRAPH.JUSTIFY)  # fmt: skip
# A4 portrait; margins top and bottom 20 mm, left 30 mm (the binding), right 15 mm.
PAGE_MM, MARGINS_MM = (210, 297), (20, 20, 30, 15)
TEXT_WIDTH_MM = PAGE_MM[0] - MARGINS_MM[2] - MARGINS_MM[3]
_TABLE_PROPERTIES = ("w:tblStyle", "w:tblpPr", "w:tblOverlap", "w:bidiVisual",
                     "w:tblStyleRowBandSize", "w:tblStyleColBandSize", "w:tblW", "w:jc",
                     "w:tblCellSpacing", "w:tblInd", "w:tblBorders", "w:shd", "w:tblLayout",
                     "w:tblCellMar", "w:tblLook", "w:tblCaption", "w:tblDescription")  # fmt: skip
_AFTER_PARAGRAPH_BORDER = ("w:shd", "w:tabs", "w:spacing", "w:ind", "w:jc", "w:rPr",
                           "w:sectPr", "w:pPrChange")  # fmt: skip


def page_setup(document: DocxDocument) -> None:
    """A4 portrait with the decree's margins; Times New Roman 14 pt, Vietnamese, no spacing
    between paragraphs unless asked."""
    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(PAGE_MM[0]), Mm(PAGE_MM[1])
    top, bottom, left, right = MARGINS_MM
    section.top_margin, section.bottom_margin = Mm(top), Mm(bottom)
    section.left_margin, section.right_margin = Mm(left), Mm(right)
    style = document.styles["Normal"]
    assert isinstance(style, ParagraphStyle)
    style.font.size = Pt(BODY_PT)
    style.paragraph_format.space_before = style.paragraph_format.space_after = Pt(0)
    properties = style.element.get_or_add_rPr()
    _every_script(properties.get_or_add_rFonts())
    defaults = document.styles.element.find(qn("w:docDefaults"))
    for fonts in [] if defaults is None else defaults.iter(qn("w:rFonts")):
        _every_script(fonts)  # the template's theme fonts there would win over the style's
    language = OxmlElement("w:lang")
    language.set(qn("w:val"), "vi-VN")  # Word's spelling and hyphenation
    properties.append(language)


def _every_script(fonts: BaseOxmlElement) -> None:
    """Times New Roman for every script: Word takes some Vietnamese letters from the East
    Asian or complex-script font, and a theme font named beside a font wins over it."""
    for theme in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(theme), None)
    for script in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(script), FONT)


def paragraph(
    container: DocxDocument | _Cell,
    text: str = "",
    *,
    size: int = BODY_PT,
    bold: bool = False,
    italic: bool = False,
    align: WD_ALIGN_PARAGRAPH | None = None,
    before: float = 0,
    after: float = 0,
) -> Paragraph:
    """A paragraph of one run at the end of ``container``; spacing in points."""
    added = container.add_paragraph()
    if text:
        run = added.add_run(text)
        run.bold, run.italic, run.font.size = bold, italic, Pt(size)
    if align is not None:
        added.alignment = align
    added.paragraph_format.space_before = Pt(before)
    added.paragraph_format.space_after = Pt(after)
    return added


def rule(container: DocxDocument | _Cell, indent_mm: float) -> Paragraph:
    """A short line, centred, under the paragraph before: the bottom border of an empty
    paragraph 3 pt high, narrowed by ``indent_mm`` on both sides."""
    line = paragraph(container)
    fmt = line.paragraph_format
    fmt.left_indent = fmt.right_indent = Mm(indent_mm)
    fmt.line_spacing_rule, fmt.line_spacing = WD_LINE_SPACING.EXACTLY, Pt(3)
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("val", "single"), ("sz", "6"), ("space", "1"), ("color", "auto")):
        bottom.set(qn(f"w:{key}"), value)
    borders.append(bottom)
    line._p.get_or_add_pPr().insert_element_before(borders, *_AFTER_PARAGRAPH_BORDER)
    return line


def drop_first_paragraph(cell: _Cell) -> None:
    """A new cell holds one empty paragraph: once ours are added after it, it goes."""
    first = cell.paragraphs[0]._p
    first.getparent().remove(first)


def fixed_table(document: DocxDocument, widths_mm: tuple[int, ...], shift_mm: float = 0) -> Table:
    """A one-row table whose columns keep ``widths_mm``; centred, or ``shift_mm`` from the
    left margin (negative: into it)."""
    table = document.add_table(rows=1, cols=len(widths_mm))
    table.autofit = False
    if shift_mm:
        _table_property(table, _twips("w:tblInd", shift_mm))
    else:
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for column, width in zip(table.columns, widths_mm, strict=True):
        column.width = Mm(width)  # the grid: what LibreOffice goes by
    size_cells(table.rows[0], widths_mm)
    return table


def size_cells(row: _Row, widths_mm: tuple[int, ...]) -> None:
    """Word goes by the cells' widths, row by row."""
    for cell, width in zip(row.cells, widths_mm, strict=True):
        cell.width = Mm(width)


def cell_margins(table: Table, mm: float) -> None:
    """Left and right padding of every cell (Word's default is 1.9 mm)."""
    margins = OxmlElement("w:tblCellMar")
    margins.extend([_twips("w:left", mm), _twips("w:right", mm)])
    _table_property(table, margins)


def borderless(table: Table) -> None:
    borders = OxmlElement("w:tblBorders")
    for side in ("top", "left", "bottom", "right", "insideH", "insideV"):
        edge = OxmlElement(f"w:{side}")
        edge.set(qn("w:val"), "nil")
        borders.append(edge)
    _table_property(table, borders)


def repeat_on_every_page(row: _Row) -> None:
    """The row (a header) is printed again on top of each page the table runs onto."""
    repeat = OxmlElement("w:tblHeader")
    repeat.set(qn("w:val"), "true")
    row._tr.get_or_add_trPr().append(repeat)


def _twips(tag: str, mm: float) -> BaseOxmlElement:
    element = OxmlElement(tag)
    element.set(qn("w:w"), str(round(Mm(mm).twips)))
    element.set(qn("w:type"), "dxa")
    return element


def _table_property(table: Table, element: BaseOxmlElement) -> None:
    position = _TABLE_PROPERTIES.index("w:" + element.tag.split("}")[1])
    table._tbl.tblPr.insert_element_before(element, *_TABLE_PROPERTIES[position + 1 :])
