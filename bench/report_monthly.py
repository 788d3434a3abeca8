"""Benchmark: `dispatcher report monthly` over 1,000,000 and 10,000,000 delivery-log records.

    .venv/bin/python bench/report_monthly.py                     # PostgreSQL, 1M and 10M, 3 runs
    .venv/bin/python bench/report_monthly.py --db sqlite --sizes 1000000
    .venv/bin/python bench/report_monthly.py --sizes 10000000 --queries   # + each query, EXPLAIN
    .venv/bin/python bench/report_monthly.py --sizes 1000000 --fresh --xlsx

Set-up (not timed), once per database and size: a database at head schema (``dispatcher db
upgrade``), then the history generated with set-based SQL (``INSERT … SELECT`` over
``generate_series`` on PostgreSQL, a recursive CTE on SQLite; the product's own code paths would
take hours for 10M): 6 campaigns of 3 units, one occurrence per campaign and day from 5 days
before the month to 5 days after it, their deliveries and the delivery-log events the product
writes for each (``pending`` when materialized, ``sending`` when claimed, ``accepted`` with the
provider's id, then ``delivered`` (90 %) or ``undelivered`` (6 %); 4 % ``failed``: refused by the
provider, never accepted), the outbox rows consistent with them (status, ``sent_at``, error
code); ~3,000 planned airings of 24 communes, 85 % confirmed (most with a duration); 300
outreach activities with 30 corrections and 20 voids. Exactly SIZE ``delivery_log`` rows; the
audit chain stays empty (the report reads only its head). ANALYZE after loading. The database
is kept (PostgreSQL ``bench_report_SIZE``, SQLite ``bench/out/db/bench_report_SIZE.sqlite3``)
and reused by the next run of the same size and month; ``--fresh`` rebuilds it.

Measured, in the same round, each as a child process (wall time, peak resident set and CPU
time from ``wait4``), ``--runs`` rounds, medians:

- ``dispatcher report monthly --month M --format json`` (``DISPATCHER_DB_URL`` set, no config);
- the baseline: a plain DB-API script running the bare counting SQL (deliveries whose first
  reached-the-provider event is in the month, per unit): what the database alone needs;
- with ``--xlsx``, ``--format xlsx --out FILE`` once per round.

``--queries`` then runs the report once in this process, times every statement it sends and
prints each one's plan (PostgreSQL: ``EXPLAIN (ANALYZE, BUFFERS)``; SQLite: ``EXPLAIN QUERY
PLAN``), to see where the time goes.

Target (issue 14): the monthly report over 10 million log records on PostgreSQL in under 10 s.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import benchlib as lib

WORK = lib.OUT / "report-monthly"
VERSION = 1  # of the generated history: a kept database of another version is rebuilt
TZ = ZoneInfo("Asia/Ho_Chi_Minh")  # the default `timezone` (no config file is given)
UNITS = ["UBND huyện Văn Quan", "UBND huyện Bình Gia", "UBND huyện Tràng Định"]
CODES = ["VQ", "BG", "TD"]
SENDERS = ["UBND-VQ", "UBND-BG", None]  # one unit's messages go out under no sender name
CAMPAIGNS = 6  # campaign c belongs to unit c // 2
MARGIN_DAYS = 5  # history before and after the month, so the period filter matters
SCHEDULE_HOUR = 8  # local time of each day's occurrences (campaign c: + 30 min × c)
PER_SECOND = 100  # claim pace within an occurrence
DELIVERED, UNDELIVERED = 90, 96  # delivery g: g % 100 < 90 delivered, < 96 undelivered, failed
BODY = lib.TEXT
FORMS = ["web", "social", "banner", "leaflet", "door_to_door", "meeting", "other"]
BASELINE = """
import sys
url, start, end = sys.argv[1:4]
query = ("SELECT c.unit, count(*) FROM (SELECT delivery_id, min(at) AS at FROM delivery_log"
         " WHERE status IN ('accepted', 'sent', 'delivered', 'undelivered')"
         " GROUP BY delivery_id) f"
         " JOIN deliveries d ON d.id = f.delivery_id JOIN campaigns c ON c.id = d.campaign_id"
         " WHERE f.at >= {p} AND f.at < {p} GROUP BY c.unit ORDER BY c.unit")
if url.startswith("sqlite"):
    import sqlite3
    connection = sqlite3.connect(url.removeprefix("sqlite:///"))
    rows = connection.execute(query.format(p="?"), (start, end)).fetchall()
