"""The frequency cap: at most N messages per subscriber in a sliding window, across campaigns.

Applied once, when an occurrence's outbox is written: a subscriber already at the cap gets a
``skipped`` row whose reason names the cap, logged like any other transition, so the log and
the report account for everyone on the list. Urgent campaigns (emergency notices) are not
held back by it, but what they send counts towards everyone else's cap. ``plan`` counts, from
the database when there is one, how many subscribers the cap would leave out if sent now.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from itertools import islice
from typing import TYPE_CHECKING

from dispatcher.audience.lists import Subscriber
from dispatcher.campaigns.spec import Campaign
from dispatcher.settings.config import FrequencyCap, Settings
from dispatcher.store.uow import UnitOfWork

if TYPE_CHECKING:  # the SQL models load with the database: `plan` asks `cap_for` without one
    from dispatcher.store.models import OccurrenceRow

# Decree 91/2020: at most 3 advertising SMS per subscriber per 24 h.
ADVERTISING_CAP = FrequencyCap(max_messages=3, window_hours=24)


def cap_for(campaign: Campaign, settings: Settings) -> FrequencyCap | None:
    """The cap that applies to this campaign's SMS; ``None`` when off or the campaign is urgent.

    Advertising always has one, at least as strict as both the configured cap and 3 per 24 h,
    whatever the config or the campaign says (urgent included: validate refuses that anyway).
    """
    sms = campaign.spec.sms
    configured = settings.sending.frequency_cap
    if sms is not None and sms.category == "advertising":
        return stricter(configured, ADVERTISING_CAP)
    if sms is not None and sms.urgent:
        return None
    return configured


def stricter(cap: FrequencyCap | None, limit: FrequencyCap) -> FrequencyCap:
    """One cap that keeps both: the fewer messages over the longer window (2 per 48 h and
    3 per 24 h give 2 per 48 h; 1 per 12 h gives 1 per 24 h)."""
    if cap is None:
        return limit
    return FrequencyCap(
        max_messages=min(cap.max_messages, limit.max_messages),
        window_hours=max(cap.window_hours, limit.window_hours),
    )


def reason(cap: FrequencyCap) -> str:
    return f"frequency-cap: already {cap.max_messages} message(s) within {cap.window_hours:g} h"


def skip_capped(
    uow: UnitOfWork, cap: FrequencyCap, occurrence: OccurrenceRow, now: datetime
) -> int:
    """Skip, in the occurrence being written, the subscribers already at the cap."""
    since = now - timedelta(hours=cap.window_hours)
    return uow.caps.skip_capped(occurrence, since, cap.max_messages, now, reason(cap))


def capped_now(
    uow: UnitOfWork | None,
    settings: Settings,
    campaign: Campaign,
    audience: Iterable[Subscriber],
    now: datetime,
) -> int | None:
    """How many of the audience the cap would skip if sent now; ``None`` when there is no cap
    or no database to ask (plan never creates one)."""
    cap = cap_for(campaign, settings)
    if cap is None or uow is None:
        return None
    since = now - timedelta(hours=cap.window_hours)
    return _count(uow, audience, since, cap.max_messages)


def _count(uow: UnitOfWork, audience: Iterable[Subscriber], since: datetime, limit: int) -> int:
    from dispatcher.store.caps import LOOKUP_CHUNK

    rows, capped = iter(audience), 0
    while chunk := list(islice(rows, LOOKUP_CHUNK)):
        capped += uow.caps.capped_among({s.phone for s in chunk}, since, limit)
    return capped
