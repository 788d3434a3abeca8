"""What auditors read: the outbox rows and the delivery log's events, filtered, streamed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql.elements import ColumnElement

from dispatcher.core.outbox import DeliveryView, EventView, LogFilter
from dispatcher.store.models import DeliveryEventRow, DeliveryRow, OccurrenceRow


class AuditRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def deliveries(self, filters: LogFilter) -> Iterator[DeliveryView]:
        """The outbox rows in ``filters`` (their time: sent, else last changed), by id."""
        query = (
            select(DeliveryRow, OccurrenceRow.key)
            .join(OccurrenceRow, DeliveryRow.occurrence_id == OccurrenceRow.id)
            .order_by(DeliveryRow.id)
        )
        when = func.coalesce(DeliveryRow.sent_at, DeliveryRow.updated_at)
        query = query.where(*_conditions(filters, DeliveryRow, OccurrenceRow.key, when))
        for row, key in self.session.execute(query.execution_options(yield_per=1000)):
            yield DeliveryView(
                campaign=row.campaign_id, occurrence=key, to=row.phone, status=row.status,
                provider_id=row.provider_id, attempts=row.attempts, error_code=row.error_code,
                error_message=row.error_message, updated_at=row.updated_at, sent_at=row.sent_at,
            )  # fmt: skip

    def events(self, filters: LogFilter) -> Iterator[EventView]:
        """The delivery log's events in ``filters``, in the order they were written."""
        event = DeliveryEventRow
        query = select(event).order_by(event.id)
        query = query.where(*_conditions(filters, event, event.occurrence_key, event.at))
        for row in self.session.scalars(query.execution_options(yield_per=1000)):
            yield EventView(
                id=row.id, at=row.at, campaign=row.campaign_id, occurrence=row.occurrence_key,
                to=row.phone, status=row.status, attempt=row.attempt,
                provider_id=row.provider_id, error_code=row.error_code, detail=row.detail,
            )  # fmt: skip


def _conditions(
    filters: LogFilter,
    table: type[DeliveryRow] | type[DeliveryEventRow],
    occurrence: ColumnElement[str] | InstrumentedAttribute[str],
    when: ColumnElement[datetime] | InstrumentedAttribute[datetime],
) -> list[ColumnElement[bool]]:
    """The WHERE clauses of the filters that are set."""
    found: list[ColumnElement[bool]] = []
    if filters.campaign is not None:
        found.append(table.campaign_id == filters.campaign)
    if filters.phone is not None:
        found.append(table.phone == filters.phone)
    if filters.status is not None:
        found.append(table.status == filters.status)
    if filters.occurrence is not None:
        found.append(occurrence == filters.occurrence)
    if filters.first is not None:
        found.append(when >= filters.first)
    if filters.last is not None:
        found.append(when < filters.last)
    return found
