"""Turning service results into text for people (tables, dd/mm/yyyy) and machines (JSON, CSV).

Only the CLI calls these; phone numbers in tables are masked (personal data), in machine formats
they are complete.
"""

from __future__ import annotations

import csv
import io
import json
import sys
import time
from collections.abc import Iterable, Iterator
from types import TracebackType
from typing import Any
from zoneinfo import ZoneInfo

import click

from dispatcher import schedule
from dispatcher.audience import MAX_KEPT_ROWS, AudienceSummary
from dispatcher.broadcast_service import ScriptsResult
from dispatcher.errors import EXIT_HALTED, EXIT_OK, EXIT_SOME_FAILED
from dispatcher.http import ServiceStats
from dispatcher.optouts import Change, ImportResult, OptOut
from dispatcher.outbox import DeliveryView
from dispatcher.phones import mask
from dispatcher.reports import MonthlyReport
from dispatcher.sender import Progress
from dispatcher.services import Plan, SendReport, ValidationResult
from dispatcher.status import RANK
from dispatcher.tracking import ReconcileResult

MAX_ROWS_SHOWN = 20
DELIVERED_NOTE = "(In Vietnam 'delivered' is only the SMS centre's acknowledgement.)"


def validation(results: list[ValidationResult]) -> str:
    lines = []
    for result in results:
        lines += [str(p) for p in result.problems]
        lines += [f"warning: {p}" for p in result.warnings]
        if not result.problems:
            lines.append(f"{result.path}: ok")
    return "\n".join(lines) + "\n"


def plan_data(plan: Plan) -> dict[str, Any]:
    prepared = plan.prepared
    audience, composition = prepared.audience, prepared.composition
    data: dict[str, Any] = {"campaign": prepared.campaign.id}
    if audience is not None and composition is not None:
        longest = composition.longest
        found = audience.summary
        data["recipients"] = {
            "valid": found.valid,
            "invalid": found.invalid.total,
            "duplicates": found.duplicates.total,
            "excluded": found.excluded.total,
        }
        data["sms"] = {
            "encoding": composition.encoding,
            "segments": longest.segments if longest else 0,
            "characters": longest.characters if longest else 0,
            "units": longest.units if longest else 0,
        }
        data["total_segments"] = composition.total_segments
        data["rejected"] = _rejected(found)
        # Big lists keep only the first rows of each kind; the counts above are complete.
        data["rejected_not_listed"] = {
            "invalid": found.invalid.omitted,
            "duplicates": found.duplicates.omitted,
            "excluded": found.excluded.omitted,
        }
    data["occurrences"] = [at.isoformat() for at in plan.occurrences]
    data["schedule_ended"] = plan.schedule_ended.isoformat() if plan.schedule_ended else None
    return data


def _rejected(found: AudienceSummary) -> list[dict[str, Any]]:
    return [
        {"file": r.file, "line": r.line, "value": r.raw, "reason": r.reason}
        for r in found.invalid.rows
    ] + [
        {"file": d.file, "line": d.line, "value": d.phone,
         "reason": f"duplicate of {d.first_file}:{d.first_line}"}
        for d in found.duplicates.rows
    ] + [
        {"file": e.file, "line": e.line, "value": e.phone,
         "reason": f"excluded by {e.excluded_by_file}:{e.excluded_by_line}"}
        for e in found.excluded.rows
    ]  # fmt: skip


def plan_json(plan: Plan, _tz: ZoneInfo) -> str:
    return json.dumps(plan_data(plan), ensure_ascii=False, indent=2)


def plan_table(plan: Plan, _tz: ZoneInfo) -> str:
    data = plan_data(plan)
    lines = [f"Campaign {data['campaign']}: {plan.prepared.campaign.spec.title}"]
    if "recipients" in data:
        r, s = data["recipients"], data["sms"]
        lines += [
            f"Recipients:  {r['valid']} valid, {r['invalid']} invalid, "
            f"{r['duplicates']} duplicates, {r['excluded']} excluded",
            f"SMS:         {s['encoding']}, longest message {s['characters']} characters = "
            f"{s['segments']} segment(s)",
            f"Total:       {data['total_segments']} segments over all messages",
        ]
        lines += _rejected_rows(data["rejected"], sum(data["rejected_not_listed"].values()))
    lines += _occurrence_lines(plan)
    return "\n".join(lines)


