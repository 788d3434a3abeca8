"""What has been spent, in segments, as the budgets count it; and the lock that makes it exact.

Spent means every delivery that may have cost money: claimed (`sending`), `unknown`, or at the
provider (`accepted` … `undelivered`); `failed`, `skipped`, `canceled` and `pending` ones did not.
Counting claimed rows as spent is what keeps several workers under one budget: a worker checks
and claims inside one transaction holding the budget lock, so the next one sees its claim.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, func, select, text
from sqlalchemy.orm import Session

from dispatcher.core.status import REACHED_PROVIDER, Status
from dispatcher.store.models import DeliveryRow
from dispatcher.store.repository import sqlite_write_lock

SPENT = frozenset(REACHED_PROVIDER | {Status.SENDING, Status.UNKNOWN})
_LOCK_KEY = 7_270_001  # pg_advisory_xact_lock key of "a budget is being checked"


class BudgetRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def lock(self) -> None:
        """Serialize budget checks until the transaction ends (all workers, all campaigns)."""
        if self.session.get_bind().dialect.name == "postgresql":
            self.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
        else:  # SQLite: its one write lock, taken now, before reading
            sqlite_write_lock(self.session)

    def campaign_segments(self, campaign_id: str) -> int:
        """Segments spent by the campaign, test sends included (they cost the same)."""
        return self._segments(DeliveryRow.campaign_id == campaign_id)

    def segments_between(self, start: datetime, end: datetime) -> int:
        """Segments spent by every campaign from ``start`` to ``end`` (when first sent, or
        claimed for those not yet at the provider)."""
        when = func.coalesce(DeliveryRow.sent_at, DeliveryRow.claimed_at)
        return self._segments(when >= start, when < end)

    def _segments(self, *where: ColumnElement[bool]) -> int:
        query = select(func.coalesce(func.sum(DeliveryRow.segments), 0)).where(
            DeliveryRow.status.in_([s.value for s in SPENT]), *where
        )
        return int(self.session.scalar(query) or 0)
