"""`dispatcher report ...` and `dispatcher optout ...`: the monthly report and the opt-out list."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from dispatcher.cli.shared import FileArg, load_settings
from dispatcher.core.lazy import lazy_module

if TYPE_CHECKING:
    from dispatcher import bootstrap
    from dispatcher.cli import presenters
    from dispatcher.reports import filing
    from dispatcher.reports import monthly as reports
    from dispatcher.safety import optouts
else:
    # Loaded when a command first uses them, so that `--help` and a mistyped option answer at
    # once instead of importing SQLAlchemy, Alembic, aiohttp and the twilio client first.
    bootstrap = lazy_module("dispatcher.bootstrap")
    presenters = lazy_module("dispatcher.cli.presenters")
    reports = lazy_module("dispatcher.reports.monthly")
    filing = lazy_module("dispatcher.reports.filing")
    optouts = lazy_module("dispatcher.safety.optouts")


@click.group()
def report() -> None:
    """Reports computed from the delivery log."""


@report.command("monthly")
@click.option("--month", required=True, metavar="YYYY-MM", help="The month: 2024-10 or 10/2024.")
@click.option(
    "--format", "fmt", type=click.Choice(["table", "csv", "json", "xlsx", "docx", "png"]),
    default="table", show_default=True,
    help="Table to read; CSV (UTF-8 with BOM, for Excel) or .xlsx to file; .docx to sign and "
         "file (Decree 30 layout); .png the chart alone; JSON for machines.",
)  # fmt: skip
@click.option(
    "--out", type=FileArg,
    help="Write to this file (default bao-cao-YYYY-MM.xlsx / .docx, bieu-do-YYYY-MM.png).",
)  # fmt: skip
@click.option("--no-bom", is_flag=True, help="CSV without the byte-order mark, for machines.")
@click.option("--unit", help="Only this unit's rows (tone marks, Xã or UBND optional).")
@click.option(
    "--dated", metavar="DD/MM/YYYY", help="The .docx's date (default: today, configured zone)."
)
def report_monthly(
    month: str, fmt: str, out: Path | None, no_bom: bool, unit: str | None, dated: str | None
) -> None:
    """Per unit: form of communication, number of times, means (the directive's report).

    Counts SMS that reached the provider, loudspeaker airings the communes confirmed, and the
    activities units recorded (`dispatcher activity`); airings not confirmed are listed apart.
    The .docx is the report to sign: the header, Kính gửi, Nơi nhận and signatory come from
    `report.document` in config.yaml; the .docx and .xlsx carry the month's chart.

    \b
    Examples: dispatcher report monthly --month 10/2024
              dispatcher report monthly --month 2024-10 --format xlsx --out bao-cao.xlsx
              dispatcher report monthly --month 10/2024 --format docx --dated 05/11/2024
              dispatcher report monthly --month 10/2024 --format png --out bieu-do.png
    """
    reports.parse_month(month)
    day = filing.dated_option(dated, fmt)
    with bootstrap.runtime(load_settings()) as rt:
        result = reports.monthly(rt, month, unit)
        if fmt in filing.DEFAULT_NAMES:
            written = filing.write_report_file(rt, result, fmt, out, day)
            click.echo(f"Wrote {written} (the report of {result.period_label}).")
            return
    from dispatcher.cli import present_report

    text = present_report.monthly(result, fmt, bom=not no_bom)
    if out is None:
        click.echo(text, nl=False)
        return
    present_report.write_text(out, text)
    click.echo(f"Wrote {out} (the report of {result.period_label}).")


@report.command("due")
@click.option("--month", required=True, metavar="YYYY-MM", help="The month: 2024-10 or 10/2024.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable.")
def report_due(month: str, as_json: bool) -> None:
    """The communes that have recorded nothing for the month: no activity, no airing confirmed.

    \b
    Example: dispatcher report due --month 10/2024
    """
    from dispatcher.cli import present_report
    from dispatcher.reports import due

    reports.parse_month(month)
    with bootstrap.runtime(load_settings()) as rt:
        found = due.due(rt, month)
    click.echo(present_report.due(found, as_json=as_json), nl=False)


@click.group()
def optout() -> None:
    """The opt-out list: numbers no campaign sends to.

    In Vietnam nobody can reply STOP (Twilio has no two-way SMS there): people opt out by phone,
    at the commune or through the Do-Not-Call list (5656), and are recorded here. Every send
    leaves out the numbers on the list; Twilio's error 21610 adds to it too.
    """


@optout.command("add")
@click.argument("phone")
@click.option("--reason", metavar="TEXT", help="Why, and how the request came in.")
def optout_add(phone: str, reason: str | None) -> None:
    """Put PHONE (any written form) on the opt-out list; adding it again changes nothing.

    \b
    Example: dispatcher optout add "0912 345 678" --reason "called the commune office"
    """
    with bootstrap.runtime(load_settings()) as rt:
        change = optouts.add(rt, phone, reason)
    click.echo(presenters.optout_change(change, "add"))


@optout.command("remove")
@click.argument("phone")
@click.option("--reason", metavar="TEXT", help="Why (e.g. asked to receive messages again).")
def optout_remove(phone: str, reason: str | None) -> None:
    """Take PHONE off the opt-out list (logged, like every change).

    \b
    Example: dispatcher optout remove 0912345678 --reason "asked to get notices again"
    """
    with bootstrap.runtime(load_settings()) as rt:
        change = optouts.remove(rt, phone, reason)
    click.echo(presenters.optout_change(change, "remove"))


@optout.command("import")
@click.argument("file", type=FileArg)
@click.option("--reason", metavar="TEXT", help="Reason for rows without a reason/note column.")
def optout_import(file: Path, reason: str | None) -> None:
    """Add every number of a .csv, .txt or .xlsx list with a phone column (`phone`, `Số điện
    thoại`, `SĐT`...), saved by Excel or LibreOffice in any of their encodings.

    A row's `reason` or `note` column is kept as its reason. Unusable numbers are reported as
    `file:line` warnings and skipped; a file that cannot be read adds nothing (exit 2).

    \b
    Example: dispatcher optout import campaigns/lists/opted-out.csv --reason "DNC 5656"
    """
    with bootstrap.runtime(load_settings()) as rt:
        result = optouts.import_file(rt, file, reason)
    click.echo(presenters.optout_import(result))


@optout.command("list")
@click.option(
    "--format", "fmt", type=click.Choice(["table", "csv", "jsonl"]), default="table",
    show_default=True, help="Table for people (numbers masked); CSV or JSONL for machines.",
)  # fmt: skip
@click.option("--full", is_flag=True, help="Show whole numbers in the table (personal data).")
def optout_list(fmt: str, full: bool) -> None:
    """Show the opt-out list, oldest first; the table masks numbers unless --full.

    \b
    Example: dispatcher optout list --format csv > optouts.csv
    """
    settings = load_settings()
    with bootstrap.runtime(settings) as rt:
        for chunk in presenters.optout_list(optouts.entries(rt), fmt, full, settings.tz):
            click.echo(chunk, nl=False)


# -- campaign lifecycle and health ------------------------------------------------------------