def _rejected_rows(rejected: list[dict[str, Any]], not_listed: int) -> list[str]:
    if not rejected:
        return []
    lines = ["Not sent to:"]
    for row in rejected[:MAX_ROWS_SHOWN]:
        value = mask_if_phone(str(row["value"]))
        lines.append(f"  {row['file']}:{row['line']}: {value}: {row['reason']}")
    more = len(rejected) - MAX_ROWS_SHOWN + not_listed
    if more > 0 and not_listed:
        listed = f"--json lists the first {MAX_KEPT_ROWS:,} of each kind"
        lines.append(f"  ... and {more} more ({listed})")
    elif more > 0:
        lines.append(f"  ... and {more} more (all of them: --json)")
    return lines


def mask_if_phone(value: str) -> str:
    return mask(value) if value.startswith("+") else value


def _occurrence_lines(plan: Plan) -> list[str]:
    if plan.occurrences:
        shown = ", ".join(schedule.format_datetime_vi(at) for at in plan.occurrences)
        return [f"Next sends:  {shown}"]
    if plan.schedule_ended:
        return [f"Schedule:    ended {schedule.format_datetime_vi(plan.schedule_ended)}"]
    sms = plan.prepared.campaign.spec.sms
    if sms is not None and sms.schedule is None:
        return ["Schedule:    none — one send, when you run `dispatcher send`"]
    return []


class ProgressDisplay:
    """A progress bar on a terminal; plain periodic lines otherwise (logs, CI)."""

    LINE_EVERY_S = 5.0

    def __init__(self) -> None:
        self._tty = sys.stderr.isatty()
        self._bar: Any = None
        self._last_line = 0.0

    def __enter__(self) -> ProgressDisplay:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:  # fmt: skip
        if self._bar is not None:
            self._bar.render_finish()

    def update(self, occurrence: str, progress: Progress) -> None:
        if self._tty:
            self._update_bar(occurrence, progress)
        elif time.monotonic() - self._last_line >= self.LINE_EVERY_S or _finished(progress):
            self._last_line = time.monotonic()
            click.echo(f"{occurrence}: {_progress_text(progress)}", err=True)

    def _update_bar(self, occurrence: str, progress: Progress) -> None:
        if self._bar is None:
            self._bar = click.progressbar(
                length=max(progress.total, 1), label=occurrence, file=sys.stderr,
                item_show_func=lambda _x: _progress_text(progress), show_eta=True,
            )  # fmt: skip
        self._bar.update(progress.done - self._bar.pos)


def _finished(progress: Progress) -> bool:
    return progress.done >= progress.total


def _progress_text(progress: Progress) -> str:
    return (
        f"{progress.done}/{progress.total} done, {progress.reached} sent, "
        f"{progress.failed} failed, {progress.unknown} unknown, {progress.rate:.0f}/s"
    )


def send_summary(report: SendReport, tz: ZoneInfo) -> str:
    lines = [f"Campaign {report.campaign}"]
    if report.skipped:
        span = (
            report.skipped[0]
            if len(report.skipped) == 1
            else (f"{report.skipped[0]} … {report.skipped[-1]}")
        )
        lines.append(
            f"  {len(report.skipped)} past occurrences skipped ({span}): they missed their "
            "sending window and are never sent late"
        )
    for run in report.runs:
        counts = ", ".join(f"{n} {s.value}" for s, n in sorted(run.result.counts.items()) if n)
        lines.append(f"  {run.key}: {run.recipients} recipients: {counts or 'nothing'}")
        if run.result.halted:
            lines.append(f"  HALTED: {run.result.halted}")
        elif run.result.stopped:
            lines.append("  stopped on request; run `send` again to resume")
    if not report.runs:
        lines.append("  nothing due now")
    if report.upcoming:
        upcoming = schedule.format_datetime_vi(report.upcoming.astimezone(tz))
        lines.append(f"  next occurrence: {upcoming}")
    lines.append(DELIVERED_NOTE)
    return "\n".join(lines)


