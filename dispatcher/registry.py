"""What the database knows of a campaign: its identity and its planned loudspeaker airings."""

from __future__ import annotations

from datetime import datetime

from dispatcher.campaign import Campaign
from dispatcher.store.models import CampaignRow
from dispatcher.store.repository import Repository


def register_campaign(
    repo: Repository, campaign: Campaign, airings: list[tuple[str, datetime]], now: datetime
) -> int:
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
    return repo.save_airings(campaign.id, campaign.spec.unit, airings, now)
