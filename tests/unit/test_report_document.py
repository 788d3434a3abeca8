"""The .docx to sign and file: Decree 30/2020/NĐ-CP's page, header, dates and signature block,
read back with python-docx."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest
from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Length, Mm, Pt
from docx.table import Table

from dispatcher.core.errors import BadInput
from dispatcher.reports import document
from dispatcher.settings.config import DocumentSettings, load_settings
from tests.report_samples import HEAD, empty, october

DATED = date(2025, 1, 5)
COLUMNS = ["STT", "Đơn vị", "Hình thức truyền thông", "Nội dung", "Số lượt", "Phương tiện",
           "Kết quả (người/thuê bao đã tiếp cận)", "Ghi chú"]  # fmt: skip


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2025, 1, 5), "ngày 05 tháng 01 năm 2025"),
        (date(2025, 2, 9), "ngày 09 tháng 02 năm 2025"),
        (date(2025, 3, 15), "ngày 15 tháng 3 năm 2025"),
        (date(2024, 12, 30), "ngày 30 tháng 12 năm 2024"),
        (date(2024, 10, 1), "ngày 01 tháng 10 năm 2024"),
    ],
)
def test_the_date_is_worded_as_decree_30_writes_it(day: date, expected: str) -> None:
    assert document.decree_date(day) == expected


@pytest.mark.parametrize("text", ["31/02/2025", "5/1", "hôm nay", "2025-13-01", ""])
def test_a_bad_dated_names_the_option(text: str) -> None:
    with pytest.raises(BadInput) as caught:
        document.parse_dated(text)
    assert str(caught.value) == f"--dated: '{text}' is not a day like 05/01/2025"


def test_dated_is_read_as_people_write_it() -> None:
    assert document.parse_dated("05/01/2025") == document.parse_dated("2025-01-05") == DATED


def _open(settings: DocumentSettings | None = None, report: object = None) -> DocxDocument:
    data = document.report_docx(report or october(), settings or DocumentSettings(), DATED)  # type: ignore[arg-type]
    return Document(io.BytesIO(data))


def _cell_lines(table: Table, column: int) -> list[str]:
    return [p.text for p in table.rows[0].cells[column].paragraphs if p.text.strip()]


def _body(doc: DocxDocument) -> list[str]:
    return [p.text for p in doc.paragraphs if p.text.strip()]


def test_an_a4_page_with_the_decrees_margins_in_times_new_roman() -> None:
    doc = _open()
    section = doc.sections[0]
    sizes = (section.page_width, section.page_height, section.top_margin,
             section.bottom_margin, section.left_margin, section.right_margin)  # fmt: skip
    assert [round(size.mm, 1) for size in sizes] == [210, 297, 20, 20, 30, 15]  # stored in twips
    normal = doc.styles["Normal"]
    assert normal.font.name == "Times New Roman" and normal.font.size == Pt(14)
    fonts = normal.element.rPr.rFonts
    for script in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        assert fonts.get(qn(script)) == "Times New Roman"
    defaults = doc.styles.element.find(qn("w:docDefaults")).find(".//" + qn("w:rFonts"))
    assert defaults.get(qn("w:eastAsia")) == "Times New Roman"
    assert defaults.get(qn("w:eastAsiaTheme")) is None  # a theme font would win
    runs = [r for p in doc.paragraphs for r in p.runs]
    assert runs and all(r.font.name is None for r in runs)  # every run takes the style's font
    body = [p for p in doc.paragraphs if p.text.strip()][:4]  # title to introduction
    assert {r.font.size for p in body for r in p.runs} == {Pt(14)}


def test_the_header_names_the_issuer_the_nation_the_place_and_the_date() -> None:
    header = _open().tables[0]
    borders = header._tbl.tblPr.find(qn("w:tblBorders"))
    assert {edge.get(qn("w:val")) for edge in borders} == {"nil"}  # borderless
    assert _cell_lines(header, 0) == ["UBND HUYỆN VĂN QUAN", "PHÒNG VĂN HÓA VÀ THÔNG TIN",
                                      "Số:       /BC-VHTT"]  # fmt: skip
    assert _cell_lines(header, 1) == ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
                                      "Độc lập - Tự do - Hạnh phúc",
                                      "Văn Quan, ngày 05 tháng 01 năm 2025"]  # fmt: skip
    left = [p for p in header.rows[0].cells[0].paragraphs if p.text.strip()]
    right = [p for p in header.rows[0].cells[1].paragraphs if p.text.strip()]
    assert [r.bold for p in left for r in p.runs] == [False, True, False]
    assert [bool(r.bold) for p in right for r in p.runs] == [True, True, False]
    assert right[2].runs[0].italic
    rules = [p for p in header.rows[0].cells[1].paragraphs if p._p.find(".//" + qn("w:pBdr"))
             is not None]  # fmt: skip
    assert len(rules) == 1  # the short line under the motto


def test_the_title_kinh_gui_and_the_introduction() -> None:
    body = _body(_open())
    assert body[:3] == [
        "BÁO CÁO",
        "Kết quả tuyên truyền về lộ trình dừng công nghệ di động 2G tháng 10/2024",
        "Kính gửi: Sở Thông tin và Truyền thông tỉnh Lạng Sơn.",
    ]
    assert body[3].startswith("Phòng Văn hóa và Thông tin báo cáo kết quả công tác tuyên truyền ")
    assert "(từ ngày 01/10/2024 đến ngày 31/10/2024)" in body[3]
    title = _open().paragraphs[[p.text for p in _open().paragraphs].index("BÁO CÁO")]
    assert title.alignment == WD_ALIGN_PARAGRAPH.CENTER and title.runs[0].bold


def test_several_addressees_are_listed_each_on_its_line() -> None:
    settings = DocumentSettings(recipients=["UBND huyện Văn Quan", "- Sở Thông tin và Truyền "
                                            "thông tỉnh Lạng Sơn;"])  # fmt: skip
    body = _body(_open(settings))
    at = body.index("Kính gửi:")
    assert body[at + 1 : at + 3] == ["- UBND huyện Văn Quan;",
                                     "- Sở Thông tin và Truyền thông tỉnh Lạng Sơn."]  # fmt: skip


def test_the_table_has_the_directives_columns_each_row_and_a_total() -> None:
    table = _open().tables[1]
    rows = [[c.text for c in row.cells] for row in table.rows]
    assert rows[0] == COLUMNS
    assert table.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None  # repeated on each page
    assert all(r.bold for c in table.rows[0].cells for r in c.paragraphs[0].runs)
    assert rows[1][:6] == ["1", "UBND huyện Văn Quan", "Tin nhắn SMS", "Tắt sóng 2G",
                           "1.234 tin", "Tin nhắn qua tổng đài, tên định danh VANQUAN"]  # fmt: skip
    assert rows[1][6] == "1.190 thuê bao đã nhận / 1.230 đã gửi tới"
    assert rows[2][4:7] == ["8 lượt", "Đài truyền thanh xã Tân Đoàn", "Đã phát 40 phút"]
    assert rows[3][2] == "Hội nghị, họp dân" and rows[3][7] == "Đơn vị ghi nhận"
    assert rows[4][1] == "Tổng cộng" and rows[4][4] == "1.244"
    assert table.rows[4].cells[4].paragraphs[0].alignment == WD_ALIGN_PARAGRAPH.RIGHT
    assert all(r.bold for r in table.rows[4].cells[1].paragraphs[0].runs)
    sizes = {r.font.size for row in table.rows for c in row.cells for p in c.paragraphs
             for r in p.runs}  # fmt: skip
    assert sizes == {Pt(11)}
    width = Length(sum(c.width for c in table.rows[1].cells))
    assert round(width.mm) == 165  # A4 between the margins


def test_the_unconfirmed_airings_the_chart_and_the_anchor_follow_the_table() -> None:
    doc = _open()
    body = _body(doc)
    at = body.index(document.UNCONFIRMED)
    assert body[at + 1] == ("- Xã Tân Đoàn, Đài truyền thanh xã Tân Đoàn: 2 lượt "
                            "(06:00 02/10/2024, 17:30 04/10/2024).")  # fmt: skip
    pictures = doc.inline_shapes
    assert len(pictures) == 1 and pictures[0].width == Mm(165)
    image = doc.part.related_parts[pictures[0]._inline.graphic.graphicData.pic.blipFill.blip.embed]
    assert image.blob.startswith(b"\x89PNG")
    anchor = next(p for p in doc.paragraphs if p.text == october().anchor_line)
    assert anchor.runs[0].font.size == Pt(9) and f"--head {HEAD[1]} --at 42" in anchor.text


def test_the_signature_block_and_noi_nhan() -> None:
    doc = _open()
    block = doc.tables[-1]
    assert _cell_lines(block, 0) == ["Nơi nhận:", "- Như trên;", "- UBND huyện Văn Quan (b/c);",
                                     "- Lưu: VT, VHTT."]  # fmt: skip
    heading = block.rows[0].cells[0].paragraphs[0].runs[0]
    assert heading.bold and heading.italic and heading.font.size == Pt(12)
    assert block.rows[0].cells[0].paragraphs[1].runs[0].font.size == Pt(11)
    right = _cell_lines(block, 1)
    assert right == ["TRƯỞNG PHÒNG", document.DOTTED_NAME]  # no name configured: to write in
    assert len(block.rows[0].cells[1].paragraphs) == 1 + document.SIGNING_LINES + 1


def test_a_deputy_signs_for_the_head_with_a_name() -> None:
    settings = DocumentSettings(signatory_capacity=["KT. Trưởng phòng", "Phó Trưởng phòng"],
                                signatory_name="Hoàng Văn An", number_suffix="BC-UBND")  # fmt: skip
    doc = _open(settings)
    block = doc.tables[-1].rows[0].cells[1]
    signed = [p.text for p in block.paragraphs if p.text]
    assert signed == ["KT. TRƯỞNG PHÒNG", "PHÓ TRƯỞNG PHÒNG", "Hoàng Văn An"]
    assert all(p.runs[0].bold for p in block.paragraphs if p.text)
    assert "Số:       /BC-UBND" in _cell_lines(doc.tables[0], 0)


def test_an_empty_month_still_files_a_table_saying_so() -> None:
    doc = _open(report=empty())
    rows = [[c.text for c in row.cells] for row in doc.tables[1].rows]
    assert rows[1][0] == document.NO_ROWS and rows[-1][4] == "0"
    assert len(doc.inline_shapes) == 1
    assert document.UNCONFIRMED not in _body(doc)


def test_a_period_cut_off_and_one_units_report_say_so_in_the_subtitle() -> None:
    from dataclasses import replace
    from datetime import datetime

    from tests.report_samples import VN

    report = replace(october(unit="Xã Tân Đoàn"), start=datetime(2024, 9, 15, tzinfo=VN),
                     end=datetime(2024, 10, 15, tzinfo=VN))  # fmt: skip
    assert document.subtitle(report, DocumentSettings(subject="")) == (
        "Kết quả tuyên truyền tháng 10/2024 (từ ngày 15/09/2024 đến ngày 14/10/2024) "
        "của Xã Tân Đoàn"
    )


def test_the_document_is_written_whole_or_not_at_all(tmp_path: Path) -> None:
    path = tmp_path / "bao-cao-2024-10.docx"
    assert document.write_docx(october(), path, DocumentSettings(), DATED) == path
    assert Document(str(path)).tables[1].rows[0].cells[0].text == "STT"
    assert [p.name for p in tmp_path.iterdir()] == [path.name]
    with pytest.raises(BadInput) as caught:
        document.write_docx(october(), tmp_path / "khong-co" / "x.docx", DocumentSettings(), DATED)
    assert str(caught.value).startswith(f"{tmp_path / 'khong-co' / 'x.docx'}: cannot write ")


@pytest.mark.parametrize(
    ("yaml", "expected"),
    [
        ("number_suffix: bc vhtt", "report.document.number_suffix: String should match pattern"),
        ("issuer: '   '", "report.document.issuer: must not be empty"),
        ("recipients: []", "report.document.recipients: List should have at least 1 item"),
        (
            "copies_to: [Như trên, '']",
            "report.document.copies_to: every line must hold some text, 200 characters at most",
        ),
        ("signatory_name: 7", "report.document.signatory_name: Input should be a valid string"),
        ("signer: Hoàng Văn An", "report.document.signer: unknown key"),
    ],
)
def test_a_bad_document_setting_names_its_field(tmp_path: Path, yaml: str, expected: str) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(f"report:\n  document:\n    {yaml}\n", encoding="utf-8")
    with pytest.raises(BadInput) as caught:
        load_settings({}, cwd=tmp_path)
    assert str(caught.value).startswith(f"{config}:3: {expected}")


def test_the_shipped_config_holds_the_van_quan_defaults() -> None:
    shipped = load_settings({"DISPATCHER_CONFIG": str(Path(__file__).parents[2] / "config.yaml")})
    assert shipped.report.document == DocumentSettings()
    assert DocumentSettings().issuer == "Phòng Văn hóa và Thông tin"
    assert DocumentSettings().recipients == ["Sở Thông tin và Truyền thông tỉnh Lạng Sơn"]
