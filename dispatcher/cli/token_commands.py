"""`dispatcher token ...`: who may open the pages of `dispatcher serve`: tokens made, listed
and revoked.

A token is shown once, when made, and stored only as its digest: a listing shows each token's
role, holder, commune, state and who made and revoked it, never the token. The communes' links
of `dispatcher broadcast link` are commune tokens, listed and revoked here too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from dispatcher.auth.sessions import ROLES
from dispatcher.cli.shared import load_settings
from dispatcher.core.lazy import lazy_module

if TYPE_CHECKING:
    from dispatcher import bootstrap
    from dispatcher.cli import present_tokens
else:
    # Loaded when a command runs. dispatcher.web is imported inside each command: it loads
    # dispatcher.broadcast, and that one the document and audio stack.
    bootstrap = lazy_module("dispatcher.bootstrap")
    present_tokens = lazy_module("dispatcher.cli.present_tokens")


@click.group()
def token() -> None:
    """Access to `dispatcher serve`: create, list and revoke tokens (operator, auditor, commune)."""


@token.command("create")
@click.option(
    "--role",
    required=True,
    type=click.Choice(ROLES),
    help="operator (everything), auditor (reads, changes nothing), commune (its page).",
)
@click.option("--name", required=True, help="The person given the token, for the records.")
@click.option("--commune", help="The commune of a commune token (name or code).")
@click.option("--expires", metavar="DURATION",
              help="How long it works: 30d, 12h, 2w (default: http.link_days for a commune, "
                   "30d otherwise).")  # fmt: skip
def token_create(role: str, name: str, commune: str | None, expires: str | None) -> None:
    """Make a token and print it once, with its login link. Only its digest is kept.

    \b
    Examples: dispatcher token create --role auditor --name "Chị Lan" --expires 30d
              dispatcher token create --role commune --name "Anh Tú" --commune "Tân Đoàn"
    """
    from dispatcher.web import access

    settings = load_settings()
    with bootstrap.runtime(settings) as rt:
        made = access.create_token(rt, role, name, commune, expires)
    click.echo(present_tokens.created(made, settings.tz))


@token.command("list")
@click.option("--commune", help="Only this commune's tokens (name or code).")
@click.option("--all", "every", is_flag=True, help="Expired and revoked tokens too.")
def token_list(commune: str | None, every: bool) -> None:
    """List the tokens that work now (with --all, every token ever made), oldest first.

    \b
    Example: dispatcher token list --commune "Tân Đoàn" --all
    """
    from dispatcher.web import access

    settings = load_settings()
    with bootstrap.runtime(settings) as rt:
        records = access.list_tokens(rt, commune, every=every)
        now = rt.clock.now()
    click.echo(present_tokens.table(records, now, settings.tz))


@token.command("revoke")
@click.argument("ids", metavar="[ID]...", nargs=-1, type=click.IntRange(min=1))
@click.option("--commune", help="Revoke every working token of this commune (name or code).")
@click.option("--reason", metavar="TEXT", help="Why, for the activity log.")
def token_revoke(ids: tuple[int, ...], commune: str | None, reason: str | None) -> None:
    """Revoke tokens by id (see `token list`), or all of a commune's; the browsers signed in
    with them are signed out, other tokens keep working. In the activity log, with who did it.

    \b
    Example: dispatcher token revoke 7 --reason "phone of the commune office lost"
    """
    from dispatcher.web import access

    with bootstrap.runtime(load_settings()) as rt:
        done = access.revoke_tokens(rt, ids, commune, reason)
    click.echo(present_tokens.revoked(done))
