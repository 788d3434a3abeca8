"""Benchmark: what the audit chain costs ``dispatcher send``, two checkouts measured side by side.

    git worktree add --detach /tmp/before e44efcb^ && git worktree add --detach /tmp/after HEAD
    (cd /tmp/before && python3 -m venv .venv && .venv/bin/pip install -q -e .)   # same for after
    /tmp/after/.venv/bin/python bench/chain_cost.py \\
        --python before=/tmp/before/.venv/bin/python --python after=/tmp/after/.venv/bin/python \\
        --latency-ms 0 --db both --repeats 5 --trace

Each ``--python NAME=PATH`` is a checkout's own venv (installed editable from that checkout, so
its ``dispatcher`` runs that checkout's code; a worktree, because PYTHONPATH does not override
an editable install). The first one is the baseline of the ratios.

Per round and latency, one simulator process (this script's venv) serves every send of the
round; then, for each database, one durable send per checkout, in the order given (before,
after, before, after ...): exactly throughput.py's durable measurement (``_durable``: fresh
database, 20,000 recipients, concurrency 64, batch 100, pacing off, ``DISPATCHER_QUIET_HOURS``
off), with that checkout's ``dispatcher`` for ``send`` (and for ``db upgrade`` on PostgreSQL).
**msg/s** is the sending phase read from the delivery log (first ``sending`` to last
``accepted``); **whole cmd** is over the whole command (it includes writing and, after the
chain, chaining the 20,000 ``pending`` events); **CPU s/1k** is the send process's CPU time per
1,000 messages; **paired** is the median over rounds of each round's ratio to the first
checkout's send in the same round (a shared machine's load drifts between rounds, less within
one, so this is steadier than the ratio of medians).

``--trace`` then runs one more send per checkout and database (0 ms), in a child process of the
checkout's python that wraps ``UnitOfWork.commit`` (and the chain's ``seal`` where it exists)
with timers before calling the CLI (monkeypatched in memory; nothing in ``dispatcher/``
changes), and reports, over the sending phase only, commits, ms per commit, and the seal's ms
per call and µs per chained record.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import benchlib as lib
import throughput

WORK = lib.OUT / "chain-cost"


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.trace_child:
        return _trace_child(*args.trace_child)
    pythons = dict(_variant(text) for text in args.python)
    if len(pythons) < 2:
        raise SystemExit("give at least two --python NAME=PATH")
    dbs = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    WORK.mkdir(parents=True, exist_ok=True)
    print(lib.machine())
    for name, python in pythons.items():
        print(f"{name}: {python} -> {_checkout(python)}")
    print(time.strftime("started %Y-%m-%d %H:%M:%S %Z"))
    print(f"load average before: {lib.load()}", flush=True)
    campaign = lib.write_campaign(
        WORK / f"campaign-{args.count}.yaml", f"bench-tp-{args.count}", lib.valid_list(args.count)
    )
    tables = []
    for latency in args.latency_ms or [0.0]:
        series = _rounds(args, latency, dbs, pythons, campaign)
        tables.append(_table(args, latency, dbs, pythons, series))
        print("\n" + tables[-1], flush=True)
    if args.trace:
        tables.append(_traces(args, dbs, pythons))
        print("\n" + tables[-1], flush=True)
    print(f"\nload average after: {lib.load()}")
    print(time.strftime("finished %Y-%m-%d %H:%M:%S %Z"))
    print("\n" + "\n\n".join(tables))
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--python", action="append", default=[], metavar="NAME=PATH")
    parser.add_argument("--latency-ms", type=float, action="append", help="default: 0")
    parser.add_argument("--count", type=int, default=20_000, help="recipients (20,000)")
    parser.add_argument("--repeats", type=int, default=3, help="rounds (default 3)")
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--batch-size", type=int, default=throughput.DEFAULT_BATCH)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--timeout-s", type=float, default=900.0, help="bound per send")
    parser.add_argument("--trace", action="store_true", help="then time commits and seals")
    parser.add_argument("--trace-child", nargs=3, help=argparse.SUPPRESS)
    return parser


def _variant(text: str) -> tuple[str, str]:
    name, _, python = text.partition("=")
    script = Path(python).parent / "dispatcher"
    if not name or not script.exists():
        raise SystemExit(f"--python {text}: expected NAME=PATH to a venv's python with dispatcher")
    return name, python


def _checkout(python: str) -> str:
    """Where that venv's dispatcher package comes from, and the commit there."""
    where = subprocess.run(
        [
            python,
            "-c",
            "import dispatcher, pathlib; print(pathlib.Path(dispatcher.__file__)"
            ".resolve().parents[1])",
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd="/",
    ).stdout.strip()
    head = subprocess.run(
        ["git", "-C", where, "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "-C", where, "status", "--short", "dispatcher", "cli.py"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    return f"{where} @ {head}" + (" + uncommitted changes" if dirty else "")


def _with_python(python: str) -> Any:
    """Point benchlib's ``dispatcher`` (send, db upgrade) at one checkout's venv."""
    script = str(Path(python).parent / "dispatcher")
    lib.dispatcher_bin = lambda: script  # type: ignore[assignment]


def _rounds(
    args: argparse.Namespace,
    latency: float,
    dbs: list[str],
    pythons: dict[str, str],
    campaign: Path,
) -> dict[tuple[str, str], throughput.Series]:
    own = lib.dispatcher_bin
    series = {(db, name): throughput.Series(f"{db} {name}") for db in dbs for name in pythons}
    for round_ in range(1, args.repeats + 1):
        print(f"\n{latency:g} ms, round {round_}/{args.repeats} (load {lib.load()})", flush=True)
        with lib.SimulatorProcess(latency) as sim:
            for db in dbs:
                for name, python in pythons.items():
                    _with_python(python)
                    try:
                        sample = throughput._durable(args, sim, db, args.batch_size, campaign)
                    finally:
                        lib.dispatcher_bin = own  # type: ignore[assignment]
                    series[(db, name)].samples.append(sample)
                    print(
                        f"  {db} {name}: {sample.rate:,.0f}/s sending, "
                        f"{sample.whole_rate:,.0f}/s whole command, "
                        f"CPU {sample.cpu_per_1k_s:.2f} s/1k",
                        flush=True,
                    )
    return series


def _table(
    args: argparse.Namespace,
    latency: float,
    dbs: list[str],
    pythons: dict[str, str],
    series: dict[tuple[str, str], throughput.Series],
) -> str:
    base = next(iter(pythons))
    lines = [
        f"simulator latency {latency:g} ms; {args.count:,} recipients, batch {args.batch_size}, "
        f"concurrency {args.concurrency}; medians of {args.repeats} interleaved rounds",
        f"| database | code | msg/s | min | max | ÷ {base} | whole cmd msg/s | ÷ {base} "
        f"| CPU s/1k | ÷ {base} | ms/msg | paired ÷ {base}: msg/s, CPU |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for db in dbs:
        first = series[(db, base)]
        for name in pythons:
            one = series[(db, name)]
            rates = [s.rate for s in one.samples]
            rate, whole, cpu = one.median(), one.median("whole_rate"), one.median("cpu_per_1k_s")
            lines.append(
                f"| {db} | {name} | {rate:,.0f} | {min(rates):,.0f} | {max(rates):,.0f} "
                f"| {rate / first.median():.2f} | {whole:,.0f} "
                f"| {whole / first.median('whole_rate'):.2f} | {cpu:.2f} "
                f"| {cpu / first.median('cpu_per_1k_s'):.2f} | {1000 / rate:.3f} "
                f"| {_paired(one, first, 'rate'):.2f}, {_paired(one, first, 'cpu_per_1k_s'):.2f} |"
            )
    return "\n".join(lines)


def _paired(one: throughput.Series, base: throughput.Series, attribute: str) -> float:
    """Median over rounds of this round's value ÷ the baseline's in the same round: robust to
    the load drifting between rounds (both sends of a round ran within a minute)."""
    pairs = zip(one.samples, base.samples, strict=True)
    return statistics.median(getattr(a, attribute) / getattr(b, attribute) for a, b in pairs)


# --- --trace: commits and seals timed in the send process --------------------------------------


def _traces(args: argparse.Namespace, dbs: list[str], pythons: dict[str, str]) -> str:
    lines = [
        f"traced sends (0 ms, {args.count:,} recipients, batch {args.batch_size}); sending "
        "phase only; one send each",
        "| database | code | msg/s | commits | ms/commit | seals with records | ms/seal "
        "| records/seal | µs/record | seal share of commit time |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    campaign = lib.write_campaign(
        WORK / f"campaign-{args.count}.yaml", f"bench-tp-{args.count}", lib.valid_list(args.count)
    )
    own = lib.dispatcher_bin
    for db in dbs:
        for name, python in pythons.items():
            _with_python(python)
            try:
                lines.append(_trace_one(args, db, name, python, campaign))
            finally:
                lib.dispatcher_bin = own  # type: ignore[assignment]
            print(f"  traced: {lines[-1]}", flush=True)
    return "\n".join(lines)


def _trace_one(args: argparse.Namespace, db: str, name: str, python: str, campaign: Path) -> str:
    tag = lib.stamp()
    out = WORK / f"trace-{tag}.json"
    with (
        lib.fresh_database(db, f"bench_cc_{tag}") as url,
        lib.SimulatorProcess(0.0) as sim,
    ):
        config = lib.write_config(
            WORK / f"config-{tag}.yaml", url, args.batch_size, args.concurrency, 1e6, 100_000
        )
        command = [python, __file__, "--trace-child", str(campaign), f"bench-{tag}", str(out)]
        done = subprocess.run(
            command, cwd=WORK, env=lib.send_env(sim.url, config), capture_output=True, text=True
        )
        config.unlink()
        if done.returncode != 0:
            raise SystemExit(f"traced send failed:\n{done.stderr[-2000:]}")
        phase = lib.read_phase(url, f"bench-tp-{args.count}", f"bench-{tag}")
    events = json.loads(out.read_text())
    assert phase.first_sending and phase.last_accepted
    start, end = phase.first_sending.timestamp(), phase.last_accepted.timestamp()
    commits = [c for c in events["commit"] if start <= c[0] <= end]
    seals = [s for s in events["seal"] if start <= s[0] <= end and s[2] > 0]
    commit_ms = statistics.mean(c[1] - c[0] for c in commits) * 1000 if commits else 0.0
    if not seals:
        return (
            f"| {db} | {name} | {phase.accepted / phase.sending_s:,.0f} | {len(commits)} "
            f"| {commit_ms:.2f} | – | – | – | – | – |"
        )
    seal_s = sum(s[1] - s[0] for s in seals)
    records = sum(s[2] for s in seals)
    share = seal_s / sum(c[1] - c[0] for c in commits) * 100
    return (
        f"| {db} | {name} | {phase.accepted / phase.sending_s:,.0f} | {len(commits)} "
        f"| {commit_ms:.2f} | {len(seals)} | {seal_s / len(seals) * 1000:.2f} "
        f"| {records / len(seals):.1f} | {seal_s / records * 1e6:.0f} | {share:.0f} % |"
    )


def _trace_child(campaign: str, key: str, out: str) -> int:
    """``dispatcher send`` in this process, ``UnitOfWork.commit`` (and ``seal``) timed."""
    import cli
    from dispatcher.store import uow

    events: dict[str, list[list[float]]] = {"commit": [], "seal": []}
    original_commit = uow.UnitOfWork.commit

    def commit(self: Any) -> None:
        started = time.time()
        try:
            original_commit(self)
        finally:
            events["commit"].append([started, time.time()])

    uow.UnitOfWork.commit = commit  # type: ignore[method-assign]
    original_seal = getattr(uow, "seal", None)
    if original_seal is not None:

        def seal(session: Any) -> None:
            pending = session.info.get("audit_chain") or {}
            noted = sum(  # ids read back, values handed over, and INSERT ... SELECTs
                len(p.ids | set(getattr(p, "records", {}))) + len(getattr(p, "selections", []))
                for p in pending.values()
            )
            started = time.time()
            try:
                original_seal(session)
            finally:
                events["seal"].append([started, time.time(), noted])

        uow.seal = seal  # type: ignore[attr-defined]
    sys.argv = ["dispatcher", "send", campaign, "--occurrence", key]
    try:
        cli.main()
    except SystemExit as exc:
        Path(out).write_text(json.dumps(events))
        return int(exc.code or 0)
    Path(out).write_text(json.dumps(events))
    return 0


if __name__ == "__main__":
    sys.exit(main())
