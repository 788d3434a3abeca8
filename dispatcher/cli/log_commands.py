"""`dispatcher log` (the deliveries) and `dispatcher log events` (their history), with the
filters and formats an auditor needs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from dispatcher.cli.shared import FileArg, FullFlag, load_settings
from dispatcher.core.lazy import lazy_module

if TYPE_CHECKING:
    from dispatcher import bootstrap
    from dispatcher.cli import present_log
    from dispatcher.core.outbox import LogFilter
    from dispatcher.reports import audit_log, log_verify
    from dispatcher.settings.config import Settings
else:
    bootstrap = lazy_module("dispatcher.bootstrap")
    present_log = lazy_module("dispatcher.cli.present_log")
    audit_log = lazy_module("dispatcher.reports.audit_log")
    log_verify = lazy_module("dispatcher.reports.log_verify")

F = TypeVar("F", bound=Callable[..., Any])
_OPTIONS = [
    click.option("--campaign", metavar="ID", help="Only this campaign."),
    click.option("--occurrence", metavar="KEY", help="Only this occurrence of it."),
    click.option("--unit", help="Only the campaigns this unit runs (tone marks optional)."),
    click.option("--commune", help="The same as --unit, for a commune."),
    click.option("--form", help="sms (the delivery log holds SMS; other forms: see the error)."),
    click.option("--phone", help="Only this number (any written form)."),
    click.option("--status", help="Only this status (pending, sent, delivered, failed...)."),
    click.option("--from", "first", metavar="DATE", help="From this day (dd/mm/yyyy or ISO)."),
    click.option("--to", "last", metavar="DATE", help="To this day, included."),
    click.option("--month", help="One month: 2024-12 or 12/2024 (in the configured zone)."),
    click.option(
        "--format",
        "fmt",
        type=click.Choice(["table", "csv", "jsonl", "xlsx"]),
        default="table",
        show_default=True,
        help="Table for people (numbers masked); CSV (UTF-8 with BOM), JSONL or .xlsx to export.",
    ),
    click.option("--out", type=FileArg, help="Write to this file (needed for xlsx)."),
    click.option("--no-bom", is_flag=True, help="CSV without the byte-order mark, for machines."),
    FullFlag,
]


def _log_options(command: F) -> F:
    for option in reversed(_OPTIONS):
        command = option(command)
    return command


@click.group(invoke_without_command=True)
@_log_options
@click.pass_context
def log(ctx: click.Context, fmt: str, out: Path | None, no_bom: bool, full: bool,
        **filters: str | None) -> None:  # fmt: skip
    """Show the deliveries (one row per recipient and occurrence): when, status, reason.

    The table shows local times (dd/mm/yyyy) and masks numbers (+84 91x xxx 678) unless --full;
    CSV, JSONL and xlsx carry them whole, with ISO 8601 times. In Vietnam `delivered` is only
    the SMS centre's acknowledgement, not the handset's. `log events` shows each change.

    \b
    Examples: dispatcher log --campaign 2g-shutdown-2024 --status failed
              dispatcher log --month 10/2024 --format xlsx --out giao-nhan-10-2024.xlsx
    """
    if ctx.invoked_subcommand is not None:
        if any(v is not None for v in filters.values()) or fmt != "table" or out or full:
            raise click.UsageError("put the options after the subcommand: `log events --…`")
        return
    _show("deliveries", filters, fmt, out, no_bom, full)


@log.command("events")
@_log_options
def log_events(fmt: str, out: Path | None, no_bom: bool, full: bool,
               **filters: str | None) -> None:  # fmt: skip
    """The delivery log itself: every change of every delivery's status, in the order written
    (time, status, attempt, error code, detail), with the same filters as `log`.

    \b
    Example: dispatcher log events --phone 0912345678
    """
    _show("events", filters, fmt, out, no_bom, full)


@log.command("verify")
@click.option("--head", metavar="HASH", help="The chain head a report printed...")
@click.option("--at", type=int, metavar="N", help="...at this position.")
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    show_default="the CPUs it may use",
    help="Processes walking the chain at once (a long chain is walked in parts).",
)
def verify(head: str | None, at: int | None, jobs: int | None) -> None:
    """Check that the logs (deliveries, airings, activities, opt-outs, approvals, halts...)
    are exactly as they were written: exit 0 when the audit chain is intact, 1 naming the
    first record that is not (edited, deleted, added or moved).

    With --head and --at, as printed on a report, also check that the database still holds
    exactly the history that report was computed on (a rewrite of the whole chain is caught).

    \b
    Example: dispatcher log verify --head 3f9a…c2 --at 1234
    """
    expected = log_verify.anchor(head, at)
    with bootstrap.runtime(load_settings()) as rt:
        verdict = log_verify.verify_log(rt, expected, jobs or log_verify.default_jobs())
    click.echo(present_log.verdict(verdict))
    if verdict.broken is not None:
        raise SystemExit(1)


def _show(
    what: str, filters: dict[str, str | None], fmt: str, out: Path | None, bom_off: bool,
    full: bool,
) -> None:  # fmt: skip
    settings = load_settings()
    wanted = audit_log.log_filter(settings.tz, **filters)
    if fmt == "xlsx" and out is None:
        raise click.UsageError("--format xlsx writes a file: give --out FILE.xlsx")
    with bootstrap.runtime(settings) as rt:
        wanted = audit_log.check_filter(rt, wanted)  # before anything is written
        if fmt == "xlsx":
            assert out is not None
            _write_xlsx(rt, what, wanted, out, settings)
            return
        if what == "deliveries":
            views = audit_log.delivery_log(rt, wanted)
            chunks = present_log.delivery_log(views, fmt, settings.tz, full=full, bom=not bom_off)
        else:
            events = audit_log.delivery_events(rt, wanted)
            chunks = present_log.delivery_events(events, fmt, settings.tz, full=full,
                                                 bom=not bom_off)  # fmt: skip
        if out is None:
            for chunk in chunks:
                click.echo(chunk, nl=False)
            return
        present_log.write_out(out, chunks)
    click.echo(f"Wrote {out}.")


def _write_xlsx(
    rt: bootstrap.Runtime, what: str, wanted: LogFilter, out: Path, settings: Settings
) -> None:
    from dispatcher.reports.spreadsheet import write_records

    tz = settings.tz
    if what == "deliveries":
        records = (present_log.log_record(v, tz) for v in audit_log.delivery_log(rt, wanted))
        count = write_records(out, "Giao nhận", present_log.LOG_FIELDS, records)
    else:
        events = (present_log.event_record(e, tz) for e in audit_log.delivery_events(rt, wanted))
        count = write_records(out, "Nhật ký", present_log.EVENT_FIELDS, events)
    click.echo(f"Wrote {count} rows to {out}.")
