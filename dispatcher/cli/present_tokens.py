"""What the `token` commands print."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING

from dispatcher.core.schedule import format_date_vi, format_datetime_vi

if TYPE_CHECKING:
    from dispatcher.web.access import NewToken, TokenRecord


def created(made: NewToken, tz: tzinfo) -> str:
    """The login link alone on its line (for scripts), between whose it is and its validity."""
    until = format_datetime_vi(made.expires_at.astimezone(tz))
    commune = f", {made.commune}" if made.commune else ""
    return (
        f"Token {made.id}: {made.role}, {made.name}{commune}, valid until {until}.\n"
        f"{made.login_url}\n"
        f"Token: {made.secret}\n"
        "Shown once, never stored: give it to that person only (the link signs them in)."
    )


def table(records: Sequence[TokenRecord], now: datetime, tz: tzinfo) -> str:
    """One line per token: id, role, holder, commune and code, state, made (when, by whom),
    expiry, revocation; never the token."""
    if not records:
        return "No tokens. Make one with `dispatcher token create --role ROLE --name NAME`."

    def day(moment: datetime) -> str:
        return format_date_vi(moment.astimezone(tz).date())

    rows = [("ID", "ROLE", "NAME", "COMMUNE", "CODE", "STATE", "MADE", "BY", "EXPIRES",
             "REVOKED BY")]  # fmt: skip
    for r in records:
        revoked = f"{r.revoked_by} {day(r.revoked_at)}" if r.revoked_at and r.revoked_by else ""
        rows.append((str(r.id), r.role, r.name or "-", r.commune or "-", r.key or "-",
                     r.state(now), day(r.created_at), r.created_by, day(r.expires_at),
                     revoked))  # fmt: skip
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
                     for row in rows)  # fmt: skip


def revoked(records: Sequence[TokenRecord]) -> str:
    """What ``token revoke`` did."""
    if not records:
        return "Nothing to revoke: those tokens were revoked already."
    listed = ", ".join(f"{r.id} ({r.commune or f'{r.role} {r.name}'})" for r in records)
    return (
        f"Revoked {len(records)} token(s): {listed}. They open nothing from now on, and the "
        "browsers signed in with them are signed out."
    )
