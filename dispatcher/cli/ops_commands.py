"""Running the service: campaigns' states and health, pause/resume/cancel, halt, the database,
workers, `serve`, `reconcile` and the standalone simulator."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from dispatcher.cli.shared import (
    JsonFlag,
    ReasonOption,
    load_settings,
)
from dispatcher.core import logs
from dispatcher.core.errors import (
    EXIT_OK,
    EXIT_SOME_FAILED,
    BadInput,
    Problem,
)
from dispatcher.core.lazy import lazy_module

if TYPE_CHECKING:
    from dispatcher import bootstrap
    from dispatcher.cli import present_ops as presenters_ops
    from dispatcher.cli import presenters
    from dispatcher.core.logs import LogFormat
    from dispatcher.ops import controls as lifecycle
    from dispatcher.ops import health
    from dispatcher.safety import halting
    from dispatcher.sending import tracking
    from dispatcher.settings import config
    from dispatcher.web import service as http
else:
    # Loaded when a command first uses them, so that `--help` and a mistyped option answer at
    # once instead of importing SQLAlchemy, Alembic, aiohttp and the twilio client first.
    bootstrap = lazy_module("dispatcher.bootstrap")
    presenters_ops = lazy_module("dispatcher.cli.present_ops")
    presenters = lazy_module("dispatcher.cli.presenters")
    lifecycle = lazy_module("dispatcher.ops.controls")
    health = lazy_module("dispatcher.ops.health")
    halting = lazy_module("dispatcher.safety.halting")
    tracking = lazy_module("dispatcher.sending.tracking")
    config = lazy_module("dispatcher.settings.config")
    http = lazy_module("dispatcher.web.service")


@click.command("campaigns")
@JsonFlag
def campaigns_cmd(as_json: bool) -> None:
    """List the campaigns with their state and progress (deliveries per status).

    \b
    Example: dispatcher campaigns --json
    """
    settings = load_settings()
    with bootstrap.runtime(settings) as rt:
        found = lifecycle.campaigns(rt)
    if as_json:
        click.echo(presenters_ops.campaigns_json(found), nl=False)
    else:
        click.echo(presenters_ops.campaigns_table(found, settings.tz), nl=False)


@click.command("status")
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
    settings, ops = load_settings(), presenters_ops
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


@click.command()
@click.argument("campaign_id", metavar="ID")
@ReasonOption
def pause(campaign_id: str, reason: str | None) -> None:
    """Pause a campaign: every worker stops claiming its deliveries within seconds.

    Deliveries already in flight finish; `resume` continues. A canceled campaign cannot be
    paused (exit 2).

    \b
    Example: dispatcher pause 2g-shutdown-2024 --reason "wrong hotline in the text"
    """
    with bootstrap.runtime(load_settings()) as rt:
        change = lifecycle.pause(rt, campaign_id, reason)
    click.echo(presenters_ops.state_change(change))


@click.command()
@click.argument("campaign_id", metavar="ID")
@ReasonOption
def resume(campaign_id: str, reason: str | None) -> None:
    """Resume a paused campaign: workers claim its pending deliveries again.

    \b
    Example: dispatcher resume 2g-shutdown-2024 --reason "text corrected"
    """
    with bootstrap.runtime(load_settings()) as rt:
        change = lifecycle.resume(rt, campaign_id, reason)
    click.echo(presenters_ops.state_change(change))


@click.command()
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
    with bootstrap.runtime(load_settings()) as rt:
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


@click.command()
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
    settings = load_settings()
    with bootstrap.runtime(settings) as rt:
        change = halting.halt(rt, reason)
    click.echo(presenters_ops.halt_change(change, settings.tz))


@click.command()
@ReasonOption
def unhalt(reason: str | None) -> None:
    """Lift the halt: workers claim pending deliveries again within seconds.

    Fix the cause first (after an automatic halt: TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN of
    every worker, or the account). When sending is not halted, nothing changes.

    \b
    Example: dispatcher unhalt --reason "auth token rotated on every host"
    """
    settings = load_settings()
    with bootstrap.runtime(settings) as rt:
        change = halting.unhalt(rt, reason)
    click.echo(presenters_ops.halt_change(change, settings.tz))


@click.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Create or upgrade the database schema to the newest revision."""
    with bootstrap.runtime(load_settings(), migrate=True) as rt:
        click.echo(f"database schema is current: {rt.engine.url.render_as_string()}")


