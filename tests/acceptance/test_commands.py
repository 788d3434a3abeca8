"""Every command's happy path, through the installed `dispatcher` script.

Read-only checks of the sample campaign share one workspace and one run of each command;
commands that write to the database run on SQLite and PostgreSQL.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
import unicodedata
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import click
import pytest
from click.testing import CliRunner

import cli
from dispatcher.store.db import current_revision, head_revision, make_engine
from tests.acceptance.conftest import REPO, Workspace, _base_env

SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
SAMPLE = "campaigns/2g-shutdown-2024.yaml"
FUTURE = "campaigns/future.yaml"
VN = ZoneInfo("Asia/Ho_Chi_Minh")
COMMUNES = {"Thị trấn Văn Quan": "thi-tran-van-quan", "Xã Tân Đoàn": "xa-tan-doan",
            "Xã Tràng Các": "xa-trang-cac"}  # fmt: skip
MON, WED, THU, FRI = 0, 2, 3, 4
E164 = re.compile(r"\+84\d{9}")
MASKED = re.compile(r"\+84 \d\dx xxx \d{3}")


def _days(start: date, end: date, weekdays: set[int]) -> list[date]:
    return [
        start + timedelta(n)
        for n in range((end - start).days + 1)
        if (start + timedelta(n)).weekday() in weekdays
    ]


def _ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


def _run_all(ws: Workspace, *commands: tuple[str, ...]) -> list[str]:
    """Run commands that only read, one after the other, each checked for exit 0."""
    return [_ok(ws.run(*args)) for args in commands]


# -- read-only: validate and plan ----------------------------------------------------------------
@dataclass
class Sample:
    validate: str
    table: str
    data: dict[str, object]
    future_table: str
    future_data: dict[str, object]
    future_start: date


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sample]:
    """One run of validate and plan over the sample, and over a copy whose schedule is ahead."""
    root = tmp_path_factory.mktemp("sample")
    shutil.copytree(REPO / "campaigns", root / "campaigns")
    shutil.copy(REPO / "units.yaml", root / "units.yaml")
    shutil.copytree(REPO / "audio" / "templates", root / "audio" / "templates")
    ws = Workspace(root, _base_env())  # plan needs no database: the default settings do
    start = datetime.now(VN).date() + timedelta(days=1)  # tomorrow: all of it is ahead
    text = (root / SAMPLE).read_text(encoding="utf-8")
    sms_dates = "    start: 2024-08-01\n    end: 2024-10-15\n"
    assert text.count(sms_dates) == 1
    ws.write(
        FUTURE, text.replace(sms_dates, f"    start: {start}\n    end: {start + timedelta(40)}\n")
    )
    outputs = _run_all(
        ws, ("validate", SAMPLE), ("plan", SAMPLE), ("plan", SAMPLE, "--json"), ("plan", FUTURE),
        ("plan", FUTURE, "--json"),
    )  # fmt: skip
    yield Sample(
        validate=outputs[0],
        table=outputs[1],
        data=json.loads(outputs[2]),
        future_table=outputs[3],
        future_data=json.loads(outputs[4]),
        future_start=start,
    )


def test_validate_accepts_the_sample(sample: Sample) -> None:
    assert sample.validate == f"{SAMPLE}: ok\n"  # and exit 0, checked by _run_all


def test_validate_passes_on_every_yaml_file_of_the_shipped_campaigns_folder(
    tmp_path: Path,
) -> None:
    # `dispatcher validate campaigns/*.yaml` as an operator types it: the folder `serve` scans
    # holds campaigns only (the units registry lives next to config.yaml).
    shutil.copytree(REPO / "campaigns", tmp_path / "campaigns")
    shutil.copytree(REPO / "audio" / "templates", tmp_path / "audio" / "templates")
    shutil.copy(REPO / "config.yaml", tmp_path / "config.yaml")
    shutil.copy(REPO / "units.yaml", tmp_path / "units.yaml")
    files = sorted(
        p.relative_to(tmp_path).as_posix()
        for pattern in ("*.yaml", "*.yml")
        for p in (tmp_path / "campaigns").glob(pattern)
    )
    result = Workspace(tmp_path, _base_env()).run("validate", *files)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == [f"{f}: ok" for f in files]


def test_plan_table_counts_recipients_and_segments(sample: Sample) -> None:
    lines = sample.table.splitlines()
    assert lines[:5] == [
        "Campaign 2g-shutdown-2024: Dừng công nghệ di động 2G",
        "Recipients:  272 valid, 16 invalid, 10 duplicates, 2 excluded",
        "SMS:         GSM-7, longest message 159 characters = 1 segment(s)",
        "Total:       272 segments over all messages",
        "Preview:     the first 3 of 272 messages as sent (--preview N for more, 0 for none)",
    ]
    rejected = lines.index("Not sent to:")
    assert rejected == 5 + 3 * 2  # each of the 3 previewed messages: its number, then its body
    # a value as written keeps only its first and last three digits (`--full`: all of it)
    assert lines[rejected + 1] == (
        "  campaigns/lists/2g-only.csv:7: 020x xxxx 606: landline: cannot receive SMS"
    )


def test_plan_table_masks_the_numbers_it_did_not_send_to(sample: Sample) -> None:
    rows = sample.table.splitlines()
    assert "  campaigns/lists/2g-only.csv:143: +84 58x xxx 456: duplicate of " \
        "campaigns/lists/2g-only.csv:2" in rows  # fmt: skip
    assert "  campaigns/lists/2g-only.csv:193: không có: not a phone number" in rows
    assert len(MASKED.findall(sample.table)) >= 4
    assert not E164.search(sample.table)


def test_plan_table_says_when_a_past_schedule_ended(sample: Sample) -> None:
    # 2024-10-15 is a Tuesday; the last Monday/Thursday send was Monday 14/10 at 08:00.
    assert sample.table.splitlines()[-1] == "Schedule:    ended 08:00 14/10/2024"
    assert sample.data["schedule_ended"] == "2024-10-14T08:00:00+07:00"
    assert sample.data["occurrences"] == []


def test_plan_json(sample: Sample) -> None:
    data = sample.data
    assert data["campaign"] == "2g-shutdown-2024"
    assert data["recipients"] == {"valid": 272, "invalid": 16, "duplicates": 10, "excluded": 2}
    assert data["sms"] == {"encoding": "GSM-7", "segments": 1, "characters": 159, "units": 159}
    assert data["total_segments"] == 272
    rejected = data["rejected"]
    assert isinstance(rejected, list) and len(rejected) == 16 + 10 + 2
    assert {
        "file": "campaigns/lists/2g-only.csv", "line": 2, "value": "+84580928456",
        "reason": "excluded by campaigns/lists/opted-out.csv:2",
    } in rejected  # fmt: skip


def test_plan_json_lists_the_next_occurrences_in_local_time(sample: Sample) -> None:
    days = _days(sample.future_start, sample.future_start + timedelta(40), {MON, THU})
    assert len(days) > 10  # plan shows the next 10
    expected = [f"{day.isoformat()}T08:00:00+07:00" for day in days[:10]]
    assert sample.future_data["occurrences"] == expected
    assert sample.future_data["schedule_ended"] is None
    names = {MON: "Thứ Hai ", THU: "Thứ Năm "}
    rows = [f"  {names[day.weekday()]} {day:%d/%m/%Y} 08:00, done by 08:01" for day in days[:10]]
    assert sample.future_table.splitlines()[-11:] == ["Next sends:", *rows]


# -- broadcast scripts ---------------------------------------------------------------------------
AIR_DAYS = _days(date(2024, 8, 1), date(2024, 10, 15), {MON, WED, FRI})


@SQLITE_ONLY
def test_broadcast_scripts_writes_one_utf8_file_per_commune_and_airing(
    workspace: Workspace,
) -> None:
    stdout = _ok(workspace.run("broadcast", "scripts", SAMPLE))
    count = len(COMMUNES) * len(AIR_DAYS) * 2
    out = workspace.root / "out" / "scripts" / "2g-shutdown-2024"
    lines = stdout.splitlines()
    assert lines[:2] == [
        f"Wrote {count} scripts ({count} airings) for {', '.join(COMMUNES)}",
        f"  under {out} (.txt, .spoken.txt, .docx)",
    ]
    assert re.fullmatch(r"  estimated reading time per airing: \d+–\d+ s", lines[2]), lines
    written = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert written == {
        f"{slug}/{day}_{hhmm}{suffix}"
        for slug in COMMUNES.values()
        for day in AIR_DAYS
        for hhmm in ("0600", "1730")
        for suffix in (".txt", ".spoken.txt", ".docx")
    }
    text = (out / "xa-tan-doan" / "2024-10-14_1730.txt").read_bytes().decode("utf-8")
    assert text.splitlines()[:5] == [
        "Chiến dịch: Dừng công nghệ di động 2G (2g-shutdown-2024)",
        "Đài truyền thanh: Xã Tân Đoàn",
        "Thời gian phát: 17:30 14/10/2024",
        "Ngày trong tuần: Thứ Hai",
        "Mã buổi phát: 2024-10-14T17:30+07:00",
    ]
    assert "Đây là Đài truyền thanh xã Tân Đoàn." in text
    assert unicodedata.is_normalized("NFC", text)


@SQLITE_ONLY
def test_broadcast_scripts_for_one_commune_into_another_folder(workspace: Workspace) -> None:
    stdout = _ok(
        workspace.run("broadcast", "scripts", SAMPLE, "--commune", "Xã Tràng Các", "--out", "loa")
    )
    count = len(AIR_DAYS) * 2
    assert stdout.splitlines()[:2] == [
        f"Wrote {count} scripts ({count} airings) for Xã Tràng Các",
        "  under loa/2g-shutdown-2024 (.txt, .spoken.txt, .docx)",
    ]
    folder = workspace.root / "loa" / "2g-shutdown-2024"
    assert [p.name for p in folder.iterdir()] == ["xa-trang-cac"]
    assert len(list((folder / "xa-trang-cac").iterdir())) == count * 3  # .txt .spoken.txt .docx
    assert not (workspace.root / "out").exists()


# -- send, log, report ---------------------------------------------------------------------------
def test_log_and_monthly_report_after_a_send_and_broadcast_scripts(workspace: Workspace) -> None:
    sent = _ok(workspace.run("send", SAMPLE, "--occurrence", "demo"))
    assert "  demo: 272 recipients: 272 accepted" in sent.splitlines()
    _ok(workspace.run("broadcast", "scripts", SAMPLE))
    month = f"{datetime.now(VN):%Y-%m}"
    report = ("report", "monthly", "--month")
    outputs = _run_all(
        workspace,
        ("log", "--format", "table"),
        ("log", "--format", "csv"),
        ("log", "--format", "jsonl"),
        (*report, month, "--format", "json"),
        (*report, "2024-10", "--format", "json"),
        (*report, "2024-10"),
        (*report, "2024-10", "--format", "csv"),
    )
    _check_log(*outputs[:3])
    _check_sms_report(json.loads(outputs[3]), month)
    _check_airings_report(json.loads(outputs[4]), *outputs[5:])


def _check_log(table_text: str, csv_text: str, jsonl: str) -> None:
    table = table_text.splitlines()
    assert csv_text.startswith("\ufeffcampaign,")  # a byte-order mark, for Excel
    rows = list(csv.DictReader(io.StringIO(csv_text.removeprefix("\ufeff"))))
    records = [json.loads(line) for line in jsonl.splitlines()]
    assert table[0].split() == ["time", "campaign", "occurrence", "to", "status", "tries",
                                "error", "or", "reason"]  # fmt: skip
    assert table[-1].startswith("272 deliveries.")
    body = table[1:-1]
    assert len(body) == len(rows) == len(records) == 272
    # The table masks numbers (personal data); csv and jsonl are for machines, complete.
    assert not E164.search(table_text)
    assert all(re.match(r"\d\d:\d\d \d\d/\d\d/\d{4}  ", line) for line in body)  # local
    shown = [line.split(maxsplit=4)[4][:15] for line in body]
    assert all(MASKED.fullmatch(number) for number in shown)
    numbers = [row["to"] for row in rows]
    assert all(E164.fullmatch(n) for n in numbers) and len(set(numbers)) == 272
    assert [r["to"] for r in records] == numbers
    assert Counter(shown) == Counter(f"+84 {n[3:5]}x xxx {n[-3:]}" for n in numbers)
    assert {(r["campaign"], r["occurrence"], r["status"]) for r in records} == {
        ("2g-shutdown-2024", "demo", "accepted")
    }


def _check_sms_report(data: dict[str, object], month: str) -> None:
    # Messages count in the month they reached the provider: now, not in 2024.
    assert data["month"] == month
    # No delivery report came back (the simulator sends none unasked): sent, none known received.
    assert data["rows"] == [
        {"unit": "UBND huyện Văn Quan", "form": "Tin nhắn SMS",
         "content": "Dừng công nghệ di động 2G",
         "means": "Tin nhắn qua tổng đài, tên định danh VANQUAN", "count": 272,
         "count_unit": "tin", "status": "sent", "segments": 272,
         "result": "Đã gửi tới 272 thuê bao (chưa có báo đã nhận)",
         "note": "Đã gửi 272 tin (272 phần tin); đã nhận 0; không thành công 0",
         "sms": {"sent": 272, "delivered": 0, "failed": 0, "reached": 0, "numbers": 272}},
    ]  # fmt: skip


def _check_airings_report(data: dict[str, object], table: str, csv_text: str) -> None:
    airings = 2 * len([d for d in AIR_DAYS if d.month == 10])  # 06:00 and 17:30 each day
    assert airings == 12  # Mon/Wed/Fri of 1-15 October 2024: 2, 4, 7, 9, 11, 14
    assert data["period"] == {"start": "2024-10-01T00:00:00+07:00",
                              "end": "2024-11-01T00:00:00+07:00"}  # fmt: skip
    # No commune confirmed any airing: none is counted, all are listed apart as unconfirmed.
    assert data["rows"] == []
    rows = data["unconfirmed"]
    assert isinstance(rows, list)
    assert {r["means"]: (r["form"], r["count"], r["count_unit"], r["status"]) for r in rows} == {
        f"Đài truyền thanh {commune[0].lower()}{commune[1:]}":  # "Đài truyền thanh xã Tân Đoàn"
            ("Phát thanh trên loa truyền thanh cơ sở", airings, "lượt", "unconfirmed")
        for commune in COMMUNES
    }  # fmt: skip
    assert all(len(r["planned"]) == airings for r in rows)
    assert table.splitlines()[:2] == ["Báo cáo kết quả tuyên truyền tháng 10/2024",
                                      "(chưa có hoạt động nào được tính trong tháng)"]  # fmt: skip
    assert sum(f": {airings} lượt (" in line for line in table.splitlines()) == 3
    assert csv_text.startswith("\ufeff")  # a byte-order mark: Excel reads it as UTF-8
    lines = list(csv.reader(io.StringIO(csv_text.removeprefix("\ufeff"))))
    assert lines[0] == ["STT", "Đơn vị", "Hình thức truyền thông", "Nội dung", "Số lượt",
                        "Đơn vị tính", "Phương tiện", "Kết quả (người/thuê bao đã tiếp cận)",
                        "Ghi chú"]  # fmt: skip
    assert lines[1] == ["", "Tổng cộng", "", "", "0", "", "", "", ""]  # nothing counted
    assert [(r[0], r[4], r[5], r[8][:26]) for r in lines[2:-1]] == [
        ("", "12", "lượt", "Chưa xác nhận (không tính)")
    ] * 3  # fmt: skip
    # The last row anchors the report to the log: the chain head it was computed at.
    assert lines[-1][:2] == ["", "Sổ nhật ký (bản ghi, mã)"] and len(lines[-1][3]) == 64


@SQLITE_ONLY  # the other tests run every command, and so the upgrade, on PostgreSQL too
def test_db_upgrade_brings_the_schema_to_head_and_is_harmless_twice(
    workspace: Workspace, db_url: str
) -> None:
    engine = make_engine(db_url)
    try:
        first = _ok(workspace.run("db", "upgrade"))
        assert current_revision(engine) == head_revision(engine) is not None
        assert _ok(workspace.run("db", "upgrade")) == first
    finally:
        engine.dispose()
    assert first == f"database schema is current: {db_url}\n"


# -- help ----------------------------------------------------------------------------------------
def _commands(
    group: click.Group, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    for name, command in sorted(group.commands.items()):
        yield (*path, name), command
        if isinstance(command, click.Group):
            yield from _commands(command, (*path, name))


COMMANDS = list(_commands(cli.main))


def test_the_walk_reaches_subcommands() -> None:
    found = {" ".join(path) for path, _ in COMMANDS}
    assert found >= {
        "broadcast", "broadcast confirm", "broadcast link", "broadcast pull", "broadcast scripts",
        "db", "db upgrade", "log", "plan",
        "report", "report monthly", "send", "simulator", "validate",
    }  # fmt: skip


COMMAND_IDS = [" ".join(path) for path, _ in COMMANDS]


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=COMMAND_IDS)
def test_every_command_has_help(path: tuple[str, ...], command: click.Command) -> None:
    assert (command.help or "").strip(), f"`dispatcher {' '.join(path)}` has no help text"
    result = CliRunner().invoke(cli.main, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert result.output.lower().startswith("usage:")


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=COMMAND_IDS)
def test_every_option_has_help_text(path: tuple[str, ...], command: click.Command) -> None:
    undocumented = [
        "/".join(param.opts)
        for param in command.params
        if isinstance(param, click.Option) and not (param.help or "").strip()
    ]
    assert undocumented == [], f"`dispatcher {' '.join(path)}`: options without help text"


@SQLITE_ONLY
def test_help_of_the_installed_script(workspace: Workspace) -> None:
    listed = _ok(workspace.run("--help"))
    assert listed.startswith("Usage: dispatcher [OPTIONS] COMMAND [ARGS]...")
    for name in cli.main.commands:
        assert re.search(rf"^  {name}\b", listed, re.MULTILINE), name
