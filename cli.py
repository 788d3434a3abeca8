"""The ``dispatcher`` command line: parse, call one service function, format. Nothing else.

Every error a user can cause is a DispatcherError; the group below catches it once, prints
``Error: ...`` to stderr and exits with its code (2 bad input, 3 halted). Exit 1 means the run
finished but some recipients were not sent.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from dispatcher.core import logs
from dispatcher.core.clock import SystemClock
from dispatcher.core.errors import (
    EXIT_BAD_INPUT,
    EXIT_OK,
    EXIT_SOME_FAILED,
    BadInput,
    DispatcherError,
    Problem,
)
from dispatcher.core.lazy import lazy_module
from dispatcher.core.operator import ENV_ASSUME_YES

if TYPE_CHECKING:
    from dispatcher import bootstrap
    from dispatcher.cli import present_ops as presenters_ops
    from dispatcher.cli import present_safety as presenters_safety
    from dispatcher.cli import presenters
    from dispatcher.core.logs import LogFormat
    from dispatcher.ops import controls as lifecycle
    from dispatcher.ops import health
    from dispatcher.reports import monthly as reports
    from dispatcher.safety import halting, optouts
    from dispatcher.sending import approval, planning, tracking
    from dispatcher.sending import send as services
    from dispatcher.sending import trial as trial_send
    from dispatcher.sending.approval import SendPreview
    from dispatcher.settings import config
    from dispatcher.settings.config import Settings
    from dispatcher.web import service as http
else:
    # Loaded when a command first uses them, so that `--help` and a mistyped option answer at
    # once instead of importing SQLAlchemy, Alembic, aiohttp and the twilio client first.
    bootstrap = lazy_module("dispatcher.bootstrap")
    presenters_ops = lazy_module("dispatcher.cli.present_ops")
    presenters_safety = lazy_module("dispatcher.cli.present_safety")
    presenters = lazy_module("dispatcher.cli.presenters")
    lifecycle = lazy_module("dispatcher.ops.controls")
    health = lazy_module("dispatcher.ops.health")
    reports = lazy_module("dispatcher.reports.monthly")
    halting = lazy_module("dispatcher.safety.halting")
    optouts = lazy_module("dispatcher.safety.optouts")
    approval = lazy_module("dispatcher.sending.approval")
    planning = lazy_module("dispatcher.sending.planning")
    tracking = lazy_module("dispatcher.sending.tracking")
    services = lazy_module("dispatcher.sending.send")
    trial_send = lazy_module("dispatcher.sending.trial")
    config = lazy_module("dispatcher.settings.config")
    http = lazy_module("dispatcher.web.service")

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
FileArg = click.Path(path_type=Path, dir_okay=False)
# Phone numbers are personal data (Decree 13/2023): tables mask them unless asked.
FullFlag = click.option(
    "--full", is_flag=True, help="Show whole phone numbers in the table (personal data)."
)


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
    return config.load_settings()


@click.group(cls=DispatcherGroup, context_settings=CONTEXT)
@click.version_option(package_name="dispatcher")
def main() -> None:
    """SMS and loudspeaker-broadcast campaigns for local government outreach.

    Configuration: ./config.yaml or $DISPATCHER_CONFIG; $DISPATCHER_DB_URL,
    $DISPATCHER_GATEWAY (twilio | simulator) and $DISPATCHER_QUIET_HOURS (22:00-07:00 | off)
    override it. Twilio credentials come only from
    $TWILIO_ACCOUNT_SID and $TWILIO_AUTH_TOKEN.
    """


@main.command()
@click.argument("files", nargs=-1, required=True, type=FileArg)
def validate(files: tuple[Path, ...]) -> None:
    """Check campaign files completely: YAML, lists, templates, every rendered message.

    Exit 0 when all are valid, 2 with `file:line: message` for each problem. A campaign
    already in the database (sent before) also says what the file changed since then.

    \b
    Example: dispatcher validate campaigns/2g-shutdown-2024.yaml
    """
    settings = _settings()
    with _without_cyclic_gc():
        results = services.validate(list(files), settings)
    click.echo(presenters.validation(results, settings.tz), nl=False)
    if any(r.problems for r in results):
        sys.exit(EXIT_BAD_INPUT)


@main.command()
@click.argument("file", type=FileArg)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@FullFlag
def plan(file: Path, as_json: bool, full: bool) -> None:
    """Show recipients, encoding, segments and the next occurrences, without sending.

    The next 10 occurrences as they will fire (an occurrence inside quiet hours waits for them
    to end), how long each takes at the senders' rates (a warning when longer than Twilio will
    queue; exit code still 0), and what the file changed since the campaign was last sent.

    \b
    Example: dispatcher plan campaigns/2g-shutdown-2024.yaml --json
    """
    settings = _settings()
    with _without_cyclic_gc():
        result = planning.plan(file, SystemClock().now(), settings)
    if as_json:
        click.echo(presenters.plan_json(result, settings.tz))
    else:
        click.echo(presenters.plan_table(result, settings.tz, full))


@main.command()
@click.argument("file", type=FileArg)
@click.option(
    "--occurrence",
    metavar="KEY",
    help="Send (or resume) an extra occurrence named KEY now; idempotent per KEY.",
)
@click.option(
    "--test", is_flag=True,
    help="Send the rendered message to sending.test_numbers only (staff phones); logged as a "
    "test, never counted in reports.",
)  # fmt: skip
@click.option(
    "--as-row", type=int, metavar="N",
    help="With --test: the message of the N-th recipient (default: of the first rows).",
)  # fmt: skip
@click.option(
    "--yes", is_flag=True, envvar=ENV_ASSUME_YES,
    help="Do not ask before sending through a real gateway (scripts; or DISPATCHER_ASSUME_YES=1).",
)  # fmt: skip
def send(file: Path, occurrence: str | None, test: bool, as_row: int | None, yes: bool) -> None:
    """Send what is due now; re-running resumes and never repeats a message.

    Through a real gateway it first shows recipients, segments, cost and the first message and
    asks (or needs --yes); above approval.above_recipients it also needs `dispatcher approve`
    by a second operator.

    Exit 0 all sent, 1 some recipients failed or are left (or you answered no), 2 bad input or
    refused, 3 halted or over budget.

    \b
    Examples: dispatcher send campaigns/2g-shutdown-2024.yaml --test
              dispatcher send campaigns/2g-shutdown-2024.yaml --occurrence demo
    """
    if as_row is not None and not test:
        raise BadInput(Problem("goes with --test", field="--as-row"))
    if test and occurrence is not None:
        raise BadInput(Problem("a test send is its own occurrence", field="--occurrence"))
    settings = _settings()
    with bootstrap.runtime(settings) as rt, presenters.ProgressDisplay() as progress:
        if test:
            report = trial_send.send_test(rt, file, as_row, progress.update)
        else:
            confirm = _confirmation(yes, settings)
            report = approval.guarded_send(rt, file, occurrence, progress.update, confirm)
    click.echo(presenters.send_summary(report, settings.tz))
    sys.exit(presenters.send_exit_code(report))


def _confirmation(yes: bool, settings: Settings) -> Callable[[SendPreview], bool] | None:
    """Yes without asking (--yes), the operator's answer on a terminal, or None (refused)."""
    if yes:
        return lambda _preview: True
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        return None

    def ask(preview: SendPreview) -> bool:
        click.echo(presenters_safety.send_preview(preview, settings.tz))
        return click.confirm("Send it now?", default=False)

    return ask


