"""Soak: a pool of senders paced at 10 segments/s each, 300 ms latency, for 10 minutes.

    .venv/bin/python bench/soak.py                       # 10 senders × 10/s, 600 s, SQLite
    .venv/bin/python bench/soak.py --duration 120        # a quicker run
    .venv/bin/python bench/soak.py --split --duration 120

One ``dispatcher send`` of a campaign with ``sms.senders: [S1 … S10]`` against a
``dispatcher simulator --latency-ms 300 --record FILE`` process, with enough recipients to keep
work waiting for the whole run (senders × rate × duration × 1.2). After ``--duration`` seconds
from the first accepted message the send is stopped with SIGTERM (it finishes the batch in
flight). The rules are then checked from the simulator's JSONL record (``created_at`` and
``from`` of every accepted message) and from /proc samples of the sending process:

- **pacing** — for every sender, the segments in every 10-second sliding window never exceed
  ``burst + rate × 10`` (the most: windows starting at each message) and, while work is waiting,
  never fall below 95 % of ``rate × 10`` (the least: windows starting every 0.1 s from the
  sender's first message to the stop); plus the achieved share of the configured rate;
- **CPU** — user + system time of the sending process over the steady state (from 10 % of the
  run to the stop), under 10 % of one core;
- **memory** — RSS sampled every second; flat when the mean of the steady state's last minute
  is within 5 % (and 10 MiB) of its first minute's (a quarter of it each on runs under 4 min).

``--emulate-pool`` and ``--split`` are stand-ins while a campaign's sender pool is not assigned
at materialization (all rows then go to the default sender, TWILIO_FROM, which the plain mode
reports as a failure). ``--emulate-pool`` keeps one process: a first ``dispatcher send`` with
wrong credentials writes the outbox and halts before anything is accepted, the bench spreads the
rows over S1 … S10 in the database (``UPDATE deliveries SET sender``, round-robin: what
materialization would do for equal rates), and the measured ``dispatcher send`` of the same
occurrence resumes them. ``--split`` sends one campaign per sender (``sms.sender: Sk``), each by
its own ``dispatcher send``, all at once against the same simulator and database; CPU and RSS are
then the sums over the processes.
"""

from __future__ import annotations

import argparse
import bisect
import json
import signal
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import benchlib as lib

WINDOW_S = 10.0
GRID_S = 0.1  # spacing of the windows the minimum is taken over
SAMPLE_EVERY_S = 1.0
REACH = 0.95  # share of the rate a sender must reach while work is waiting
UNASSIGNED = "UNASSIGNED"  # TWILIO_FROM: what a pool that is not wired sends from
WORK = lib.OUT / "soak"
REACHED = ("accepted", "sent", "delivered", "undelivered")  # statuses that reached the provider


@dataclass
class Sample:
    at: float  # seconds since the send started
    cpu_s: float
    rss_mib: float


@dataclass
class Run:
    started: float  # epoch seconds
    first_accept: float
    stopped: float
    samples: list[Sample] = field(default_factory=list)
    exit_codes: list[int] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)  # deliveries after the stop


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    senders = [f"S{i}" for i in range(1, args.senders + 1)]
    recipients = args.recipients or int(len(senders) * args.rate * args.duration * 1.2) + 1_000
    print(lib.machine())
    print(f"load average before: {lib.load()}")
    print(
        f"{len(senders)} senders × {args.rate:g} segments/s (burst {args.burst}), latency "
        f"{args.latency_ms:g} ms, {args.duration:g} s, {recipients:,} recipients, "
        f"concurrency {args.concurrency}, {args.db}{_mode(args)}",
        flush=True,
    )
    WORK.mkdir(parents=True, exist_ok=True)
    tag = lib.stamp()
    record = WORK / f"record-{tag}.jsonl"
    campaigns = _campaigns(args, senders, recipients, tag)
    with (
        lib.fresh_database(args.db, f"bench_soak_{tag}") as url,
        lib.SimulatorProcess(args.latency_ms, record) as sim,
    ):
        config = lib.write_config(
            WORK / f"config-{tag}.yaml", url, args.batch_size, args.concurrency, args.rate,
            args.burst,
        )  # fmt: skip
        env = lib.send_env(sim.url, config) | {"TWILIO_FROM": UNASSIGNED}
        # Migrate first: commands started at once on an empty database race for the schema.
        subprocess.run([lib.dispatcher_bin(), "db", "upgrade"], cwd=WORK, env=env, check=True)
        if args.emulate_pool:
            _preassign(campaigns[0], env, url, senders, tag)
        run = _soak(args, campaigns, env, record, tag)
        time.sleep(1.0)  # the simulator's record is flushed per line; let the last ones land
        run.statuses = lib.status_totals(url)
    print(f"load average after: {lib.load()}\n")
    print(_report(args, senders, run, record))
    return 0


