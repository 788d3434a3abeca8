"""The printable script: a .docx the announcer prints, with the airing's header on top.

Laid out like an administrative document (A4, Times New Roman; Decree 30/2020/ND-CP margins),
in a size an announcer reads at arm's length. The bytes depend only on the content, so a rerun
writes nothing new: python-docx stamps the time into the document properties and the zip
entries, and both are set to fixed values here. Building one takes some 50 ms, so the document
carries a fingerprint of what it was built from (:func:`docx_fingerprint`), and a caller with
an unchanged script need not build it again.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # python-docx (with lxml, ~0.06 s) loads to build a document, not to validate
    from docx.document import Document as DocxDocument

FONT = "Times New Roman"
BODY_PT = 14
HEADER_PT = 12
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can carry
LAYOUT_VERSION = "1"  # change with the layout, so documents built before are built again
_IDENTIFIER = re.compile(r"<dc:identifier>([^<]*)</dc:identifier>")


def script_docx(
    heading: str,
    header: Sequence[tuple[str, str]],
    paragraphs: Sequence[str],
    at: datetime,
    page_header: str = "",
) -> bytes:
    """The .docx bytes: ``heading``, the ``(label, value)`` header table, then the script.

    ``paragraphs`` are the script's paragraphs, unwrapped (the word processor wraps them); a
    newline inside one is a line break. ``at`` (the airing) is the document's creation time;
    ``page_header`` is repeated at the top of every page.
    """
    from docx import Document
    from docx.shared import Pt

    fingerprint = content_fingerprint(heading, header, paragraphs, at, page_header)
    document = Document()
    _page_setup(document, page_header)
    title = document.add_paragraph()
    run = title.add_run(heading)
    run.bold = True
    run.font.size = Pt(BODY_PT + 2)
    table = document.add_table(rows=0, cols=2)
    table.style = "Table Grid"
    for label, value in header:
        cells = table.add_row().cells
        cells[0].text, cells[1].text = label, value
        cells[0].paragraphs[0].runs[0].bold = True
    document.add_paragraph()
    for text in paragraphs:
        paragraph = document.add_paragraph()
        lines = text.split("\n")
        for index, line in enumerate(lines):
            line_run = paragraph.add_run(line)
            if index < len(lines) - 1:
                line_run.add_break()
    _properties(document, heading, at)
    document.core_properties.identifier = fingerprint
    buffer = io.BytesIO()
    document.save(buffer)
    return _stable_zip(buffer.getvalue())


def content_fingerprint(
    heading: str,
    header: Sequence[tuple[str, str]],
    paragraphs: Sequence[str],
    at: datetime,
    page_header: str = "",
) -> str:
    """What :func:`script_docx` builds from, hashed (with the layout's version)."""
    parts = [LAYOUT_VERSION, heading, json.dumps(header), *paragraphs, at.isoformat(), page_header]
    return "sha256:" + hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()


def docx_fingerprint(path: Path) -> str | None:
    """The fingerprint a document built by :func:`script_docx` carries; None if unreadable."""
    try:
        with zipfile.ZipFile(path) as archive:
            core = archive.read("docProps/core.xml").decode("utf-8")
    except (OSError, KeyError, zipfile.BadZipFile, UnicodeDecodeError):
        return None
    found = _IDENTIFIER.search(core)
    return found.group(1) if found else None


def _page_setup(document: DocxDocument, page_header: str) -> None:
    from docx.shared import Mm, Pt
    from docx.styles.style import ParagraphStyle

    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)  # A4
    section.top_margin = section.bottom_margin = Mm(20)
    section.left_margin, section.right_margin = Mm(30), Mm(15)
    style = document.styles["Normal"]
    assert isinstance(style, ParagraphStyle)
    style.font.name = FONT
    style.font.size = Pt(BODY_PT)
    style.paragraph_format.space_after = Pt(6)
    if page_header:
        run = section.header.paragraphs[0].add_run(page_header)
        run.font.size = Pt(HEADER_PT)


def _properties(document: DocxDocument, heading: str, at: datetime) -> None:
    props = document.core_properties
    props.title = heading
    props.author = props.last_modified_by = "dispatcher"
    props.revision = 1
    props.created = props.modified = at.replace(tzinfo=None, microsecond=0)
    props.last_printed = at.replace(tzinfo=None, microsecond=0)


def _stable_zip(data: bytes) -> bytes:
    """The same archive with every entry's time fixed, so equal documents are equal bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=_ZIP_EPOCH)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = info.external_attr
            target.writestr(entry, source.read(info.filename))
    return out.getvalue()
