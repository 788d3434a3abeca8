"""`dispatcher report monthly --format docx|png` as the office runs it: the document to sign and
the chart alone, written by the installed command; a bad --dated writes nothing (issue 14, part 4).
"""

from __future__ import annotations

import subprocess
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from docx import Document

from dispatcher.reports.document import decree_date
from tests.acceptance.conftest import Workspace

VN = ZoneInfo("Asia/Ho_Chi_Minh")


def _ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def _refused(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    return result.stderr


def test_the_document_and_the_chart_of_the_month(workspace: Workspace) -> None:
    day = (datetime.now(VN) - timedelta(days=1)).date()  # yesterday: never in the future
    month = day.strftime("%Y-%m")
    add = ("activity", "add", "--unit", "Tân Đoàn", "--form", "họp dân", "--count", "3",
           "--date", day.strftime("%d/%m/%Y"), "--means", "Hội trường thôn")  # fmt: skip
    _ok(workspace.run(*add))
    report = ("report", "monthly", "--month", month)
    assert _ok(workspace.run_process(*report, "--format", "docx")) == (
        f"Wrote bao-cao-{month}.docx (the report of tháng {month[5:]}/{month[:4]}).\n"
    )
    doc = Document(str(workspace.root / f"bao-cao-{month}.docx"))
    header = [p.text for c in doc.tables[0].rows[0].cells for p in c.paragraphs if p.text]
    today = datetime.now(VN).date()
    assert header[-1] in {f"Văn Quan, {decree_date(today)}",  # the run may cross midnight
                          f"Văn Quan, {decree_date(today - timedelta(days=1))}"}  # fmt: skip
    rows = [[c.text for c in row.cells] for row in doc.tables[1].rows]
    assert rows[1][1:5] == ["Xã Tân Đoàn", "Hội nghị, họp dân", "", "3 buổi"]
    assert rows[-1][4] == "3" and len(doc.inline_shapes) == 1
    dated = ("--format", "docx", "--dated", "05/01/2025", "--out", "bc.docx", "--unit", "tan doan")
    _ok(workspace.run(*report, *dated))
    signed = Document(str(workspace.root / "bc.docx"))
    assert [p.text for p in signed.tables[0].rows[0].cells[1].paragraphs][-1] == (
        "Văn Quan, ngày 05 tháng 01 năm 2025"
    )
    assert signed.paragraphs[
        [p.text for p in signed.paragraphs].index("BÁO CÁO") + 1
    ].text.endswith("của Xã Tân Đoàn")
    assert _ok(workspace.run_process(*report, "--format", "png", "--out", "bieu-do.png")) == (
        f"Wrote bieu-do.png (the report of tháng {month[5:]}/{month[:4]}).\n"
    )
    png = (workspace.root / "bieu-do.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000


def test_a_bad_dated_is_exit_2_naming_the_option_and_writes_nothing(workspace: Workspace) -> None:
    before = set(workspace.root.iterdir())
    report = ("report", "monthly", "--month", "10/2024")
    assert _refused(
        workspace.run_process(*report, "--format", "docx", "--dated", "31/02/2025")
    ) == ("Error: --dated: '31/02/2025' is not a day like 05/01/2025\n")
    assert _refused(workspace.run(*report, "--format", "xlsx", "--dated", "05/01/2025")) == (
        "Error: --dated: only the document (--format docx) carries a date\n"
    )
    assert set(workspace.root.iterdir()) == before  # refused before anything was read
    missing = ("--format", "docx", "--out", "khong-co/bc.docx")
    assert _refused(workspace.run(*report, *missing)).startswith(
        "Error: khong-co/bc.docx: cannot write the report: "
    )
    assert not [p for p in workspace.root.rglob("*") if p.suffix in (".docx", ".tmp")]
    assert "docx" in _refused(workspace.run(*report, "--format", "pdf"))  # the choices are named