def _mode(args: argparse.Namespace) -> str:
    return ", split" if args.split else ", emulated pool" if args.emulate_pool else ""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=600.0, help="seconds (default 600)")
    parser.add_argument("--senders", type=int, default=10, help="senders in the pool (10)")
    parser.add_argument("--rate", type=float, default=10.0, help="segments/s per sender (10)")
    parser.add_argument("--burst", type=int, default=10, help="sending.burst_segments (10)")
    parser.add_argument("--latency-ms", type=float, default=300.0, help="simulator latency (300)")
    parser.add_argument("--concurrency", type=int, default=64, help="sending.concurrency (64)")
    parser.add_argument("--batch-size", type=int, default=100, help="sending.batch_size (100)")
    parser.add_argument("--recipients", type=int, help="default: senders × rate × duration × 1.2")
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--split", action="store_true", help="one campaign and process per sender")
    parser.add_argument("--trace", action="store_true", help="time the database steps")
    parser.add_argument("--profile", type=float, help="py-spy the sender for this many seconds")
    parser.add_argument(
        "--emulate-pool", action="store_true", help="assign the pool in the database, then send"
    )
    return parser


def _campaigns(
    args: argparse.Namespace, senders: list[str], recipients: int, tag: str
) -> list[Path]:
    if not args.split:
        path = WORK / f"campaign-{tag}.yaml"
        return [lib.write_campaign(path, f"bench-soak-{tag}", lib.valid_list(recipients), senders)]
    share = recipients // len(senders) + 1
    campaigns = []
    for index, sender in enumerate(senders):
        rows = WORK / f"list-{tag}-{sender}.csv"
        with rows.open("w", encoding="utf-8") as stream:
            stream.write("phone\n")
            for i in range(index * share, (index + 1) * share):
                stream.write("0" + lib.number(i)[3:] + "\n")
        path = WORK / f"campaign-{tag}-{sender}.yaml"
        campaigns.append(lib.write_campaign(path, f"bench-soak-{tag}-{sender}", rows, [sender]))
    return campaigns


# --- running ------------------------------------------------------------------------------------


def _preassign(campaign: Path, env: dict[str, str], url: str, senders: list[str], tag: str) -> None:
    """Write the occurrence's outbox without sending (a run refused by the simulator: bad
    credentials halt it at once, claimed rows go back to pending), then spread the rows over
    the pool round-robin in the database, as materialization would with equal rates."""
    refused = env | {"TWILIO_AUTH_TOKEN": "wrong-on-purpose"}
    command = [lib.dispatcher_bin(), "send", str(campaign), "--occurrence", f"soak-{tag}"]
    done = subprocess.run(command, cwd=WORK, env=refused, capture_output=True, timeout=600)
    if done.returncode != 3:
        raise SystemExit(f"expected the refused run to halt (exit 3), got {done.returncode}")
    # A refused authentication halts all sending (as it should in production): lift it.
    unhalt = [lib.dispatcher_bin(), "unhalt", "--reason", "soak: the refused run halted"]
    subprocess.run(unhalt, cwd=WORK, env=env, capture_output=True, timeout=60, check=True)
    n = len(senders)
    lib.execute(url, f"UPDATE deliveries SET sender = 'S' || ((id % {n}) + 1)")
    print(f"outbox written and spread over {n} senders in the database", flush=True)


def _soak(
    args: argparse.Namespace, campaigns: list[Path], env: dict[str, str], record: Path, tag: str
) -> Run:
    started = time.time()
    processes = [
        subprocess.Popen(
            _send_command(args, c, f"soak-{tag}", WORK / f"trace-{tag}-{i}.json"),
            cwd=WORK,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=(WORK / f"send-{tag}-{i}.log").open("w"),
            text=True,
        )
        for i, c in enumerate(campaigns)
    ]
    run = Run(started, 0.0, 0.0)
    try:
        run.first_accept = _wait_first_accept(record, processes)
        print(f"first message accepted {run.first_accept - started:.1f} s after start", flush=True)
        spy = _profile(args, processes[0].pid, tag)
        _sample_until(run, processes, run.first_accept + args.duration)
    finally:
        run.stopped = time.time()
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            lib.stop(process, timeout_s=120, signal_it=False)
        run.exit_codes = [p.returncode for p in processes]
        print(f"stopped (SIGTERM) in {time.time() - run.stopped:.1f} s", flush=True)
    _report_diagnostics(args, run, spy, tag)
    return run


