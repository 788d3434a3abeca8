"""`dispatcher activity ...` as an officer uses it: record, import, correct, void, list, and the
monthly report that counts them (issue 14, part 1)."""

from __future__ import annotations

import subprocess
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from tests.acceptance.conftest import Workspace

VN = ZoneInfo("Asia/Ho_Chi_Minh")


def _ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def _refused(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    return result.stderr


def test_an_officer_records_corrects_and_reports_the_months_outreach(
    workspace: Workspace,
) -> None:
    day = (datetime.now(VN) - timedelta(days=1)).date()  # yesterday: never in the future
    shown, month = day.strftime("%d/%m/%Y"), day.strftime("%Y-%m")
    add = ("activity", "add", "--unit", "Tan Doan", "--form", "hop dan", "--count", "2",
           "--date", shown, "--means", "Hội trường thôn")  # fmt: skip
    assert _ok(workspace.run(*add, env={"USER": "thu"})) == (
        f"Recorded activity 1: Xã Tân Đoàn, Hội nghị, họp dân, 2 buổi, {shown}.\n"
    )
    workspace.write("bao-cao.csv", "\n".join([
        "STT;Đơn vị;Hình thức;Số lượt;Ngày;Nội dung",
        f"1;Tân Đoàn;Zalo;3;{shown};=HYPERLINK(\"http://x\")",
        f"2;Tân Đoàn;tờ rơi;200;{shown};",
    ]) + "\n")  # fmt: skip
    assert _ok(workspace.run("activity", "import", "bao-cao.csv")) == (
        "Recorded 2 activities from bao-cao.csv (ids 2–3).\n"
    )
    assert _ok(workspace.run("activity", "correct", "1", "--count", "3", "--reason", "sót")) == (
        f"Recorded correction activity 4 (replaces 1): Xã Tân Đoàn, Hội nghị, họp dân, 3 buổi, "
        f"{shown}.\n"
    )
    assert _ok(workspace.run("activity", "void", "3", "--reason", "nhập nhầm")) == (
        "Voided activity 3 (record 5): nhập nhầm\n"
    )
    table = _ok(workspace.run("activity", "list", "--month", month)).splitlines()
    assert table[0].split() == ["ID", "DATE", "UNIT", "FORM", "COUNT", "MEANS", "STATE"]
    assert table[-1] == "5 record(s); 6 counted (replaced and voided records are not)."
    exported = _ok(workspace.run("activity", "list", "--format", "csv"))
    assert exported.startswith("\ufeffid,kind,state,")  # Excel reads it as UTF-8
    assert "'=HYPERLINK" in exported  # never a formula in a spreadsheet
    report = _ok(workspace.run("report", "monthly", "--month", month))
    cells = [[c.strip() for c in line.split("  ") if c.strip()] for line in report.splitlines()]
    assert ["1", "Xã Tân Đoàn", "Hội nghị, họp dân", "3 buổi", "Hội trường thôn",
            "Đơn vị ghi nhận"] in cells  # fmt: skip
    assert "Mạng xã hội (Zalo, Facebook)" in report and "Tờ rơi" not in report
    assert report.splitlines()[1].split()[:3] == ["STT", "Đơn", "vị"]  # a header row
    assert _ok(workspace.run("report", "monthly", "--month", shown[3:], "--format", "xlsx")) == (
        f"Wrote bao-cao-{month}.xlsx (the report of tháng {shown[3:]}).\n"
    )
    assert (workspace.root / f"bao-cao-{month}.xlsx").stat().st_size > 0
    assert _refused(workspace.run("report", "monthly", "--month", month, "--format", "xlsx",
                                  "--out", "khong-co/bao-cao.xlsx")).startswith(
        "Error: khong-co/bao-cao.xlsx: cannot write the report: "
    )  # fmt: skip


def test_bad_input_is_exit_2_naming_the_option_or_the_cell(workspace: Workspace) -> None:
    assert _refused(workspace.run("activity", "add", "--unit", "Tân Đoàn", "--form", "loa",
                                  "--count", "1", "--date", "01/01/2999")) == (
        "Error: --date: 01/01/2999 is in the future\n"
    )  # fmt: skip
    workspace.write("bc.csv", "Đơn vị,Hình thức,Số lượt,Ngày\nTân Đoàn,loa,x,01/12/2024\n")
    assert _refused(workspace.run("activity", "import", "bc.csv")) == (
        "Error: bc.csv:2: Số lượt: 'x' is not a whole number from 1 to 1,000,000\n"
    )
    assert _refused(workspace.run("activity", "import", "bc.txt")).startswith("Error: ")
    assert _ok(workspace.run("activity", "list")).endswith("0 record(s); 0 counted "
                                                           "(replaced and voided records are "
                                                           "not).\n")  # fmt: skip
    assert "door_to_door" in _ok(workspace.run("activity", "forms"))
