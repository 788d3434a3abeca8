"""Benchmark: aggregate msg/s of 1, 2 and 4 ``dispatcher worker`` processes on one PostgreSQL.

    .venv/bin/python bench/workers.py                    # unpaced at 100 ms, then paced at 50/s
    .venv/bin/python bench/workers.py --latency-ms 0 --mode unpaced
    .venv/bin/python bench/workers.py --mode paced --rate 50 --burst 10 --paced-count 3000

Each measured run gets a fresh PostgreSQL database and a fresh ``dispatcher simulator
--latency-ms L --no-callbacks --record FILE`` process. The work is put in the outbox without
``send``: a campaign scheduled a minute ago (``sms.schedule.at``, Asia/Ho_Chi_Minh) is
materialized in this process by the scheduler's own ``services.schedule_due``. Then N
``dispatcher worker --log-format text`` processes start at once (``sending.concurrency`` 64
each, ``quiet_hours: 'off'``); when every recipient is in the simulator's record (and one more
second, for anything sent twice) they get SIGTERM.

Judged from the simulator's record (``read_record``): msg/s = accepted ÷ (last accept − first
accept), and the same over the middle 80 % of accepts (p10–p90: start-up and tail left out);
every recipient exactly once (a Counter of ``to``); each worker's share (``claimed_by`` in the
database). Beside them, in the same rounds, the project's baseline: the unlogged async client of
throughput.py at 64 in flight (and at 64 × N, the workers' total), against the same simulator.

``--rate R`` (paced mode): one sender at R segments/s, burst B, shared by the workers through
PostgreSQL. It reports the aggregate achieved rate ((segments − burst) ÷ (last − first)), which
must be within ±10 % of R whatever the number of workers, and the most segments in any 10 s
window (starting at each message) against burst + R × 10. Rounds interleave every variant; the
tables show medians.
"""

from __future__ import annotations

import argparse
import bisect
import resource
import select
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import benchlib as lib
from throughput import Sample, _baseline

from dispatcher.gateways.simulator_state import read_record

WORK = lib.OUT / "workers"
CAMPAIGN_ID = "bench-workers"
CONCURRENCY = 64  # sending.concurrency of each worker
WINDOW_S = 10.0
START_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class Run:
    """One measured run of N workers."""

    rate: float  # accepted ÷ (last accept − first accept)
    middle_rate: float  # the same between the 10th and the 90th percentile accept
    achieved: float  # paced: (segments − burst) ÷ (last − first)
    busiest: int  # most segments in any WINDOW_S window
    exactly_once: bool
    shares: list[int]  # rows claimed by each worker
    cpu_per_1k_s: float  # user + system of the workers per 1,000 messages
    machine_pct: float  # all cores busy over the run, % of the machine
    wall_s: float  # workers started → every recipient accepted


@dataclass
class Series:
    label: str
    runs: list[Run] = field(default_factory=list)
    samples: list[Sample] = field(default_factory=list)  # baselines

    def median(self, attribute: str) -> float:
        values = [getattr(one, attribute) for one in (*self.runs, *self.samples)]
        return statistics.median(values) if values else float("nan")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    WORK.mkdir(parents=True, exist_ok=True)
    lib.print_header()
    started, tables = time.monotonic(), []
    if args.mode in ("unpaced", "both"):
        for latency in args.latency_ms or [100.0]:
            tables.append(_unpaced_table(args, latency, _unpaced(args, latency)))
            print("\n" + tables[-1], flush=True)
    if args.mode in ("paced", "both"):
        tables.append(_paced_table(args, _paced(args)))
        print("\n" + tables[-1], flush=True)
    print(f"\nload average after: {lib.load()}; took {(time.monotonic() - started) / 60:.1f} min")
    print("\n" + "\n\n".join(tables))
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=["unpaced", "paced", "both"], default="both")
    parser.add_argument("--workers", default="1,2,4", help="worker counts (1,2,4)")
    parser.add_argument("--latency-ms", type=float, action="append", help="default: 100")
    parser.add_argument("--count", type=int, default=20_000, help="unpaced recipients (20,000)")
    parser.add_argument("--paced-count", type=int, default=2_000, help="paced recipients (2,000)")
    parser.add_argument("--rate", type=float, default=50.0, help="paced: segments/s (50)")
    parser.add_argument("--burst", type=int, default=10, help="paced: burst_segments (10)")
    parser.add_argument("--paced-latency-ms", type=float, default=100.0, help="paced (100)")
    parser.add_argument("--batch-size", type=int, default=100, help="sending.batch_size (100)")
    parser.add_argument("--repeats", type=int, default=3, help="rounds (3)")
    parser.add_argument("--baseline-seconds", type=float, default=10.0, help="bound per baseline")
    parser.add_argument("--timeout-s", type=float, default=600.0, help="bound per run")
    return parser