@main.command()
@click.argument("file", type=FileArg)
def approve(file: Path) -> None:
    """Approve a campaign as the second operator (the two-person rule of real-gateway sends).

    The approval holds for this version only: its text, the lists' contents and the recipient
    count; any edit voids it (`plan` says so). The approver is $DISPATCHER_OPERATOR (else the
    login name) and cannot be the campaign's `author`, nor the operator who then sends it.

    \b
    Example: DISPATCHER_OPERATOR=minh dispatcher approve campaigns/2g-shutdown-2024.yaml
    """
    with bootstrap.runtime(_settings()) as rt:
        result = approval.approve(rt, file)
    click.echo(presenters_safety.approved(result))


@main.command()
@click.option("--campaign", help="Only this campaign id.")
@click.option("--phone", help="Only this number (any written form).")
@click.option("--status", help="Only deliveries in this status.")
@click.option(
    "--format", "fmt", type=click.Choice(["table", "csv", "jsonl"]), default="table",
    show_default=True, help="Table for people (numbers masked); CSV or JSONL for machines.",
)  # fmt: skip
@FullFlag
def log(campaign: str | None, phone: str | None, status: str | None, fmt: str, full: bool) -> None:
    """Show the deliveries (one row per recipient and occurrence) and their status.

    The table masks numbers (+84 91x xxx 678) unless --full; CSV and JSONL carry them whole.
    In Vietnam `delivered` is only the SMS centre's acknowledgement, not the handset's.
    """
    filters = services.log_filter(campaign, phone, status)
    with bootstrap.runtime(_settings()) as rt:
        for chunk in presenters.delivery_log(services.delivery_log(rt, filters), fmt, full):
            click.echo(chunk, nl=False)


