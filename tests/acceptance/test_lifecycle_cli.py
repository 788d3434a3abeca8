"""`dispatcher campaigns`, `status`, `pause`, `resume` and `cancel` as subprocesses."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

import cli
from dispatcher.cli import ops_commands
from dispatcher.core.outbox import NewDelivery
from dispatcher.store.db import make_engine
from dispatcher.store.models import ActivityRow, CampaignRow
from dispatcher.store.uow import UnitOfWork, unit_of_work_factory
from tests.acceptance.conftest import Workspace

SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
SAMPLE = "campaigns/2g-shutdown-2024.yaml"
SAMPLE_ID = "2g-shutdown-2024"
SEEDED = "xa-tan-doan"
LOCAL_TIME = r"\d\d/\d\d/\d{4} \d\d:\d\d"  # dd/mm/yyyy HH:MM


def _ok(result: subprocess.CompletedProcess[str], code: int = 0) -> str:
    assert result.returncode == code, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


@pytest.fixture
def database(workspace: Workspace, db_url: str) -> Iterator[UnitOfWork]:
    """The workspace's database, migrated by the CLI, for seeding and checking."""
    _ok(workspace.run("db", "upgrade"))
    engine = make_engine(db_url)
    with unit_of_work_factory(engine)() as uow:
        yield uow
    engine.dispose()


def _seed(uow: UnitOfWork, pending: int, stuck: int = 0) -> None:
    """A campaign with ``pending`` rows, and ``stuck`` more claimed an hour ago by nobody alive."""
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    row = CampaignRow(id=SEEDED, title="Thông báo xã Tân Đoàn", unit="UBND xã Tân Đoàn",
                      timezone="Asia/Ho_Chi_Minh", source_path="tan-doan.yaml",
                      fingerprint="0" * 64)  # fmt: skip
    uow.repo.save_campaign(row, an_hour_ago)
    occurrence = uow.repo.add_occurrence(SEEDED, "once", an_hour_ago, "open", an_hour_ago)
    phones = [f"+8491234{i:04d}" for i in range(pending + stuck)]
    new = [NewDelivery(p, f"l.csv:{i}", "Xin chào", "UCS-2", 1, None) for i, p in enumerate(phones)]
    uow.repo.add_deliveries(occurrence, new, an_hour_ago)
    if stuck:
        uow.repo.claim(occurrence.id, stuck, an_hour_ago, an_hour_ago, "gone-worker")
    uow.commit()


# -- campaigns and status after a real send ------------------------------------------------------
def test_campaigns_and_status_after_a_send(workspace: Workspace) -> None:
    _ok(workspace.run_process("send", SAMPLE, "--occurrence", "demo"))  # a real process
    table = _ok(workspace.run("campaigns"))
    header, row, title = table.splitlines()[:3]
    assert header.split()[:4] == ["id", "state", "occurrences", "recipients"]
    assert re.fullmatch(
        rf"{SAMPLE_ID}\s+active\s+1/1\s+272\s+0\s+0\s+272\s+0\s+0\s+0\s+{LOCAL_TIME}", row
    ), row
    assert title == "  Dừng công nghệ di động 2G"

    (data,) = json.loads(_ok(workspace.run("campaigns", "--json")))
    assert data["id"] == SAMPLE_ID and data["state"] == "active"
    assert data["occurrences"] == {"done": 1, "total": 1}
    assert data["recipients"] == data["messages"] == data["counts"]["accepted"] == 272
    assert datetime.fromisoformat(data["last_activity"]).tzinfo is not None

    assert _ok(workspace.run("status")).startswith("Healthy: no work stuck (checked ")
    assert json.loads(_ok(workspace.run("status", "--json"))) == {"status": "ok"}
    status = _ok(workspace.run("status", SAMPLE_ID))
    assert status.startswith(f"Campaign {SAMPLE_ID}: Dừng công nghệ di động 2G\n")
    assert re.search(rf"^  demo  {LOCAL_TIME}  272 recipients: 272 accepted \(done\)$", status,
                     re.MULTILINE), status  # fmt: skip
    assert "Health: ok" in status
    assert re.search(rf"^  {LOCAL_TIME}  optout-excluded \[demo\]", status, re.MULTILINE)
    assert "+84" not in table + status  # nothing here shows a number


