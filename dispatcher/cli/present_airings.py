"""Text for ``broadcast confirm`` and ``broadcast link`` (dates dd/mm/yyyy, the campaign's zone)."""

from __future__ import annotations

from dispatcher.broadcast import duration_vi
from dispatcher.broadcast.confirmations import CommuneLink, ConfirmResult
from dispatcher.core.schedule import format_datetime_vi


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


def commune_link(link: CommuneLink) -> str:
    """The link, alone on its line (for scripts), after the commune's name."""
    return f"{link.commune}:\n{link.url}"