else:
    import psycopg
    with psycopg.connect(url) as connection:
        rows = connection.execute(query.format(p="%s"), (start, end)).fetchall()
print(rows)
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000000,10000000", help="delivery-log records")
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="postgresql")
    parser.add_argument("--month", default="2024-10", help="the month reported (YYYY-MM)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--fresh", action="store_true", help="rebuild the kept databases")
    parser.add_argument("--xlsx", action="store_true", help="also time --format xlsx")
    parser.add_argument("--queries", action="store_true", help="time and EXPLAIN each query")
    parser.add_argument("--no-measure", action="store_true", help="set up (and --queries) only")
    args = parser.parse_args(argv)
    WORK.mkdir(parents=True, exist_ok=True)
    lib.print_header()
    results: dict[tuple[str, int, str], list[tuple[float, float, float]]] = {}
    for db in ["postgresql", "sqlite"] if args.db == "both" else [args.db]:
        for size in (int(s) for s in args.sizes.split(",")):
            url = prepare(db, size, args.month, args.fresh)
            if args.queries:
                explain_report(url, args.month)
            if args.no_measure:
                continue
            kinds = ["report", "baseline"]
            for run in range(1, args.runs + 1):
                for kind in kinds + (["xlsx"] if args.xlsx else []):
                    measured = _measure(url, kind, args.month)
                    results.setdefault((db, size, kind), []).append(measured)
                    print(f"  {db} {size:,} {kind} run {run}: {measured[0]:.2f} s, "
                          f"{measured[1]:.1f} MiB, CPU {measured[2]:.2f} s",
                          flush=True)  # fmt: skip
    print(f"\nload average after: {lib.load()}")
    if results:
        lib.print_medians(results, "log records", "run")
    return 0


# --- measuring ----------------------------------------------------------------------------------


def _measure(url: str, kind: str, month: str) -> tuple[float, float, float]:
    """(wall seconds, peak RSS MiB, CPU seconds) of one child process."""
    if kind == "baseline":
        start, end = (_param(url, t) for t in _bounds(month))
        command = [sys.executable, "-c", BASELINE, url, str(start), str(end)]
    elif kind == "xlsx":
        out = WORK / f"bao-cao-{month}.xlsx"
        command = [lib.dispatcher_bin(), "report", "monthly", "--month", month,
                   "--format", "xlsx", "--out", str(out)]  # fmt: skip
    else:
        command = [lib.dispatcher_bin(), "report", "monthly", "--month", month, "--format", "json"]
    return lib.measure_child(command, url, WORK)


