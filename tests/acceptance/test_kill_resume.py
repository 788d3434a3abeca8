"""Crash safety of `dispatcher send`, judged by the simulator's own record of what it accepted.

A campaign of thousands of recipients is sent by a dispatcher subprocess that is killed with
SIGKILL at many points (before anything is accepted, at the first acceptance, while reconciling
what the previous kill left in flight, mid-campaign, near the end, right after reconciling),
stopped with SIGTERM, or answered ambiguously (hung requests, 500 after accepting, dropped
connections). Whatever happens, once `send` has been run to completion every recipient is in
the record exactly once, and the outbox holds the provider's SID for each of them. Kill points
come from a seeded ``random.Random``: a failure names its seed and the kills that led to it.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from dispatcher.core.outbox import LogFilter
from dispatcher.core.status import REACHED_PROVIDER, Status
from dispatcher.store.db import make_engine, upgrade
from dispatcher.store.uow import unit_of_work_factory
from tests.acceptance.conftest import DISPATCHER, TIMEOUT_S, SimulatorProcess, Workspace

RECIPIENTS = 2_000
CAMPAIGN_ID = "kill-resume"
OCCURRENCE = "once"  # the single occurrence of a campaign without a schedule
PREFIXES = ("91", "94", "88", "90", "93", "70", "86", "96", "97", "98", "32", "56")
LATENCY = ("--latency-ms", "2")  # every request takes a little while: kills land mid-flight
MID_KILLS = 3
# The simulator lists a message as it records it: no need to wait a minute before asking about
# what a killed run left in doubt (sending.unknown_settle_seconds, for Twilio).
SETTLE = {"unknown_settle_seconds": 0.1}
POLL_S = 0.002  # how often the record is looked at while waiting for a kill point
REACHED = {str(s) for s in REACHED_PROVIDER}


# -- the campaign ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Campaign:
    path: Path
    recipients: frozenset[str]  # E.164

    @property
    def once_each(self) -> Counter[str]:
        return Counter(self.recipients)


def _campaign(ws: Workspace, size: int = RECIPIENTS, seed: int = 2024) -> Campaign:
    """A list of ``size`` distinct, valid mobile numbers (written the Vietnamese way) and a
    campaign without a schedule that sends to them."""
    rng = random.Random(seed)
    national: set[str] = set()
    while len(national) < size:
        national.add(rng.choice(PREFIXES) + f"{rng.randrange(10**7):07d}")
    rows = "".join(f"0{n},Người số {i}\n" for i, n in enumerate(sorted(national)))
    ws.write("campaigns/lists/kill-resume.csv", "phone,name\n" + rows)
    path = ws.write(
        "campaigns/kill-resume.yaml",
        f"id: {CAMPAIGN_ID}\ntitle: Gửi lại sau sự cố\nunit: UBND huyện Văn Quan\n"
        "sms:\n"
        "  text: 'UBND H.Văn Quan: từ 16/10/2024 máy chỉ dùng 2G sẽ bị khóa. Hãy đổi máy 4G.'\n"
        "  encoding: ascii\n  max_segments: 1\n  sender: VANQUAN\n"
        "  recipients: [lists/kill-resume.csv]\n",
    )
    return Campaign(path, frozenset("+84" + n for n in national))


def _configure(ws: Workspace, **sending: object) -> None:
    """Set ``sending.*`` keys in the workspace's config.yaml."""
    path = Path(ws.env["DISPATCHER_CONFIG"])
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    config["sending"].update(sending)
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")


# -- what the database and the simulator hold -----------------------------------------------------
class Outbox:
    """The occurrence's deliveries, read through the repository (as the dispatcher wrote them)."""

    def __init__(self, db_url: str) -> None:
        self.engine = make_engine(db_url)
        upgrade(self.engine)  # as the PostgreSQL template is: readable before the first run
        self._uow = unit_of_work_factory(self.engine)

    def phones(self, status: Status) -> set[str]:
        with self._uow() as uow:
            occurrence = uow.repo.occurrence(CAMPAIGN_ID, OCCURRENCE)
            if occurrence is None:  # killed before the outbox was written
                return set()
            return {m.to for m in uow.repo.deliveries_in(occurrence.id, status)}

    def view(self) -> dict[str, tuple[str, str | None]]:
        """Status and provider SID of every delivery, by number: what `dispatcher log` shows."""
        with self._uow() as uow:
            rows = uow.audit.deliveries(LogFilter(campaign=CAMPAIGN_ID))
            return {row.to: (row.status, row.provider_id) for row in rows}


