"""Benchmark: `dispatcher log verify` over 100,000 and 1,000,000 chained records.

    .venv/bin/python bench/log_verify.py                       # SQLite and PostgreSQL, 3 runs
    .venv/bin/python bench/log_verify.py --db sqlite --sizes 100000,1000000,10000000

For each database and size, a fresh database gets one occurrence of N recipients (materialized
as the scheduler does, which writes and chains N ``pending`` events; not timed). Then, in the
same round, each measured as a child process (wall time, peak resident set and CPU time from
``wait4``):

- ``dispatcher log verify --jobs 1`` (one process);
- ``dispatcher log verify`` (as many processes as CPUs: its CPU time here is the parent's only,
  the walking processes are not its children; compare wall times);
- the baseline: a plain script that streams the same records through the DB-API driver and
  hashes each with hashlib (what reading and hashing cost, without the chain's checks).

Targets (issue 14): 10 million records in under 60 s, in constant memory.
"""

from __future__ import annotations

import argparse
import sys

import benchlib as lib

WORK = lib.OUT / "log-verify"
CAMPAIGN_ID = "bench-verify"
BASELINE = """
import hashlib, sys
url = sys.argv[1]
query = ("SELECT id, at, delivery_id, campaign_id, occurrence_key, phone, status, attempt, "
         "segments, provider_id, error_code, detail FROM delivery_log ORDER BY id")
if url.startswith("sqlite"):
    import sqlite3
    connection = sqlite3.connect(url.removeprefix("sqlite:///"))
    cursor = connection.execute(query)
else:
    import psycopg
    connection = psycopg.connect(url)
    cursor = connection.cursor(name="verify")
    cursor.itersize = 5000
    cursor.execute(query)
previous = bytes(32)
for row in cursor:
    previous = hashlib.sha256(previous + repr(row).encode()).digest()
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    WORK.mkdir(parents=True, exist_ok=True)
    lib.print_header()
    results: dict[tuple[str, int, str], list[tuple[float, float, float]]] = {}
    for db in ["sqlite", "postgresql"] if args.db == "both" else [args.db]:
        for size in (int(s) for s in args.sizes.split(",")):
            tag = lib.stamp()
            campaign = lib.write_due_campaign(
                WORK / f"campaign-{tag}.yaml", CAMPAIGN_ID, lib.valid_list(size)
            )
            with lib.fresh_database(db, f"bench_verify_{tag}") as url:
                lib.materialize_in_child(url, campaign)
                kinds = ["verify-1", "verify", "baseline"]
                for run in range(1, args.runs + 1):
                    for kind in kinds:
                        measured = _measure(url, kind)
                        results.setdefault((db, size, kind), []).append(measured)
                        print(f"  {db} {size:,} {kind} run {run}: {measured[0]:.1f} s, "
                              f"{measured[1]:.1f} MiB, CPU {measured[2]:.1f} s",
                              flush=True)  # fmt: skip
    print(f"\nload average after: {lib.load()}")
    lib.print_medians(results, "records", "run")
    return 0


def _measure(url: str, kind: str) -> tuple[float, float, float]:
    """(wall seconds, peak RSS MiB, CPU seconds) of one walk in a child process. CPU time is
    what to compare on a shared machine: wall time also counts the time others took."""
    if kind == "baseline":
        command = [sys.executable, "-c", BASELINE, url]
    else:
        jobs = ["--jobs", "1"] if kind == "verify-1" else []
        command = [lib.dispatcher_bin(), "log", "verify", *jobs]
    return lib.measure_child(command, url, WORK)


if __name__ == "__main__":
    sys.exit(main())
