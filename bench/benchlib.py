"""Shared pieces of the sending benchmarks (throughput.py, soak.py, memory.py, workers.py, …).

A simulator started as its own process (so it never shares the GIL with what is measured), lists
of valid fictitious numbers, campaign and config files, fresh databases, and /proc readings.
Everything is written under bench/out/ (ignored by git); all traffic stays on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import platform
import re
import secrets
import select
import signal
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from make_sample_list import CURRENT_PREFIXES

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# Made up for the benchmarks: the simulator accepts exactly these; nothing real is involved.
ACCOUNT_SID = "AC" + "b" * 32
AUTH_TOKEN = secrets.token_hex(16)
# One GSM-7 segment (115 characters): the sample notice, already without diacritics, so the
# baselines send exactly what the dispatcher sends.
TEXT = (
    "UBND H.Van Quan: tu 16/10/2024 may chi dung 2G se khong goi, nhan tin duoc. "
    "Hay doi sang may 4G, giu nguyen so."
)
# Today's 9-digit mobile prefixes, each given to an operator.
PREFIXES = [prefix for group in CURRENT_PREFIXES.values() for prefix in group]
SUFFIXES = 10**7
SPREAD = 7_654_321  # odd and not a multiple of 5: a permutation of the 7-digit suffixes


def dispatcher_bin() -> str:
    script = Path(sys.executable).parent / "dispatcher"
    if not script.exists():
        raise SystemExit(f"{script} not found: run this with the project's .venv/bin/python")
    return str(script)


# --- inputs -------------------------------------------------------------------------------------


def number(i: int) -> str:
    """The i-th fictitious valid Vietnamese mobile number, E.164; distinct for i < 320 million."""
    prefix = PREFIXES[i % len(PREFIXES)]
    suffix = (i // len(PREFIXES) * SPREAD + 1_234_567) % SUFFIXES
    return f"+84{prefix}{suffix:07d}"


def valid_list(rows: int) -> Path:
    """A CSV of ``rows`` distinct valid numbers (written once, in national format)."""
    path = OUT / f"valid-{rows}.csv"
    if not path.exists():
        OUT.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".tmp")
        with partial.open("w", encoding="utf-8") as stream:
            stream.write("phone\n")
            for i in range(rows):
                stream.write("0" + number(i)[3:] + "\n")
        partial.rename(path)
    return path


def write_campaign(
    path: Path, campaign_id: str, recipients: Path, senders: list[str] | None = None
) -> Path:
    """One-segment notice to ``recipients``; one sender is ``sender: X``, more a pool."""
    who = f"senders: [{', '.join(senders)}]" if senders and len(senders) > 1 else "sender: BENCH"
    if senders and len(senders) == 1:
        who = f"sender: {senders[0]}"
    path.write_text(
        f"id: {campaign_id}\n"
        f"title: Benchmark {campaign_id}\n"
        "unit: UBND huyện Văn Quan\n"
        "sms:\n"
        f"  text: {json.dumps(TEXT, ensure_ascii=False)}\n"
        "  encoding: ascii\n"
        "  max_segments: 1\n"
        f"  {who}\n"
        f"  recipients: [{recipients}]\n",
        encoding="utf-8",
    )
    return path


def write_due_campaign(path: Path, campaign_id: str, recipients: Path) -> Path:
    """Like :func:`write_campaign`, scheduled once a minute ago (Asia/Ho_Chi_Minh, the campaigns'
    default zone): due now, well within the grace period, for ``services.schedule_due``."""
    at = (datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")) - timedelta(minutes=1)).strftime(
        "%Y-%m-%d %H:%M"
    )
    write_campaign(path, campaign_id, recipients)
    with path.open("a", encoding="utf-8") as stream:  # `sms:` is the file's last block
        stream.write(f"  schedule:\n    at: ['{at}']\n")
    return path


def schedule_due(database_url: str, campaign: Path) -> int:
    """Migrate the database and materialize the campaign's due occurrence in this process, as
    the scheduler does (``services.schedule_due``); returns how many occurrences it made."""
    from dispatcher.bootstrap import runtime
    from dispatcher.sending import send as services
    from dispatcher.settings.config import Settings

    settings = Settings.model_validate(
        {"database_url": database_url, "sending": {"quiet_hours": "off"}}
    )
    with runtime(settings, migrate=True) as rt:
        return len(services.schedule_due(rt, campaign).materialized)


def write_config(
    path: Path,
    database_url: str,
    batch_size: int,
    concurrency: int,
    rate_per_sender: float,
    burst_segments: int = 10,
    quiet_hours: str | None = None,
) -> Path:
    quiet = f"  quiet_hours: '{quiet_hours}'\n" if quiet_hours is not None else ""
    path.write_text(
        f"database_url: {database_url}\n"
        "gateway: twilio\n"
        "sending:\n"
        f"  batch_size: {batch_size}\n"
        f"  concurrency: {concurrency}\n"
        f"  rate_per_sender: {rate_per_sender}\n"
        f"  burst_segments: {burst_segments}\n" + quiet,
        encoding="utf-8",
    )
    return path


def send_env(base_url: str, config: Path) -> dict[str, str]:
    """The environment of ``dispatcher send`` pointed at the simulator process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "DISPATCHER_"))}
    env.update(credentials())
    env |= {
        "DISPATCHER_CONFIG": str(config),
        "DISPATCHER_GATEWAY": "twilio",
        "TWILIO_API_BASE_URL": base_url,
        # Measured at any hour: quiet hours (21:00-07:00 in Vietnam) would hold every message.
        "DISPATCHER_QUIET_HOURS": "off",
    }
    return env