@pytest.fixture
def outbox(db_url: str) -> Iterator[Outbox]:
    box = Outbox(db_url)
    yield box
    box.engine.dispose()


class RecordWatch:
    """Counts the complete lines of the simulator's record cheaply, reading only what is new."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lines = 0
        self._offset = 0

    def count(self) -> int:
        with self.path.open("rb") as handle:
            handle.seek(self._offset)
            data = handle.read()
        end = data.rfind(b"\n") + 1  # a line still being written is counted once complete
        self.lines += data.count(b"\n", 0, end)
        self._offset += end
        return self.lines


def _accepted(sim: SimulatorProcess) -> Counter[str]:
    return Counter(m["to"] for m in sim.accepted())


def _twice(accepted: Counter[str]) -> list[str]:
    return sorted(to for to, n in accepted.items() if n > 1)


def _log(ws: Workspace) -> dict[str, tuple[str, str | None]]:
    """`dispatcher log --format jsonl`: status and provider SID of every delivery, by number."""
    result = ws.run("log", "--campaign", CAMPAIGN_ID, "--format", "jsonl")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    return {row["to"]: (row["status"], row["provider_id"]) for row in rows}


def _assert_everyone_exactly_once(
    sim: SimulatorProcess,
    campaign: Campaign,
    deliveries: dict[str, tuple[str, str | None]],
    context: str = "",
) -> None:
    """The simulator accepted each recipient once and nobody else; each delivery has the SID
    of that message and a status saying the provider has it."""
    records = sim.accepted()
    accepted = Counter(m["to"] for m in records)
    assert _twice(accepted) == [], f"sent twice; {context}"
    assert sorted(campaign.recipients - set(accepted)) == [], f"never sent; {context}"
    assert accepted == campaign.once_each, context
    assert {to: sid for to, (_, sid) in deliveries.items()} == {m["to"]: m["sid"] for m in records}
    assert {status for status, _ in deliveries.values()} <= REACHED, context


# -- running `send` as a subprocess ---------------------------------------------------------------
@dataclass
class SendProcess:
    """`dispatcher send` running in the background, its output going to files."""

    process: subprocess.Popen[bytes]
    stdout: Path
    stderr: Path

    def output(self) -> str:
        out = self.stdout.read_text(encoding="utf-8")
        return out + self.stderr.read_text(encoding="utf-8")[-3000:]

    def running(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        os.kill(self.process.pid, signal.SIGKILL)
        returncode = self.process.wait(timeout=10)
        assert returncode == -signal.SIGKILL, f"it had ended first: {self.output()}"


StartSend = Callable[[SimulatorProcess, Campaign], SendProcess]


@pytest.fixture
def start_send(workspace: Workspace) -> Iterator[StartSend]:
    """Start `dispatcher send` in the background; whatever a failed test left running is
    killed at teardown."""
    started: list[SendProcess] = []

    def start(sim: SimulatorProcess, campaign: Campaign) -> SendProcess:
        name = f"send-{len(started)}"
        stdout, stderr = workspace.root / f"{name}.out", workspace.root / f"{name}.err"
        with stdout.open("wb") as out, stderr.open("wb") as err:
            process = subprocess.Popen(
                [DISPATCHER, "send", str(campaign.path)],
                cwd=workspace.root, env=workspace.env | sim.env, stdout=out, stderr=err,
            )  # fmt: skip
        started.append(SendProcess(process, stdout, stderr))
        return started[-1]

    yield start
    for send in started:
        if send.running():
            send.process.kill()
        send.process.wait(timeout=10)


@dataclass
class KillLog:
    """What each kill left behind, for the assertions and for a readable failure."""

    seed: int
    entries: list[str] = field(default_factory=list)
    # Left `sending` or `unknown` by a kill although the provider had it: reconciled as found.
    stranded_accepted: int = 0
    # Left `sending` or `unknown` and never sent: not found by reconciliation, then sent.
    stranded_unsent: int = 0

    def __str__(self) -> str:
        return f"seed {self.seed}; kills: " + "; ".join(self.entries)


def _wait_until(send: SendProcess, reached: Callable[[], bool], point: str) -> None:
    deadline = time.monotonic() + TIMEOUT_S
    while not reached():
        assert send.running(), f"ended before the kill point ({point}): {send.output()}"
        assert time.monotonic() < deadline, f"never reached the kill point ({point})"
        time.sleep(POLL_S)


def _wait_for_growth(send: SendProcess, watch: RecordWatch, target: int) -> None:
    _wait_until(send, lambda: watch.count() >= target, f"record at {target}")


def _after_kill(
    outbox: Outbox, sim: SimulatorProcess, batch_size: int, kills: KillLog, point: str
) -> None:
    """A kill leaves at most one batch whose outcome is not known, and nobody sent twice."""
    stranded = outbox.phones(Status.SENDING) | outbox.phones(Status.UNKNOWN)
    accepted = _accepted(sim)
    kills.entries.append(f"{point} → record {sum(accepted.values())}, stranded {len(stranded)}")
    assert len(stranded) <= batch_size, str(kills)
    assert _twice(accepted) == [], str(kills)
    kills.stranded_accepted += len(stranded & set(accepted))
    kills.stranded_unsent += len(stranded - set(accepted))


# -- the tests ---------------------------------------------------------------------------------
@pytest.mark.parametrize("batch_size", [50, 200])
def test_sigkill_at_many_points_then_resume_sends_everyone_exactly_once(
    workspace: Workspace,
    start_simulator: Callable[..., SimulatorProcess],
    outbox: Outbox,
    start_send: StartSend,
    batch_size: int,
) -> None:
    seed = 1000 + batch_size
    rng, kills = random.Random(seed), KillLog(seed)
    campaign = _campaign(workspace)
    _configure(workspace, batch_size=batch_size, **SETTLE)
    sim = start_simulator(*LATENCY)
    watch = RecordWatch(sim.record)
    total = len(campaign.recipients)

    def run_and_kill(
        name: str, until: Callable[[], bool] | None = None, delay_s: float = 0
    ) -> None:
        send = start_send(sim, campaign)
        time.sleep(delay_s)
        if until is not None:
            _wait_until(send, until, name)
        send.kill()
        _after_kill(outbox, sim, batch_size, kills, name)

    def grown(by: int = 0, upto: int = 0) -> Callable[[], bool]:
        target = max(watch.count() + by, upto)
        return lambda: watch.count() >= target

    def reconciling() -> bool:  # stranded rows marked unknown, not all settled yet
        return bool(outbox.phones(Status.UNKNOWN))

    delay_s = rng.uniform(0.05, 0.4)
    run_and_kill(f"before anything, at {delay_s:.2f} s", delay_s=delay_s)
    assert watch.count() == 0, f"the first kill came too late to be before anything: {kills}"
    run_and_kill("at the first acceptance", grown(by=1))
    assert outbox.phones(Status.SENDING), f"nothing in flight to reconcile: {kills}"
    run_and_kill("while reconciling", reconciling)
    late = total - rng.randint(60, 150)
    for i in range(MID_KILLS):
        room = (late - batch_size - watch.count()) // (MID_KILLS - i)
        grow = rng.randint(1, max(1, room))
        run_and_kill(f"mid-campaign, after {grow} more", grown(by=grow))
    run_and_kill(f"late, at {late}", grown(upto=late))
    run_and_kill("at the first acceptance after reconciling", grown(by=1))

    final = workspace.run("send", str(campaign.path), env=sim.env)
    assert final.returncode == 0, f"{final.stdout}{final.stderr}\n{kills}"
    assert f"{OCCURRENCE}: {total} recipients: " in final.stdout
    _assert_everyone_exactly_once(sim, campaign, _log(workspace), str(kills))
    assert outbox.phones(Status.SENDING) | outbox.phones(Status.UNKNOWN) == set()
    # Both sides of reconciliation were exercised: the provider had some stranded deliveries
    # (they kept its SID, checked above) and not others (they were sent, once).
    assert kills.stranded_accepted > 0, str(kills)
    assert kills.stranded_unsent > 0, str(kills)


def test_ambiguous_answers_end_unknown_and_are_reconciled_before_any_resend(
    workspace: Workspace, start_simulator: Callable[..., SimulatorProcess], outbox: Outbox
) -> None:
    """Hung requests and 500s after accepting: the provider has the message; dropped
    connections: it does not. All are `unknown` first; only the last kind is ever sent again.
    Runs that leave their unknowns to the next one (no settle rounds: as when the provider
    cannot be asked) are what is tested here; test_one_run_settles has one run settle them."""
    campaign = _campaign(workspace)
    _configure(workspace, batch_size=100, request_timeout_s=0.5, unknown_settle_rounds=0, **SETTLE)
    faults = ("--hang-rate", "0.01", "--rate-500", "0.01", "--drop-rate", "0.01", "--seed", "3")
    sim = start_simulator(*LATENCY, *faults)

    first = workspace.run("send", str(campaign.path), env=sim.env)
    assert first.returncode == 1, first.stdout + first.stderr
    reason = "unknown: not asked about in this run (sending.unknown_settle_rounds is 0)"
    assert reason in first.stdout
    unknown, reached = outbox.phones(Status.UNKNOWN), _reached(outbox)
    accepted = _accepted(sim)
    assert _twice(accepted) == []
    assert unknown | reached == campaign.recipients and not unknown & reached  # nothing else
    assert reached <= set(accepted)
    assert unknown & set(accepted), "no hung or 500-after-accept request: nothing to find"
    assert unknown - set(accepted), "no dropped request: nothing to resend"

    for attempt in range(2, 7):
        before = _accepted(sim)
        not_at_provider = outbox.phones(Status.UNKNOWN) - set(before)
        again = workspace.run("send", str(campaign.path), env=sim.env)
        assert again.returncode in (0, 1), again.stdout + again.stderr
        resent = _accepted(sim) - before
        assert set(resent) <= not_at_provider, f"run {attempt} resent what the provider had"
        if again.returncode == 0:
            break
    assert again.returncode == 0, "still unknown after 6 runs"
    _assert_everyone_exactly_once(sim, campaign, outbox.view())


def _reached(outbox: Outbox) -> set[str]:
    return set().union(*(outbox.phones(s) for s in REACHED_PROVIDER))


def test_sigterm_finishes_the_batch_in_flight_and_exits_with_a_summary(
    workspace: Workspace,
    start_simulator: Callable[..., SimulatorProcess],
    outbox: Outbox,
    start_send: StartSend,
) -> None:
    campaign = _campaign(workspace)
    _configure(workspace, batch_size=200, **SETTLE)
    sim = start_simulator(*LATENCY)
    watch = RecordWatch(sim.record)
    send = start_send(sim, campaign)
    _wait_for_growth(send, watch, random.Random(7).randint(300, 800))
    send.process.send_signal(signal.SIGTERM)
    returncode = send.process.wait(timeout=5)

    output = send.output()
    assert returncode == 1, output  # some recipients are left pending
    assert f"{OCCURRENCE}: {len(campaign.recipients)} recipients: " in output
    assert "stopped on request" in output
    assert outbox.phones(Status.SENDING) | outbox.phones(Status.UNKNOWN) == set()
    accepted = _accepted(sim)
    assert _twice(accepted) == []
    assert _reached(outbox) == set(accepted)  # every answer that came back was recorded
    pending = outbox.phones(Status.PENDING)
    assert pending == campaign.recipients - set(accepted)  # parked, never sent

    resumed = workspace.run("send", str(campaign.path), env=sim.env)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    _assert_everyone_exactly_once(sim, campaign, outbox.view())


def test_reconciling_one_occurrence_never_takes_the_message_of_another(
    workspace: Workspace,
    start_simulator: Callable[..., SimulatorProcess],
    outbox: Outbox,
    start_send: StartSend,
) -> None:
    """Occurrence `b` is killed mid-flight a few seconds after `a` went to the same numbers with
    the same text: reconciling `b` must not mistake `a`'s messages for its own."""
    campaign = _campaign(workspace, size=1_000)
    _configure(workspace, batch_size=200, **SETTLE)
    sim = start_simulator(*LATENCY)
    watch = RecordWatch(sim.record)
    first = workspace.run("send", str(campaign.path), "--occurrence", "a", env=sim.env)
    assert first.returncode == 0, first.stdout + first.stderr
    process = subprocess.Popen(
        [DISPATCHER, "send", str(campaign.path), "--occurrence", "b"],
        cwd=workspace.root, env=workspace.env | sim.env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    send = SendProcess(process, workspace.root / "b.out", workspace.root / "b.err")
    send.stdout.write_text(""), send.stderr.write_text("")
    _wait_for_growth(send, watch, len(campaign.recipients) + 300)
    send.kill()
    resumed = workspace.run("send", str(campaign.path), "--occurrence", "b", env=sim.env)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert _accepted(sim) == Counter(dict.fromkeys(campaign.recipients, 2))


def test_a_batch_of_one_sends_everyone_even_when_answers_are_slow(
    workspace: Workspace, start_simulator: Callable[..., SimulatorProcess]
) -> None:
    campaign = _campaign(workspace, size=20)
    _configure(workspace, batch_size=1, **SETTLE)
    sim = start_simulator("--latency-ms", "100")  # slower than the sender's 50 ms record cycle
    result = workspace.run("send", str(campaign.path), env=sim.env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert _accepted(sim) == campaign.once_each
