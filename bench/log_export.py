"""Benchmark: `dispatcher log` exported as CSV (and .xlsx) for 100,000 and 1,000,000 deliveries.

    .venv/bin/python bench/log_export.py                       # SQLite and PostgreSQL, 3 runs
    .venv/bin/python bench/log_export.py --db sqlite --runs 5 --xlsx

For each database and size, a fresh database gets one occurrence of N recipients (materialized
as the scheduler does; not timed). Then, in the same round, each measured as a child process
(wall time, and its peak resident set from ``wait4``):

- ``dispatcher log --format csv --out FILE`` (and ``--format xlsx`` with ``--xlsx``);
- the baseline: a plain script that streams ``SELECT`` of the same columns through the DB-API
  driver into ``csv.writer`` (what the command costs beyond reading the rows).

Targets (issue 14): 1M rows as CSV in under 30 s, and the same peak memory for 100k and 1M
(within 10 %): the export is streamed.
"""

from __future__ import annotations

import argparse
import sys

import benchlib as lib

WORK = lib.OUT / "log-export"
CAMPAIGN_ID = "bench-log"
BASELINE = """
import csv, sys
url, out = sys.argv[1], sys.argv[2]
query = ("SELECT d.campaign_id, o.key, d.phone, d.status, d.provider_id, d.attempts, "
         "d.error_code, d.error_message, d.sent_at, d.updated_at FROM deliveries d "
         "JOIN occurrences o ON o.id = d.occurrence_id ORDER BY d.id")
if url.startswith("sqlite"):
    import sqlite3
    connection = sqlite3.connect(url.removeprefix("sqlite:///"))
    cursor = connection.execute(query)
else:
    import psycopg
    connection = psycopg.connect(url)
    cursor = connection.cursor(name="export")
    cursor.itersize = 1000
    cursor.execute(query)
with open(out, "w", newline="", encoding="utf-8") as stream:
    writer = csv.writer(stream)
    for row in cursor:
        writer.writerow(row)
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--xlsx", action="store_true", help="also time --format xlsx")
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
            with lib.fresh_database(db, f"bench_log_{tag}") as url:
                lib.materialize_in_child(url, campaign)
                kinds = ["csv", "baseline"] + (["xlsx"] if args.xlsx else [])
                for run in range(1, args.runs + 1):
                    for kind in kinds:
                        measured = _measure(url, kind)
                        results.setdefault((db, size, kind), []).append(measured)
                        print(f"  {db} {size:,} {kind} run {run}: {measured[0]:.1f} s, "
                              f"{measured[1]:.1f} MiB, CPU {measured[2]:.1f} s",
                              flush=True)  # fmt: skip
    print(f"\nload average after: {lib.load()}")
    lib.print_medians(results, "rows", "export")
    return 0


def _measure(url: str, kind: str) -> tuple[float, float, float]:
    """(wall seconds, peak RSS MiB, CPU seconds) of one export in a child process. CPU time is
    what to compare on a shared machine: wall time also counts the time others took."""
    out = WORK / f"export.{'xlsx' if kind == 'xlsx' else 'csv'}"
    if kind == "baseline":
        command = [sys.executable, "-c", BASELINE, url, str(out)]
    else:
        command = [lib.dispatcher_bin(), "log", "--format", kind, "--out", str(out)]
    return lib.measure_child(command, url, WORK)


if __name__ == "__main__":
    sys.exit(main())