LOG_FORMAT = click.option(
    "--log-format",
    type=click.Choice(["auto", "json", "text"]),
    default="auto",
    envvar="DISPATCHER_LOG_FORMAT",
    show_default=True,
    help="Log lines on stderr: JSON objects, or text; auto: text on a terminal, else JSON.",
)


@click.command()
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

    settings = load_settings()
    logs.configure(log_format)

    def ready(worker_id: str) -> None:
        click.echo(f"Worker {worker_id} started (Ctrl-C or SIGTERM stops).")
        sys.stdout.flush()

    with bootstrap.runtime(settings) as rt:
        stats = worker_service.run_worker(rt, ready)
    click.echo(presenters.worker_stopped(stats))


@click.command()
@LOG_FORMAT
@click.option(
    "--host",
    envvar="DISPATCHER_HTTP_HOST",
    show_envvar=True,
    help="Listen on this address instead of http.host (127.0.0.1: this machine only).",
)
@click.option(
    "--port",
    envvar="DISPATCHER_HTTP_PORT",
    show_envvar=True,
    type=click.IntRange(0, 65_535),
    help="Listen on this port instead of http.port.",
)
def serve(log_format: LogFormat, host: str | None, port: int | None) -> None:
    """Send scheduled campaigns, serve the communes' pages, take status callbacks, until stopped.

    Listens on http.host:http.port of config.yaml (127.0.0.1:8080: this machine only), or
    --host/--port. With the default gateway (simulator) the Twilio-compatible simulator runs
    inside this process, and nothing reaches a real phone; gateway: twilio sends for real.
    Pages need a sign-in: open a link of `dispatcher token create` (or `broadcast link`).
    With http.public_base_url set (the URL Twilio reaches, e.g. through a reverse proxy), sends
    ask for status callbacks at <public_base_url>/twilio/status; every request must carry a
    valid X-Twilio-Signature (key: $TWILIO_AUTH_TOKEN), else 403. Every status.poll_interval_s
    it polls the provider for deliveries without a final status and fails the `unknown` ones
    older than sending.unknown_max_age_minutes. SIGTERM or Ctrl-C stops it (exit 0).

    In Vietnam `delivered` is only the SMS centre's acknowledgement, not the handset's.

    \b
    Examples: dispatcher serve
              dispatcher serve --port 8081
              DISPATCHER_GATEWAY=twilio dispatcher serve
    """
    settings = load_settings()
    if host is not None or port is not None:
        bind = {"host": host, "port": port}
        http_settings = settings.http.model_copy(
            update={key: value for key, value in bind.items() if value is not None}
        )
        settings = settings.model_copy(update={"http": http_settings})
    logs.configure(log_format)
    interval, public = settings.status.poll_interval_s, settings.http.public_base_url
    simulated = settings.gateway == "simulator"

    def ready(url: str) -> None:
        click.echo(presenters.serve_started(url, public, interval, simulated))
        sys.stdout.flush()

    with bootstrap.runtime(settings) as rt:
        stats = http.serve(rt, ready)
    click.echo(presenters.serve_stopped(stats))


@click.command()
def reconcile() -> None:
    """Ask the provider once about every delivery without a final status; no server needed.

    Moves statuses forward (accepted → sent → delivered...) and fails the `unknown` outcomes
    older than sending.unknown_max_age_minutes as `unknown-outcome`, never resending them.
    In Vietnam `delivered` is only the SMS centre's acknowledgement, not the handset's.

    \b
    Example: DISPATCHER_GATEWAY=twilio dispatcher reconcile
    """
    with bootstrap.runtime(load_settings()) as rt:
        result = tracking.reconcile(rt)
    click.echo(presenters.reconcile_summary(result))


@click.command(context_settings={"ignore_unknown_options": True, "help_option_names": []})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def simulator(args: tuple[str, ...]) -> None:
    """Run the Twilio-compatible simulator on its own (`dispatcher simulator --help`).

    It accepts the credentials in $TWILIO_ACCOUNT_SID / $TWILIO_AUTH_TOKEN, binds to loopback,
    prints its base URL, and can inject faults and keep a JSONL record of what it accepted.
    """
    from dispatcher.gateways import simulator as sim

    sys.exit(sim.main(list(args)))


COMMANDS = (
    campaigns_cmd, status_cmd, pause, resume, cancel, halt, unhalt, db, worker, serve, reconcile,
    simulator,
)  # fmt: skip