def explain_report(url: str, month: str) -> None:
    """Run the report once in this process; print each statement's time and its plan."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    from dispatcher.bootstrap import runtime
    from dispatcher.reports.monthly import monthly
    from dispatcher.settings.config import Settings

    captured: list[tuple[str, Any, float]] = []

    def before(conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool):
        conn.info["bench_started"] = time.perf_counter()

    def after(conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool):
        took = time.perf_counter() - conn.info.pop("bench_started")
        captured.append((statement, params, took))

    event.listen(Engine, "before_cursor_execute", before)
    event.listen(Engine, "after_cursor_execute", after)
    settings = Settings.model_validate({"database_url": url})
    try:
        started = time.perf_counter()
        with runtime(settings) as rt:
            report = monthly(rt, month)
        total = time.perf_counter() - started
    finally:
        event.remove(Engine, "before_cursor_execute", before)
        event.remove(Engine, "after_cursor_execute", after)
    counts = f"{len(report.rows)} rows, {len(report.unconfirmed)} unconfirmed"
    print(f"\n## {url}: report of {month} in process: {total:.2f} s, {counts}")
    reads = ("SELECT", "WITH")
    selects = [(s, p, t) for s, p, t in captured if s.lstrip().upper().startswith(reads)]
    print(f"{len(captured)} statements, {sum(t for _, _, t in captured):.2f} s in the driver")
    for i, (statement, params, took) in enumerate(selects, 1):
        print(f"\n### query {i}: {took:.3f} s\n{' '.join(statement.split())}\nparams: {params}")
        print("\n".join(_plan(url, statement, params)))


def _plan(url: str, statement: str, params: Any) -> list[str]:
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as db:
            rows = db.execute("EXPLAIN QUERY PLAN " + statement, params).fetchall()
        return [f"  {row[-1]}" for row in rows]
    import psycopg

    with psycopg.connect(url) as db:
        rows = db.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, params).fetchall()
    return [f"  {row[0]}" for row in rows]


# --- the generated history ----------------------------------------------------------------------


def _bounds(month: str) -> tuple[datetime, datetime]:
    year, number = (int(part) for part in month.split("-"))
    following = date(year + number // 12, number % 12 + 1, 1)
    start = datetime(year, number, 1, tzinfo=TZ).astimezone(UTC)
    return start, datetime(following.year, following.month, 1, tzinfo=TZ).astimezone(UTC)


def _param(url: str, value: datetime) -> Any:
    """A UTC datetime as the database compares it (SQLite keeps naive UTC text)."""
    if url.startswith("sqlite:///"):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return value.isoformat()


def _days(month: str) -> list[date]:
    start, end = (t.astimezone(TZ).date() for t in _bounds(month))
    first, last = start - timedelta(days=MARGIN_DAYS), end + timedelta(days=MARGIN_DAYS - 1)
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _events(n: int) -> int:
    """Delivery-log events of deliveries 1..n: 3 each (pending, sending, final) + accepted."""
    accepted = (n + 1) // 100 * UNDELIVERED + min((n + 1) % 100, UNDELIVERED) - 1
    return 3 * n + accepted


def _deliveries_for(size: int) -> tuple[int, int]:
    """(deliveries, extra): the most deliveries whose events fit in ``size``; the ``extra``
    first (delivered) ones also get a ``sent`` event, to make exactly ``size`` records."""
    n = size * 100 // (3 * 100 + UNDELIVERED)
    while _events(n + 1) <= size:
        n += 1
    while _events(n) > size:
        n -= 1
    return n, size - _events(n)


def prepare(db: str, size: int, month: str, fresh: bool) -> str:
    """The kept database of ``size`` records for ``month``, generated when missing or stale."""
    name = f"bench_report_{size}"
    marker = WORK / f"{db}-{size}.json"
    wanted = {"version": VERSION, "month": month, "size": size}
    if db == "sqlite":
        path = lib.OUT / "db" / f"{name}.sqlite3"
        url = f"sqlite:///{path}"
    else:
        url = f"postgresql://postgres@127.0.0.1:5432/{name}"
    kept = not fresh and marker.exists() and json.loads(marker.read_text()) == wanted
    if kept and _count(url) == size:
        print(f"reusing {url} ({size:,} delivery-log records, {month})", flush=True)
        return url
    marker.unlink(missing_ok=True)
    started = time.monotonic()
    _create(db, name, url)
    # In a child: the parent stays small (a measured child's peak counts what it inherits).
    script = "import sys, report_monthly as r; r._generate(*sys.argv[1:2], int(sys.argv[2]), " \
             "sys.argv[3])"  # fmt: skip
    subprocess.run([sys.executable, "-c", script, url, str(size), month], check=True,
                   cwd=Path(__file__).parent)  # fmt: skip
    print(f"generated {url} in {time.monotonic() - started:.0f} s", flush=True)
    if _count(url) != size:
        raise SystemExit(f"generated {_count(url)} records, not {size}")
    marker.write_text(json.dumps(wanted))
    return url


def _count(url: str) -> int:
    try:
        if url.startswith("sqlite:///"):
            with sqlite3.connect(url.removeprefix("sqlite:///")) as db:
                return int(db.execute("SELECT count(*) FROM delivery_log").fetchone()[0])
        import psycopg

        with psycopg.connect(url) as db:
            row = db.execute("SELECT count(*) FROM delivery_log").fetchone()
            return int(row[0]) if row else -1
    except Exception:  # missing database or table: generate it
        return -1


def _create(db: str, name: str, url: str) -> None:
    if db == "sqlite":
        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        lib._remove_sqlite(path)
    else:
        import psycopg

        with psycopg.connect(lib.PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{name}"')
    env = {k: v for k, v in os.environ.items() if not k.startswith("DISPATCHER_")}
    env["DISPATCHER_DB_URL"] = url
    subprocess.run([lib.dispatcher_bin(), "db", "upgrade"], env=env, check=True,
                   capture_output=True, cwd=WORK)  # fmt: skip


class _Db:
    """A DB-API connection and the few things that differ between the two databases."""

    def __init__(self, url: str) -> None:
        self.sqlite = url.startswith("sqlite:///")
        if self.sqlite:
            self.conn: Any = sqlite3.connect(url.removeprefix("sqlite:///"))
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=OFF")
            self.conn.execute("PRAGMA cache_size=-1000000")
            self.conn.execute("PRAGMA temp_store=MEMORY")
        else:
            import psycopg

            self.conn = psycopg.connect(url)
            self.conn.execute("SET synchronous_commit = off")
            self.conn.execute("SET work_mem = '512MB'")
            self.conn.execute("SET maintenance_work_mem = '1GB'")

    def p(self, sql: str) -> str:
        return sql.replace("%s", "?") if self.sqlite else sql

    def execute(self, sql: str, params: Any = None) -> Any:
        if params is None:  # psycopg: no placeholders parsed, % is modulo
            return self.conn.execute(sql)
        return self.conn.execute(self.p(sql), params)

    def many(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        if self.sqlite:
            self.conn.executemany(self.p(sql), rows)
        else:
            with self.conn.cursor() as cursor:
                cursor.executemany(sql, rows)

    def ts(self, value: datetime) -> Any:
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f") if self.sqlite else value

    def at(self, micros: str) -> str:
        """SQL of a timestamp from an expression of epoch microseconds."""
        if self.sqlite:
            return (f"(strftime('%Y-%m-%d %H:%M:%S', ({micros}) / 1000000, 'unixepoch') || "
                    f"printf('.%06d', ({micros}) % 1000000))")  # fmt: skip
        return f"to_timestamp(({micros}) / 1000000.0)"

    def series(self, n: int) -> str:
        """A FROM item of the integers 1..n as ``g``."""
        if self.sqlite:
            return (f"(WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s "
                    f"WHERE g < {n}) SELECT g FROM s) AS gs")  # fmt: skip
        return f"generate_series(1::bigint, {n}) AS gs(g)"

    def pad(self, expr: str, width: int) -> str:
        if self.sqlite:
            return f"printf('%0{width}d', {expr})"
        return f"lpad(({expr})::text, {width}, '0')"

    def indexes(self, table: str) -> list[tuple[str, str]]:
        """(name, definition) of the table's indexes that back no constraint."""
        if self.sqlite:
            query = (
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ?"
                " AND sql IS NOT NULL"
            )
            return list(self.conn.execute(query, (table,)).fetchall())
        query = (
            "SELECT indexname, indexdef FROM pg_indexes i WHERE tablename = %s AND NOT "
            "EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)"
        )
        return list(self.conn.execute(query, (table,)).fetchall())


