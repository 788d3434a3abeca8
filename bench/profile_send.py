"""Where the durable sender's time goes: ``dispatcher send`` under py-spy, summarized.

    .venv/bin/pip install py-spy                      # once, into the venv
    .venv/bin/python bench/profile_send.py            # 20,000 recipients, 0 ms, SQLite, batch 100
    .venv/bin/python bench/profile_send.py --db postgresql --batch-size 500
    .venv/bin/python bench/profile_send.py --raw bench/out/profile/raw-....txt   # summarize again

Runs one durable send exactly as throughput.py does (simulator process, fresh database, pacing
off) under ``py-spy record --threads --nonblocking -f raw``, then summarizes the samples of the
sending phase only (the event loop's stacks under ``asyncio.run``, and the database thread):

- samples per thread, as a share of the sending phase's wall time: py-spy counts a thread only
  while it runs, and a thread waiting for the GIL does not run, so the sum of the two threads
  near 100 % means the process is bound by one core (the GIL), not by the simulator;
- self time by package (the innermost frame's library or dispatcher module);
- inclusive time of the busiest functions (a function counted once per stack).

``--trace`` runs the same send without py-spy, in a child process that wraps (monkeypatches, in
memory only) ``Sender._step`` (one transaction: the outcomes recorded, then the next rows
claimed), the ``_record`` and ``_claim`` inside it and ``TwilioGateway.send`` with timers before
calling the CLI, and reports how long each database step takes, how busy the database thread is
and how many requests are really in flight over the sending phase.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import benchlib as lib

WORK = lib.OUT / "profile"
FRAME = re.compile(r"^(?P<func>.+) \((?P<file>[^():]+)(?::(?P<line>\d+))?\)$")
SENDING = ("run", "asyncio/runners.py")  # the event loop's frames below asyncio.run
DB_THREAD = "dispatcher-db"
TOP = 30
# Frames every stack of a thread passes through: left out of the inclusive list.
PLUMBING = ("click/", "cli.py", "threading.py", "asyncio/runners.py", "dispatcher/services.py")
PLUMBING_FUNCS = {"<module>", "_worker", "_WorkItem.run", "Handle._run"}
PLUMBING_FUNCS |= {f"BaseEventLoop.{f}" for f in ("run_forever", "run_until_complete", "_run_once")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=20_000, help="recipients (20,000)")
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--rate", type=int, default=200, help="py-spy samples per second")
    parser.add_argument("--gil", action="store_true", help="only samples holding the GIL")
    parser.add_argument("--raw", type=Path, help="summarize this py-spy raw file instead")
    parser.add_argument("--trace", action="store_true", help="time the steps instead")
    parser.add_argument("--trace-child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.trace_child:
        return _trace_child(*args.trace_child)
    if args.raw:
        print(summarize(args.raw.read_text(), args.rate, None))
        return 0
    if args.trace:
        print(_trace(args))
        return 0
    raw, sending_s, rate = _record(args)
    print(f"sending phase {sending_s:.2f} s, {rate:,.0f} msg/s under py-spy; samples in {raw}\n")
    print(summarize(raw.read_text(), args.rate, sending_s))
    return 0


def _record(args: argparse.Namespace) -> tuple[Path, float, float]:
    spy = Path(sys.executable).parent / "py-spy"
    if not spy.exists():
        raise SystemExit(f"{spy} not found: .venv/bin/pip install py-spy")
    raw = WORK / f"raw-{args.db}-{args.batch_size}-{lib.stamp()}.txt"
    command = [str(spy), "record", "-r", str(args.rate), "-f", "raw", "-o", str(raw)]
    command += ["--threads", "--nonblocking", *(["--gil"] if args.gil else [])]
    phase = _send(args, lambda campaign, key: [*command, "--", lib.dispatcher_bin(), "send",
                                                str(campaign), "--occurrence", key])  # fmt: skip
    return raw, phase.sending_s, phase.accepted / phase.sending_s


def _send(args: argparse.Namespace, command: Callable[[Path, str], list[str]]) -> lib.Phase:
    """One durable send as throughput.py runs it; ``command`` builds the command line."""
    WORK.mkdir(parents=True, exist_ok=True)
    tag = lib.stamp()
    campaign_id = f"bench-prof-{args.count}"
    campaign = lib.write_campaign(
        WORK / f"campaign-{args.count}.yaml", campaign_id, lib.valid_list(args.count)
    )
    with (
        lib.fresh_database(args.db, f"bench_prof_{tag}") as url,
        lib.SimulatorProcess(args.latency_ms) as sim,
    ):
        config = lib.write_config(
            WORK / f"config-{tag}.yaml", url, args.batch_size, args.concurrency, 1e6, 100_000
        )
        done = subprocess.run(
            command(campaign, tag),
            cwd=WORK,
            env=lib.send_env(sim.url, config),
            capture_output=True,
            text=True,
        )
        config.unlink()
        if done.returncode != 0:
            raise SystemExit(f"dispatcher send failed:\n{done.stderr[-2000:]}")
        return lib.read_phase(url, campaign_id, tag)


# --- --trace: timers around the database steps and the requests -------------------------------


def _trace(args: argparse.Namespace) -> str:
    out = WORK / f"trace-{lib.stamp()}.json"
    phase = _send(
        args,
        lambda campaign, key: [sys.executable, __file__, "--trace-child", str(campaign), key,
                               str(out)],
    )  # fmt: skip
    events = json.loads(out.read_text())
    return _trace_report(args, events, phase)


def _trace_child(campaign: str, key: str, out: str) -> int:
    """Run ``dispatcher send`` in this process with timers wrapped around three methods."""
    import cli
    from dispatcher.gateways import twilio as twilio_module
    from dispatcher.sending import sender as sender_module

    events: dict[str, list[list[float]]] = {"step": [], "claim": [], "record": [], "inflight": []}
    in_flight = 0
    rows_of: dict[str, Callable[[tuple[Any, ...], Any], int]] = {
        "step": lambda args, step: len(args[0]) + step.claimed,  # recorded + claimed
        "claim": lambda _args, claimed: claimed[0],
        "record": lambda args, _outcomes: len(args[-1]),
    }

    def timed(name: str, method: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(self: Any, *args: Any) -> Any:
            started = time.time()
            result = method(self, *args)
            events[name].append([started, time.time(), rows_of[name](args, result)])
            return result

        return wrapper

    original_send = twilio_module.TwilioGateway.send

    async def counted_send(self: Any, message: Any) -> Any:
        nonlocal in_flight
        in_flight += 1
        events["inflight"].append([time.time(), in_flight])
        try:
            return await original_send(self, message)
        finally:
            in_flight -= 1
            events["inflight"].append([time.time(), in_flight])

    sender_module.Sender._step = timed("step", sender_module.Sender._step)  # type: ignore[method-assign]
    sender_module.Sender._claim = timed("claim", sender_module.Sender._claim)  # type: ignore[method-assign]
    sender_module.Sender._record = timed("record", sender_module.Sender._record)  # type: ignore[method-assign]
    twilio_module.TwilioGateway.send = counted_send  # type: ignore[method-assign]
    sys.argv = ["dispatcher", "send", campaign, "--occurrence", key]
    try:
        cli.main()
    except SystemExit as exc:
        Path(out).write_text(json.dumps(events))
        return int(exc.code or 0)
    return 0


def _trace_report(
    args: argparse.Namespace, events: dict[str, list[list[float]]], phase: lib.Phase
) -> str:
    assert phase.first_sending is not None and phase.last_accepted is not None
    start, end = phase.first_sending.timestamp(), phase.last_accepted.timestamp()
    span = end - start
    lines = [
        f"{args.count:,} recipients, {args.db}, batch {args.batch_size}, concurrency "
        f"{args.concurrency}, latency {args.latency_ms:g} ms: sending phase {span:.2f} s, "
        f"{phase.accepted / span:,.0f} msg/s"
    ]
    lines += step_lines(events, span)
    lines += _inflight_lines(events["inflight"], start, end, args.concurrency)
    return "\n".join(lines)


def step_lines(events: dict[str, list[list[float]]], span: float) -> list[str]:
    """Calls, rows and time of each database step, and how busy the database thread was."""
    lines = []
    for name in ("step", "claim", "record"):  # a step is a record and a claim, and the commit
        steps = events[name]
        if not steps:
            continue
        ms = [(b - a) * 1000 for a, b, _ in steps]
        rows = [n for _, _, n in steps] if any(n for _, _, n in steps) else [1]
        lines.append(
            f"  {name:7} {len(steps):5} calls, {statistics.mean(rows):6.1f} rows each, "
            f"{statistics.mean(ms):6.1f} ms mean, {statistics.median(ms):6.1f} median, "
            f"{max(ms):6.1f} max, {sum(ms) / 1000:5.2f} s total, "
            f"{statistics.mean(ms) / statistics.mean(rows) * 1000:5.0f} µs per row"
        )
    busy = sum(b - a for a, b, _ in events["step"])
    lines.append(f"  database thread busy {busy:.2f} s = {busy / span:.0%} of the sending phase")
    return lines


def _inflight_lines(changes: list[list[float]], start: float, end: float, limit: int) -> list[str]:
    """Time-weighted requests in flight over [start, end], and how often the limit was reached."""
    weighted, full, empty, previous, level = 0.0, 0.0, 0.0, start, 0.0
    for at, now_level in changes:
        if at > start:
            step = min(at, end) - previous
            if step > 0:
                weighted += level * step
                full += step if level >= limit else 0.0
                empty += step if level == 0 else 0.0
                previous = min(at, end)
        level = now_level
    span = end - start
    return [
        f"  requests in flight: {weighted / span:.1f} on average (limit {limit}); at the limit "
        f"{full / span:.0%} of the time, none {empty / span:.0%}"
    ]


def _frames(line: str) -> tuple[str, list[tuple[str, str]], int]:
    """(thread name, [(function, file)] outermost first, samples) of one raw line."""
    stack, _, count = line.rpartition(" ")
    parts = stack.split(";")
    thread = parts[0].split(": ", 1)[-1]
    frames = []
    for part in parts[1:]:
        match = FRAME.match(part)
        if match:
            frames.append((match["func"], match["file"]))
    return thread, frames, int(count)


def _package(file: str) -> str:
    if file.startswith("dispatcher/"):
        return file.removesuffix(".py")
    if file.startswith("<frozen") or "/" not in file:
        return file.removesuffix(".py")
    return file.split("/", 1)[0]


def summarize(text: str, rate: int, sending_s: float | None) -> str:
    threads: Counter[str] = Counter()
    selfs: dict[str, Counter[str]] = {}
    inclusive: Counter[str] = Counter()
    total = 0
    for line in filter(None, text.splitlines()):
        thread, frames, count = _frames(line)
        on_db = thread.startswith(DB_THREAD)
        if not frames or not (on_db or SENDING in frames):
            continue  # start-up, writing the outbox, native frames
        name = "database thread" if on_db else "event loop"
        threads[name] += count
        total += count
        leaf = _package(frames[-1][1])
        selfs.setdefault(name, Counter())[leaf] += count
        for func, file in set(frames):
            if file.startswith(PLUMBING) or func in PLUMBING_FUNCS:
                continue
            inclusive[f"{func} ({file})"] += count
    wall = sending_s * rate if sending_s else None
    lines = [
        "samples of the sending phase (a thread counts while it runs, not waiting for the GIL)"
    ]
    for name, count in threads.most_common():
        share = f", {count / wall:.0%} of the phase's wall time" if wall else ""
        lines.append(f"  {name:16} {count:6} samples{share}")
    if wall:
        lines.append(f"  {'both':16} {total:6} samples, {total / wall:.0%} of one core")
    for name, counter in selfs.items():
        lines.append(f"\nself time by package, {name} ({threads[name]} samples)")
        lines += [f"  {n / threads[name]:6.1%}  {pkg}" for pkg, n in counter.most_common(15)]
    lines.append(f"\ninclusive, both threads ({total} samples)")
    lines += [f"  {n / total:6.1%}  {where}" for where, n in inclusive.most_common(TOP)]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
