"""Several `dispatcher worker` processes on one PostgreSQL against a standalone simulator.

Judged by the simulator's own record: every recipient exactly once, the per-sender rate held in
aggregate (within ±10%, and never above burst + rate × 10 s in any 10-second window), every
worker taking a share; a pause stops all of them within seconds; a worker killed with SIGKILL
does not strand its claims (the survivors reconcile them after the lease, never resend blindly).
A halt stops all of them within seconds and nothing claimed is lost; after `unhalt` the rest is
sent, each recipient once. SQLite and a schema that is not current are refused with a clear
message.
"""

from __future__ import annotations

import random
import re
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from sqlalchemy import distinct, func, select

from dispatcher.bootstrap import runtime
from dispatcher.gateways.simulator_state import read_record
from dispatcher.sending import send as services
from dispatcher.settings.config import Settings
from dispatcher.store.models import DeliveryRow
from tests.acceptance.conftest import DISPATCHER, SimulatorProcess, Workspace

VN = ZoneInfo("Asia/Ho_Chi_Minh")
CAMPAIGN_ID = "workers"
RATE = 40.0  # segments per second, the one sender's, shared by every worker
BURST = 10
WINDOW_S = 10.0
JITTER_S = 0.25  # how late a request may reach the simulator on a loaded machine


@pytest.fixture
def db_url(pg_url: str) -> str:
    """Every test here is on PostgreSQL: several workers need it."""
    return pg_url


def _configure(ws: Workspace, **sending: object) -> None:
    path = Path(ws.env["DISPATCHER_CONFIG"])
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    config["sending"].update(sending)
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")


def _due_campaign(ws: Workspace, db_url: str, size: int, *sms: str) -> frozenset[str]:
    """A scheduled campaign whose occurrence fell due a minute ago, put in the outbox by the
    scheduler's own function (so the workers alone send it); returns the numbers (E.164)."""
    rng = random.Random(size)
    numbers = {f"91{n:07d}" for n in rng.sample(range(10**7), size)}
    ws.write("campaigns/lists/workers.csv", "phone\n" + "".join(f"0{n}\n" for n in numbers))
    at = (datetime.now(VN) - timedelta(minutes=1)).strftime("%Y-%m-%d %H:%M")
    path = ws.write(
        "campaigns/workers.yaml",
        f"id: {CAMPAIGN_ID}\ntitle: Nhiều tiến trình\nunit: UBND huyện Văn Quan\n"
        "sms:\n  text: Xin chao\n  encoding: ascii\n  sender: VANQUAN\n"
        f"  recipients: [lists/workers.csv]\n  schedule:\n    at: ['{at}']\n"
        + "".join(f"  {line}\n" for line in sms),
    )
    settings = Settings.model_validate({"database_url": db_url, "sending": {"quiet_hours": "off"}})
    with runtime(settings, migrate=True) as rt:
        scheduled = services.schedule_due(rt, path)
    assert len(scheduled.materialized) == 1, scheduled
    return frozenset("+84" + n for n in numbers)


@contextmanager
def _workers(ws: Workspace, sim: SimulatorProcess, n: int) -> Iterator[list[subprocess.Popen[str]]]:
    with ExitStack() as stack:
        processes = []
        for i in range(n):
            log = stack.enter_context((ws.root / f"worker-{i}.log").open("w", encoding="utf-8"))
            process = subprocess.Popen(
                [DISPATCHER, "worker", "--log-format", "text"], cwd=ws.root,
                env={**ws.env, **sim.env}, stdout=subprocess.PIPE, stderr=log, text=True,
            )  # fmt: skip
            processes.append(process)
        try:
            for process in processes:
                assert process.stdout is not None
                first = process.stdout.readline()
                assert first.startswith("Worker "), first + _logs(ws)
            yield processes
        finally:
            for process in processes:
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
            for process in processes:
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
                if process.stdout:
                    (ws.root / f"worker-{processes.index(process)}.out").write_text(
                        process.stdout.read(), encoding="utf-8"
                    )
                    process.stdout.close()


