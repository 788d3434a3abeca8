"""Text for ``broadcast confirm``, ``broadcast link`` and ``token`` (dates dd/mm/yyyy, local)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo

from dispatcher.broadcast import duration_vi
from dispatcher.broadcast.confirmations import ConfirmResult
from dispatcher.broadcast.links import CommuneLink, LinkRecord
from dispatcher.core.schedule import format_date_vi, format_datetime_vi


def confirmed(result: ConfirmResult) -> str:
    """``Confirmed: …`` for a new record, ``Already confirmed at …`` for an earlier one."""
    c, tz = result.confirmation, result.tz
    airing = f"{c.commune}, {c.campaign_id} of {format_datetime_vi(c.scheduled_at.astimezone(tz))}"
    aired = format_datetime_vi(c.aired_at.astimezone(tz))
    length = f" ({duration_vi(c.duration_s)})" if c.duration_s else ""
    if result.created:
        return f"Confirmed: {airing} aired at {aired}{length}; recorded as {c.confirmed_by}."
    when = format_datetime_vi(c.created_at.astimezone(tz))
    return (
        f"Already confirmed at {when} by {c.confirmed_by} ({c.source}): {airing} aired at "
        f"{aired}{length}. Nothing changed."
    )


def commune_link(link: CommuneLink, tz: tzinfo) -> str:
    """The link alone on its line (for scripts), between the commune and its validity."""
    until = format_date_vi(link.expires_at.astimezone(tz).date())
    return (
        f"{link.commune} ({link.key}):\n{link.url}\n"
        f"Link {link.id}, valid until {until}; shown once, give it to the commune only."
    )


def link_table(records: Sequence[LinkRecord], now: datetime, tz: tzinfo) -> str:
    """One line per link: id, commune and code, state, made (when, by whom), expiry."""
    if not records:
        return "No links. Make one with `dispatcher broadcast link --commune NAME`."

    def day(moment: datetime) -> str:
        return format_date_vi(moment.astimezone(tz).date())

    rows = [("ID", "COMMUNE", "CODE", "STATE", "MADE", "BY", "EXPIRES", "REVOKED BY")]
    for r in records:
        revoked = f"{r.revoked_by} {day(r.revoked_at)}" if r.revoked_at and r.revoked_by else ""
        rows.append((str(r.id), r.commune, r.key, r.state(now), day(r.created_at),
                     r.created_by, day(r.expires_at), revoked))  # fmt: skip
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
                     for row in rows)  # fmt: skip


def revoked(records: Sequence[LinkRecord]) -> str:
    """What ``token revoke`` did."""
    if not records:
        return "Nothing to revoke: those links were revoked already."
    listed = ", ".join(f"{r.id} ({r.commune})" for r in records)
    return f"Revoked {len(records)} link(s): {listed}. They open nothing from now on."