@main.group()
def broadcast() -> None:
    """Loudspeaker broadcasts: scripts for the communes, their page links, confirmed airings."""


OutDir = click.option(
    "--out", type=click.Path(path_type=Path, file_okay=False),
    help="Output folder (default: output_dir/scripts from config.yaml).",
)  # fmt: skip


@broadcast.command("scripts")
@click.argument("file", type=FileArg)
@click.option("--commune", help="Only this commune (name, or code in the units registry).")
@OutDir
@click.option(
    "--audio", is_flag=True,
    help="Also render each airing's .wav and .mp3: a few seconds per airing (about 3 s for "
    "4 minutes of audio); unchanged ones are skipped.",
)  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="List every script written, as JSON.")
def broadcast_scripts(
    file: Path, commune: str | None, out: Path | None, audio: bool, as_json: bool
) -> None:
    """Write the files of every airing: the announcer's text, the spoken form, a printable .docx.

    One stem per commune and airing, <out>/<campaign>/<commune>/<YYYY-MM-DD>_<HHMM>, with
    .txt (header with the estimated reading time, then the script), .spoken.txt (what the
    voice reads) and .docx; language variants add their code (…_0600.tay.txt). With --audio,
    also .wav and .mp3: the campaign's recording for the airing, else the offline voice
    (a campaign has hundreds of airings, so this takes minutes; `broadcast pull` renders
    only the days it pulls). Without espeak-ng the reason is printed and the scripts are
    still written.

    \b
    Example: dispatcher broadcast scripts campaigns/2g-shutdown-2024.yaml --commune "Xã Tân Đoàn"
    """
    from dispatcher.broadcast import service as broadcast_service
    from dispatcher.cli import present_broadcast as presenters_broadcast

    with bootstrap.runtime(_settings()) as rt:
        result = broadcast_service.write_campaign_scripts(rt, file, commune, out, audio=audio)
    render = presenters_broadcast.scripts_json if as_json else presenters_broadcast.scripts_summary
    click.echo(render(result))


