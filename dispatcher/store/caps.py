"""The frequency cap in SQL: who has had enough messages lately, and skipping them in an outbox.

A subscriber's "messages lately" are their rows in *other* occurrences (any campaign) that either
reached the provider within the window, or are still on their way (pending, claimed, unknown):
those are about to reach them, so two campaigns materialized the same morning cannot both send.
Everything is one set-based statement, so a million-row occurrence costs one pass, not a
query per subscriber.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import ColumnElement, Select, and_, func, or_, select, update
from sqlalchemy.orm import Session

from dispatcher.core.status import REACHED_PROVIDER, Status
from dispatcher.store.delivery_log import log_selected
from dispatcher.store.models import DeliveryRow, OccurrenceRow

ON_THEIR_WAY = (Status.PENDING, Status.SENDING, Status.UNKNOWN)
LOOKUP_CHUNK = 1_000  # numbers per query when plan counts capped subscribers


class CapRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def skip_capped(
        self, occurrence: OccurrenceRow, since: datetime, limit: int, now: datetime, why: str
    ) -> int:
        """Mark the occurrence's pending rows whose subscriber is at the cap ``skipped``
        (with ``why``), log each transition, and return how many there were."""
        capped = _capped_phones(since, limit, DeliveryRow.occurrence_id != occurrence.id)
        ours = and_(
            DeliveryRow.occurrence_id == occurrence.id, DeliveryRow.status == Status.PENDING
        )
        result = self.session.execute(
            update(DeliveryRow)
            .where(ours, DeliveryRow.phone.in_(capped))
            .values(status=Status.SKIPPED, error_message=why, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        skipped = int(getattr(result, "rowcount", 0) or 0)
        if skipped:
            self._log_skipped(occurrence, why, now)
        return skipped

    def capped_among(self, phones: Collection[str], since: datetime, limit: int) -> int:
        """How many of ``phones`` (distinct, at most :data:`LOOKUP_CHUNK`) are at the cap now."""
        query = _capped_phones(since, limit, DeliveryRow.phone.in_(list(phones)))
        return int(self.session.scalar(select(func.count()).select_from(query.subquery())) or 0)

    def _log_skipped(self, occurrence: OccurrenceRow, why: str, now: datetime) -> None:
        skipped = (DeliveryRow.occurrence_id == occurrence.id, DeliveryRow.status == Status.SKIPPED)
        log_selected(self.session, skipped, now, why)


def _capped_phones(since: datetime, limit: int, scope: ColumnElement[bool]) -> Select[str]:
    reached = and_(DeliveryRow.status.in_(REACHED_PROVIDER), DeliveryRow.sent_at >= since)
    counted = or_(reached, DeliveryRow.status.in_(ON_THEIR_WAY))
    tests = select(OccurrenceRow.id).where(OccurrenceRow.test.is_(True))  # staff phones
    return (
        select(DeliveryRow.phone)
        .where(scope, counted, DeliveryRow.occurrence_id.not_in(tests))
        .group_by(DeliveryRow.phone)
        .having(func.count() >= limit)
    )
