"""Turning service results into text for people (tables, dd/mm/yyyy) and machines (JSON, CSV).

Only the CLI calls these; phone numbers in tables are masked (personal data), in machine formats
they are complete.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Iterable, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import click

from dispatcher.audience.phones import mask
from dispatcher.cli.present_plan import changes_note, date_time_vi
from dispatcher.cli.present_plan import mask_if_phone as mask_if_phone  # plan output, re-exported
from dispatcher.cli.present_plan import plan_data as plan_data
from dispatcher.cli.present_plan import plan_json as plan_json
from dispatcher.cli.present_plan import plan_table as plan_table
from dispatcher.core import schedule
from dispatcher.core.errors import EXIT_HALTED, EXIT_OK, EXIT_SOME_FAILED
from dispatcher.core.status import RANK, REACHED_PROVIDER, Status
from dispatcher.core.text import spreadsheet_safe

if TYPE_CHECKING:  # annotations only: importing them would load the service layer at start-up
    from dispatcher.ops.worker import WorkerStats
    from dispatcher.safety.optouts import Change, ImportResult, OptOut
    from dispatcher.sending.prepare import ValidationResult
    from dispatcher.sending.send import OccurrenceRun, SendReport
    from dispatcher.sending.sender import Progress
    from dispatcher.sending.tracking import ReconcileResult
    from dispatcher.web.service import ServiceStats

DELIVERED_NOTE = "(In Vietnam 'delivered' is only the SMS centre's acknowledgement.)"


def validation(results: list[ValidationResult], tz: ZoneInfo) -> str:
    lines = []
    for result in results:
        lines += [str(p) for p in result.problems]
        lines += [f"warning: {p}" for p in result.warnings]
        if result.skipped:
            lines.append(f"{result.path}: {result.skipped}")
        elif not result.problems:
            lines.append(f"{result.path}: ok")
        if result.changes is not None and result.changes.paths:
            lines.append(f"  {changes_note(result.changes, tz)}")
    return "\n".join(lines) + "\n"


class ProgressDisplay:
    """A progress bar on a terminal; plain periodic lines otherwise (logs, CI)."""

    LINE_EVERY_S = 5.0

    def __init__(self) -> None:
        self._tty = sys.stderr.isatty()
        self._bar: Any = None
        self._last_line = float("-inf")  # the run's elapsed seconds at the last line

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
        elif progress.elapsed_s - self._last_line >= self.LINE_EVERY_S or _finished(progress):
            self._last_line = progress.elapsed_s
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
        if run.done_before:
            lines.append(done_before_line(report.campaign, run, tz))
            continue
        counts = ", ".join(f"{n} {s.value}" for s, n in sorted(run.result.counts.items()) if n)
        lines.append(f"  {run.key}: {run.recipients} recipients: {counts or 'nothing'}")
        if run.result.unknown_reason:
            lines.append(
                f"  {run.result.counts.get(Status.UNKNOWN, 0)} unknown: "
                f"{run.result.unknown_reason}; never resent blindly: the next `send` (or a "
                "worker) asks the provider again"
            )
        if run.result.over_budget:
            reached = sum(n for st, n in run.result.counts.items() if st in REACHED_PROVIDER)
            lines.append(
                f"  STOPPED: {run.result.over_budget}: {reached} of {run.recipients} reached the "
                "provider, nothing past the budget was sent; the rest stays pending (raise the "
                "budget and run `send` again)"
            )
        elif run.result.halted:
            lines.append(f"  HALTED: {run.result.halted}")
        elif run.result.blocked:
            lines.append(
                f"  waiting: {run.result.blocked}; the rest is sent by `send` again once that "
                "ends, or by a running `serve`"
            )
        elif run.result.stopped:
            lines.append("  stopped on request; run `send` again to resume")
    if not report.runs:
        lines.append("  nothing due now")
    if report.upcoming:
        upcoming = schedule.format_datetime_vi(report.upcoming.astimezone(tz))
        lines.append(f"  next occurrence: {upcoming}")
    lines.append(DELIVERED_NOTE)
    return "\n".join(lines)


def done_before_line(campaign: str, run: OccurrenceRun, tz: ZoneInfo) -> str:
    """``  demo: nothing to send: all 15 already accepted on 02/10/2024 08:00 by an earlier run
    …``: a second `send` of a complete occurrence, told apart from a run that sent."""
    counts = run.result.counts
    reached = sum(n for status, n in counts.items() if status in REACHED_PROVIDER)
    total = sum(counts.values())
    when = ""
    if run.last_sent_at is not None:
        when = f" on {date_time_vi(run.last_sent_at.astimezone(tz))}"
    done = f"all {total} already accepted{when}"
    if reached < total:  # failed, skipped or canceled ones stay so: a send never retries them
        rest = ", ".join(
            f"{n} {s.value}" for s, n in sorted(counts.items()) if n and s not in REACHED_PROVIDER
        )
        done = f"{reached} of {total} already accepted{when}, {rest} (not resent)"
    where = f"dispatcher log --campaign {campaign} --occurrence {run.key}"
    return f"  {run.key}: nothing to send: {done} by an earlier run (each message: `{where}`)"


def send_exit_code(report: SendReport) -> int:
    if report.halted or report.over_budget:
        return EXIT_HALTED
    return EXIT_OK if report.complete else EXIT_SOME_FAILED


def csv_line(values: list[Any]) -> str:
    """One CSV row; text that a spreadsheet would run as a formula is neutralised (every CSV
    export goes through here: log, report, opt-out list)."""
    buffer = io.StringIO()
    cells = [spreadsheet_safe(v) if isinstance(v, str) else v for v in values]
    csv.writer(buffer, lineterminator="\n").writerow(cells)
    return buffer.getvalue()


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
        yield csv_line(OPTOUT_FIELDS)
        for entry in entries:
            record = _optout_record(entry)
            yield csv_line(["" if record[f] is None else record[f] for f in OPTOUT_FIELDS])
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
            f"Not asked, sent through a gateway that cannot know them (an ended built-in "
            f"simulator, another account): {poll.elsewhere}",
            f"  failed as gateway-gone/gateway-changed after {result.max_age_minutes} minutes "
            f"without a final status: {result.gone}",
            f"Unknown outcomes failed as unknown-outcome (never resent): {result.expired}",
            DELIVERED_NOTE,
        ]
    )


def serve_started(
    url: str, public_base_url: str | None, poll_interval_s: float, simulated: bool = False
) -> str:
    lines = [f"Listening on {url} (Ctrl-C or SIGTERM stops)."]
    if simulated:
        lines.append("Gateway: the built-in simulator, in this process: no SMS reaches a phone.")
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
            f"  awaiting another gateway's report, failed as gateway-gone/-changed: {stats.gone}",
            f"  scheduler passes: {stats.scheduler.passes}"
            f" ({len(stats.scheduler.materialized)} occurrences queued)",
            *_worker_lines(stats.worker),
            DELIVERED_NOTE,
        ]
    )


def worker_stopped(stats: WorkerStats) -> str:
    return "\n".join(["Stopped.", *_worker_lines(stats), DELIVERED_NOTE])


def _worker_lines(stats: WorkerStats) -> list[str]:
    lines = [f"  sending runs: {stats.runs} ({stats.sent} messages handed to the provider)"]
    lines += [f"  waiting: {campaign}: {why}" for campaign, why in sorted(stats.blocked.items())]
    return lines