@broadcast.command("pull")
@click.option("--commune", required=True, help="The commune: name, or code in the units registry.")
@click.option("--date", "day", metavar="D", help="The day: dd/mm/yyyy or ISO (default: today).")
@click.option("--from", "start", metavar="D", help="First day of a range (with --to).")
@click.option("--to", "end", metavar="D", help="Last day of a range, included.")
@OutDir
@click.option(
    "--campaign", "campaign_files", multiple=True, type=FileArg,
    help="A campaign file, besides those in the database (repeatable).",
)  # fmt: skip
@click.option(
    "--no-audio", "no_audio", is_flag=True,
    help="Do not render audio (audio already made is still copied to --out).",
)  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Machine-readable, ISO 8601 times.")
def broadcast_pull(
    commune: str, day: str | None, start: str | None, end: str | None, out: Path | None,
    campaign_files: tuple[Path, ...], no_audio: bool, as_json: bool,
) -> None:  # fmt: skip
    """One commune's scripts and audio for a day or a range of days.

    From every campaign in the database (`broadcast scripts` and `send` register them) and
    the --campaign files. Each airing's .wav and .mp3 is rendered under output_dir/scripts
    (a few seconds each; unchanged ones are skipped) and copied to --out: the campaign's
    recording for the airing, else the offline voice. Without espeak-ng the reason is
    printed and the scripts are still written. Lists date, time, campaign, estimated reading
    time, audio length and files.

    \b
    Examples:
      dispatcher broadcast pull --commune "Xã Tân Đoàn" --date 16/09/2024
      dispatcher broadcast pull --commune 06307 --from 2024-09-01 --to 2024-09-30 --out usb/
    """
    from dispatcher.broadcast import pull as broadcast_pull
    from dispatcher.cli import present_broadcast as presenters_broadcast

    with bootstrap.runtime(_settings()) as rt:
        result = broadcast_pull.pull(
            rt, commune, day, start, end, out, campaign_files, audio=not no_audio
        )
    render = presenters_broadcast.pull_json if as_json else presenters_broadcast.pull_table
    click.echo(render(result))


@broadcast.command("confirm")
@click.option("--commune", required=True, help="The commune: name, or code in the units registry.")
@click.option("--campaign", "campaign_id", required=True, metavar="ID", help="The campaign id.")
@click.option(
    "--at", required=True, metavar="DATETIME",
    help="The planned airing: dd/mm/yyyy HH:MM or ISO 8601 (campaign's time zone).",
)  # fmt: skip
@click.option(
    "--duration", type=click.IntRange(1), metavar="S", help="How long it aired, in seconds."
)
@click.option(
    "--aired-at", metavar="DATETIME",
    help="When it really aired, if not at the planned time (default: the planned time).",
)  # fmt: skip
def broadcast_confirm(
    commune: str, campaign_id: str, at: str, duration: int | None, aired_at: str | None
) -> None:
    """Record that a commune aired a planned airing (the monthly report counts these).

    The same as the "Đã phát" button of the commune's page. Confirming an airing again
    changes nothing and says when it was confirmed; an airing not in the plan is an error
    listing the nearest planned ones.

    \b
    Example:
      dispatcher broadcast confirm --commune "Xã Tân Đoàn" --campaign 2g-shutdown-2024 \\
          --at "16/09/2024 06:00" --duration 420
    """
    from dispatcher.broadcast import confirmations as airings
    from dispatcher.cli import present_airings as presenters_airings

    with bootstrap.runtime(_settings()) as rt:
        result = airings.confirm(
            rt, commune, campaign_id, at, duration_s=duration, aired_at=aired_at
        )
    click.echo(presenters_airings.confirmed(result))


@broadcast.command("link")
@click.option("--commune", required=True, help="The commune: name, or code in the units registry.")
def broadcast_link(commune: str) -> None:
    """Print the link to the commune's page (its airings, scripts, audio, "Đã phát" button).

    The link carries the commune's token, made from $DISPATCHER_SECRET_KEY (never stored):
    give it to the commune only. The page is served by `dispatcher serve`, at
    http.public_base_url (else http.host:http.port).

    \b
    Example: DISPATCHER_SECRET_KEY=... dispatcher broadcast link --commune "Xã Tân Đoàn"
    """
    from dispatcher.broadcast import confirmations as airings
    from dispatcher.cli import present_airings as presenters_airings

    with bootstrap.runtime(_settings()) as rt:
        link = airings.commune_link(rt, commune)
    click.echo(presenters_airings.commune_link(link))


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
    with bootstrap.runtime(_settings()) as rt:
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
    with bootstrap.runtime(_settings()) as rt:
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
    with bootstrap.runtime(_settings()) as rt:
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
    with bootstrap.runtime(_settings()) as rt:
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
    with bootstrap.runtime(settings) as rt:
        for chunk in presenters.optout_list(optouts.entries(rt), fmt, full, settings.tz):
            click.echo(chunk, nl=False)


