"""`dispatcher halt` / `unhalt`, the automatic halt on an account refusal, and the masking of
phone numbers in table output, as subprocesses against a simulator process and a real database.
(Several workers halted mid-run on PostgreSQL: tests/acceptance/test_workers.py.)"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from dispatcher.store.db import make_engine
from dispatcher.store.models import ActivityRow
from tests.acceptance.conftest import SimulatorProcess, Workspace

AS_LAN = {"LOGNAME": "lan"}  # the operator's login name, recorded with each change
AUTOMATIC = "automatic: Twilio 20003 authentication failed: check TWILIO_ACCOUNT_SID"
E164 = re.compile(r"\+84\d{9}\b")
# Each CLI call costs seconds; what does not depend on the database runs on SQLite only (the
# halt switch on PostgreSQL: the automatic halt below, and tests/acceptance/test_workers.py).
SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def _halt_events(ws: Workspace) -> list[tuple[str, str | None]]:
    config = yaml.safe_load(Path(ws.env["DISPATCHER_CONFIG"]).read_text(encoding="utf-8"))
    engine = make_engine(config["database_url"])
    try:
        with engine.connect() as conn:
            query = select(ActivityRow.kind, ActivityRow.detail).order_by(ActivityRow.id)
            rows = conn.execute(query.where(ActivityRow.kind.in_(["halt", "unhalt"])))
            return [(kind, detail) for kind, detail in rows]
    finally:
        engine.dispose()


@SQLITE_ONLY
def test_halt_says_what_happens_and_send_refuses_with_exit_3_until_unhalt(
    workspace: Workspace, start_simulator: Callable[..., SimulatorProcess]
) -> None:
    halted = workspace.run("halt", "--reason", "sai số hotline", env=AS_LAN)
    assert halted.returncode == 0, halted.stderr
    assert halted.stdout.startswith("Sending halted by lan: sai số hotline.\n")
    assert "Every worker stops claiming within seconds" in halted.stdout
    again = workspace.run("halt", "--reason", "lần nữa", env={"LOGNAME": "minh"})
    assert again.returncode == 0, again.stderr
    assert re.match(
        r"Already halted since \d\d/\d\d/\d{4} \d\d:\d\d by lan: sai số hotline; nothing changed",
        again.stdout,
    ), again.stdout

    status = workspace.run("status")
    assert status.returncode == 1, status.stdout
    assert status.stdout.splitlines()[1].startswith(
        "  [halted] (all campaigns): sending is halted, for 0 min, by lan: sai số hotline"
    )
    sim = start_simulator()
    refused = workspace.run("send", str(workspace.campaign), "--occurrence", "x", env=sim.env)
    assert refused.returncode == 3, refused.stdout + refused.stderr
    assert "HALTED: sending is halted by lan: sai số hotline" in refused.stdout
    assert sim.accepted() == []

    lifted = workspace.run("unhalt", "--reason", "đã sửa", env={"LOGNAME": "minh"})
    assert lifted.returncode == 0, lifted.stderr
    assert lifted.stdout.startswith("Sending resumed by minh: đã sửa (halted since ")
    assert workspace.run("unhalt").stdout == "Sending is not halted; nothing changed.\n"
    assert workspace.run("status").returncode == 0
    sent = workspace.run("send", str(workspace.campaign), "--occurrence", "x", env=sim.env)
    assert sent.returncode == 0, sent.stdout + sent.stderr
    assert len(sim.accepted()) == 272
    assert _halt_events(workspace) == [
        ("halt", "by lan: sai số hotline"),
        ("unhalt", "by minh: đã sửa"),
    ]


def test_wrong_credentials_halt_every_sender_until_unhalt(
    workspace: Workspace, start_simulator: Callable[..., SimulatorProcess]
) -> None:
    sim = start_simulator()
    wrong = sim.env | {"TWILIO_AUTH_TOKEN": "not-the-token"}
    result = workspace.run("send", str(workspace.campaign), "--occurrence", "x", env=wrong)
    assert result.returncode == 3, result.stdout + result.stderr
    assert "HALTED: authentication failed" in result.stdout

    status = workspace.run("status", "--json")
    assert status.returncode == 1
    (finding,) = json.loads(status.stdout)["findings"]
    assert finding["rule"] == "halted" and finding["numbers"]["by"] == "dispatcher"
    assert f"by dispatcher: {AUTOMATIC}" in finding["message"]

    # Right credentials, but the halt holds: nothing is sent until an operator lifts it.
    blocked = workspace.run("send", str(workspace.campaign), "--occurrence", "x", env=sim.env)
    assert blocked.returncode == 3, blocked.stdout + blocked.stderr
    assert f"HALTED: sending is halted by dispatcher: {AUTOMATIC}" in blocked.stdout
    assert sim.accepted() == []
    pending = workspace.run("log", "--status", "pending", "--format", "jsonl")
    assert len(pending.stdout.splitlines()) == 272  # nothing lost

    assert workspace.run("unhalt", "--reason", "token fixed", env=AS_LAN).returncode == 0
    sent = workspace.run("send", str(workspace.campaign), "--occurrence", "x", env=sim.env)
    assert sent.returncode == 0, sent.stdout + sent.stderr
    assert len(sim.accepted()) == 272
    events = _halt_events(workspace)
    assert [kind for kind, _ in events] == ["halt", "unhalt"]
    assert events[0][1] is not None and events[0][1].startswith(f"by dispatcher: {AUTOMATIC}")
    assert events[1] == ("unhalt", "by lan: token fixed")


@SQLITE_ONLY
def test_a_suspended_account_halts_too(
    workspace: Workspace, start_simulator: Callable[..., SimulatorProcess]
) -> None:
    workspace.write("campaigns/lists/one.csv", "phone\n0912345678\n")
    campaign = workspace.write(
        "campaigns/one.yaml",
        "id: one\ntitle: Một\nunit: UBND xã Tân Đoàn\nsms:\n  text: Xin chao\n"
        "  encoding: ascii\n  sender: VANQUAN\n  recipients: [lists/one.csv]\n",
    )
    sim = start_simulator("--fail-to", "+84912345678=30002")
    result = workspace.run("send", str(campaign), env=sim.env)
    assert result.returncode == 3, result.stdout + result.stderr
    status = workspace.run("status")
    assert "by dispatcher: automatic: Twilio 30002 the Twilio account is suspended" in status.stdout


@SQLITE_ONLY
def test_tables_mask_phone_numbers_unless_full(
    workspace: Workspace, start_simulator: Callable[..., SimulatorProcess]
) -> None:
    sim = start_simulator()
    sent = workspace.run("send", str(workspace.campaign), "--occurrence", "x", env=sim.env)
    assert sent.returncode == 0, sent.stdout + sent.stderr
    assert workspace.run("optout", "add", "0912 345 678").returncode == 0

    for command in (["log"], ["optout", "list"], ["plan", str(workspace.campaign)]):
        table = workspace.run(*command)
        assert table.returncode == 0, table.stderr
        assert "+84 " in table.stdout, command  # masked numbers are there
        assert not E164.search(table.stdout), command
        full = workspace.run(*command, "--full")
        assert full.returncode == 0, full.stderr
        assert E164.search(full.stdout), command
    # plan's rejected rows show values as written: a landline keeps only its ends
    plan = workspace.run("plan", str(workspace.campaign)).stdout
    assert "2g-only.csv:7: 020x xxxx 606: landline" in plan
    assert "0205 3206 606" in workspace.run("plan", str(workspace.campaign), "--full").stdout
    # machine formats carry whole numbers, as before
    assert E164.search(workspace.run("log", "--format", "csv").stdout)
    assert E164.search(workspace.run("optout", "list", "--format", "jsonl").stdout)