def _handed(ws: Workspace, index: int) -> int:
    summary = (ws.root / f"worker-{index}.out").read_text(encoding="utf-8")
    found = re.search(r"\((\d+) messages handed to the provider\)", summary)
    assert found is not None, summary
    return int(found[1])


def _logs(ws: Workspace) -> str:
    return "\n".join(p.read_text(encoding="utf-8")[-3000:] for p in ws.root.glob("worker-*.log"))


def _wait_for(check: Callable[[], bool], timeout_s: float, ws: Workspace) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "timed out\n" + _logs(ws)
        time.sleep(0.2)


def _claimants(db_url: str) -> int:
    settings = Settings.model_validate({"database_url": db_url})
    with runtime(settings) as rt, rt.uow() as uow:
        query = select(func.count(distinct(DeliveryRow.claimed_by)))
        return int(uow.repo.session.scalar(query) or 0)


def test_three_workers_send_each_recipient_once_at_the_shared_rate(
    workspace: Workspace, start_simulator: Callable[..., SimulatorProcess], db_url: str
) -> None:
    _configure(workspace, rate_per_sender=RATE, burst_segments=BURST, batch_size=20)
    recipients = _due_campaign(workspace, db_url, 600)  # 15 s at 40/s
    sim = start_simulator("--latency-ms", "20")
    with _workers(workspace, sim, 3):
        _wait_for(lambda: len(sim.accepted()) >= len(recipients), 60, workspace)
        time.sleep(1)  # anything sent twice would arrive now
    accepted = sim.accepted()
    assert Counter(m["to"] for m in accepted) == Counter(recipients)
    assert _claimants(db_url) == 3  # each worker took a share
    handed = [_handed(workspace, i) for i in range(3)]  # as each worker's summary says
    assert sum(handed) == len(recipients) and all(handed), handed

    times = sorted(m.created_at.timestamp() for m in read_record(sim.record))
    busiest = max(_in_window(times, t) for t in times)
    # Times are the simulator's, taken when each request arrives: a request delayed on its way
    # (a loaded machine, the simulator's 20 ms) lands in the next window. One request's delay,
    # JITTER_S, is the margin; the pacing itself runs on the database's clock.
    assert busiest <= BURST + RATE * (WINDOW_S + JITTER_S), busiest
    achieved = (len(times) - BURST) / (times[-1] - times[0])
    assert RATE * 0.9 <= achieved <= RATE * 1.1, achieved


def _in_window(times: list[float], start: float) -> int:
    return sum(1 for t in times if start <= t < start + WINDOW_S)


def test_pause_stops_every_worker_and_a_killed_workers_claims_are_reconciled(
    workspace: Workspace, start_simulator: Callable[..., SimulatorProcess], db_url: str
) -> None:
    _configure(workspace, rate_per_sender=RATE, burst_segments=BURST, batch_size=20, lease_s=5)
    recipients = _due_campaign(workspace, db_url, 400)
    sim = start_simulator("--latency-ms", "20")
    with _workers(workspace, sim, 2) as (doomed, survivor):
        _wait_for(lambda: len(sim.accepted()) >= 80, 30, workspace)
        paused = workspace.run("pause", CAMPAIGN_ID, "--reason", "kiểm tra")
        assert paused.returncode == 0, paused.stderr
        time.sleep(3)  # the gate is checked about once a second; in-flight requests finish
        settled = len(sim.accepted())
        time.sleep(3)
        assert len(sim.accepted()) == settled < len(recipients)

        doomed.send_signal(signal.SIGKILL)  # dies holding whatever it had claimed
        doomed.wait(timeout=10)
        resumed = workspace.run("resume", CAMPAIGN_ID)
        assert resumed.returncode == 0, resumed.stderr
        _wait_for(lambda: len(sim.accepted()) >= len(recipients), 90, workspace)
        time.sleep(1)
        assert survivor.poll() is None
    assert Counter(m["to"] for m in sim.accepted()) == Counter(recipients)


def _statuses(db_url: str) -> dict[str, int]:
    settings = Settings.model_validate({"database_url": db_url})
    with runtime(settings) as rt, rt.uow() as uow:
        query = select(DeliveryRow.status, func.count()).group_by(DeliveryRow.status)
        return {status: int(n) for status, n in uow.repo.session.execute(query)}