def _generate(url: str, size: int, month: str) -> None:
    db = _Db(url)
    n, extra = _deliveries_for(size)
    days = _days(month)
    occurrences = len(days) * CAMPAIGNS
    per = -(-n // occurrences)  # deliveries per occurrence (the last one fewer)
    now = datetime.now(UTC)
    print(f"generating {n:,} deliveries in {occurrences} occurrences of {per:,} "
          f"({size:,} log records) ...", flush=True)  # fmt: skip
    _campaigns(db, now)
    first = datetime.combine(days[0], datetime.min.time().replace(hour=SCHEDULE_HOUR), TZ)
    rows = []
    for i in range(occurrences):
        day, c = divmod(i, CAMPAIGNS)
        at = first + timedelta(days=day, minutes=30 * c)
        rows.append((i + 1, f"bench-report-{c + 1}", at.strftime("%Y-%m-%dT%H:%M"), db.ts(at),
                     "done", per, db.ts(at), db.ts(at + timedelta(hours=1)), False))  # fmt: skip
    db.many("INSERT INTO occurrences (id, campaign_id, key, scheduled_at, state, recipients,"
            " created_at, finished_at, test) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            rows)  # fmt: skip
    saved = {t: db.indexes(t) for t in ("deliveries", "delivery_log")}
    for indexes in saved.values():
        for name, _ in indexes:
            db.execute(f'DROP INDEX "{name}"')
    base = int(first.timestamp()) * 1_000_000
    # Per delivery g: its occurrence o (0-based), place p in it, campaign c, unit u, class k.
    o, p = f"((g - 1) / {per})", f"((g - 1) % {per})"
    c, k = f"({o} % {CAMPAIGNS})", "(g % 100)"
    sched = f"({base} + ({o} / {CAMPAIGNS}) * 86400000000 + {c} * 1800000000)"
    sending = f"({sched} + 1000000 + {p} * {1_000_000 // PER_SECOND})"
    accepted = f"({sending} + 300000)"
    final = (f"(CASE WHEN {k} < {UNDELIVERED} THEN {accepted} + (5 + g % 55) * 1000000 "
             f"ELSE {sending} + 200000 END)")  # fmt: skip
    status = (f"(CASE WHEN {k} < {DELIVERED} THEN 'delivered' WHEN {k} < {UNDELIVERED} "
              f"THEN 'undelivered' ELSE 'failed' END)")  # fmt: skip
    code = (f"(CASE WHEN {k} < {DELIVERED} THEN NULL WHEN {k} < {UNDELIVERED} THEN 30005"
            " ELSE 21211 END)")  # fmt: skip
    provider = f"(CASE WHEN {k} < {UNDELIVERED} THEN 'SM' || {db.pad('g', 32)} END)"
    # The subscribers: each unit's list, the same numbers in each of its occurrences.
    number = f"({c} / 2) * 10000000 + ({p} + ({c} % 2) * {per // 3}) % 9999999"
    phone = f"('+849' || {db.pad(number, 8)})"
    sender = "(CASE " + " ".join(
        f"WHEN {c} / 2 = {u} THEN {'NULL' if s is None else repr(s)}" for u, s in enumerate(SENDERS)
    ) + " END)"  # fmt: skip
    body = "'" + BODY.replace("'", "''") + "'"  # inlined: no parameters, so % is modulo
    segments = f"(CASE WHEN {c} = 3 THEN 2 ELSE 1 END)"  # one campaign's text is 2 segments
    started = time.monotonic()
    db.execute(
        "INSERT INTO deliveries (id, occurrence_id, campaign_id, phone, source, body, encoding,"
        " segments, sender, status, attempts, provider_id, error_code, error_message,"
        " claimed_at, claimed_by, sent_at, not_before, updated_at)"
        f" SELECT g, o.id, o.campaign_id, {phone}, 'bench.csv:' || ({p} + 2), {body}, 'gsm7',"
        f" {segments}, {sender}, {status}, 1, {provider}, {code},"
        f" CASE WHEN {code} IS NOT NULL THEN 'bench error' END, {db.at(sending)}, 'bench',"
        f" CASE WHEN {k} < {UNDELIVERED} THEN {db.at(accepted)} END, NULL, {db.at(final)}"
        f" FROM {db.series(n)} JOIN occurrences o ON o.id = {o} + 1",
    )
    print(f"  deliveries: {time.monotonic() - started:.0f} s", flush=True)
    # The events, in the order they happened (ids follow time, as the product appends them).
    steps = " UNION ALL ".join(f"SELECT {i} AS step" for i in range(5))
    step_at = (f"(CASE s.step WHEN 0 THEN {sched} WHEN 1 THEN {sending} WHEN 2 THEN {accepted}"
               f" WHEN 3 THEN {accepted} + 1000000 ELSE {final} END)")  # fmt: skip
    step_status = ("(CASE s.step WHEN 0 THEN 'pending' WHEN 1 THEN 'sending' WHEN 2 THEN"
                   f" 'accepted' WHEN 3 THEN 'sent' ELSE {status} END)")  # fmt: skip
    wanted = (f"(s.step < 2 OR s.step = 4 OR (s.step = 2 AND {k} < {UNDELIVERED})"
              f" OR (s.step = 3 AND g <= {extra}))")  # fmt: skip
    started = time.monotonic()
    db.execute(
        "INSERT INTO delivery_log (at, delivery_id, campaign_id, occurrence_key, phone, status,"
        " attempt, segments, provider_id, error_code, detail)"
        f" SELECT {db.at('e.us')}, e.g, e.campaign_id, e.key, e.phone, e.status, e.attempt,"
        " e.segments, e.provider_id, e.error_code, NULL FROM ("
        f"  SELECT {step_at} AS us, g, s.step, o.campaign_id, o.key, {phone} AS phone,"
        f"  {step_status} AS status, CASE WHEN s.step = 0 THEN 0 ELSE 1 END AS attempt,"
        f"  {segments} AS segments,"
        f"  CASE WHEN s.step >= 2 AND {k} < {UNDELIVERED} THEN {provider} END AS provider_id,"
        f"  CASE WHEN s.step = 4 THEN {code} END AS error_code"
        f"  FROM {db.series(n)} JOIN occurrences o ON o.id = {o} + 1 CROSS JOIN ({steps}) AS s"
        f"  WHERE {wanted}) AS e ORDER BY e.us, e.g, e.step"
    )
    print(f"  delivery log: {time.monotonic() - started:.0f} s", flush=True)
    started = time.monotonic()
    for indexes in saved.values():
        for _, definition in indexes:
            db.execute(definition)
    print(f"  indexes: {time.monotonic() - started:.0f} s", flush=True)
    _airings(db, days, now)
    _activities(db, days, now)
    if not db.sqlite:
        for table in ("occurrences", "deliveries"):
            db.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                       f"(SELECT max(id) FROM {table}))")  # fmt: skip
    db.conn.commit()
    started = time.monotonic()
    if db.sqlite:
        db.execute("ANALYZE")
        db.conn.commit()
    else:
        db.conn.autocommit = True
        db.execute("VACUUM (ANALYZE)")
    print(f"  analyze: {time.monotonic() - started:.0f} s", flush=True)
    db.conn.close()


def _campaigns(db: _Db, now: datetime) -> None:
    rows = []
    for c in range(CAMPAIGNS):
        unit = UNITS[c // 2]
        rows.append((f"bench-report-{c + 1}", f"Thông báo số {c + 1} của {unit}", unit,
                     TZ.key, f"campaigns/bench-report-{c + 1}.yaml", "0" * 64, db.ts(now),
                     db.ts(now), "active", None))  # fmt: skip
    db.many("INSERT INTO campaigns (id, title, unit, timezone, source_path, fingerprint, "
            "created_at, updated_at, state, spec) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            rows)  # fmt: skip


def _communes(u: int) -> list[str]:
    return [f"Xã {name} {CODES[u]}" for name in
            ["Tân Đoàn", "Tràng Các", "Yên Phúc", "Hòa Bình", "Tú Xuyên", "Đại An", "Khánh Khê",
             "Tri Lễ"]]  # fmt: skip


def _airings(db: _Db, days: list[date], now: datetime) -> None:
    """Campaign 2u+1 airs twice a day in each of its unit's 8 communes, 2u+2 once a day;
    85 % confirmed (90 % of those with a duration), 2 % canceled."""
    planned, confirmed, i = [], [], 0
    for day in days:
        for c in range(CAMPAIGNS):
            u = c // 2
            for hour in [6, 17] if c % 2 == 0 else [11]:
                at = datetime.combine(day, datetime.min.time().replace(hour=hour), TZ)
                for commune in _communes(u):
                    i += 1
                    state = "canceled" if i % 50 == 0 else "planned"
                    cid = f"bench-report-{c + 1}"
                    planned.append((cid, UNITS[u], commune, db.ts(at), state, db.ts(now)))
                    if state == "planned" and i % 100 < 85:
                        aired = at + timedelta(minutes=i % 15)
                        duration = None if i % 10 == 0 else 300 + (i % 20) * 30
                        source = ["cli", "web", "http"][i % 3]
                        confirmed.append((cid, commune, db.ts(at), db.ts(aired), duration,
                                          f"{source}:bench", source, db.ts(aired)))  # fmt: skip
    db.many("INSERT INTO airings (campaign_id, unit, commune, scheduled_at, state, created_at) "
            "VALUES (%s, %s, %s, %s, %s, %s)", planned)  # fmt: skip
    db.many("INSERT INTO airing_confirmations (campaign_id, commune, scheduled_at, aired_at, "
            "duration_s, confirmed_by, source, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
            confirmed)  # fmt: skip


def _activities(db: _Db, days: list[date], now: datetime) -> None:
    """300 records over the days, then 30 corrections (of ids 1..30) and 20 voids (31..50)."""
    columns = (
        "kind, corrects_id, unit_code, unit_name, form, count, day, means, content, "
        "campaign_id, note, reason, source, recorded_by, recorded_at"
    )
    insert = f"INSERT INTO outreach_activities ({columns}) VALUES ({', '.join(['%s'] * 15)})"
    records = []
    for i in range(300):
        u, form = i % 3, FORMS[i % len(FORMS)]
        day = days[(i * 7) % len(days)]
        records.append(("record", None, CODES[u], UNITS[u], form, 1 + i % 20, day,
                        f"phương tiện {i % 4}", f"Nội dung {i % 9}",
                        f"bench-report-{2 * u + 1}" if i % 2 else None, None, None, "cli",
                        "bench", db.ts(now)))  # fmt: skip
    db.many(insert, records)
    later = []
    for i in range(50):
        old = records[i]
        kind = "correction" if i < 30 else "void"
        count = old[5] + 1 if kind == "correction" else old[5]
        later.append((kind, i + 1, *old[2:5], count, *old[6:10], None, f"bench {kind}",
                      "cli", "bench", db.ts(now)))  # fmt: skip
    db.many(insert, later)


if __name__ == "__main__":
    sys.exit(main())