def credentials() -> dict[str, str]:
    return {"TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN}


# --- the simulator process ----------------------------------------------------------------------


class SimulatorProcess:
    """``dispatcher simulator`` on a free loopback port, for the length of a ``with`` block."""

    START_TIMEOUT_S = 30.0

    def __init__(self, latency_ms: float, record: Path | None = None) -> None:
        self.latency_ms = latency_ms
        self.record = record
        self.url = ""
        self._process: subprocess.Popen[str] | None = None

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    def __enter__(self) -> SimulatorProcess:
        command = [dispatcher_bin(), "simulator", "--host", "127.0.0.1", "--port", "0"]
        command += ["--latency-ms", str(self.latency_ms), "--no-callbacks"]
        if self.record is not None:
            command += ["--record", str(self.record)]
        env = {k: v for k, v in os.environ.items() if not k.startswith("TWILIO_")}
        self._process = subprocess.Popen(
            command, stdout=subprocess.PIPE, env=env | credentials(), text=True
        )
        self.url = self._read_url(self._process)
        return self

    def _read_url(self, process: subprocess.Popen[str]) -> str:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], self.START_TIMEOUT_S)
        line = process.stdout.readline().strip() if ready else ""
        if not line.startswith("http://127.0.0.1:"):
            process.kill()
            raise SystemExit(f"the simulator did not start (got {line!r})")
        return line

    def __exit__(self, *_exc: object) -> None:
        if self._process is not None:
            stop(self._process)


def stop(process: subprocess.Popen[str], timeout_s: float = 15.0, signal_it: bool = True) -> None:
    """SIGTERM (unless already sent: a second one interrupts ``dispatcher send``), then SIGKILL
    after ``timeout_s``: never leaves the process behind."""
    if process.poll() is None:
        if signal_it:
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- databases ----------------------------------------------------------------------------------


@contextmanager
def fresh_database(kind: str, name: str) -> Iterator[str]:
    """A new database (SQLite file or PostgreSQL database) at the current schema, removed
    afterwards. The schema is made here, outside what is measured, on both databases alike:
    an operator's database has it after the first command (on an empty SQLite file, that
    first command also runs the migrations: some 0.3 s more, once)."""
    if kind == "sqlite":
        path = OUT / "db" / f"{name}.sqlite3"
        path.parent.mkdir(parents=True, exist_ok=True)
        _remove_sqlite(path)
        try:
            _upgrade(f"sqlite:///{path}")
            yield f"sqlite:///{path}"
        finally:
            _remove_sqlite(path)
        return
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql://postgres@127.0.0.1:5432/{name}"
    _upgrade(url)  # on PostgreSQL only `dispatcher db upgrade` migrates (never raced by workers)
    try:
        yield url
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _upgrade(url: str) -> None:
    env = {**os.environ, "DISPATCHER_DB_URL": url}
    # From OUT, where no config.yaml is: the defaults of whichever checkout is measured (an
    # older one refuses the keys a newer config.yaml has).
    upgrade = [dispatcher_bin(), "db", "upgrade"]
    subprocess.run(upgrade, env=env, check=True, capture_output=True, cwd=OUT)


def _remove_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(str(path) + suffix).unlink(missing_ok=True)


@dataclass(frozen=True)
class Phase:
    """What the delivery log says about one occurrence."""

    materialized_at: datetime | None  # the `pending` events (outbox written)
    first_sending: datetime | None
    last_accepted: datetime | None
    accepted: int
    statuses: dict[str, int]

    @property
    def sending_s(self) -> float:
        if self.first_sending is None or self.last_accepted is None:
            return float("nan")
        return (self.last_accepted - self.first_sending).total_seconds()


PHASE_SQL = (
    "SELECT min(CASE WHEN status = 'pending' THEN at END),"
    " min(CASE WHEN status = 'sending' THEN at END),"
    " max(CASE WHEN status = 'accepted' THEN at END),"
    " sum(CASE WHEN status = 'accepted' THEN 1 ELSE 0 END)"
    " FROM delivery_log WHERE campaign_id = {p} AND occurrence_key = {p}"
)
COUNTS_SQL = (
    "SELECT d.status, count(*) FROM deliveries d JOIN occurrences o ON o.id = d.occurrence_id"
    " WHERE o.campaign_id = {p} AND o.key = {p} GROUP BY d.status"
)


