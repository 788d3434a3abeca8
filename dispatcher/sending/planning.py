"""`dispatcher plan`: what a campaign will do — its audience and costs, when each occurrence
really sends (quiet hours), for how long, the frequency cap, the approval it needs, and what
changed since it was last registered. Reads the database only if it exists, never creates it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from dispatcher.campaigns.preview import DEFAULT_PREVIEW
from dispatcher.campaigns.registry import Changes, registered_changes
from dispatcher.campaigns.timing import Schedule
from dispatcher.core import schedule
from dispatcher.core.errors import DispatcherError
from dispatcher.safety.approvals import ApprovalState, approval_state, gateway_is_real
from dispatcher.safety.caps import cap_for, capped_now
from dispatcher.safety.gates import effective_quiet_hours
from dispatcher.sending.pacing import campaign_pacer, duration_s
from dispatcher.sending.prepare import Prepared, prepare_campaign
from dispatcher.settings.config import FrequencyCap, Settings
from dispatcher.sms.quiet import QuietHours, SendTiming, send_timing
from dispatcher.store.uow import UnitOfWork, existing_unit_of_work

NEXT_OCCURRENCES = 10  # how many `plan` shows


@dataclass(frozen=True, kw_only=True)
class Plan:
    """What ``dispatcher plan`` shows: the audience and costs, when it sends and for how long."""

    prepared: Prepared
    occurrences: list[datetime]  # the next ones, as scheduled (campaign time zone)
    schedule_ended: datetime | None
    sends: list[SendTiming] = field(default_factory=list)  # per occurrence: really starts, ends
    quiet_hours: QuietHours | None = None  # None: no sms, or an urgent campaign
    urgent: bool = False
    sending_s: float | None = None  # one occurrence at the senders' combined rate
    senders: list[tuple[str | None, float]] = field(default_factory=list)  # (sender, segments/s)
    queue_limit_hours: float = 10.0
    changes: Changes | None = None  # since last registered; None: not in the database
    frequency_cap: FrequencyCap | None = None  # None: off, or an urgent campaign
    capped_now: int | None = None  # subscribers the cap would skip now; None: no database
    price: float | None = None  # per segment on the configured gateway; None: not known
    currency: str = "USD"
    budget: float | None = None  # the campaign's own (sms.budget)
    approval: ApprovalState | None = None  # None: not known (no database yet)

    @property
    def over_queue_limit(self) -> bool:
        """Longer than Twilio will queue: informational, the exit code stays 0."""
        return self.sending_s is not None and self.sending_s > self.queue_limit_hours * 3600


def plan(path: Path, now: datetime, settings: Settings, preview: int = DEFAULT_PREVIEW) -> Plan:
    """Check a campaign and foresee its next sends, keeping its first ``preview`` messages;
    reads the database only if it exists."""
    # With the carriers' rules: notes in the plan.
    prepared = prepare_campaign(path, settings, preview=preview, first_rows=True)
    try:  # the database once, if there is one: changes, the cap's count, the approval
        with existing_unit_of_work(settings.resolved_database_url) as uow:
            return _plan(prepared, now, settings, uow)
    except DispatcherError:  # it cannot be read: plan without it
        return _plan(prepared, now, settings, None)


def _plan(prepared: Prepared, now: datetime, settings: Settings, uow: UnitOfWork | None) -> Plan:
    campaign = prepared.campaign
    changes = registered_changes(uow, [campaign]).get(campaign.id)
    sms, limit = campaign.spec.sms, settings.sending.queue_limit_hours
    if sms is None or prepared.composition is None:
        return Plan(
            prepared=prepared, occurrences=[], schedule_ended=None, queue_limit_hours=limit,
            changes=changes,
        )  # fmt: skip
    upcoming, ended = _upcoming(sms.schedule, campaign.tz, now)
    pacer = campaign_pacer(settings, campaign)
    seconds = duration_s(prepared.composition.total_segments, sms.sender_pool, pacer.rate_of)
    window = effective_quiet_hours(campaign, settings)
    sends = [send_timing(at, seconds, window, campaign.tz) for at in upcoming]
    senders = [(s, pacer.rate_of(s)) for s in sms.sender_pool]
    cap = cap_for(campaign, settings)
    audience = prepared.audience
    capped = capped_now(uow, settings, campaign, audience, now) if audience else None
    price, currency = settings.pricing.price(settings.gateway), settings.pricing.currency
    return Plan(
        prepared=prepared, occurrences=upcoming, schedule_ended=ended, sends=sends,
        quiet_hours=window, urgent=sms.urgent, sending_s=seconds, senders=senders,
        queue_limit_hours=limit, changes=changes, frequency_cap=cap, capped_now=capped,
        price=price, currency=currency, budget=sms.budget,
        approval=_approval(settings, prepared, uow),
    )  # fmt: skip


def _approval(
    settings: Settings, prepared: Prepared, uow: UnitOfWork | None
) -> ApprovalState | None:
    """The approval a send of this campaign needs (what is recorded, when there is a database)."""
    return approval_state(uow, prepared, settings, gateway_is_real(settings, os.environ))


def _upcoming(
    spec: Schedule | None, tz: ZoneInfo, now: datetime
) -> tuple[list[datetime], datetime | None]:
    """The next occurrences at or after ``now``; else, when the schedule is over, its last."""
    if spec is None:
        return [], None
    yesterday = schedule.instant(now).astimezone(tz).date() - timedelta(days=1)
    ahead = schedule.occurrences(spec, tz, from_day=yesterday)  # earlier days are all past
    upcoming = schedule.next_occurrences(ahead, now, NEXT_OCCURRENCES)
    if upcoming:
        return upcoming, None
    first, last = spec.bounds
    recent = list(schedule.occurrences(spec, tz, from_day=max(first, last - timedelta(days=6))))
    every = recent or list(schedule.occurrences(spec, tz))  # a sparse cron: look further back
    return [], every[-1] if every else None
