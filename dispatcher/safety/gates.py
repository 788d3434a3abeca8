"""Whether sending may go on right now: the operator's switches and the clock's.

Checked by every worker before it claims work and about once a second while it sends, so a halt,
a pause or a cancel takes effect everywhere within seconds, and quiet hours are never entered.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from dispatcher.campaigns.spec import DEFAULT_TIMEZONE, Campaign
from dispatcher.core.schedule import format_time_vi
from dispatcher.settings.config import Settings
from dispatcher.sms.quiet import CAMPAIGN_FIELD, URGENT_NOTE, QuietHours, parse_window
from dispatcher.store.uow import UnitOfWork

log = logging.getLogger(__name__)

# None when the moment is fine for sending, else why not ("quiet hours until 07:00").
ClockRule = Callable[[UnitOfWork, datetime], str | None]


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
        return clock_rule(uow, now) if clock_rule is not None else None

    return gate


def clock_rule_for(campaign: Campaign | None, settings: Settings) -> ClockRule:
    """Quiet hours as a clock rule; an urgent campaign sends through them, and the activity
    log says so (once per run). Without its campaign file, the configured window applies."""
    configured = parse_window(settings.sending.quiet_hours, settings.sending.quiet_hours_source)
    if campaign is None:
        return _quiet_rule(configured, ZoneInfo(DEFAULT_TIMEZONE))
    window = effective_quiet_hours(campaign, settings)
    if window is not None:
        return _quiet_rule(window, campaign.tz)
    return _urgent_rule(campaign.id, configured, campaign.tz)


def _quiet_rule(window: QuietHours, tz: ZoneInfo) -> ClockRule:
    def rule(uow: UnitOfWork, now: datetime) -> str | None:
        if not window.is_quiet(now, tz):
            return None
        opens = window.next_open(now, tz)
        return f"quiet hours ({window}) until {format_time_vi(opens.time())}"

    return rule


def _urgent_rule(campaign_id: str, window: QuietHours, tz: ZoneInfo) -> ClockRule:
    noted = False

    def rule(uow: UnitOfWork, now: datetime) -> str | None:
        nonlocal noted
        if not noted and window.is_quiet(now, tz):
            noted = True
            log.warning("campaign %s: %s", campaign_id, URGENT_NOTE)
            uow.repo.record_activity("urgent-quiet-hours", now, campaign_id, None, URGENT_NOTE)
            uow.commit()
        return None

    return rule


def effective_quiet_hours(campaign: Campaign, settings: Settings) -> QuietHours | None:
    """The window that holds back this campaign's SMS; ``None`` when it is ``urgent``.

    The campaign's own ``sms.quiet_hours`` wins over the settings (where
    ``$DISPATCHER_QUIET_HOURS`` has already replaced config.yaml's ``sending.quiet_hours``).
    """
    sms = campaign.spec.sms
    if sms is not None and sms.urgent:
        return None
    if sms is not None and sms.quiet_hours is not None:
        return parse_window(sms.quiet_hours, CAMPAIGN_FIELD)
    return parse_window(settings.sending.quiet_hours, settings.sending.quiet_hours_source)
