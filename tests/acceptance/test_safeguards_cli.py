"""`send --test`, budgets and `approve` as an operator uses them: the CLI as a subprocess, on
SQLite and PostgreSQL, through the built-in simulator."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

from tests.acceptance.conftest import Workspace

STAFF = ["+84912000001", "+84912000002"]
CAMPAIGN = "campaigns/2g-shutdown-2024.yaml"


def _config(ws: Workspace, **sections: dict[str, object]) -> None:
    path = Path(ws.env["DISPATCHER_CONFIG"])
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for key, values in sections.items():
        data.setdefault(key, {}).update(values)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def _log(ws: Workspace) -> list[dict[str, str]]:
    result = ws.run("log", "--format", "jsonl")
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_a_test_send_reaches_the_staff_only_and_is_not_reported(workspace: Workspace) -> None:
    _config(workspace, sending={"test_numbers": ["0912 000 001", "0912000002"]})
    result = workspace.run("send", CAMPAIGN, "--test")
    assert result.returncode == 0, result.stderr
    assert "2 recipients: 2 accepted" in result.stdout
    rows = _log(workspace)
    assert sorted(r["to"] for r in rows) == STAFF
    assert {r["occurrence"][:5] for r in rows} == {"test-"}

    month = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).strftime("%Y-%m")
    report = workspace.run("report", "monthly", "--month", month, "--format", "json")
    assert report.returncode == 0, report.stderr
    assert [r for r in json.loads(report.stdout)["rows"] if r["form"].startswith("Tin")] == []


def test_test_send_options_are_checked(workspace: Workspace) -> None:
    stray = workspace.run("send", CAMPAIGN, "--as-row", "2")
    assert (stray.returncode, stray.stderr.strip()) == (2, "Error: --as-row: goes with --test")
    none = workspace.run("send", CAMPAIGN, "--test")
    assert none.returncode == 2
    assert "sending.test_numbers: no test numbers" in none.stderr
    assert "Traceback" not in none.stderr + stray.stderr
    assert _log(workspace) == []


def test_a_send_stops_exactly_at_the_budget_with_exit_3(workspace: Workspace) -> None:
    _config(workspace, pricing={"per_segment": {"simulator": 0.01}})
    text = (workspace.root / CAMPAIGN).read_text(encoding="utf-8")
    limited = text.replace("  max_segments: 1\n", "  max_segments: 1\n  budget: 1.00\n")
    assert limited != text
    workspace.write(CAMPAIGN, limited)
    result = workspace.run("send", CAMPAIGN, "--occurrence", "demo")
    assert result.returncode == 3, result.stdout + result.stderr
    assert "STOPPED: campaign budget 1.00 USD reached (1.00 spent): 100 of 272" in result.stdout
    assert Counter(r["status"] for r in _log(workspace)) == {"accepted": 100, "pending": 172}

    plan = workspace.run("plan", CAMPAIGN, "--json")
    assert plan.returncode == 0, plan.stderr
    assert json.loads(plan.stdout)["cost"] == {
        "price_per_segment": 0.01, "currency": "USD", "total": 2.72, "budget": 1.0,
    }  # fmt: skip


def test_approve_records_the_operator(workspace: Workspace) -> None:
    result = workspace.run("approve", CAMPAIGN, env={"DISPATCHER_OPERATOR": "minh"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Approved 2g-shutdown-2024 for 272 recipients as minh")
    _config(workspace, approval={"operators": ["lan", "minh"]})
    stranger = workspace.run("approve", CAMPAIGN, env={"DISPATCHER_OPERATOR": "khach"})
    assert stranger.returncode == 2
    assert "'khach' is not one of the operators in approval.operators" in stranger.stderr


def test_with_operator_keys_a_name_counts_only_with_its_own_key(workspace: Workspace) -> None:
    made = {name: workspace.run("operator-key", name) for name in ("lan", "minh")}
    keys = {name: _key_and_digest(result.stdout) for name, result in made.items()}
    digests = {name: digest for name, (_, digest) in keys.items()}
    _config(workspace, approval={"operator_keys": digests})

    def as_(name: str, key: str | None) -> dict[str, str]:
        return {"DISPATCHER_OPERATOR": name} | ({"DISPATCHER_OPERATOR_KEY": key} if key else {})

    # One shell holding lan's key cannot approve as minh, nor without a key; minh's key can.
    forged = workspace.run("approve", CAMPAIGN, env=as_("minh", keys["lan"][0]))
    assert forged.returncode == 2
    assert "Error: $DISPATCHER_OPERATOR_KEY: DISPATCHER_OPERATOR_KEY is not minh's key" in (
        forged.stderr
    )
    bare = workspace.run("approve", CAMPAIGN, env=as_("minh", None))
    assert bare.returncode == 2 and "set DISPATCHER_OPERATOR_KEY to minh's own key" in bare.stderr
    approved = workspace.run("approve", CAMPAIGN, env=as_("minh", keys["minh"][0]))
    assert approved.returncode == 0, approved.stderr
    assert approved.stdout.startswith("Approved 2g-shutdown-2024 for 272 recipients as minh")


def _key_and_digest(printed: str) -> tuple[str, str]:
    key = re.search(r"DISPATCHER_OPERATOR_KEY=(\S+)", printed)
    digest = re.search(r'"(sha256:[0-9a-f]{64})"', printed)
    assert key is not None and digest is not None, printed
    return key[1], digest[1]
