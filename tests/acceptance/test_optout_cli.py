"""`dispatcher optout` as a subprocess, and a send that honours what it recorded."""

from __future__ import annotations

import contextlib
import csv
import io
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from dispatcher.audience.phones import InvalidPhone, mask, normalize
from dispatcher.store.db import make_engine
from dispatcher.store.models import ActivityRow
from tests.acceptance.conftest import Workspace

SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
SAMPLE_OPTOUTS = "campaigns/lists/opted-out.csv"


def _numbers(path: Path) -> list[str]:
    found = []
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            with contextlib.suppress(InvalidPhone):
                found.append(normalize(row["phone"]))
    return found


def _national(e164: str) -> str:
    """``+84912345678`` as people write it: ``0912 345 678``."""
    digits = "0" + e164.removeprefix("+84")
    return f"{digits[:4]} {digits[4:7]} {digits[7:]}"


def test_add_in_national_format_then_list_shows_the_number_masked(workspace: Workspace) -> None:
    added = workspace.run("optout", "add", "0912 345 678", "--reason", "Gọi lên UBND xã")
    assert added.returncode == 0, added.stderr
    assert added.stdout == "+84 91x xxx 678: added to the opt-out list\n"
    again = workspace.run("optout", "add", "+84912345678")
    assert (again.returncode, again.stdout) == (0, "+84 91x xxx 678: already on the opt-out list\n")

    table = workspace.run("optout", "list")
    assert table.returncode == 0, table.stderr
    header, row, total = table.stdout.splitlines()
    assert header.split() == ["phone", "added", "source", "reason"]
    assert row.startswith("+84 91x xxx 678 ")
    assert row.split()[-5:] == ["cli", "Gọi", "lên", "UBND", "xã"]
    assert "+84912345678" not in table.stdout
    assert total == "1 number on the opt-out list."
    assert "+84912345678 " in workspace.run("optout", "list", "--full").stdout

    jsonl = workspace.run("optout", "list", "--format", "jsonl")
    (record,) = [json.loads(line) for line in jsonl.stdout.splitlines()]
    assert {k: record[k] for k in ("phone", "reason", "source")} == {
        "phone": "+84912345678", "reason": "Gọi lên UBND xã", "source": "cli",
    }  # fmt: skip

    removed = workspace.run("optout", "remove", "0912.345.678", "--reason", "muốn nhận lại")
    assert removed.stdout == "+84 91x xxx 678: removed from the opt-out list\n"
    assert workspace.run("optout", "list").stdout == (
        "phone            added            source                   reason\n"
        "0 numbers on the opt-out list.\n"
    )


@SQLITE_ONLY
def test_import_the_sample_list_keeps_each_rows_note(workspace: Workspace) -> None:
    first = workspace.run("optout", "import", SAMPLE_OPTOUTS)
    assert first.returncode == 0, first.stderr
    assert first.stdout == f"{SAMPLE_OPTOUTS}: 4 added, 0 already on the list, 0 invalid\n"
    again = workspace.run("optout", "import", SAMPLE_OPTOUTS, "--reason", "ignored")
    assert again.stdout == f"{SAMPLE_OPTOUTS}: 0 added, 4 already on the list, 0 invalid\n"

    listed = workspace.run("optout", "list", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(listed.stdout)))
    expected = set(_numbers(workspace.root / SAMPLE_OPTOUTS))
    assert {r["phone"] for r in rows} == expected
    by_line = {r["source"]: r["reason"] for r in rows}
    assert by_line["import:opted-out.csv:5"] == "Nhắn DK DNC tới 5656"


@SQLITE_ONLY
def test_import_reports_invalid_rows_with_file_and_line(workspace: Workspace) -> None:
    workspace.write("dnc.csv", "phone;reason\n0912345678;DNC\n0205 3830 018;landline\n")
    result = workspace.run("optout", "import", "dnc.csv", "--reason", "DNC 5656")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "warning: dnc.csv:3: '0205 3830 018': landline: cannot receive SMS",
        "dnc.csv: 1 added, 0 already on the list, 1 invalid",
    ]


def test_send_leaves_out_a_number_added_with_optout_add(workspace: Workspace, db_url: str) -> None:
    lists = workspace.root / "campaigns" / "lists"
    expected = set(_numbers(lists / "2g-only.csv")) - set(_numbers(lists / "opted-out.csv"))
    victim = sorted(expected)[0]
    added = workspace.run("optout", "add", _national(victim), "--reason", "called the district")
    assert added.stdout == f"{mask(victim)}: added to the opt-out list\n", added.stderr

    sent = workspace.run("send", str(workspace.campaign), "--occurrence", "x")
    assert sent.returncode == 0, sent.stderr
    assert "x: 271 recipients: 271 accepted" in sent.stdout

    log = workspace.run("log", "--campaign", "2g-shutdown-2024", "--format", "jsonl")
    sent_to = {json.loads(line)["to"] for line in log.stdout.splitlines()}
    assert sent_to == expected - {victim}
    engine = make_engine(db_url)
    try:
        with engine.connect() as connection:
            activity = connection.execute(
                select(ActivityRow.kind, ActivityRow.occurrence_key, ActivityRow.detail)
            ).all()
    finally:
        engine.dispose()
    assert ("optout-excluded", "x", "left out 1 number(s) on the opt-out list") in activity


@SQLITE_ONLY
@pytest.mark.parametrize("command", ["add", "remove"])
def test_a_bad_phone_is_exit_2_naming_the_argument(workspace: Workspace, command: str) -> None:
    result = workspace.run("optout", command, "091234")
    assert result.returncode == 2
    assert result.stderr == "Error: PHONE: '091234': not a valid Vietnamese number\n"
    assert result.stdout == ""


@SQLITE_ONLY
def test_every_optout_command_has_help_with_an_example(workspace: Workspace) -> None:
    group = workspace.run("optout", "--help")
    assert group.returncode == 0
    for command in ("add", "remove", "import", "list"):
        assert f"  {command} " in group.stdout
        result = workspace.run("optout", command, "--help")
        assert result.returncode == 0, result.stderr
        assert f"Example: dispatcher optout {command}" in result.stdout


@SQLITE_ONLY
def test_a_csv_export_never_hands_a_spreadsheet_a_formula(workspace: Workspace) -> None:
    formula = '=HYPERLINK("http://evil.example","Bấm vào đây")'
    added = workspace.run("optout", "add", "0912345678", "--reason", formula)
    assert added.returncode == 0, added.stderr
    listed = workspace.run("optout", "list", "--format", "csv")
    (row,) = list(csv.DictReader(io.StringIO(listed.stdout)))
    assert row["reason"] == "'" + formula  # shown as text, never run
    assert row["phone"] == "+84912345678"  # a number stays a number