def _counts(args: argparse.Namespace) -> list[int]:
    return [int(n) for n in args.workers.split(",")]


# --- the rounds ---------------------------------------------------------------------------------


def _unpaced(args: argparse.Namespace, latency: float) -> list[Series]:
    totals = sorted({CONCURRENCY * n for n in _counts(args)})
    baselines = {c: Series(f"async client ({c})") for c in totals}
    workers = {n: Series(_label(n)) for n in _counts(args)}
    for round_ in range(1, args.repeats + 1):
        print(f"\n{latency:g} ms, unpaced, round {round_}/{args.repeats}", flush=True)
        with lib.SimulatorProcess(latency) as sim:
            for concurrency, series in baselines.items():
                series.samples.append(_async_baseline(args, sim, concurrency))
                print(f"  {series.label}: {series.samples[-1].rate:,.0f}/s", flush=True)
        for n, series in workers.items():
            series.runs.append(_run(args, n, latency, args.count, 1e6, 100_000))
            _print_run(series, paced=False)
    return [*baselines.values(), *workers.values()]


def _paced(args: argparse.Namespace) -> list[Series]:
    workers = {n: Series(_label(n)) for n in _counts(args)}
    for round_ in range(1, args.repeats + 1):
        print(f"\npaced at {args.rate:g}/s, round {round_}/{args.repeats}", flush=True)
        for n, series in workers.items():
            latency = args.paced_latency_ms
            series.runs.append(_run(args, n, latency, args.paced_count, args.rate, args.burst))
            _print_run(series, paced=True)
    return list(workers.values())


def _label(n: int) -> str:
    return f"{n} worker{'s' if n > 1 else ''}"


def _print_run(series: Series, paced: bool) -> None:
    run = series.runs[-1]
    pacing = f", achieved {run.achieved:,.1f}/s, busiest 10 s {run.busiest}" if paced else ""
    print(
        f"  {series.label}: {run.rate:,.1f}/s (p10-p90 {run.middle_rate:,.1f}/s{pacing}), "
        f"exactly once: {run.exactly_once}, shares {run.shares}, {run.wall_s:.1f} s, "
        f"workers' CPU {run.cpu_per_1k_s:.2f} s/1k, machine {run.machine_pct:.0f} %",
        flush=True,
    )


def _async_baseline(args: argparse.Namespace, sim: lib.SimulatorProcess, conc: int) -> Sample:
    """throughput.py's unlogged async client, in its own process, at ``conc`` in flight."""
    bounds = argparse.Namespace(
        count=args.count, concurrency=conc, baseline_seconds=args.baseline_seconds
    )
    return _baseline(bounds, "async", sim)


# --- one measured run ---------------------------------------------------------------------------


