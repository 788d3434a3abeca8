"""The monthly report's queries: what reached the provider, per unit and sender."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatcher.core.status import REACHED_PROVIDER
from dispatcher.store.models import CampaignRow, DeliveryEventRow, DeliveryRow, OccurrenceRow


class ReportRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def sms_sent_between(self, start: datetime, end: datetime) -> list[tuple[str, str, int, int]]:
        """(unit, sender, messages, segments) for deliveries first accepted in [start, end)."""
        first_accept = (
            select(DeliveryEventRow.delivery_id, func.min(DeliveryEventRow.at).label("at"))
            .where(DeliveryEventRow.status.in_([s.value for s in REACHED_PROVIDER]))
            .group_by(DeliveryEventRow.delivery_id)
            .subquery()
        )
        sender = func.coalesce(DeliveryRow.sender, "")
        query = (
            select(CampaignRow.unit, sender, func.count(), func.sum(DeliveryRow.segments))
            .select_from(first_accept)
            .join(DeliveryRow, DeliveryRow.id == first_accept.c.delivery_id)
            .join(CampaignRow, CampaignRow.id == DeliveryRow.campaign_id)
            .join(OccurrenceRow, OccurrenceRow.id == DeliveryRow.occurrence_id)
            .where(first_accept.c.at >= start, first_accept.c.at < end)
            .where(OccurrenceRow.test.is_(False))  # test sends go to staff, not the public
            .group_by(CampaignRow.unit, sender)
            .order_by(CampaignRow.unit, sender)
        )
        return [(u, s, int(n), int(seg or 0)) for u, s, n, seg in self.session.execute(query)]
