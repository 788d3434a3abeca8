"""Benchmark: ``dispatcher plan`` of a 1,000,000-row list (and a 100,000-row one), with a baseline.

    .venv/bin/python bench/plan_1m.py              # 100k and 1M rows, 3 runs each
    .venv/bin/python bench/plan_1m.py --runs 5 --rows 1000000

The issue's target: plan a 1,000,000-row list (normalize, deduplicate, exclude, count) in at
most 10 s and 150 MiB. Lists are generated once by make_sample_list.py (fictitious numbers, the
sample's mix: ~9% invalid, duplicate or excluded) into bench/out/ (ignored by git), next to a
campaign file using them. Each ``dispatcher plan`` runs as its own process; the table shows the
median, fastest and slowest wall time, the median CPU time (user + system, worker processes
included: on a busy machine wall time is mostly waiting), the largest resident set of any one
process (what ``/usr/bin/time`` calls maximum resident set size) and the peak proportional set
size of all its processes together, sampled every 20 ms (shared pages counted once).

The baseline, measured in the same run, is the plain loop the issue mentions: read the file with
the csv module and call ``phonenumbers.parse(cell, "VN")`` and ``is_valid_number`` on each cell.
It does less than plan (no cleaning, no old prefixes, no deduplication or exclusion).
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import re
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
GENERATOR = ROOT / "bench" / "make_sample_list.py"
SAMPLE_INTERVAL_S = 0.02
CAMPAIGN = """\
id: bench-plan-{rows}
title: Benchmark {rows} rows
unit: UBND huyện Văn Quan
sms:
  text: >-
    UBND H.Văn Quan: từ 0h 16/10/2024 máy chỉ dùng 2G sẽ bị khóa, không gọi, nhắn tin được.
    Hãy đổi sang máy 4G, giữ nguyên số. Hỏi UBND xã hoặc cửa hàng nhà mạng.
  encoding: ascii
  max_segments: 1
  sender: VANQUAN
  recipients: [list-{rows}.csv]
  exclude: [opted-out-{rows}.csv]
"""


@dataclass(frozen=True)
class Run:
    wall_s: float
    cpu_s: float
    max_rss_mib: float  # the largest of the process and the children it waited for
    peak_pss_mib: float  # all processes of the run together, sampled
    output: str


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, action="append", help="list size (repeatable)")
    parser.add_argument("--runs", type=int, default=3, help="plan runs per size (default 3)")
    parser.add_argument("--no-baseline", action="store_true", help="skip the phonenumbers loop")
    parser.add_argument("--baseline-file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.baseline_file:
        return _baseline_loop(args.baseline_file)
    sizes = args.rows or [100_000, 1_000_000]
    print(_machine())
    print(f"load average before: {_load()}")
    lines = [_header()]
    for rows in sizes:
        campaign = _prepare(rows)
        runs = [_measure([_dispatcher(), "plan", str(campaign)]) for _ in range(args.runs)]
        print(f"\n{rows:,} rows: {runs[-1].output.splitlines()[1]}")
        lines.append(_row(f"dispatcher plan, {rows:,} rows", runs))
        if not args.no_baseline:
            baseline = [sys.executable, __file__, "--baseline-file", str(_list_path(rows))]
            lines.append(_row(f"baseline loop, {rows:,} rows", [_measure(baseline)]))
    print(f"load average after: {_load()}\n")
    print("\n".join(lines))
    return 0


# --- inputs -------------------------------------------------------------------------------------


def _list_path(rows: int) -> Path:
    return OUT / f"list-{rows}.csv"


def _prepare(rows: int) -> Path:
    """Generate the list and its opt-out list unless they exist; write the campaign file."""
    if not _list_path(rows).exists():
        opted_out = OUT / f"opted-out-{rows}.csv"
        command = [sys.executable, str(GENERATOR), "--rows", str(rows)]
        command += ["--out", str(_list_path(rows)), "--opted-out", str(opted_out)]
        print(f"generating {_list_path(rows)} ...", flush=True)
        subprocess.run(command, check=True)
    campaign = OUT / f"plan-{rows}.yaml"
    campaign.write_text(CAMPAIGN.format(rows=rows), encoding="utf-8")
    return campaign


def _dispatcher() -> str:
    script = Path(sys.executable).parent / "dispatcher"
    if not script.exists():
        raise SystemExit(f"{script} not found: run this with the project's .venv/bin/python")
    return str(script)


# --- measuring ----------------------------------------------------------------------------------


def _measure(command: list[str]) -> Run:
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, cwd=ROOT, text=True)
    peak = _PeakPss(process.pid)
    peak.start()
    output = process.stdout.read() if process.stdout else ""
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    peak.stop()
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed with exit code {process.returncode}")
    cpu = usage.ru_utime + usage.ru_stime
    return Run(wall, cpu, usage.ru_maxrss / 1024, peak.mib, output)


class _PeakPss(threading.Thread):
    """Samples the proportional set size of a process and its descendants."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.mib, self._done = pid, 0.0, threading.Event()

    def run(self) -> None:
        while not self._done.wait(SAMPLE_INTERVAL_S):
            self.mib = max(self.mib, sum(map(_pss_kib, _tree(self.pid))) / 1024)

    def stop(self) -> None:
        self._done.set()
        self.join()


def _tree(pid: int) -> list[int]:
    pids, index = [pid], 0
    while index < len(pids):
        try:
            for task in Path(f"/proc/{pids[index]}/task").iterdir():
                pids += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            pass  # gone meanwhile
        index += 1
    return pids


def _pss_kib(pid: int) -> int:
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0
    match = re.search(r"^Pss:\s+(\d+) kB", text, re.MULTILINE)
    return int(match.group(1)) if match else 0


def _baseline_loop(path: Path) -> int:
    """The issue's baseline: parse and validate every phone cell with phonenumbers, nothing else."""
    import phonenumbers

    valid = 0
    with path.open(encoding="utf-8", newline="") as stream:
        rows = csv.reader(stream)
        phone_at = next(rows).index("phone")
        for row in rows:
            try:
                number = phonenumbers.parse(row[phone_at], "VN")
            except phonenumbers.NumberParseException:
                continue
            valid += phonenumbers.is_valid_number(number)
    print(f"baseline\n{valid:,} numbers valid for phonenumbers")
    return 0


# --- output -------------------------------------------------------------------------------------


def _header() -> str:
    columns = "median s   fastest   slowest   median CPU s   max RSS MiB   peak PSS MiB   runs"
    return f"{'':34} {columns}"


def _row(label: str, runs: list[Run]) -> str:
    walls = [run.wall_s for run in runs]
    cpu = statistics.median(run.cpu_s for run in runs)
    rss = max(run.max_rss_mib for run in runs)
    pss = max(run.peak_pss_mib for run in runs)
    return (
        f"{label:34} {statistics.median(walls):8.2f} {min(walls):9.2f} {max(walls):9.2f} "
        f"{cpu:14.2f} {rss:13.0f} {pss:14.0f} {len(runs):6}"
    )


def _machine() -> str:
    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        found = re.search(r"^model name\s*:\s*(.+)$", cpuinfo.read_text(), re.MULTILINE)
        model = found.group(1) if found else ""
    cores = len(os.sched_getaffinity(0))
    python = platform.python_version()
    return f"{platform.platform()}, {cores} CPUs ({model}), Python {python}"


def _load() -> str:
    return " ".join(f"{load:.2f}" for load in os.getloadavg())


if __name__ == "__main__":
    sys.exit(main())
