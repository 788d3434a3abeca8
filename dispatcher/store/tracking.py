"""Status tracking's queries: what to poll, what stayed unknown too long, what a callback names.

Changes of status go through :meth:`Repository.apply`, so each one is logged and none goes
backwards; this only reads.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, not_, or_, select
from sqlalchemy.orm import Session

from dispatcher.core.outbox import TrackedDelivery
from dispatcher.core.status import Status
from dispatcher.store.models import DeliveryRow

# The provider has these and they are not final yet: what a status report can still move.
AWAITING = (Status.ACCEPTED.value, Status.SENT.value)


@dataclass(frozen=True)
class Awaiting:
    """A delivery a poll asks about."""

    delivery_id: int
    provider_id: str
    phone: str


class TrackingRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def awaiting_status(
        self, limit: int, after_id: int = 0, gateways: Collection[str] = ()
    ) -> list[Awaiting]:
        """Deliveries the provider has that are not final yet (``accepted``, ``sent``), sent
        through one of ``gateways`` or through an unrecorded one (NULL), in id order after
        ``after_id``: one page of a polling pass."""
        query = (
            select(DeliveryRow.id, DeliveryRow.provider_id, DeliveryRow.phone)
            .where(_awaiting(), DeliveryRow.id > after_id, _through(gateways))
            .order_by(DeliveryRow.id)
            .limit(limit)
        )
        return [Awaiting(i, p, phone) for i, p, phone in self.session.execute(query) if p]

    def elsewhere(self, gateways: Collection[str]) -> int:
        """How many deliveries awaiting a status went through a recorded gateway not in
        ``gateways``: ones that no poll through those can learn anything about."""
        query = select(func.count()).where(_awaiting(), not_(_through(gateways)))
        return self.session.scalar(query) or 0

    def stale_elsewhere(
        self, gateways: Collection[str], older_than: datetime, limit: int
    ) -> list[tuple[int, str]]:
        """(id, gateway) of those unchanged since before ``older_than``, in id order."""
        query = (
            select(DeliveryRow.id, DeliveryRow.gateway)
            .where(_awaiting(), not_(_through(gateways)), DeliveryRow.updated_at < older_than)
            .order_by(DeliveryRow.id)
            .limit(limit)
        )
        return [(i, g) for i, g in self.session.execute(query) if g is not None]

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


def _awaiting() -> ColumnElement[bool]:
    return DeliveryRow.status.in_(AWAITING) & DeliveryRow.provider_id.is_not(None)


def _through(gateways: Collection[str]) -> ColumnElement[bool]:
    """Sent through one of ``gateways``, or through one nobody recorded (NULL): a row a fake or
    an older version wrote is polled as it always was."""
    return or_(DeliveryRow.gateway.is_(None), DeliveryRow.gateway.in_(list(gateways)))
