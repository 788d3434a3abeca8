"""Peak memory of ``dispatcher send`` for 100,000 and 1,000,000 recipients: it should not grow.

    .venv/bin/python bench/memory.py                          # 100k and 1M, SQLite
    .venv/bin/python bench/memory.py --sizes 100000 --db postgresql

Each size sends a one-segment notice to that many valid fictitious numbers (a fresh database, a
fresh ``dispatcher simulator --latency-ms 0`` process, ``sending.concurrency`` 64, pacing off) and
records the largest resident set of the ``dispatcher send`` process tree as the kernel counts it
(``ru_maxrss`` from ``wait4``: the largest of the process and the children it waited for), the
resident set of the main process sampled every 0.2 s (its peak, and where it happened: while the
outbox was being written or while sending; its value 5 s into sending and at the end), the wall
time and the sending rate.
"""

from __future__ import annotations

import argparse
import os
import resource
import signal
import subprocess
import sys
import time
from dataclasses import dataclass

import benchlib as lib

SAMPLE_EVERY_S = 0.2
SETTLE_S = 5.0  # RSS "while sending" is read this long after the first send
WORK = lib.OUT / "memory"


@dataclass(frozen=True)
class Result:
    recipients: int
    max_rss_mib: float  # ru_maxrss of the process tree
    peak_sampled_mib: float
    peak_at_s: float
    first_sending_s: float  # when sending began, seconds after start
    rss_sending_mib: float  # SETTLE_S after sending began
    rss_last_mib: float  # the last sample, just before the process ended
    wall_s: float
    sending_rate: float


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100000,1000000", help="recipients, comma-separated")
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--batch-size", type=int, default=100, help="sending.batch_size (100)")
    parser.add_argument("--timeout-s", type=float, default=1800.0, help="bound per send")
    args = parser.parse_args(argv)
    print(lib.machine())
    print(f"load average before: {lib.load()}", flush=True)
    WORK.mkdir(parents=True, exist_ok=True)
    results = [_measure(args, int(size)) for size in args.sizes.split(",")]
    print(f"load average after: {lib.load()}\n")
    print(_table(args, results))
    return 0


def _measure(args: argparse.Namespace, recipients: int) -> Result:
    tag = lib.stamp()
    campaign_id = f"bench-mem-{recipients}"
    campaign = lib.write_campaign(
        WORK / f"campaign-{recipients}.yaml", campaign_id, lib.valid_list(recipients)
    )
    with (
        lib.fresh_database(args.db, f"bench_mem_{tag}") as url,
        lib.SimulatorProcess(0) as sim,
    ):
        config = lib.write_config(
            WORK / f"config-{tag}.yaml", url, args.batch_size, 64, 1e6, 100_000
        )
        command = [lib.dispatcher_bin(), "send", str(campaign), "--occurrence", f"mem-{tag}"]
        print(f"{recipients:,} recipients: {' '.join(command)}", flush=True)
        started = time.time()
        process = subprocess.Popen(
            command, cwd=WORK, env=lib.send_env(sim.url, config), stdout=subprocess.DEVNULL
        )
        samples, status, usage = _sample(process.pid, started, args.timeout_s)
        wall = time.time() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        config.unlink()
        if process.returncode != 0:
            raise SystemExit(f"dispatcher send exited {process.returncode}")
        phase = lib.read_phase(url, campaign_id, f"mem-{tag}")
    assert phase.first_sending is not None
    sending_from = phase.first_sending.timestamp() - started
    peak_at, peak = max(samples, key=lambda sample: sample[1])
    settled = [rss for at, rss in samples if at >= sending_from + SETTLE_S]
    result = Result(
        recipients,
        usage.ru_maxrss / 1024,
        peak,
        peak_at,
        sending_from,
        settled[0] if settled else float("nan"),
        samples[-1][1],
        wall,
        phase.accepted / phase.sending_s,
    )
    print(f"  {result}", flush=True)
    return result


def _sample(
    pid: int, started: float, timeout_s: float
) -> tuple[list[tuple[float, float]], int, resource.struct_rusage]:
    """(seconds since start, RSS MiB) of the process until it ends (bounded); then its exit
    status and resource usage (``wait4``, so ``ru_maxrss`` is the kernel's)."""
    samples: list[tuple[float, float]] = []
    while True:
        done, status, usage = os.wait4(pid, os.WNOHANG)
        if done:
            return samples, status, usage
        if time.time() - started > timeout_s:
            os.kill(pid, signal.SIGKILL)
            os.wait4(pid, 0)
            raise SystemExit(f"dispatcher send took over {timeout_s} s")
        try:
            rss, _ = lib.rss_mib(pid)
        except (OSError, ValueError):
            rss = 0.0  # ending meanwhile
        samples.append((time.time() - started, rss))
        time.sleep(SAMPLE_EVERY_S)


def _table(args: argparse.Namespace, results: list[Result]) -> str:
    lines = [
        f"dispatcher send, {args.db}, simulator at 0 ms, concurrency 64, batch {args.batch_size}",
        f"{'recipients':>11} {'max RSS MiB':>12} {'sampled peak':>13} {'peak at s':>10} "
        f"{'sending from s':>15} {'RSS sending':>12} {'RSS at end':>11} {'wall s':>8} "
        f"{'sending msg/s':>14}",
    ]
    for r in results:
        lines.append(
            f"{r.recipients:11,} {r.max_rss_mib:12.1f} {r.peak_sampled_mib:13.1f} "
            f"{r.peak_at_s:10.1f} {r.first_sending_s:15.1f} {r.rss_sending_mib:12.1f} "
            f"{r.rss_last_mib:11.1f} {r.wall_s:8.1f} {r.sending_rate:14,.0f}"
        )
    if len(results) > 1:
        ratio = results[-1].max_rss_mib / results[0].max_rss_mib
        lines.append(
            f"max RSS {results[-1].recipients:,} ÷ {results[0].recipients:,}: {ratio:.2f} "
            f"({'PASS' if ratio <= 1.10 else 'FAIL'}: the same within 10 %)"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
