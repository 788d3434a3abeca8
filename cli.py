"""The ``dispatcher`` command line: parse, call one service function, format. Nothing else.

Every error a user can cause is a DispatcherError; the group below catches it once, prints
``Error: ...`` to stderr and exits with its code (2 bad input, 3 halted). Exit 1 means the run
finished but some recipients were not sent.
"""

from __future__ import annotations

import gc
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from dispatcher import http, optouts, presenters, reports, services, tracking
from dispatcher.bootstrap import runtime
from dispatcher.clock import SystemClock
from dispatcher.errors import EXIT_BAD_INPUT, DispatcherError
from dispatcher.settings import Settings, load_settings

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
FileArg = click.Path(path_type=Path, dir_okay=False)


class DispatcherGroup(click.Group):
    """Turns our errors into a message and an exit code, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except DispatcherError as exc:
            click.echo(f"Error: {exc.message}", err=True)
            ctx.exit(exc.exit_code)


@contextmanager
def _without_cyclic_gc() -> Iterator[None]:
    """For commands that read whole lists and exit (plan, validate), not for ``send``.

    A million-row list makes millions of short-lived objects without reference cycles, and the
    cyclic collector would keep re-scanning everything that lives longer: ~15% of a ``plan``.
    """
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _settings() -> Settings:
    return load_settings()


@click.group(cls=DispatcherGroup, context_settings=CONTEXT)
@click.version_option(package_name="dispatcher")
def main() -> None:
    """SMS and loudspeaker-broadcast campaigns for local government outreach.

    Configuration: ./config.yaml or $DISPATCHER_CONFIG; $DISPATCHER_DB_URL and
    $DISPATCHER_GATEWAY (twilio | simulator) override it. Twilio credentials come only from
    $TWILIO_ACCOUNT_SID and $TWILIO_AUTH_TOKEN.
    """


@main.command()
@click.argument("files", nargs=-1, required=True, type=FileArg)
def validate(files: tuple[Path, ...]) -> None:
    """Check campaign files completely: YAML, lists, templates, every rendered message.

    Exit 0 when all are valid, 2 with `file:line: message` for each problem.

    \b
    Example: dispatcher validate campaigns/2g-shutdown-2024.yaml
    """
    with _without_cyclic_gc():
        results = services.validate(list(files))
    click.echo(presenters.validation(results), nl=False)
    if any(r.problems for r in results):
        sys.exit(EXIT_BAD_INPUT)


@main.command()
@click.argument("file", type=FileArg)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def plan(file: Path, as_json: bool) -> None:
    """Show recipients, encoding, segments and the next occurrences, without sending.

    \b
    Example: dispatcher plan campaigns/2g-shutdown-2024.yaml --json
    """
    settings = _settings()
    with _without_cyclic_gc():
        result = services.plan(file, SystemClock().now())
    render = presenters.plan_json if as_json else presenters.plan_table
    click.echo(render(result, settings.tz))


@main.command()
@click.argument("file", type=FileArg)
@click.option(
    "--occurrence",
    metavar="KEY",
    help="Send (or resume) an extra occurrence named KEY now; idempotent per KEY.",
)
def send(file: Path, occurrence: str | None) -> None:
    """Send what is due now; re-running resumes and never repeats a message.

    Exit 0 all sent, 1 some recipients failed or are left, 2 bad input, 3 halted.

    \b
    Example: dispatcher send campaigns/2g-shutdown-2024.yaml --occurrence demo
    """
    settings = _settings()
    with runtime(settings) as rt, presenters.ProgressDisplay() as progress:
        report = services.send(rt, file, occurrence, progress.update)
    click.echo(presenters.send_summary(report, settings.tz))
    sys.exit(presenters.send_exit_code(report))


@main.command()
@click.option("--campaign", help="Only this campaign id.")
@click.option("--phone", help="Only this number (any written form).")
@click.option("--status", help="Only deliveries in this status.")
@click.option(
    "--format", "fmt", type=click.Choice(["table", "csv", "jsonl"]), default="table",
    show_default=True, help="Table for people (numbers masked); CSV or JSONL for machines.",
)  # fmt: skip
def log(campaign: str | None, phone: str | None, status: str | None, fmt: str) -> None:
    """Show the deliveries (one row per recipient and occurrence) and their status.

    In Vietnam `delivered` is only the SMS centre's acknowledgement, not the handset's.
    """
    filters = services.log_filter(campaign, phone, status)
    with runtime(_settings()) as rt:
        for chunk in presenters.delivery_log(services.delivery_log(rt, filters), fmt):
            click.echo(chunk, nl=False)


@main.group()
def broadcast() -> None:
    """Loudspeaker broadcast scripts for the communes."""


@broadcast.command("scripts")
@click.argument("file", type=FileArg)
@click.option("--commune", help="Only this commune (as named in the campaign).")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), help="Output folder.")
def broadcast_scripts(file: Path, commune: str | None, out: Path | None) -> None:
    """Write one script per commune per airing, to read out on the loudspeakers."""
    from dispatcher import broadcast_service

    settings = _settings()
    with runtime(settings) as rt:
        result = broadcast_service.write_campaign_scripts(rt, file, commune, out)
    click.echo(presenters.scripts_summary(result))


@main.group()
def report() -> None:
    """Reports computed from the delivery log."""


@report.command("monthly")
@click.option("--month", required=True, metavar="YYYY-MM", help="The month to report.")
@click.option(
    "--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table",
    show_default=True, help="Table to read, CSV for a spreadsheet, JSON for machines.",
)  # fmt: skip
def report_monthly(month: str, fmt: str) -> None:
    """Per unit: form of communication, number of times, means (the directive's report)."""
    reports.parse_month(month)
    with runtime(_settings()) as rt:
        result = reports.monthly(rt, month)
    click.echo(presenters.monthly(result, fmt), nl=False)


@main.group()
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
    with runtime(_settings()) as rt:
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
    with runtime(_settings()) as rt:
        change = optouts.remove(rt, phone, reason)
    click.echo(presenters.optout_change(change, "remove"))


@optout.command("import")
@click.argument("file", type=FileArg)
@click.option("--reason", metavar="TEXT", help="Reason for rows without a reason/note column.")
def optout_import(file: Path, reason: str | None) -> None:
    """Add every number of a .csv or .xlsx list with a `phone` column.

    A row's `reason` or `note` column is kept as its reason. Unusable numbers are reported as
    `file:line` warnings and skipped; a file that cannot be read adds nothing (exit 2).

    \b
    Example: dispatcher optout import campaigns/lists/opted-out.csv --reason "DNC 5656"
    """
    with runtime(_settings()) as rt:
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
    settings = _settings()
    with runtime(settings) as rt:
        for chunk in presenters.optout_list(optouts.entries(rt), fmt, full, settings.tz):
            click.echo(chunk, nl=False)


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Create or upgrade the database schema to the newest revision."""
    with runtime(_settings()) as rt:
        click.echo(f"database schema is current: {rt.engine.url.render_as_string()}")


@main.command()
def serve() -> None:
    """Receive Twilio status callbacks and inbound SMS, and poll statuses, until stopped.

    Listens on http.host:http.port of config.yaml (loopback by default). With
    http.public_base_url set (the URL Twilio reaches, e.g. through a reverse proxy), sends ask
    for status callbacks at <public_base_url>/twilio/status; every request must carry a valid
    X-Twilio-Signature (key: $TWILIO_AUTH_TOKEN), else 403. Every status.poll_interval_s it
    polls the provider for deliveries without a final status and fails the `unknown` ones
    older than sending.unknown_max_age_minutes. SIGTERM or Ctrl-C stops it (exit 0).

    In Vietnam `delivered` is only the SMS centre's acknowledgement, not the handset's.

    \b
    Example: DISPATCHER_GATEWAY=twilio dispatcher serve
    """
    settings = _settings()
    # Our own INFO lines; only warnings from libraries (twilio logs every request at INFO).
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    logging.getLogger("dispatcher").setLevel(logging.INFO)
    interval, public = settings.status.poll_interval_s, settings.http.public_base_url

    def ready(url: str) -> None:
        click.echo(presenters.serve_started(url, public, interval))
        sys.stdout.flush()

    with runtime(settings) as rt:
        stats = http.serve(rt, ready)
    click.echo(presenters.serve_stopped(stats))


@main.command()
def reconcile() -> None:
    """Ask the provider once about every delivery without a final status; no server needed.

    Moves statuses forward (accepted → sent → delivered...) and fails the `unknown` outcomes
    older than sending.unknown_max_age_minutes as `unknown-outcome`, never resending them.
    In Vietnam `delivered` is only the SMS centre's acknowledgement, not the handset's.

    \b
    Example: DISPATCHER_GATEWAY=twilio dispatcher reconcile
    """
    with runtime(_settings()) as rt:
        result = tracking.reconcile(rt)
    click.echo(presenters.reconcile_summary(result))


@main.command(context_settings={"ignore_unknown_options": True, "help_option_names": []})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def simulator(args: tuple[str, ...]) -> None:
    """Run the Twilio-compatible simulator on its own (`dispatcher simulator --help`).

    It accepts the credentials in $TWILIO_ACCOUNT_SID / $TWILIO_AUTH_TOKEN, binds to loopback,
    prints its base URL, and can inject faults and keep a JSONL record of what it accepted.
    """
    from dispatcher.gateways import simulator as sim

    sys.exit(sim.main(list(args)))


if __name__ == "__main__":
    main()