# -- campaign lifecycle and health ------------------------------------------------------------
JsonFlag = click.option("--json", "as_json", is_flag=True, help="Machine-readable, ISO 8601 times.")
ReasonOption = click.option("--reason", metavar="TEXT", help="Why; recorded in the activity log.")


@main.command("campaigns")
@JsonFlag
def campaigns_cmd(as_json: bool) -> None:
    """List the campaigns with their state and progress (deliveries per status).

    \b
    Example: dispatcher campaigns --json
    """
    settings = _settings()
    with bootstrap.runtime(settings) as rt:
        found = lifecycle.campaigns(rt)
    if as_json:
        click.echo(presenters_ops.campaigns_json(found), nl=False)
    else:
        click.echo(presenters_ops.campaigns_table(found, settings.tz), nl=False)


@main.command("status")
@click.argument("campaign_id", metavar="[ID]", required=False)
@JsonFlag
def status_cmd(campaign_id: str | None, as_json: bool) -> None:
    """Health of the whole system, or one campaign's progress, health and recent activity.

    Unhealthy (exit 1) when sending is halted (`dispatcher halt`, or automatically), or when
    work is stuck: deliveries `sending` or `unknown` for too long, an occurrence with pending
    deliveries that nobody sends, one error code dominating a campaign's recent failures, a
    dead worker holding deliveries (thresholds: `health` in config.yaml). Exit 0 when healthy.

    \b
    Examples: dispatcher status
              dispatcher status 2g-shutdown-2024
    """
    settings, ops = _settings(), presenters_ops
    with bootstrap.runtime(settings) as rt:
        if campaign_id is None:
            report = health.check(rt)
            text = ops.health_json(report) if as_json else ops.health_text(report, settings.tz)
        else:
            found = lifecycle.status(rt, campaign_id)
            report = found.health
            text = (
                ops.campaign_status_json(found)
                if as_json
                else ops.campaign_status(found, settings.tz)
            )
    click.echo(text, nl=False)
    sys.exit(EXIT_OK if report.healthy else EXIT_SOME_FAILED)


@main.command()
@click.argument("campaign_id", metavar="ID")
@ReasonOption
def pause(campaign_id: str, reason: str | None) -> None:
    """Pause a campaign: every worker stops claiming its deliveries within seconds.

    Deliveries already in flight finish; `resume` continues. A canceled campaign cannot be
    paused (exit 2).

    \b
    Example: dispatcher pause 2g-shutdown-2024 --reason "wrong hotline in the text"
    """
    with bootstrap.runtime(_settings()) as rt:
        change = lifecycle.pause(rt, campaign_id, reason)
    click.echo(presenters_ops.state_change(change))


@main.command()
@click.argument("campaign_id", metavar="ID")
@ReasonOption
def resume(campaign_id: str, reason: str | None) -> None:
    """Resume a paused campaign: workers claim its pending deliveries again.

    \b
    Example: dispatcher resume 2g-shutdown-2024 --reason "text corrected"
    """
    with bootstrap.runtime(_settings()) as rt:
        change = lifecycle.resume(rt, campaign_id, reason)
    click.echo(presenters_ops.state_change(change))


@main.command()
@click.argument("campaign_id", metavar="ID")
@ReasonOption
@click.option("--yes", is_flag=True, help="Do not ask for confirmation (needed off a terminal).")
def cancel(campaign_id: str, reason: str | None, yes: bool) -> None:
    """Cancel a campaign for good: its pending deliveries become `canceled`, never sent.

    Deliveries in flight (`sending`, `unknown`) finish or are reconciled; no later occurrence
    is sent. Asks for confirmation on a terminal; elsewhere --yes is required (exit 2).
    Declining changes nothing (exit 1).

    \b
    Example: dispatcher cancel 2g-shutdown-2024 --reason "superseded" --yes
    """
    with bootstrap.runtime(_settings()) as rt:
        change = lifecycle.cancel(rt, campaign_id, reason, None if yes else _confirm_cancel)
    click.echo(presenters_ops.state_change(change))
    if change is None:
        sys.exit(EXIT_SOME_FAILED)


