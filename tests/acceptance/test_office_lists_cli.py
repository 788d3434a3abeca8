"""`dispatcher plan` on lists as Vietnamese offices save them (a Windows-1258 CSV with
semicolons, Excel's UTF-16 "Unicode text"), and `validate` refusing one whose encoding cannot be
told: the installed script, as a process."""

from __future__ import annotations

import json

import pytest

from tests.acceptance.conftest import Workspace
from tests.office_files import cp1258, encode

SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
CAMPAIGN = "campaigns/office-lists.yaml"
NAMES = ("Nguyễn Văn Hùng", "Trương Thị Đào", "Đoàn Hữu Lễ")


def _campaign(ws: Workspace, *lists: str) -> None:
    ws.write(
        CAMPAIGN,
        "id: office-lists\ntitle: Danh sách từ Excel\nunit: UBND xã Tân Đoàn\nsms:\n"
        "  text: 'Chào {{ tên }}'\n"
        f"  recipients: [{', '.join(lists)}]\n",
    )


@SQLITE_ONLY
def test_plan_reads_a_windows_1258_semicolon_csv_and_a_utf16_txt(workspace: Workspace) -> None:
    lists = workspace.root / "campaigns" / "lists"
    # Excel "CSV" on Vietnamese Windows: Windows-1258, ";", a number column without its 0.
    rows = "".join(f"9{i}2345678;{name}\r\n" for i, name in enumerate(NAMES[:2], start=1))
    (lists / "xa-1258.csv").write_bytes(cp1258("Số điện thoại;Tên\r\n" + rows))
    # Excel "Unicode text": UTF-16 with a BOM, tab-separated, a .txt.
    text = f"SĐT\tTên\r\n0931234567\t{NAMES[2]}\r\n9.12345678E8\tlặp lại\r\n"
    (lists / "xa-unicode.txt").write_bytes(encode(text, "utf-16-le-bom"))
    _campaign(workspace, "lists/xa-1258.csv", "lists/xa-unicode.txt")
    result = workspace.run_process("plan", "--json", CAMPAIGN)
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    assert plan["recipients"] == {"valid": 3, "invalid": 0, "duplicates": 1, "excluded": 0}
    # Composed on reading: the longest message counts 20 characters, not one more per tone mark
    # Windows-1258 wrote apart (ễ is ê + a combining tilde in the file).
    assert plan["sms"]["characters"] == len("Chào Nguyễn Văn Hùng") == 20


@SQLITE_ONLY
def test_validate_refuses_a_list_whose_encoding_cannot_be_told(workspace: Workspace) -> None:
    lists = workspace.root / "campaigns" / "lists"
    (lists / "xa.csv").write_bytes(b"phone;t\xean\r\n0912345678;V\xf5 Thi\r\n")
    _campaign(workspace, "lists/xa.csv")
    result = workspace.run_process("validate", CAMPAIGN)
    assert result.returncode == 2
    output = result.stdout + result.stderr
    assert "Traceback" not in output
    assert (
        "campaigns/lists/xa.csv:2: the encoding cannot be told: 'Vơ' in Windows-1258 or 'Võ' in "
        "Windows-1252, both Vietnamese: save it as 'CSV UTF-8'" in output
    )
