"""What the database knows of a campaign: its identity and its planned loudspeaker airings."""

from __future__ import annotations

from datetime import datetime

from dispatcher.broadcast_service import planned_airings
from dispatcher.campaign import Campaign
from dispatcher.store.models import CampaignRow
from dispatcher.store.repository import Repository


def register_campaign(repo: Repository, campaign: Campaign, now: datetime) -> int:
    """Save the campaign and its planned airings; returns how many airings were new."""
    row = CampaignRow(
        id=campaign.id,
        title=campaign.spec.title,
        unit=campaign.spec.unit,
        timezone=campaign.spec.timezone,
        source_path=str(campaign.path),
        fingerprint=campaign.fingerprint,
    )
    repo.save_campaign(row, now)
    airings = planned_airings(campaign)
    return repo.save_airings(campaign.id, campaign.spec.unit, airings, now)