def _send_command(args: argparse.Namespace, campaign: Path, key: str, trace: Path) -> list[str]:
    if args.trace:  # the same CLI, with timers around the database steps (profile_send.py)
        script = Path(__file__).with_name("profile_send.py")
        return [sys.executable, str(script), "--trace-child", str(campaign), key, str(trace)]
    return [lib.dispatcher_bin(), "send", str(campaign), "--occurrence", key]


def _profile(args: argparse.Namespace, pid: int, tag: str) -> subprocess.Popen[bytes] | None:
    """py-spy on the (first) sending process, from 10 s into the run, for ``--profile`` s."""
    if not args.profile:
        return None
    raw = WORK / f"profile-{tag}.txt"
    spy = [str(Path(sys.executable).parent / "py-spy"), "record", "--pid", str(pid), "-f", "raw"]
    spy += ["-r", "100", "--threads", "--nonblocking", "-d", f"{args.profile:g}", "-o", str(raw)]
    return subprocess.Popen(["sh", "-c", 'sleep 10 && exec "$@"', "sh", *spy])


def _report_diagnostics(
    args: argparse.Namespace, run: Run, spy: subprocess.Popen[bytes] | None, tag: str
) -> None:
    import profile_send

    if spy is not None:
        spy.wait(timeout=args.profile + 60)
        raw = WORK / f"profile-{tag}.txt"
        print(f"\npy-spy, {args.profile:g} s of the steady state ({raw}):")
        print(profile_send.summarize(raw.read_text(), 100, args.profile))
    if args.trace:
        for trace in sorted(WORK.glob(f"trace-{tag}-*.json")):
            events = json.loads(trace.read_text())
            span = run.stopped - run.first_accept
            print(f"\ndatabase steps of {trace.name}, over {span:.0f} s:")
            print("\n".join(profile_send.step_lines(events, span)))


def _wait_first_accept(record: Path, processes: list[subprocess.Popen[str]]) -> float:
    deadline = time.monotonic() + 600  # materializing a big list, generously bounded
    while time.monotonic() < deadline:
        if record.exists() and record.stat().st_size:
            return time.time()
        if all(p.poll() is not None for p in processes):
            raise SystemExit(f"dispatcher send ended before sending: see {WORK}/send-*.log")
        time.sleep(0.05)
    raise SystemExit("nothing was accepted within 600 s")


def _sample_until(run: Run, processes: list[subprocess.Popen[str]], until: float) -> None:
    next_at = time.time()
    while time.time() < until:
        live = [p.pid for p in processes if p.poll() is None]
        if not live:
            print("every dispatcher send ended before the duration: work ran out")
            return
        cpu = sum(lib.cpu_seconds(pid) for pid in live)
        rss = sum(lib.rss_mib(pid)[0] for pid in live)
        run.samples.append(Sample(time.time() - run.started, cpu, rss))
        next_at += SAMPLE_EVERY_S
        time.sleep(max(0.0, min(next_at, until) - time.time()))


# --- analysis -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SenderWindows:
    sender: str
    segments: int
    most: int  # the most segments in any 10 s window
    least: int  # the fewest in any 10 s window while work was waiting
    rate: float  # segments/s from its first message to the stop (what came after left out)


def _windows(sender: str, times: list[float], segments: list[int], end: float) -> SenderWindows:
    cumulative = [0]
    for count in segments:
        cumulative.append(cumulative[-1] + count)

    def in_window(start: float) -> int:
        lo = bisect.bisect_left(times, start)
        hi = bisect.bisect_left(times, start + WINDOW_S)
        return cumulative[hi] - cumulative[lo]

    most = max(in_window(t) for t in times)
    starts = [times[0] + i * GRID_S for i in range(int((end - WINDOW_S - times[0]) / GRID_S) + 1)]
    least = min((in_window(t) for t in starts), default=0)
    before_end = cumulative[bisect.bisect_left(times, end)]
    return SenderWindows(sender, cumulative[-1], most, least, before_end / (end - times[0]))