def read_phase(database_url: str, campaign_id: str, key: str) -> Phase:
    """Sending phase of an occurrence: first ``sending`` event to last ``accepted`` one."""
    args = (campaign_id, key)
    if database_url.startswith("sqlite:///"):
        with sqlite3.connect(database_url.removeprefix("sqlite:///")) as db:
            row = db.execute(PHASE_SQL.format(p="?"), args).fetchone()
            counts = dict(db.execute(COUNTS_SQL.format(p="?"), args).fetchall())
    else:
        import psycopg

        with psycopg.connect(database_url) as db:
            row = db.execute(PHASE_SQL.format(p="%s"), args).fetchone()
            counts = dict(db.execute(COUNTS_SQL.format(p="%s"), args).fetchall())
    assert row is not None
    first, start, end, accepted = row
    return Phase(_utc(first), _utc(start), _utc(end), int(accepted or 0), counts)


def execute(database_url: str, statement: str) -> None:
    """Run one statement and commit (benchmark set-up only)."""
    if database_url.startswith("sqlite:///"):
        with sqlite3.connect(database_url.removeprefix("sqlite:///")) as db:
            db.execute(statement)
        return
    import psycopg

    with psycopg.connect(database_url) as db:
        db.execute(statement)


def status_totals(database_url: str) -> dict[str, int]:
    """Deliveries per status, all campaigns and occurrences together."""
    query = "SELECT status, count(*) FROM deliveries GROUP BY status"
    if database_url.startswith("sqlite:///"):
        with sqlite3.connect(database_url.removeprefix("sqlite:///")) as db:
            return dict(db.execute(query).fetchall())
    import psycopg

    with psycopg.connect(database_url) as db:
        return dict(db.execute(query).fetchall())


def _utc(value: datetime | str | None) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):  # SQLite keeps UTC as naive text
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# --- /proc --------------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a live process (its own threads, not its children)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime


def rss_mib(pid: int) -> tuple[float, float]:
    """(current resident set, its peak so far) of a live process, MiB."""
    text = Path(f"/proc/{pid}/status").read_text()
    now = re.search(r"^VmRSS:\s+(\d+) kB", text, re.MULTILINE)
    peak = re.search(r"^VmHWM:\s+(\d+) kB", text, re.MULTILINE)
    return (int(now.group(1)) / 1024 if now else 0.0, int(peak.group(1)) / 1024 if peak else 0.0)


def machine() -> str:
    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        found = re.search(r"^model name\s*:\s*(.+)$", cpuinfo.read_text(), re.MULTILINE)
        model = found.group(1) if found else ""
    cores = len(os.sched_getaffinity(0))
    return f"{platform.platform()}, {cores} CPUs ({model}), Python {platform.python_version()}"


def print_header() -> None:
    """What a run's figures are to be read against: the machine, the code, the load before."""
    print(machine())
    print(code_state())
    print(f"load average before: {load()}", flush=True)


def code_state() -> str:
    """The commit measured, and the files changed in the work tree on top of it."""

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout

    changed = [line[3:] for line in git("status", "--short", "dispatcher", "cli.py").splitlines()]
    head = git("rev-parse", "--short", "HEAD").strip()
    return f"code: {head}" + (f" + uncommitted {', '.join(changed)}" if changed else "")


def load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def stamp() -> str:
    return time.strftime("%H%M%S") + secrets.token_hex(2)


# --- measuring a command over an existing database (log_export.py, log_verify.py) ------------


def materialize_in_child(url: str, campaign: Path) -> None:
    """The campaign's due occurrence, in a child process: the parent stays small, and each
    measured child's peak (which counts what it inherits at fork) is its own."""
    script = "import sys, pathlib, benchlib; benchlib.schedule_due(*sys.argv[1:2], " \
             "pathlib.Path(sys.argv[2]))"  # fmt: skip
    subprocess.run([sys.executable, "-c", script, url, str(campaign)], check=True,
                   cwd=Path(__file__).parent)  # fmt: skip


def measure_child(command: list[str], url: str, cwd: Path) -> tuple[float, float, float]:
    """(wall seconds, peak RSS MiB, CPU seconds) of ``command`` run on the database ``url``.
    CPU time is what to compare on a shared machine: wall time also counts others' time."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DISPATCHER_")}
    env["DISPATCHER_DB_URL"] = url
    started = time.monotonic()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, cwd=cwd)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.monotonic() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {command}")
    return wall, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


def print_medians(
    results: dict[tuple[str, int, str], list[tuple[float, float, float]]], rows: str, run: str
) -> None:
    """The Markdown table of medians per (database, size, what was run)."""
    print(f"\n| database | {rows} | {run} | median time | median CPU | median peak RSS |")
    print("|---|---|---|---|---|---|")
    for (db, size, kind), runs in results.items():
        wall = statistics.median(r[0] for r in runs)
        rss = statistics.median(r[1] for r in runs)
        cpu = statistics.median(r[2] for r in runs)
        print(f"| {db} | {size:,} | {kind} | {wall:.1f} s | {cpu:.1f} s | {rss:.1f} MiB |")
