"""`dispatcher plan` and `validate` through the installed script: schedule forms, quiet hours,
sending time and the queue warning, and what an edit changed since the campaign was sent."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.acceptance.conftest import Workspace

VN = ZoneInfo("Asia/Ho_Chi_Minh")
SAMPLE = "campaigns/2g-shutdown-2024.yaml"
SAMPLE_SCHEDULE = """  schedule:
    start: 2024-08-01
    end: 2024-10-15
    times: ["08:00"]
    days: [mon, thu]
"""
SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def _reschedule(ws: Workspace, schedule: str, extra: str = "") -> str:
    """Give the sample campaign another schedule (and more `sms` keys); returns its path."""
    text = ws.campaign.read_text(encoding="utf-8")
    assert text.count(SAMPLE_SCHEDULE) == 1
    ws.campaign.write_text(text.replace(SAMPLE_SCHEDULE, schedule + extra), encoding="utf-8")
    return SAMPLE


def _tomorrow() -> date:
    return datetime.now(VN).date() + timedelta(days=1)


def _ok(ws: Workspace, *args: str, env: dict[str, str] | None = None) -> str:
    result = ws.run(*args, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


@SQLITE_ONLY
def test_an_occurrence_in_quiet_hours_shows_when_it_will_start(workspace: Workspace) -> None:
    day = _tomorrow()
    path = _reschedule(
        workspace, f"  schedule:\n    start: {day}\n    end: {day + timedelta(1)}\n"
        '    cron: "30 22 * * *"\n',
    )  # fmt: skip
    # The workspace turns quiet hours off (its sends run at any hour): back to the default.
    config = Path(workspace.env["DISPATCHER_CONFIG"])
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("  quiet_hours: 'off'\n", ""), encoding="utf-8")
    table = _ok(workspace, "plan", path).splitlines()
    nxt = day + timedelta(1)
    assert "Quiet hours: 22:00-07:00 (settings): nothing is sent inside them" in table
    assert table[-2].endswith(
        f"{day:%d/%m/%Y} 22:30 → chờ đến 07:00 {nxt:%d/%m/%Y} (quiet hours), done by 07:01"
    )
    data = json.loads(_ok(workspace, "plan", path, "--json"))
    assert data["occurrences"] == [f"{day}T22:30:00+07:00", f"{nxt}T22:30:00+07:00"]
    assert [s["starts"] for s in data["sends"]] == [
        f"{nxt}T07:00:00+07:00", f"{nxt + timedelta(1)}T07:00:00+07:00"
    ]  # fmt: skip
    # $DISPATCHER_QUIET_HOURS replaces config's window; the campaign's own would win over both.
    data = json.loads(
        _ok(workspace, "plan", path, "--json", env={"DISPATCHER_QUIET_HOURS": "23:00-06:00"})
    )
    assert data["quiet_hours"] == "23:00-06:00"
    assert [s["waits_for_quiet_hours"] for s in data["sends"]] == [False, False]


@SQLITE_ONLY
def test_an_urgent_campaign_sends_inside_quiet_hours(workspace: Workspace) -> None:
    day = _tomorrow()
    path = _reschedule(workspace, f"  schedule:\n    at: [{day} 23:00]\n", "  urgent: true\n")
    table = _ok(workspace, "plan", path).splitlines()
    assert "Quiet hours: ignored — urgent campaign (emergency notice); the log says so" in table
    assert table[-1].endswith(f"{day:%d/%m/%Y} 23:00, done by 23:01")
    data = json.loads(_ok(workspace, "plan", path, "--json"))
    assert (data["urgent"], data["quiet_hours"]) == (True, None)


@SQLITE_ONLY
def test_plan_warns_when_a_send_outlasts_the_twilio_queue_and_still_exits_0(
    workspace: Workspace,
) -> None:
    # 272 segments at 0.005 segments/s: 54,400 s, about 15 h 7 min, over the 10 h limit.
    path = _reschedule(workspace, SAMPLE_SCHEDULE, "  rate: 0.005\n")
    table = _ok(workspace, "plan", path)
    assert table.splitlines()[-1] == (
        "warning: one send takes about 15 h 7 min, longer than Twilio will queue: add senders "
        "or split the list (about 10 h)"
    )
    assert "Sending:     about 15 h 7 min per send (1 sender: VANQUAN at 0.005 segments/s)" in table


@SQLITE_ONLY
@pytest.mark.parametrize(
    ("env", "schedule", "error"),
    [
        ({"DISPATCHER_QUIET_HOURS": "10pm-7am"}, SAMPLE_SCHEDULE,
         "Error: $DISPATCHER_QUIET_HOURS: '10pm-7am' is not a quiet-hours window: write it like "
         "22:00-07:00, or off"),
        ({}, '  schedule:\n    start: 2024-08-01\n    cron: "0 8 * * mon"\n',
         f"Error: {SAMPLE}:22: sms.schedule.end: required key is missing: a cron schedule "
         "without an end would send forever"),
    ],
)  # fmt: skip
def test_bad_schedules_and_windows_are_exit_2_with_where(
    workspace: Workspace, env: dict[str, str], schedule: str, error: str
) -> None:
    path = _reschedule(workspace, schedule)
    result = workspace.run("plan", path, env=env)
    assert (result.returncode, result.stderr.strip()) == (2, error)


def test_validate_and_plan_say_what_changed_since_the_campaign_was_sent(
    workspace: Workspace,
) -> None:
    assert workspace.run("send", SAMPLE, "--occurrence", "demo").returncode == 0
    assert _ok(workspace, "validate", SAMPLE) == f"{SAMPLE}: ok\n"
    assert json.loads(_ok(workspace, "plan", SAMPLE, "--json"))["changes"] == []

    _reschedule(workspace, SAMPLE_SCHEDULE.replace("[mon, thu]", "[mon]"), "  quiet_hours: off\n")
    note = re.compile(
        r"Changed since last registered \(\d\d/\d\d/\d{4} \d\d:\d\d\): sms\.quiet_hours, "
        r"sms\.schedule\.days — applies to future occurrences; what was sent is not resent\."
    )
    lines = _ok(workspace, "validate", SAMPLE).splitlines()
    assert lines[0] == f"{SAMPLE}: ok" and note.fullmatch(lines[1].strip())
    assert note.fullmatch(_ok(workspace, "plan", SAMPLE).splitlines()[1])
    data = json.loads(_ok(workspace, "plan", SAMPLE, "--json"))
    assert data["changes"] == ["sms.quiet_hours", "sms.schedule.days"]
    assert data["registered_at"].endswith("+07:00")


@SQLITE_ONLY
def test_plan_previews_the_first_messages_masked_and_their_encoding(workspace: Workspace) -> None:
    table = _ok(workspace, "plan", SAMPLE, "--preview", "2").splitlines()
    start = table.index(
        "Preview:     the first 2 of 272 messages as sent (--preview N for more, 0 for none)"
    )
    body = (  # `encoding: ascii`: the preview shows the text as sent, folded
        "    UBND H.Van Quan: tu 0h 16/10/2024 may chi dung 2G se bi khoa, khong goi, nhan tin "
        "duoc. Hay doi sang may 4G, giu nguyen so. Hoi UBND xa hoac cua hang nha mang."
    )
    assert table[start + 1 : start + 5] == [
        "  +84 93x xxx 614 (campaigns/lists/2g-only.csv:3): GSM-7, 1 segment, 159 characters",
        body,
        "  +84 59x xxx 583 (campaigns/lists/2g-only.csv:4): GSM-7, 1 segment, 159 characters",
        body,
    ]
    full = _ok(workspace, "plan", SAMPLE, "--preview", "1", "--full")
    assert "  +84932256614 (campaigns/lists/2g-only.csv:3): GSM-7" in full
    assert "Preview:" not in _ok(workspace, "plan", SAMPLE, "--preview", "0")
    bad = workspace.run("plan", SAMPLE, "--preview", "-1")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


@SQLITE_ONLY
def test_plan_points_out_a_column_some_rows_leave_empty(workspace: Workspace) -> None:
    workspace.write("campaigns/lists/ten.csv", "phone,ten\n0912345678,An\n0987654321,\n")
    text = workspace.campaign.read_text(encoding="utf-8")
    text = text.replace("lists/2g-only.csv", "lists/ten.csv").replace(
        "UBND H.Văn Quan:", "{{ ten }}:"
    )
    workspace.campaign.write_text(text, encoding="utf-8")
    table = _ok(workspace, "plan", SAMPLE).splitlines()
    assert "Empty:       1 row leaves {{ ten }} empty: campaigns/lists/ten.csv line 3" in table
