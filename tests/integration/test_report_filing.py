"""The month's report written as the files an office files (issue 14, part 4), from a real
database on SQLite and PostgreSQL: the .docx to sign, the .xlsx with its chart, the chart alone."""

from __future__ import annotations

import shutil
import struct
import zipfile
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from docx import Document

from dispatcher.bootstrap import Runtime, runtime
from dispatcher.reports import activities, filing
from dispatcher.reports import monthly as reports
from dispatcher.reports.activity_fields import ActivityFields
from dispatcher.reports.chart import chart_png
from tests.fakes import FakeClock
from tests.integration.test_airings import REPO, settings

VN = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2025, 1, 3, 9, 0, tzinfo=VN)  # the report of 12/2024 is filed in January
DOCUMENT = {"report": {"document": {"issuer": "Phòng Văn hóa và Thông tin",
                                    "signatory_name": "Hoàng Văn An"}}}  # fmt: skip


@pytest.fixture
def rt(tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    (tmp_path / "campaigns").mkdir()
    shutil.copy(REPO / "units.yaml", tmp_path / "units.yaml")
    monkeypatch.chdir(tmp_path)
    configured = settings(tmp_path, db_url, **DOCUMENT)
    with runtime(configured, clock=FakeClock(NOW), environ={"USER": "thu"}) as rt:
        yield rt


def _record(rt: Runtime) -> None:
    meeting = {"unit": "Xã Tân Đoàn", "form": "meeting", "count": "2", "date": "05/12/2024",
               "means": "Hội trường thôn Bản Chắt", "content": "Tắt sóng 2G"}  # fmt: skip
    activities.add(rt, ActivityFields(**meeting))
    activities.add(rt, ActivityFields(**(meeting | {"unit": "Khánh Khê", "form": "banner",
                                                    "count": "4", "date": "20/12/2024",
                                                    "means": "Chợ xã"})))  # fmt: skip


def test_the_document_from_the_database_dated_today(rt: Runtime, tmp_path: Path) -> None:
    _record(rt)
    report = reports.monthly(rt, "12/2024")
    path = filing.write_report_file(rt, report, "docx", None, None)
    assert path == Path("bao-cao-2024-12.docx") and (tmp_path / path).is_file()
    doc = Document(str(tmp_path / path))
    header = [p.text for c in doc.tables[0].rows[0].cells for p in c.paragraphs if p.text]
    assert "Văn Quan, ngày 03 tháng 01 năm 2025" in header  # the runtime clock, in Vietnam
    rows = [[c.text for c in row.cells] for row in doc.tables[1].rows]
    assert [r[1:5] for r in rows[1:]] == [
        ["Xã Khánh Khê", "Băng rôn, pa-nô, áp phích", "Tắt sóng 2G", "4 chiếc"],
        ["Xã Tân Đoàn", "Hội nghị, họp dân", "Tắt sóng 2G", "2 buổi"],
        ["Tổng cộng", "Tổng cộng", "Tổng cộng", "6"],  # one merged cell
    ]
    with rt.uow() as uow:
        at, head = uow.chain.head()
    texts = [p.text for p in doc.paragraphs]
    assert at > 0 and report.anchor_line in texts
    assert f"--head {head} --at {at}" in report.anchor_line
    assert "Hoàng Văn An" in [p.text for p in doc.tables[-1].rows[0].cells[1].paragraphs]
    assert len(doc.inline_shapes) == 1


def test_dated_overrides_today_and_out_names_the_file(rt: Runtime, tmp_path: Path) -> None:
    report = reports.monthly(rt, "12/2024")
    dated = filing.dated_option("15/3/2025", "docx")
    assert dated == date(2025, 3, 15)
    path = filing.write_report_file(rt, report, "docx", tmp_path / "bc.docx", dated)
    header = [p.text for c in Document(str(path)).tables[0].rows[0].cells for p in c.paragraphs]
    assert "Văn Quan, ngày 15 tháng 3 năm 2025" in header


def test_the_workbook_carries_the_chart_below_the_summary(rt: Runtime, tmp_path: Path) -> None:
    _record(rt)
    report = reports.monthly(rt, "12/2024")
    path = filing.write_report_file(rt, report, "xlsx", tmp_path / "bao-cao.xlsx", None)
    with zipfile.ZipFile(path) as archive:
        media = [n for n in archive.namelist() if n.startswith("xl/media/")]
        assert len(media) == 1 and archive.read(media[0]) == chart_png(report)
    summary = openpyxl.load_workbook(path)["Tổng hợp"]
    images = summary._images  # openpyxl keeps a sheet's pictures here
    assert len(images) == 1
    anchor_row = images[0].anchor._from.row + 1  # zero-based in the drawing
    assert summary.cell(summary.max_row, 1).value == report.anchor_line
    assert anchor_row == summary.max_row + 2  # below the table and the anchor line


def test_the_chart_alone_counts_the_days_from_the_database(rt: Runtime, tmp_path: Path) -> None:
    _record(rt)
    report = reports.monthly(rt, "12/2024")
    assert report.daily == {("Xã Khánh Khê", "Băng rôn, pa-nô, áp phích", date(2024, 12, 20)): 4,
                            ("Xã Tân Đoàn", "Hội nghị, họp dân", date(2024, 12, 5)): 2}  # fmt: skip
    path = filing.write_report_file(rt, report, "png", None, None)
    png = (tmp_path / path).read_bytes()
    assert path == Path("bieu-do-2024-12.png") and png == chart_png(report)
    assert struct.unpack(">II", png[16:24]) == (1600, 900)
    one_unit = reports.monthly(rt, "12/2024", unit="tan doan")
    assert one_unit.unit == "Xã Tân Đoàn"  # named as its rows name it, for the chart's title
    assert chart_png(one_unit) != png