def _run(
    args: argparse.Namespace, n: int, latency: float, count: int, rate: float, burst: int
) -> Run:
    tag = lib.stamp()
    record = WORK / f"record-{tag}.jsonl"
    with (
        lib.fresh_database("postgresql", f"bench_wk_{tag}") as url,
        lib.SimulatorProcess(latency, record) as sim,
    ):
        campaign = lib.write_due_campaign(
            WORK / f"campaign-{tag}.yaml", CAMPAIGN_ID, lib.valid_list(count)
        )
        if lib.schedule_due(url, campaign) != 1:
            raise SystemExit("schedule_due materialized nothing: is the campaign due?")
        config = lib.write_config(
            WORK / f"config-{tag}.yaml", url, args.batch_size, CONCURRENCY, rate, burst, "off"
        )
        cpu, busy = _children_cpu_s(), _machine_ticks()
        with _workers(n, lib.send_env(sim.url, config), tag) as started:
            _wait_for_record(record, count, args.timeout_s, tag)
            wall = time.monotonic() - started
            time.sleep(1.0)  # anything sent twice would arrive now
        cpu, busy = _children_cpu_s() - cpu, _busy_pct(busy)
        shares = _shares(url)
    messages = read_record(record)
    for path in (campaign, config, record):
        path.unlink()
    return _judge(messages, count, burst, cpu, busy, wall, shares)


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _machine_ticks() -> tuple[int, int]:
    """(busy, total) clock ticks of all CPUs since boot, from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def _busy_pct(before: tuple[int, int]) -> float:
    busy, total = _machine_ticks()
    return (busy - before[0]) / max(1, total - before[1]) * 100


@contextmanager
def _workers(n: int, env: dict[str, str], tag: str) -> Iterator[float]:
    """N ``dispatcher worker`` processes, started at once; yields when all of them said
    "Worker … started" (monotonic time of the first start); SIGTERM, then wait, on exit."""
    with ExitStack() as stack:
        processes = []
        for i in range(n):
            log = stack.enter_context((WORK / f"worker-{tag}-{i}.log").open("w"))
            processes.append(
                subprocess.Popen(
                    [lib.dispatcher_bin(), "worker", "--log-format", "text"],
                    cwd=WORK,
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=log,
                    text=True,
                )
            )
        started = time.monotonic()
        try:
            for process in processes:
                _await_start(process, tag)
            yield started
        finally:
            for process in processes:
                lib.stop(process, timeout_s=30.0)
            for process in processes:
                assert process.stdout is not None
                process.stdout.close()
            for log_path in WORK.glob(f"worker-{tag}-*.log"):
                if log_path.stat().st_size == 0:
                    log_path.unlink()


def _await_start(process: subprocess.Popen[str], tag: str) -> None:
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], START_TIMEOUT_S)
    line = process.stdout.readline() if ready else ""
    if not line.startswith("Worker "):
        raise SystemExit(f"a worker did not start ({line!r}); see {WORK}/worker-{tag}-*.log")


def _wait_for_record(record: Path, count: int, timeout_s: float, tag: str) -> None:
    """Until the record has ``count`` lines, reading only what was appended since last time."""
    deadline, seen, offset = time.monotonic() + timeout_s, 0, 0
    while seen < count:
        if time.monotonic() > deadline:
            raise SystemExit(f"{seen:,} of {count:,} accepted after {timeout_s:g} s ({tag})")
        time.sleep(0.2)
        with record.open("rb") as stream:
            stream.seek(offset)
            chunk = stream.read()
        seen += chunk.count(b"\n")
        offset += len(chunk)


def _shares(database_url: str) -> list[int]:
    import psycopg

    query = "SELECT count(*) FROM deliveries GROUP BY claimed_by ORDER BY count(*) DESC"
    with psycopg.connect(database_url) as db:
        return [int(row[0]) for row in db.execute(query).fetchall()]


def _judge(
    messages: list, count: int, burst: int, cpu: float, busy: float, wall: float, shares: list[int]
) -> Run:
    expected = Counter(lib.number(i) for i in range(count))
    times = sorted(m.created_at.timestamp() for m in messages)
    segments = [m.segments for m in sorted(messages, key=lambda m: m.created_at)]
    span = times[-1] - times[0]
    low, high = int(len(times) * 0.1), int(len(times) * 0.9)
    return Run(
        rate=len(times) / span,
        middle_rate=(high - low) / (times[high] - times[low]),
        achieved=(sum(segments) - burst) / span,
        busiest=_busiest(times, segments),
        exactly_once=Counter(m.to for m in messages) == expected,
        shares=shares,
        cpu_per_1k_s=cpu / len(messages) * 1000,
        machine_pct=busy,
        wall_s=wall,
    )


def _busiest(times: list[float], segments: list[int]) -> int:
    """Most segments in any half-open window of WINDOW_S starting at a message."""
    totals = [0]
    for one in segments:
        totals.append(totals[-1] + one)
    return max(
        totals[bisect.bisect_left(times, t + WINDOW_S)] - totals[i] for i, t in enumerate(times)
    )


# --- output -------------------------------------------------------------------------------------


def _unpaced_table(args: argparse.Namespace, latency: float, series: list[Series]) -> str:
    async64 = series[0].median("rate")
    one = next((s.median("rate") for s in series if s.label == _label(1)), float("nan"))
    lines = [
        f"simulator latency {latency:g} ms; {args.count:,} recipients on one PostgreSQL; "
        f"concurrency {CONCURRENCY} per worker, batch {args.batch_size}, pacing off; "
        f"medians of {args.repeats} rounds",
        f"{'':22} {'msg/s':>7} {'min':>7} {'max':>7} {'p10-p90':>8} {'÷ 1 wkr':>8} "
        f"{'÷ async64':>9} {'÷ async·N':>9} {'CPU s/1k':>8} {'machine%':>8} {'once':>5}  shares",
    ]
    for one_series in series:
        lines.append(_unpaced_row(one_series, series, async64, one))
    return "\n".join(lines)


def _unpaced_row(row: Series, series: list[Series], async64: float, one: float) -> str:
    rates = [r.rate for r in row.runs] or [s.rate for s in row.samples]
    median = row.median("rate")
    if not row.runs:
        return (
            f"{row.label:22} {median:7,.0f} {min(rates):7,.0f} {max(rates):7,.0f} {'':8} "
            f"{'':8} {median / async64:9.2f}"
        )
    n = int(row.label.split()[0])
    same = next(s for s in series if s.label == f"async client ({CONCURRENCY * n})")
    once = all(r.exactly_once for r in row.runs)
    return (
        f"{row.label:22} {median:7,.0f} {min(rates):7,.0f} {max(rates):7,.0f} "
        f"{row.median('middle_rate'):8,.0f} {median / one:8.2f} {median / async64:9.2f} "
        f"{median / same.median('rate'):9.2f} {row.median('cpu_per_1k_s'):8.2f} "
        f"{row.median('machine_pct'):8.0f} {'yes' if once else 'NO':>5}  "
        f"{' / '.join(f'{v:,}' for v in row.runs[-1].shares)}"
    )


def _paced_table(args: argparse.Namespace, series: list[Series]) -> str:
    limit = args.burst + args.rate * WINDOW_S
    lines = [
        f"paced: one sender at {args.rate:g} segments/s, burst {args.burst}; "
        f"{args.paced_count:,} recipients; simulator latency {args.paced_latency_ms:g} ms; "
        f"medians of {args.repeats} rounds",
        f"{'':12} {'achieved/s':>10} {'min':>7} {'max':>7} {'÷ rate':>7} "
        f"{'busiest 10 s':>12} {'max':>5} {'limit':>6} {'once':>5}  verdict",
    ]
    for row in series:
        achieved = [r.achieved for r in row.runs]
        busiest = max(r.busiest for r in row.runs)
        within = all(abs(a / args.rate - 1) <= 0.10 for a in achieved)
        once = all(r.exactly_once for r in row.runs)
        verdict = "PASS" if within and busiest <= limit and once else "FAIL"
        lines.append(
            f"{row.label:12} {row.median('achieved'):10.1f} {min(achieved):7.1f} "
            f"{max(achieved):7.1f} {row.median('achieved') / args.rate:7.3f} "
            f"{row.median('busiest'):12.0f} {busiest:5} {limit:6.0f} {'yes' if once else 'NO':>5}  "
            f"{verdict}"
        )
    lines.append(
        "busiest 10 s: median and max over the rounds; PASS: every round within ±10 % of the "
        "rate and under the limit, every recipient once"
    )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
