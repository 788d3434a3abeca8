"""The ``dispatcher`` command line: parse, call one service function, format. Nothing else.

Every error a user can cause is a DispatcherError; the group below catches it once, prints
``Error: ...`` to stderr and exits with its code (2 bad input, 3 halted). Exit 1 means the run
finished but some recipients were not sent.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from dispatcher.cli import (
    activity_commands,
    broadcast_commands,
    log_commands,
    ops_commands,
    record_commands,
    token_commands,
)
from dispatcher.cli.shared import (
    CONTEXT,
    FileArg,
    FullFlag,
    freeze_at_exit,
    load_settings,
    without_cyclic_gc,
)
from dispatcher.core.clock import SystemClock
from dispatcher.core.errors import (
    EXIT_BAD_INPUT,
    BadInput,
    DispatcherError,
    Problem,
)
from dispatcher.core.lazy import lazy_module
from dispatcher.core.operator import ENV_ASSUME_YES

if TYPE_CHECKING:
    from dispatcher import bootstrap
    from dispatcher.auth import operators
    from dispatcher.cli import present_safety as presenters_safety
    from dispatcher.cli import presenters
    from dispatcher.reports import monthly as reports
    from dispatcher.sending import approval, planning, prepare
    from dispatcher.sending import send as services
    from dispatcher.sending import trial as trial_send
    from dispatcher.sending.approval import SendPreview
    from dispatcher.settings import config
    from dispatcher.settings.config import Settings
else:
    # Loaded when a command first uses them, so that `--help` and a mistyped option answer at
    # once instead of importing SQLAlchemy, Alembic, aiohttp and the twilio client first.
    bootstrap = lazy_module("dispatcher.bootstrap")
    operators = lazy_module("dispatcher.auth.operators")
    presenters_safety = lazy_module("dispatcher.cli.present_safety")
    presenters = lazy_module("dispatcher.cli.presenters")
    reports = lazy_module("dispatcher.reports.monthly")
    approval = lazy_module("dispatcher.sending.approval")
    planning = lazy_module("dispatcher.sending.planning")
    prepare = lazy_module("dispatcher.sending.prepare")
    services = lazy_module("dispatcher.sending.send")
    trial_send = lazy_module("dispatcher.sending.trial")
    config = lazy_module("dispatcher.settings.config")


class DispatcherGroup(click.Group):
    """Turns our errors into a message and an exit code, never a traceback."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        freeze_at_exit()
        return super().main(*args, **kwargs)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except DispatcherError as exc:
            click.echo(f"Error: {exc.message}", err=True)
            ctx.exit(exc.exit_code)


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
    settings = load_settings()
    with without_cyclic_gc():
        results = prepare.validate(list(files), settings)
    click.echo(presenters.validation(results, settings.tz), nl=False)
    if any(r.problems for r in results):
        sys.exit(EXIT_BAD_INPUT)


@main.command()
@click.argument("file", type=FileArg)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option(
    "--preview",
    metavar="N",
    type=click.IntRange(min=0),
    default=3,
    show_default=True,
    help="Show the first N messages as they will be sent (0: none).",
)
@FullFlag
def plan(file: Path, as_json: bool, preview: int, full: bool) -> None:
    """Show recipients, encoding, segments and the next occurrences, without sending.

    The first messages as they will be sent, with their encoding and segments; the rows that
    leave a column the text uses empty; the next 10 occurrences as they will fire (an occurrence
    inside quiet hours waits for them to end), how long each takes at the senders' rates (a
    warning when longer than Twilio will queue; exit code still 0), and what the file changed
    since the campaign was last sent.

    \b
    Example: dispatcher plan campaigns/2g-shutdown-2024.yaml --json
    """
    settings = load_settings()
    with without_cyclic_gc():
        result = planning.plan(file, SystemClock().now(), settings, preview)
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
    settings = load_settings()
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
    with bootstrap.runtime(load_settings()) as rt:
        result = approval.approve(rt, file)
    click.echo(presenters_safety.approved(result))


@main.command("operator-key")
@click.argument("name")
def operator_key(name: str) -> None:
    """Make an operator's own key, which binds their name for `approve` and `send`.

    Prints the key, for that operator alone to keep in their environment (never in a file),
    and the line for config.yaml's approval.operator_keys (a digest: it reveals nothing). Once
    operator_keys is set, a name acts only with its key, so nobody can approve as someone else
    by setting $DISPATCHER_OPERATOR.

    \b
    Example: dispatcher operator-key minh
    """
    key, digest = operators.new_key()
    click.echo(presenters_safety.operator_key(name, key, digest))


# The other commands, each module's: the broadcast and records groups, and running the service.
main.add_command(broadcast_commands.broadcast)
main.add_command(record_commands.report)
main.add_command(record_commands.optout)
main.add_command(token_commands.token)
main.add_command(activity_commands.activity)
main.add_command(log_commands.log)
for command in ops_commands.COMMANDS:
    main.add_command(command)


if __name__ == "__main__":
    main()
