"""`dispatcher send` end to end: the real twilio client over HTTP to a simulator process."""

from __future__ import annotations

import contextlib
import csv
import json
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from dispatcher.audience.phones import InvalidPhone, normalize
from tests.acceptance.conftest import SimulatorProcess, Workspace


def _numbers(path: Path) -> list[str]:
    found = []
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            with contextlib.suppress(InvalidPhone):
                found.append(normalize(row["phone"]))
    return found


def _expected(ws: Workspace) -> set[str]:
    lists = ws.root / "campaigns" / "lists"
    return set(_numbers(lists / "2g-only.csv")) - set(_numbers(lists / "opted-out.csv"))


def test_each_recipient_gets_exactly_one_message_whatever_is_rerun(
    workspace: Workspace, start_simulator: Callable[..., SimulatorProcess]
) -> None:
    sim = start_simulator()
    # The installed entry point as a real process, here and in the kill, worker and serve tests.
    first = workspace.run_process(
        "send", str(workspace.campaign), "--occurrence", "demo", env=sim.env
    )
    assert first.returncode == 0, first.stderr
    assert "272 recipients: 272 accepted" in first.stdout
    again = workspace.run("send", str(workspace.campaign), "--occurrence", "demo", env=sim.env)
    assert again.returncode == 0, again.stderr
    # Told apart from the first run's summary: the second sent nothing, and says when it was done.
    assert re.fullmatch(
        r"  demo: nothing to send: all 272 already accepted on \d\d/\d\d/\d{4} \d\d:\d\d by an "
        r"earlier run \(each message: `dispatcher log --campaign 2g-shutdown-2024 --occurrence "
        r"demo`\)",
        again.stdout.splitlines()[1],
    ), again.stdout
    accepted = sim.accepted()
    counts = Counter(m["to"] for m in accepted)
    assert set(counts) == _expected(workspace)  # nobody skipped, no excluded number
    assert max(counts.values()) == 1  # nobody twice
    body = accepted[0]["body"]
    assert body.startswith("UBND H.Van Quan: tu 0h 16/10/2024")  # folded to GSM-7
    # a second occurrence key is a new occurrence: everyone once more
    other = workspace.run("send", str(workspace.campaign), "--occurrence", "second", env=sim.env)
    assert other.returncode == 0, other.stderr
    assert Counter(m["to"] for m in sim.accepted()) == Counter(dict.fromkeys(counts, 2))


def test_log_lists_every_delivery_with_its_provider_id(
    workspace: Workspace, start_simulator: Callable[..., SimulatorProcess]
) -> None:
    sim = start_simulator()
    assert (
        workspace.run("send", str(workspace.campaign), "--occurrence", "x", env=sim.env).returncode
        == 0
    )
    result = workspace.run("log", "--campaign", "2g-shutdown-2024", "--format", "jsonl")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == 272
    assert set(rows[0]) == {"campaign", "occurrence", "to", "status", "provider_id", "attempts",
                            "error_code", "error_message", "sent_at", "updated_at"}  # fmt: skip
    sids = {m["to"]: m["sid"] for m in sim.accepted()}
    assert {r["to"]: r["provider_id"] for r in rows} == sids
    assert {r["status"] for r in rows} == {"accepted"}
    one = workspace.run("log", "--phone", "0" + rows[0]["to"][3:], "--format", "csv")
    assert one.stdout.splitlines()[0].startswith("\ufeffcampaign,occurrence,to,status")
    assert len(one.stdout.splitlines()) == 2


def test_permanent_errors_fail_those_recipients_and_exit_1(
    workspace: Workspace, start_simulator: Callable[..., SimulatorProcess]
) -> None:
    victim = sorted(_expected(workspace))[0]
    sim = start_simulator("--fail-to", f"{victim}=21610")
    result = workspace.run("send", str(workspace.campaign), "--occurrence", "x", env=sim.env)
    assert result.returncode == 1, result.stderr
    assert "271 accepted" in result.stdout and "1 failed" in result.stdout
    failed = workspace.run("log", "--status", "failed", "--format", "jsonl")
    (row,) = [json.loads(line) for line in failed.stdout.splitlines()]
    assert (row["to"], row["error_code"], row["attempts"]) == (victim, 21610, 1)
    optouts = workspace.run("optout", "list", "--format", "jsonl")
    listed = [json.loads(line) for line in optouts.stdout.splitlines()]
    assert [(o["phone"], o["source"]) for o in listed] == [(victim, "twilio-21610")]
    again = workspace.run("send", str(workspace.campaign), "--occurrence", "x", env=sim.env)
    assert again.returncode == 1, again.stderr  # still not everyone: a failure is not resent
    assert re.search(
        r"^  x: nothing to send: 271 of 272 already accepted on .*, 1 failed \(not resent\) by "
        r"an earlier run",
        again.stdout,
        re.MULTILINE,
    ), again.stdout
    assert len(sim.accepted()) == 271