def send_exit_code(report: SendReport) -> int:
    if report.halted:
        return EXIT_HALTED
    return EXIT_OK if report.complete else EXIT_SOME_FAILED


LOG_FIELDS = ["campaign", "occurrence", "to", "status", "provider_id", "attempts", "error_code",
              "updated_at"]  # fmt: skip


def _log_record(view: DeliveryView) -> dict[str, Any]:
    return {
        "campaign": view.campaign, "occurrence": view.occurrence, "to": view.to,
        "status": view.status, "provider_id": view.provider_id, "attempts": view.attempts,
        "error_code": view.error_code, "updated_at": view.updated_at.isoformat(),
    }  # fmt: skip


def delivery_log(views: Iterable[DeliveryView], fmt: str) -> Iterator[str]:
    """Stream the log in chunks, so a large log never sits in memory whole."""
    if fmt == "jsonl":
        for view in views:
            yield json.dumps(_log_record(view), ensure_ascii=False) + "\n"
        return
    if fmt == "csv":
        yield _csv_line(LOG_FIELDS)
        for view in views:
            record = _log_record(view)
            yield _csv_line(["" if record[f] is None else record[f] for f in LOG_FIELDS])
        return
    yield from _log_table(views)


def _log_table(views: Iterable[DeliveryView]) -> Iterator[str]:
    header = f"{'campaign':<20} {'occurrence':<22} {'to':<16} {'status':<12} {'tries':>5}  error\n"
    yield header
    count = 0
    for view in views:
        count += 1
        error = f"{view.error_code} {view.error_message or ''}".strip() if view.error_code else ""
        yield (
            f"{view.campaign:<20} {view.occurrence:<22} {mask(view.to):<16} {view.status:<12} "
            f"{view.attempts:>5}  {error}\n"
        )
    yield f"{count} deliveries. {DELIVERED_NOTE}\n"


