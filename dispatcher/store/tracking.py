"""Status tracking's queries: what to poll, what stayed unknown too long, what a callback names.

Changes of status go through :meth:`Repository.apply`, so each one is logged and none goes
backwards; this only reads.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatcher.core.outbox import TrackedDelivery
from dispatcher.core.status import Status
from dispatcher.store.models import DeliveryRow


class TrackingRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def awaiting_status(self, limit: int, after_id: int = 0) -> list[tuple[int, str]]:
        """(delivery id, provider id) of deliveries the provider has that are not final yet
        (``accepted``, ``sent``), in id order after ``after_id``: one page of a polling pass."""
        query = (
            select(DeliveryRow.id, DeliveryRow.provider_id)
            .where(DeliveryRow.status.in_([Status.ACCEPTED.value, Status.SENT.value]))
            .where(DeliveryRow.provider_id.is_not(None), DeliveryRow.id > after_id)
            .order_by(DeliveryRow.id)
            .limit(limit)
        )
        return [(i, p) for i, p in self.session.execute(query) if p is not None]

    def stale_unknown(self, older_than: datetime, limit: int) -> list[int]:
        """Deliveries ``unknown`` since before ``older_than`` (the time they became unknown)."""
        query = (
            select(DeliveryRow.id)
            .where(DeliveryRow.status == Status.UNKNOWN, DeliveryRow.updated_at < older_than)
            .order_by(DeliveryRow.id)
            .limit(limit)
        )
        return list(self.session.scalars(query))

    def delivery_by_id(self, delivery_id: int) -> TrackedDelivery | None:
        row = self.session.get(DeliveryRow, delivery_id)
        if row is None:
            return None
        return TrackedDelivery(row.id, row.phone, Status(row.status), row.provider_id)

    def provider_ids_for(self, phone: str, except_delivery: int) -> set[str]:
        """Provider SIDs already owned by this number's other deliveries."""
        query = select(DeliveryRow.provider_id).where(
            DeliveryRow.phone == phone,
            DeliveryRow.id != except_delivery,
            DeliveryRow.provider_id.is_not(None),
        )
        return {sid for sid in self.session.scalars(query) if sid}