def _on_terminal() -> bool:
    return sys.stdin.isatty()


def _confirm_cancel(summary: lifecycle.CampaignSummary) -> bool:
    if not _on_terminal():
        problem = Problem("not on a terminal: add --yes to cancel without asking", field="--yes")
        raise BadInput(problem)
    return click.confirm(presenters_ops.cancel_question(summary), default=False)


@main.command()
@ReasonOption
def halt(reason: str | None) -> None:
    """Stop all sending by every worker, `serve` and `send`, within seconds, until `unhalt`.

    Requests on the wire finish; claimed deliveries not yet sent go back to pending (those of
    a worker that dies meanwhile are reconciled as `unknown`): nothing is lost. Halting again
    changes nothing and says since when and by whom. The sender halts by itself when Twilio
    refuses the account (20003 authentication, 20005, 30002 suspended).

    \b
    Example: dispatcher halt --reason "wrong hotline number in every campaign"
    """
    settings = _settings()
    with bootstrap.runtime(settings) as rt:
        change = halting.halt(rt, reason)
    click.echo(presenters_ops.halt_change(change, settings.tz))


@main.command()
@ReasonOption
def unhalt(reason: str | None) -> None:
    """Lift the halt: workers claim pending deliveries again within seconds.

    Fix the cause first (after an automatic halt: TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN of
    every worker, or the account). When sending is not halted, nothing changes.

    \b
    Example: dispatcher unhalt --reason "auth token rotated on every host"
    """
    settings = _settings()
    with bootstrap.runtime(settings) as rt:
        change = halting.unhalt(rt, reason)
    click.echo(presenters_ops.halt_change(change, settings.tz))


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Create or upgrade the database schema to the newest revision."""
    with bootstrap.runtime(_settings(), migrate=True) as rt:
        click.echo(f"database schema is current: {rt.engine.url.render_as_string()}")


LOG_FORMAT = click.option(
    "--log-format",
    type=click.Choice(["auto", "json", "text"]),
    default="auto",
    envvar="DISPATCHER_LOG_FORMAT",
    show_default=True,
    help="Log lines on stderr: JSON objects, or text; auto: text on a terminal, else JSON.",
)


@main.command()
@LOG_FORMAT
def worker(log_format: LogFormat) -> None:
    """Send due outbox work beside other workers, until stopped (PostgreSQL only).

    Any number of workers, on any hosts, share one PostgreSQL: each claims rows with
    SKIP LOCKED, paces against the per-sender budget kept in the database, and heartbeats;
    the claims of a worker that dies are reconciled with the provider by the others (never
    blindly resent). On SQLite one process sends: use `dispatcher serve`. The schema must be
    current: run `dispatcher db upgrade` once before starting workers.

    \b
    Example: DISPATCHER_DB_URL=postgresql://dispatcher@db/dispatcher dispatcher worker
    """
    from dispatcher.ops import worker as worker_service

    settings = _settings()
    logs.configure(log_format)

    def ready(worker_id: str) -> None:
        click.echo(f"Worker {worker_id} started (Ctrl-C or SIGTERM stops).")
        sys.stdout.flush()

    with bootstrap.runtime(settings) as rt:
        stats = worker_service.run_worker(rt, ready)
    click.echo(presenters.worker_stopped(stats))


@main.command()
@LOG_FORMAT
def serve(log_format: LogFormat) -> None:
    """Send scheduled campaigns, receive Twilio status callbacks, poll statuses, until stopped.

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
    logs.configure(log_format)
    interval, public = settings.status.poll_interval_s, settings.http.public_base_url

    def ready(url: str) -> None:
        click.echo(presenters.serve_started(url, public, interval))
        sys.stdout.flush()

    with bootstrap.runtime(settings) as rt:
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
    with bootstrap.runtime(_settings()) as rt:
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
