"""Benchmark: durable sending throughput against the simulator, beside two baselines.

    .venv/bin/python bench/throughput.py                               # 100 ms and 0 ms, both DBs
    .venv/bin/python bench/throughput.py --latency-ms 0 --db sqlite --batch-sizes 100,500
    .venv/bin/python bench/throughput.py --latency-ms 100 --count 10000 --repeats 5

Each round starts a fresh ``dispatcher simulator --latency-ms L`` as its own process (so it never
shares the GIL with what is measured) and runs, one after the other against that simulator:

- **plain loop**: ``Client.messages.create`` in a sync loop (for ``--baseline-seconds`` or
  ``--count`` messages, whichever ends first), no database, no logging;
- **async client**: ``AsyncTwilioHttpClient`` + ``create_async`` under a semaphore of
  ``--concurrency`` (64), same bounds, no database;
- **durable**: ``dispatcher send <campaign> --occurrence bench-K`` as a subprocess
  (``DISPATCHER_GATEWAY=twilio``, ``TWILIO_API_BASE_URL`` = the simulator) on a fresh database
  at the current schema (SQLite file, or a PostgreSQL database created and dropped on
  postgresql://postgres@127.0.0.1; ``dispatcher db upgrade`` runs before, untimed, on both),
  ``--count`` valid recipients, ``sending.concurrency`` = 64, pacing off (rate 1,000,000/s), for
  each ``sending.batch_size`` of ``--batch-sizes``.

Durable msg/s is recipients ÷ the sending phase read from the delivery log (first ``sending``
event to last ``accepted`` one), so process start-up and writing the outbox are left out;
``whole cmd`` is recipients ÷ the wall time of the whole command (start-up, reading the list,
writing the outbox, sending, exit; until 07/12/2026 it also ran the migrations on SQLite).
Baselines run in child processes of this script. Rounds interleave everything, so noise on the
shared machine hits all columns alike; the table shows medians over ``--repeats`` rounds and the
ratios of medians.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import benchlib as lib

DEFAULT_BATCH = 100  # config.yaml's sending.batch_size
WORK = lib.OUT / "throughput"


@dataclass
class Sample:
    rate: float  # msg/s
    whole_rate: float | None = None  # durable only: over the whole command
    cpu_per_1k_s: float | None = None  # CPU seconds of the measured process per 1,000 messages
    sim_cpu_pct: float | None = None  # simulator CPU over the measured interval, % of one core
    sent: int = 0


@dataclass
class Series:
    label: str
    samples: list[Sample] = field(default_factory=list)

    def median(self, attribute: str = "rate") -> float:
        values = [getattr(s, attribute) for s in self.samples]
        values = [v for v in values if v is not None]
        return statistics.median(values) if values else float("nan")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.child:
        return _child(args)
    dbs = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    print(lib.machine())
    print(f"load average before: {lib.load()}", flush=True)
    campaign = lib.write_campaign(
        _workdir() / f"campaign-{args.count}.yaml",
        f"bench-tp-{args.count}",
        lib.valid_list(args.count),
    )
    tables = []
    for latency in args.latency_ms or [100.0, 0.0]:
        series = _measure_latency(args, latency, dbs, campaign)
        tables.append(_table(args, latency, series))
        print("\n" + tables[-1], flush=True)
    print(f"\nload average after: {lib.load()}")
    print("\n" + "\n\n".join(tables))
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--latency-ms", type=float, action="append", help="default: 100 and 0")
    parser.add_argument("--count", type=int, default=20_000, help="durable recipients (20,000)")
    parser.add_argument("--repeats", type=int, default=3, help="rounds (default 3)")
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--batch-sizes", default="100,250,500,1000", help="sending.batch_size")
    parser.add_argument("--concurrency", type=int, default=64, help="requests in flight (64)")
    parser.add_argument("--baseline-seconds", type=float, default=10.0, help="bound per baseline")
    parser.add_argument("--timeout-s", type=float, default=900.0, help="bound per durable send")
    parser.add_argument("--child", choices=["sync", "async"], help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    return parser


def _workdir() -> Path:
    WORK.mkdir(parents=True, exist_ok=True)
    return WORK


def _measure_latency(
    args: argparse.Namespace, latency: float, dbs: list[str], campaign: Path
) -> list[Series]:
    batches = [int(b) for b in args.batch_sizes.split(",")]
    plain, asynchronous = Series("plain sync loop"), Series(f"async client ({args.concurrency})")
    durable = {(db, b): Series(_durable_label(db, b)) for db in dbs for b in batches}
    for round_ in range(1, args.repeats + 1):
        print(f"\n{latency:g} ms, round {round_}/{args.repeats}", flush=True)
        with lib.SimulatorProcess(latency) as sim:
            plain.samples.append(_baseline(args, "sync", sim))
            print(f"  {plain.label}: {plain.samples[-1].rate:,.0f}/s", flush=True)
            asynchronous.samples.append(_baseline(args, "async", sim))
            print(f"  {asynchronous.label}: {asynchronous.samples[-1].rate:,.0f}/s", flush=True)
            for (db, batch), one in durable.items():
                one.samples.append(_durable(args, sim, db, batch, campaign))
                sample = one.samples[-1]
                print(
                    f"  {one.label}: {sample.rate:,.0f}/s sending, "
                    f"{sample.whole_rate:,.0f}/s whole command",
                    flush=True,
                )
    return [plain, asynchronous, *durable.values()]


def _durable_label(db: str, batch: int) -> str:
    default = " (default)" if batch == DEFAULT_BATCH else ""
    return f"durable {db}, batch {batch}{default}"


# --- the baselines (child processes) ------------------------------------------------------------


def _baseline(args: argparse.Namespace, kind: str, sim: lib.SimulatorProcess) -> Sample:
    command = [sys.executable, __file__, "--child", kind, "--url", sim.url]
    command += ["--count", str(args.count), "--concurrency", str(args.concurrency)]
    command += ["--baseline-seconds", str(args.baseline_seconds)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("TWILIO_")}
    sim_cpu = lib.cpu_seconds(sim.pid)
    process = subprocess.Popen(command, stdout=subprocess.PIPE, env=env | lib.credentials())
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"baseline {kind} failed")
    result = json.loads(output)
    sent, elapsed = result["sent"], result["elapsed_s"]
    return Sample(
        rate=sent / elapsed,
        cpu_per_1k_s=(usage.ru_utime + usage.ru_stime) / sent * 1000,
        sim_cpu_pct=(lib.cpu_seconds(sim.pid) - sim_cpu) / elapsed * 100,
        sent=sent,
    )


def _child(args: argparse.Namespace) -> int:
    deadline = time.perf_counter() + args.baseline_seconds
    if args.child == "sync":
        sent, elapsed = _plain_loop(args.url, args.count, deadline)
    else:
        sent, elapsed = asyncio.run(_async_client(args.url, args.count, args.concurrency, deadline))
    print(json.dumps({"sent": sent, "elapsed_s": elapsed}))
    return 0


def _plain_loop(url: str, count: int, deadline: float) -> tuple[int, float]:
    from twilio.rest import Client

    client = Client(lib.ACCOUNT_SID, os.environ["TWILIO_AUTH_TOKEN"])
    client.api.base_url = url
    body = lib.TEXT
    started = time.perf_counter()
    sent = 0
    for i in range(count):
        if time.perf_counter() >= deadline:
            break
        client.messages.create(to=lib.number(i), from_="BENCH", body=body)
        sent += 1
    return sent, time.perf_counter() - started


async def _async_client(
    url: str, count: int, concurrency: int, deadline: float
) -> tuple[int, float]:
    from twilio.http.async_http_client import AsyncTwilioHttpClient
    from twilio.rest import Client

    http = AsyncTwilioHttpClient()
    client = Client(lib.ACCOUNT_SID, os.environ["TWILIO_AUTH_TOKEN"], http_client=http)
    client.api.base_url = url
    in_flight = asyncio.Semaphore(concurrency)
    sent = 0

    async def one(i: int) -> None:
        nonlocal sent
        async with in_flight:
            if time.perf_counter() < deadline:
                await client.messages.create_async(to=lib.number(i), from_="BENCH", body=lib.TEXT)
                sent += 1

    started = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(count)))
    elapsed = time.perf_counter() - started
    await http.close()
    return sent, elapsed


# --- the durable path ---------------------------------------------------------------------------


def _durable(
    args: argparse.Namespace, sim: lib.SimulatorProcess, db: str, batch: int, campaign: Path
) -> Sample:
    tag = lib.stamp()
    with lib.fresh_database(db, f"bench_tp_{tag}") as url:
        config = lib.write_config(
            _workdir() / f"config-{tag}.yaml", url, batch, args.concurrency, 1e6, 100_000
        )
        command = [lib.dispatcher_bin(), "send", str(campaign), "--occurrence", f"bench-{tag}"]
        sim_cpu = lib.cpu_seconds(sim.pid)
        children_cpu = _children_cpu_s()
        started = time.perf_counter()
        process = subprocess.Popen(
            command,
            cwd=_workdir(),
            env=lib.send_env(sim.url, config),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            _out, err = process.communicate(timeout=args.timeout_s)
        except subprocess.TimeoutExpired:
            lib.stop(process)
            raise SystemExit(f"{' '.join(command)} took over {args.timeout_s} s") from None
        wall = time.perf_counter() - started
        sim_cpu = lib.cpu_seconds(sim.pid) - sim_cpu
        cpu = _children_cpu_s() - children_cpu
        config.unlink()
        if process.returncode != 0:
            raise SystemExit(f"{' '.join(command)} exited {process.returncode}:\n{err[-2000:]}")
        phase = lib.read_phase(url, f"bench-tp-{args.count}", f"bench-{tag}")
    if phase.accepted != args.count:
        raise SystemExit(f"expected {args.count} accepted, the log says {phase.statuses}")
    return Sample(
        rate=phase.accepted / phase.sending_s,
        whole_rate=phase.accepted / wall,
        cpu_per_1k_s=cpu / phase.accepted * 1000,
        sim_cpu_pct=sim_cpu / phase.sending_s * 100,  # it is idle outside that phase
        sent=phase.accepted,
    )


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# --- output -------------------------------------------------------------------------------------


def _table(args: argparse.Namespace, latency: float, series: list[Series]) -> str:
    plain, asynchronous = series[0].median(), series[1].median()
    lines = [
        f"simulator latency {latency:g} ms; durable: {args.count:,} recipients, concurrency "
        f"{args.concurrency}; medians of {args.repeats} rounds",
        f"{'':42} {'msg/s':>8} {'min':>8} {'max':>8} {'whole cmd':>10} "
        f"{'÷ async':>8} {'× plain':>8} {'CPU s/1k':>9} {'sim CPU%':>9}",
    ]
    for one in series:
        rates = [s.rate for s in one.samples]
        median = one.median()
        whole = one.median("whole_rate")
        whole_text = f"{whole:10,.0f}" if whole == whole else f"{'':10}"
        lines.append(
            f"{one.label:42} {median:8,.0f} {min(rates):8,.0f} {max(rates):8,.0f} {whole_text} "
            f"{median / asynchronous:8.2f} {median / plain:8.1f} "
            f"{one.median('cpu_per_1k_s'):9.2f} {one.median('sim_cpu_pct'):9.0f}"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