def test_halt_stops_every_worker_within_seconds_and_unhalt_sends_the_rest_once(
    workspace: Workspace, start_simulator: Callable[..., SimulatorProcess], db_url: str
) -> None:
    rate = 20.0  # slow enough that the halt (a CLI start-up of a few seconds) comes mid-run
    _configure(workspace, rate_per_sender=rate, burst_segments=BURST, batch_size=20)
    recipients = _due_campaign(workspace, db_url, 400)  # 20 s at 20/s
    sim = start_simulator("--latency-ms", "20")
    with _workers(workspace, sim, 3) as workers:
        _wait_for(lambda: len(sim.accepted()) >= 40, 30, workspace)
        halted = workspace.run("halt", "--reason", "dừng khẩn cấp")
        assert halted.returncode == 0, halted.stderr
        time.sleep(3)  # the switch is read about once a second; requests in flight finish
        settled = len(sim.accepted())
        time.sleep(3)
        assert len(sim.accepted()) == settled < len(recipients)
        # Nothing claimed is lost: what reached the simulator is accepted, the rest is pending
        # again (rows waiting for the pacer when the halt came are released as they wake).
        _wait_for(lambda: "sending" not in _statuses(db_url), 10, workspace)
        statuses = _statuses(db_url)
        assert statuses == {"accepted": settled, "pending": len(recipients) - settled}, statuses
        health = workspace.run("status")
        assert health.returncode == 1 and "[halted]" in health.stdout, health.stdout

        lifted = workspace.run("unhalt", "--reason", "đã kiểm tra")
        assert lifted.returncode == 0, lifted.stderr
        _wait_for(lambda: len(sim.accepted()) >= len(recipients), 90, workspace)
        time.sleep(1)  # anything sent twice would arrive now
        assert all(w.poll() is None for w in workers)  # halted workers wait, they do not exit
    assert Counter(m["to"] for m in sim.accepted()) == Counter(recipients)
    assert _statuses(db_url) == {"accepted": len(recipients)}


def test_workers_refuse_sqlite(tmp_path: Path, workspace: Workspace) -> None:
    config = Path(workspace.env["DISPATCHER_CONFIG"])
    sqlite = f"sqlite:///{tmp_path / 'one.sqlite3'}"
    result = workspace.run("worker", env={"DISPATCHER_DB_URL": sqlite})
    assert result.returncode == 2, result.stderr
    assert "several workers need PostgreSQL" in result.stderr
    assert "Traceback" not in result.stderr
    assert config.is_file()


def test_workers_refuse_a_schema_that_is_not_current(
    workspace: Workspace, empty_pg_url: str
) -> None:
    result = workspace.run("worker", env={"DISPATCHER_DB_URL": empty_pg_url})
    assert result.returncode == 2, result.stderr
    assert "the database schema is empty" in result.stderr
    assert "dispatcher db upgrade" in result.stderr
    upgraded = workspace.run("db", "upgrade", env={"DISPATCHER_DB_URL": empty_pg_url})
    assert upgraded.returncode == 0, upgraded.stderr


def test_workers_together_stop_exactly_at_a_budget(
    workspace: Workspace, start_simulator: Callable[..., SimulatorProcess], db_url: str
) -> None:
    _configure(workspace, rate_per_sender=1000, burst_segments=100, batch_size=20)
    config = Path(workspace.env["DISPATCHER_CONFIG"])
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["pricing"] = {"per_segment": {"twilio": 0.01}}  # the simulator process is `twilio` here
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    recipients = _due_campaign(workspace, db_url, 600, "budget: 2.5")
    sim = start_simulator()
    with _workers(workspace, sim, 3):
        _wait_for(lambda: len(sim.accepted()) >= 250, 60, workspace)
        time.sleep(3)  # anything over the budget would arrive now
    accepted = Counter(m["to"] for m in sim.accepted())
    assert len(accepted) == 250 and set(accepted.values()) == {1}
    assert set(accepted) <= recipients
    assert "campaign budget 2.50 USD reached" in _logs(workspace)
