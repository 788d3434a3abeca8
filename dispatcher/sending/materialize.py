"""Turning an occurrence into outbox rows, exactly once however many schedulers race for it."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from dispatcher.audience.scan import AudienceScan
from dispatcher.bootstrap import Runtime
from dispatcher.campaigns.compose import MessageCheck, render_deliveries
from dispatcher.campaigns.spec import Campaign
from dispatcher.core.errors import DispatcherError
from dispatcher.safety.caps import cap_for, reason, skip_capped
from dispatcher.safety.optouts import OptOutFilter
from dispatcher.sending.pacing import assign_senders, campaign_pacer
from dispatcher.store.models import OccurrenceRow
from dispatcher.store.uow import UnitOfWork

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Materialized:
    occurrence_id: int
    recipients: int
    created: bool  # False: it existed already (an earlier run, or another scheduler)


def materialize(
    rt: Runtime,
    campaign: Campaign,
    audience: AudienceScan,
    key: str,
    at: datetime,
    check: MessageCheck | None = None,
) -> Materialized:
    """The occurrence's outbox rows, created now unless they exist; a skipped one is refused.

    Each message is checked as it is written (``check``: the carriers' rules); a problem raises
    :class:`BadInput` listing all of them, once the lists are read, and nothing is written.
    """
    now = rt.clock.now()
    with rt.uow() as uow:
        occurrence = uow.repo.occurrence(campaign.id, key)
        created = False
        if occurrence is None:
            occurrence = uow.repo.claim_occurrence(campaign.id, key, at, "open", now)
            created = occurrence is not None
        if occurrence is None:  # another scheduler made it meanwhile: theirs is the one
            uow.rollback()
            occurrence = uow.repo.occurrence(campaign.id, key)
            assert occurrence is not None
        elif created:
            # The lists are read and the rows streamed into the outbox (store/bulk.py), leaving
            # out the numbers on the opt-out list (checked in this same transaction).
            allowed = OptOutFilter(uow.optouts)
            rows = render_deliveries(campaign, allowed(audience), check)
            pool = campaign.spec.sms.sender_pool if campaign.spec.sms else [None]
            rate_of = campaign_pacer(rt.settings, campaign).rate_of
            # A pool of senders shares the work in proportion to their rates.
            uow.repo.add_deliveries(occurrence, assign_senders(rows, pool, rate_of), now)
            detail = f"left out {allowed.excluded} number(s) on the opt-out list"
            uow.repo.record_activity("optout-excluded", now, campaign.id, key, detail)
            _apply_cap(uow, rt, campaign, occurrence, now)
            uow.commit()
            log.info("occurrence %s of %s: %d recipients", key, campaign.id, occurrence.recipients)
        if occurrence.state == "skipped":
            raise DispatcherError(f"occurrence {key} of {campaign.id} was skipped; it is not sent")
        return Materialized(occurrence.id, occurrence.recipients, created)


def _apply_cap(
    uow: UnitOfWork, rt: Runtime, campaign: Campaign, occurrence: OccurrenceRow, now: datetime
) -> None:
    cap = cap_for(campaign, rt.settings)
    if cap is not None:
        capped = skip_capped(uow, cap, occurrence, now)
        detail = f"skipped {capped} subscriber(s) at the cap ({reason(cap)})"
        uow.repo.record_activity("frequency-capped", now, campaign.id, occurrence.key, detail)