def _report(args: argparse.Namespace, senders: list[str], run: Run, record: Path) -> str:
    from dispatcher.gateways.simulator_state import read_record

    by_sender: dict[str, list[tuple[float, int]]] = defaultdict(list)
    for message in read_record(record):
        by_sender[message.from_ or "?"].append((message.created_at.timestamp(), message.segments))
    end = run.stopped  # work was waiting until the stop (the list outlasts the run)
    windows = [
        _windows(s, [t for t, _ in sorted(ms)], [n for _, n in sorted(ms)], end)
        for s, ms in sorted(by_sender.items())
    ]
    lines = [
        f"run: {run.stopped - run.first_accept:.0f} s from the first accepted message; "
        f"exit codes {run.exit_codes}; record {record}",
        *_pool_lines(senders, by_sender),
        *_ledger_lines(run, sum(len(ms) for ms in by_sender.values())),
        *_pacing_lines(args, windows),
        *_cpu_lines(run),
        *_memory_lines(run),
    ]
    return "\n".join(lines)


def _pool_lines(senders: list[str], by_sender: dict[str, list[tuple[float, int]]]) -> list[str]:
    used = sorted(by_sender)
    if set(used) == set(senders):
        return [f"sender pool: all {len(senders)} senders used — PASS"]
    return [
        f"sender pool: messages came from {used}, not from {senders} — FAIL "
        f"(the pool is not assigned at materialization; {UNASSIGNED} is the TWILIO_FROM fallback)"
    ]


def _ledger_lines(run: Run, recorded: int) -> list[str]:
    """Every message the simulator accepted reached the provider in the database, no more."""
    reached = sum(run.statuses.get(s, 0) for s in REACHED)
    return [
        f"deliveries after the stop: {dict(sorted(run.statuses.items()))}; the simulator "
        f"accepted {recorded:,} — {_verdict(reached == recorded)} (the same as "
        f"{' + '.join(REACHED)})"
    ]


def _pacing_lines(args: argparse.Namespace, windows: list[SenderWindows]) -> list[str]:
    ceiling = args.burst + args.rate * WINDOW_S
    floor = REACH * args.rate * WINDOW_S
    lines = [
        f"\nsegments per sender per {WINDOW_S:g} s window: ceiling {ceiling:g} (burst + rate × "
        f"{WINDOW_S:g}), floor {floor:g} ({REACH:.0%} of rate × {WINDOW_S:g})",
        f"{'sender':12} {'segments':>9} {'max/10s':>8} {'min/10s':>8} {'rate/s':>7} {'of rate':>8}",
    ]
    for w in windows:
        lines.append(
            f"{w.sender:12} {w.segments:9,} {w.most:8} {w.least:8} {w.rate:7.2f} "
            f"{w.rate / args.rate:8.1%}"
        )
    total = sum(w.rate for w in windows)
    wanted = args.senders * args.rate
    lines.append(f"all senders together: {total:.1f} segments/s of {wanted:g} configured")
    most = max(w.most for w in windows)
    least = min(w.least for w in windows)
    lines.append(f"never above the ceiling: max {most} ≤ {ceiling:g} — {_verdict(most <= ceiling)}")
    lines.append(
        f"reaches 95 % while waiting: min {least} ≥ {floor:g} — {_verdict(least >= floor)}"
    )
    return lines


def _steady(run: Run) -> list[Sample]:
    start = (run.first_accept - run.started) + 0.1 * (run.stopped - run.first_accept)
    return [s for s in run.samples if s.at >= start]


def _cpu_lines(run: Run) -> list[str]:
    steady = _steady(run)
    if len(steady) < 2:
        return ["\nCPU: too few samples"]
    first, last = steady[0], steady[-1]
    share = (last.cpu_s - first.cpu_s) / (last.at - first.at)
    whole = run.samples[-1].cpu_s / run.samples[-1].at
    return [
        f"\nCPU of dispatcher send: {share:.1%} of one core in the steady state "
        f"({last.at - first.at:.0f} s), {whole:.1%} since start (materializing included) — "
        f"{_verdict(share < 0.10)} (< 10 %)"
    ]


def _memory_lines(run: Run) -> list[str]:
    steady = _steady(run)
    if len(steady) < 60:
        return ["memory: the steady state is shorter than a minute; no verdict"]
    edge = min(60, len(steady) // 4)  # a minute of samples, less on short runs
    first = statistics.mean(s.rss_mib for s in steady[:edge])
    last = statistics.mean(s.rss_mib for s in steady[-edge:])
    peak = max(s.rss_mib for s in run.samples)
    growth = last - first
    flat = growth < 0.05 * first and growth < 10
    return [
        f"RSS: first {edge} s of the steady state {first:.1f} MiB, last {edge} s {last:.1f} MiB "
        f"({growth:+.1f} MiB), peak {peak:.1f} MiB — {_verdict(flat)} (flat: growth < 5 % "
        "and < 10 MiB)"
    ]


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


if __name__ == "__main__":
    sys.exit(main())
