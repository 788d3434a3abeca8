"""`dispatcher token ...`: the communes' page links, listed and revoked.

Links are made by `dispatcher broadcast link`; their tokens are never stored, so a listing
shows who made each link, for which commune, and until when, never the link itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from dispatcher.cli.shared import load_settings
from dispatcher.core.lazy import lazy_module

if TYPE_CHECKING:
    from dispatcher import bootstrap
else:
    # Loaded when a command runs. dispatcher.broadcast is imported inside each command: even a
    # lazy module loads its parent package, and that one loads the document and audio stack.
    bootstrap = lazy_module("dispatcher.bootstrap")


@click.group()
def token() -> None:
    """The communes' page links: list and revoke (make one with `broadcast link`)."""


@token.command("list")
@click.option("--commune", help="Only this commune's links (name or code).")
@click.option("--all", "every", is_flag=True, help="Expired and revoked links too.")
def token_list(commune: str | None, every: bool) -> None:
    """List the links that work now (with --all, every link ever made), oldest first.

    \b
    Example: dispatcher token list --commune "Tân Đoàn" --all
    """
    from dispatcher.broadcast import links
    from dispatcher.cli import present_airings

    settings = load_settings()
    with bootstrap.runtime(settings) as rt:
        records = links.list_links(rt, commune, every=every)
        now = rt.clock.now()
    click.echo(present_airings.link_table(records, now, settings.tz))


@token.command("revoke")
@click.argument("ids", metavar="[ID]...", nargs=-1, type=click.IntRange(min=1))
@click.option("--commune", help="Revoke every working link of this commune (name or code).")
@click.option("--reason", metavar="TEXT", help="Why, for the activity log.")
def token_revoke(ids: tuple[int, ...], commune: str | None, reason: str | None) -> None:
    """Revoke links by id (see `token list`), or all of a commune's; other communes' links
    keep working. The revocation is in the activity log, with who did it.

    \b
    Example: dispatcher token revoke 7 --reason "phone of the commune office lost"
    """
    from dispatcher.broadcast import links
    from dispatcher.cli import present_airings

    with bootstrap.runtime(load_settings()) as rt:
        done = links.revoke_links(rt, ids, commune, reason)
    click.echo(present_airings.revoked(done))