# -- pause, resume, cancel -----------------------------------------------------------------------
def test_pause_resume_and_cancel(workspace: Workspace, database: UnitOfWork) -> None:
    _seed(database, pending=5)
    paused = _ok(workspace.run("pause", SEEDED, "--reason", "sai số điện thoại đường dây nóng"))
    assert paused.startswith(f"{SEEDED}: paused (was active), by ")
    assert _ok(workspace.run("pause", SEEDED)) == f"{SEEDED}: already paused; nothing changed.\n"
    assert _ok(workspace.run("resume", SEEDED)).startswith(f"{SEEDED}: active (was paused)")

    refused = workspace.run("cancel", SEEDED)  # no terminal, no --yes
    assert _ok(refused, 2) == ""
    assert refused.stderr == "Error: --yes: not on a terminal: add --yes to cancel without asking\n"
    canceled = _ok(workspace.run("cancel", SEEDED, "--yes", "--reason", "gộp vào đợt sau"))
    assert "canceled (was active)" in canceled
    assert "5 pending deliveries canceled (never sent); 0 in flight left" in canceled
    counts = json.loads(_ok(workspace.run("campaigns", "--json")))[0]["counts"]
    assert (counts["canceled"], counts["pending"]) == (5, 0)

    final = workspace.run("resume", SEEDED)
    assert _ok(final, 2) == "" and "it is canceled, which is final" in final.stderr
    kinds = database.repo.session.scalars(select(ActivityRow.detail).where(
        ActivityRow.kind.like("campaign-%")).order_by(ActivityRow.id)).all()  # fmt: skip
    assert len(kinds) == 3
    assert kinds[0] is not None and kinds[0].endswith(": sai số điện thoại đường dây nóng")
    assert kinds[2] is not None and "gộp vào đợt sau; 5 pending canceled" in kinds[2]


@pytest.mark.parametrize("command", ["pause", "resume", "cancel", "status"])
def test_an_unknown_campaign_is_bad_input_naming_the_known_ones(
    workspace: Workspace, database: UnitOfWork, command: str
) -> None:
    _seed(database, pending=1)
    result = workspace.run(command, "nope", *(["--yes"] if command == "cancel" else []))
    assert _ok(result, 2) == ""
    assert result.stderr == f"Error: ID: no campaign 'nope'; known: {SEEDED}\n"


@SQLITE_ONLY
def test_cancel_asks_on_a_terminal(
    workspace: Workspace, database: UnitOfWork, monkeypatch: pytest.MonkeyPatch
) -> None:
    _seed(database, pending=2)
    monkeypatch.setattr(ops_commands, "_on_terminal", lambda: True)
    monkeypatch.setenv("DISPATCHER_CONFIG", workspace.env["DISPATCHER_CONFIG"])
    monkeypatch.chdir(workspace.root)
    declined = CliRunner().invoke(cli.main, ["cancel", SEEDED], input="n\n")
    question = f"Cancel campaign {SEEDED} (Thông báo xã Tân Đoàn)? Its 2 pending deliveries"
    assert question in declined.output
    assert declined.exit_code == 1 and declined.output.endswith("Nothing changed.\n")
    accepted = CliRunner().invoke(cli.main, ["cancel", SEEDED], input="y\n")
    assert accepted.exit_code == 0, accepted.output
    assert "2 pending deliveries canceled" in accepted.output


# -- health --------------------------------------------------------------------------------------
def test_status_is_unhealthy_when_work_is_stuck(workspace: Workspace, database: UnitOfWork) -> None:
    _seed(database, pending=3, stuck=2)
    overall = workspace.run("status")
    text = _ok(overall, 1)
    assert text.startswith("UNHEALTHY: 2 findings\n")
    assert f"  [no-progress] {SEEDED} occurrence once: 3 deliveries pending" in text
    assert f"  [stuck-sending] {SEEDED}: 2 deliveries claimed (`sending`) for up to " in text

    data = json.loads(_ok(workspace.run("status", "--json"), 1))
    assert data["status"] == "unhealthy"
    assert {(f["campaign"], f["rule"]) for f in data["findings"]} == {
        (SEEDED, "no-progress"), (SEEDED, "stuck-sending"),
    }  # fmt: skip
    one = _ok(workspace.run("status", SEEDED), 1)
    assert "UNHEALTHY: 2 findings" in one and "[stuck-sending] 2 deliveries claimed" in one
    assert "+84" not in text + one

    _ok(workspace.run("pause", SEEDED))  # paused on purpose: only the stuck claims remain
    assert _ok(workspace.run("status"), 1).startswith("UNHEALTHY: 1 finding\n")


def test_the_new_commands_are_in_the_readme() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    for command in ["campaigns", "status [ID]", "pause ID", "resume ID", "cancel ID"]:
        assert f"`dispatcher {command}" in readme, command
