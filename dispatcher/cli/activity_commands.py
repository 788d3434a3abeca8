"""`dispatcher activity ...`: outreach the software does not perform itself (meetings, banners,
Zalo posts, door-to-door visits...), recorded for the monthly report; never edited."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from dispatcher.cli.shared import FileArg, load_settings
from dispatcher.core.lazy import lazy_module

if TYPE_CHECKING:
    from dispatcher import bootstrap
    from dispatcher.cli import present_activities as present
    from dispatcher.reports import activities, activity_import
    from dispatcher.reports.activity_fields import ActivityFields
else:
    bootstrap = lazy_module("dispatcher.bootstrap")
    present = lazy_module("dispatcher.cli.present_activities")
    activities = lazy_module("dispatcher.reports.activities")
    activity_import = lazy_module("dispatcher.reports.activity_import")


def _fields(**values: str | int | None) -> ActivityFields:
    from dispatcher.reports.activity_fields import ActivityFields

    return ActivityFields(**{k: None if v is None else str(v) for k, v in values.items()})


_HELP = {
    "--unit": "The unit: name (tone marks optional) or code.",
    "--form": "The form: code or Vietnamese name (see `activity forms`).",
    "--count": "How many times (lượt, buổi, bài...).",
    "--date": "When: dd/mm/yyyy or YYYY-MM-DD.",
    "--means": "The means used (e.g. the commune's Zalo group).",
    "--content": "What was communicated.",
    "--campaign": "The campaign it belongs to, if any.",
    "--note": "Anything else, for the report's Ghi chú.",
}
F = TypeVar("F", bound=Callable[..., Any])


def _activity_options(required: bool) -> Callable[[F], F]:
    """The fields of an activity as options (all optional for a correction)."""

    def decorate(command: F) -> F:
        for name, text in reversed(_HELP.items()):
            needed = required and name in ("--unit", "--form", "--count", "--date")
            extra: dict[str, Any] = {"type": int} if name == "--count" else {"metavar": "TEXT"}
            if name == "--date":
                command = click.option(name, "day", required=needed, metavar="DATE",
                                       help=text)(command)  # fmt: skip
            elif name in ("--unit", "--form"):
                command = click.option(name, required=needed, help=text)(command)
            else:
                command = click.option(name, required=needed, help=text, **extra)(command)
        return command

    return decorate


@click.group()
def activity() -> None:
    """Outreach done by other means (meetings, banners, posts, visits), for the monthly report."""


@activity.command("add")
@_activity_options(required=True)
def activity_add(unit: str, form: str, count: int, day: str, means: str | None,
                 content: str | None, campaign: str | None, note: str | None) -> None:  # fmt: skip
    """Record one activity of a unit.

    \b
    Example: dispatcher activity add --unit "Tân Đoàn" --form meeting --count 2 \\
               --date 05/12/2024 --means "Hội trường thôn" --content "Tắt sóng 2G"
    """
    written = _fields(unit=unit, form=form, count=count, date=day, means=means,
                      content=content, campaign=campaign, note=note)  # fmt: skip
    with bootstrap.runtime(load_settings()) as rt:
        made = activities.add(rt, written)
    click.echo(present.recorded(made))


@activity.command("import")
@click.argument("file", type=FileArg)
def activity_import_cmd(file: Path) -> None:
    """Record every row of a .csv, .txt or .xlsx table, or none (each problem as file:line: column).

    Headers: Đơn vị, Hình thức, Số lượt, Ngày, and optionally Phương tiện, Nội dung, Ghi chú,
    Chiến dịch (or unit, form, count, date, means, content, note, campaign); STT is ignored.

    \b
    Example: dispatcher activity import bao-cao-xa-tan-doan-12-2024.xlsx
    """
    with bootstrap.runtime(load_settings()) as rt:
        result = activity_import.import_file(rt, file)
    click.echo(present.imported(result))


@activity.command("correct")
@click.argument("activity_id", metavar="ID", type=click.IntRange(min=1))
@_activity_options(required=False)
@click.option("--reason", metavar="TEXT", help="Why it is corrected (kept with the record).")
def activity_correct(
    activity_id: int, unit: str | None, form: str | None, count: int | None, day: str | None,
    means: str | None, content: str | None, campaign: str | None, note: str | None,
    reason: str | None,
) -> None:  # fmt: skip
    """Record a correction of activity ID: the fields given change, the rest are kept. The
    report counts the correction; the record it replaces stays in the log.

    \b
    Example: dispatcher activity correct 12 --count 3 --reason "miscounted"
    """
    changes = _fields(unit=unit, form=form, count=count, date=day, means=means,
                      content=content, campaign=campaign, note=note)  # fmt: skip
    with bootstrap.runtime(load_settings()) as rt:
        made = activities.correct(rt, activity_id, changes, reason)
    click.echo(present.recorded(made))


@activity.command("void")
@click.argument("activity_id", metavar="ID", type=click.IntRange(min=1))
@click.option("--reason", required=True, metavar="TEXT", help="Why it no longer counts.")
def activity_void(activity_id: int, reason: str) -> None:
    """Record that activity ID no longer counts (a duplicate, a mistake); it stays in the log.

    \b
    Example: dispatcher activity void 12 --reason "entered twice"
    """
    with bootstrap.runtime(load_settings()) as rt:
        made = activities.void(rt, activity_id, reason)
    click.echo(present.recorded(made))


@activity.command("list")
@click.option("--month", help="A month: 2024-12 or 12/2024.")
@click.option("--from", "first", metavar="DATE", help="From this day (dd/mm/yyyy or ISO).")
@click.option("--to", "last", metavar="DATE", help="To this day, included.")
@click.option("--unit", help="One unit (name or code).")
@click.option("--form", help="One form (code or name).")
@click.option("--campaign", metavar="ID", help="One campaign's activities.")
@click.option(
    "--format", "fmt", type=click.Choice(["table", "csv", "jsonl"]), default="table",
    show_default=True, help="Table to read; CSV (UTF-8 with BOM, for Excel) or JSONL to export.",
)  # fmt: skip
def activity_list(month: str | None, first: str | None, last: str | None, unit: str | None,
                  form: str | None, campaign: str | None, fmt: str) -> None:  # fmt: skip
    """Every record, corrections and voids included, by day, each with whether it counts.

    \b
    Example: dispatcher activity list --month 12/2024 --unit "Tân Đoàn"
    """
    wanted = activities.make_filter(month=month, first=first, last=last, unit=unit, form=form,
                                    campaign_id=campaign)  # fmt: skip
    settings = load_settings()
    with bootstrap.runtime(settings) as rt:
        found = activities.listing(rt, wanted)
    for chunk in present.listing(found, fmt, settings.tz):
        click.echo(chunk, nl=False)


@activity.command("forms")
def activity_forms() -> None:
    """The forms of communication, their codes and what each is counted in."""
    click.echo(present.forms_table(), nl=False)