def _csv_line(values: list[Any]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(values)
    return buffer.getvalue()


REPORT_HEADER = ["STT", "Đơn vị", "Hình thức truyền thông", "Số lượt", "Đơn vị tính", "Phương tiện",
                 "Ghi chú"]  # fmt: skip


def monthly(report: MonthlyReport, fmt: str) -> str:
    rows: list[list[Any]] = [
        [i, r.unit, r.form, r.count, r.count_unit, r.means, r.note]
        for i, r in enumerate(report.rows, start=1)
    ]
    if fmt == "json":
        return json.dumps(_report_json(report), ensure_ascii=False, indent=2) + "\n"
    if fmt == "csv":
        return "".join(_csv_line(row) for row in [REPORT_HEADER, *rows])
    title = f"Báo cáo kết quả tuyên truyền {report.period_label}"
    if not rows:
        return f"{title}\n(không có hoạt động nào trong tháng)\n"
    lines = [title] + [
        f"{i:>3}. {unit} | {form}: {count} {cu} | {means}" + (f" | {note}" if note else "")
        for i, unit, form, count, cu, means, note in rows
    ]
    return "\n".join(lines) + "\n"


def _report_json(report: MonthlyReport) -> dict[str, Any]:
    return {
        "month": report.month,
        "period": {"start": report.start.isoformat(), "end": report.end.isoformat()},
        "rows": [
            {"unit": r.unit, "form": r.form, "means": r.means, "count": r.count,
             "count_unit": r.count_unit, "status": r.status, "segments": r.segments}
            for r in report.rows
        ],
    }  # fmt: skip


def scripts_summary(result: ScriptsResult) -> str:
    communes = ", ".join(result.communes)
    return (
        f"Wrote {len(result.files)} scripts ({result.airings} airings) for {communes}\n"
        f"  under {result.out_dir / result.campaign}"
    )


# -- the opt-out list --------------------------------------------------------------------------
OPTOUT_FIELDS = ["phone", "reason", "source", "created_at", "created_by"]


def optout_change(change: Change, action: str) -> str:
    """One line for ``optout add`` / ``optout remove`` (the number masked)."""
    phone = mask(change.phone)
    if action == "add":
        done = "added to the opt-out list" if change.changed else "already on the opt-out list"
    else:
        done = "removed from the opt-out list" if change.changed else "not on the opt-out list"
    return f"{phone}: {done}"


def optout_import(result: ImportResult) -> str:
    lines = [f"warning: {p}" for p in result.problems]
    if result.invalid > len(result.problems):
        lines.append(f"warning: ... and {result.invalid - len(result.problems)} more invalid rows")
    lines.append(
        f"{result.file}: {result.added} added, {result.already} already on the list, "
        f"{result.invalid} invalid"
    )
    return "\n".join(lines)


def _optout_record(entry: OptOut) -> dict[str, Any]:
    return {"phone": entry.phone, "reason": entry.reason, "source": entry.source,
            "created_at": entry.created_at.isoformat(), "created_by": entry.created_by}  # fmt: skip


def optout_list(entries: Iterable[OptOut], fmt: str, full: bool, tz: ZoneInfo) -> Iterator[str]:
    """Stream the list; the table masks numbers unless ``full``, CSV and JSONL never do."""
    if fmt == "jsonl":
        for entry in entries:
            yield json.dumps(_optout_record(entry), ensure_ascii=False) + "\n"
        return
    if fmt == "csv":
        yield _csv_line(OPTOUT_FIELDS)
        for entry in entries:
            record = _optout_record(entry)
            yield _csv_line(["" if record[f] is None else record[f] for f in OPTOUT_FIELDS])
        return
    yield from _optout_table(entries, full, tz)


def _optout_table(entries: Iterable[OptOut], full: bool, tz: ZoneInfo) -> Iterator[str]:
    yield f"{'phone':<16} {'added':<16} {'source':<24} reason\n"
    count = 0
    for entry in entries:
        count += 1
        phone = entry.phone if full else mask(entry.phone)
        added = schedule.format_datetime_vi(entry.created_at.astimezone(tz))
        yield f"{phone:<16} {added:<16} {entry.source:<24} {entry.reason}\n"
    yield f"{count} {'number' if count == 1 else 'numbers'} on the opt-out list.\n"


# -- knowing what happened: reconcile and serve ------------------------------------------------
def reconcile_summary(result: ReconcileResult) -> str:
    poll = result.poll
    ordered = sorted(poll.moved.items(), key=lambda item: (RANK[item[0]], item[0].value))
    moved = ", ".join(f"{n} {status}" for status, n in ordered) or "none"
    return "\n".join(
        [
            f"Asked the provider about {poll.checked} deliveries without a final status.",
            f"  moved forward: {moved}",
            f"  not known to the provider (left as they are): {poll.not_found}",
            f"  could not be asked (asked again next time): {poll.errors}",
            f"Unknown outcomes failed as unknown-outcome (never resent): {result.expired}",
            DELIVERED_NOTE,
        ]
    )


def serve_started(url: str, public_base_url: str | None, poll_interval_s: float) -> str:
    lines = [f"Listening on {url} (Ctrl-C or SIGTERM stops)."]
    if public_base_url:
        base = public_base_url.rstrip("/")
        lines.append(
            f"Status callbacks at {base}/twilio/status?d=<delivery>, inbound SMS at "
            f"{base}/twilio/inbound; requests without a valid Twilio signature get 403."
        )
    else:
        lines.append("No http.public_base_url: no status callbacks, statuses are polled.")
    lines.append(f"Polling the provider every {poll_interval_s:g} s.")
    return "\n".join(lines)


def serve_stopped(stats: ServiceStats) -> str:
    return "\n".join(
        [
            "Stopped.",
            f"  status callbacks: {stats.callbacks} ({stats.changed} changed a delivery)",
            f"  requests refused (no or bad signature): {stats.refused}",
            f"  opt-outs by inbound keyword: {stats.opted_out}",
            f"  polls: {stats.polls} ({stats.polled_moved} deliveries moved forward)",
            f"  unknown outcomes failed as unknown-outcome: {stats.expired}",
            DELIVERED_NOTE,
        ]
    )
