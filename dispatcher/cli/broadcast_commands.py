"""`dispatcher broadcast ...`: the communes' scripts, audio, confirmations and links."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from dispatcher.cli.shared import FileArg, load_settings
from dispatcher.core.lazy import lazy_module

if TYPE_CHECKING:
    from dispatcher import bootstrap
    from dispatcher.settings import config
    from dispatcher.web import service as http
else:
    # Loaded when a command first uses them, so that `--help` and a mistyped option answer at
    # once instead of importing SQLAlchemy, Alembic, aiohttp and the twilio client first.
    bootstrap = lazy_module("dispatcher.bootstrap")
    config = lazy_module("dispatcher.settings.config")
    http = lazy_module("dispatcher.web.service")


@click.group()
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

    with bootstrap.runtime(load_settings()) as rt:
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

    with bootstrap.runtime(load_settings()) as rt:
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

    with bootstrap.runtime(load_settings()) as rt:
        result = airings.confirm(
            rt, commune, campaign_id, at, duration_s=duration, aired_at=aired_at
        )
    click.echo(presenters_airings.confirmed(result))


@broadcast.command("link")
@click.option("--commune", required=True, help="The commune: name, or code in the units registry.")
@click.option(
    "--days", type=int, metavar="N",
    help="How long the link works (default: http.link_days in config.yaml, 180).",
)  # fmt: skip
def broadcast_link(commune: str, days: int | None) -> None:
    """Make a new link to the commune's page (its airings, scripts, audio, "Đã phát" button).

    The link is shown once and works until it expires or is revoked; only a digest of its
    token is kept. Give it to the commune only. Links already given out keep working: list
    them with `dispatcher token list`, revoke with `dispatcher token revoke`. The page is
    served by `dispatcher serve`, at http.public_base_url (else http.host:http.port).

    \b
    Example: dispatcher broadcast link --commune "Xã Tân Đoàn" --days 90
    """
    from dispatcher.broadcast import links
    from dispatcher.cli import present_airings as presenters_airings

    settings = load_settings()
    with bootstrap.runtime(settings) as rt:
        link = links.issue_link(rt, commune, days)
    click.echo(presenters_airings.commune_link(link, settings.tz))