def test_transient_errors_are_retried_until_sent(
    workspace: Workspace, start_simulator: Callable[..., SimulatorProcess]
) -> None:
    sim = start_simulator("--rate-429", "0.2", "--rate-503", "0.1", "--seed", "7")
    result = workspace.run("send", str(workspace.campaign), "--occurrence", "x", env=sim.env)
    if result.returncode == 1:
        # A row whose retries all met a fault is parked as pending (never failed or unknown:
        # the provider proved it did not take it), and the next run sends it.
        assert re.search(r"\d+ accepted, \d+ pending$", result.stdout.splitlines()[1]), (
            result.stdout
        )
        result = workspace.run("send", str(workspace.campaign), "--occurrence", "x", env=sim.env)
    assert result.returncode == 0, result.stdout + result.stderr
    counts = Counter(m["to"] for m in sim.accepted())
    assert set(counts) == _expected(workspace) and max(counts.values()) == 1


def test_bad_credentials_halt_the_run_with_exit_3(
    workspace: Workspace, start_simulator: Callable[..., SimulatorProcess]
) -> None:
    sim = start_simulator()
    wrong = sim.env | {"TWILIO_AUTH_TOKEN": "not-the-token"}
    result = workspace.run("send", str(workspace.campaign), "--occurrence", "x", env=wrong)
    assert result.returncode == 3, result.stdout + result.stderr
    assert "HALTED: authentication failed" in result.stdout
    assert sim.accepted() == []
    pending = workspace.run("log", "--status", "pending", "--format", "jsonl")
    assert len(pending.stdout.splitlines()) == 272  # nothing lost: all still to send
    assert workspace.run("unhalt").returncode == 0  # the refusal halted every worker
    fixed = workspace.run("send", str(workspace.campaign), "--occurrence", "x", env=sim.env)
    assert fixed.returncode == 0
    assert len(sim.accepted()) == 272


def test_missing_twilio_credentials_are_a_configuration_error(workspace: Workspace) -> None:
    # api.twilio.com is a real gateway: an operator who said yes, then the missing credentials.
    env = {"DISPATCHER_GATEWAY": "twilio", "DISPATCHER_OPERATOR": "lan"}
    result = workspace.run("send", str(workspace.campaign), "--occurrence", "x", "--yes", env=env)
    assert result.returncode == 2
    assert "$TWILIO_ACCOUNT_SID: is not set" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_past_schedule_is_recorded_as_skipped_never_sent_late(
    workspace: Workspace, start_simulator: Callable[..., SimulatorProcess]
) -> None:
    sim = start_simulator()
    result = workspace.run("send", str(workspace.campaign), env=sim.env)
    assert result.returncode == 0, result.stderr
    assert "22 past occurrences skipped" in result.stdout
    assert sim.accepted() == []
    again = workspace.run("send", str(workspace.campaign), env=sim.env)
    assert "skipped" not in again.stdout  # recorded once
    assert "nothing due now" in again.stdout


def test_the_builtin_simulator_is_the_default(workspace: Workspace) -> None:
    result = workspace.run("send", str(workspace.campaign), "--occurrence", "demo")
    assert result.returncode == 0, result.stderr
    assert "272 recipients: 272 accepted" in result.stdout


def test_a_real_send_without_a_terminal_or_yes_is_refused(workspace: Workspace) -> None:
    env = {"DISPATCHER_GATEWAY": "twilio", "DISPATCHER_OPERATOR": "lan"}
    result = workspace.run("send", str(workspace.campaign), "--occurrence", "x", env=env)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "--yes: this send reaches real phones" in result.stderr
    assert "Traceback" not in result.stderr
