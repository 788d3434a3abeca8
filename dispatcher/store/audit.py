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
        """The outbox rows in ``filters`` (their time: sent, else last changed), by id.

        Columns, not ORM objects: a million rows are read at the driver's pace."""
        d = DeliveryRow
        query = (
            select(d.campaign_id, OccurrenceRow.key, d.phone, d.status, d.provider_id,
                   d.attempts, d.error_code, d.error_message, d.updated_at, d.sent_at)
            .join(OccurrenceRow, d.occurrence_id == OccurrenceRow.id)
            .order_by(d.id)
        )  # fmt: skip
        when = func.coalesce(d.sent_at, d.updated_at)
        query = query.where(*_conditions(filters, d, OccurrenceRow.key, when))
        for row in self.session.execute(query.execution_options(yield_per=1000)):
            yield DeliveryView(
                campaign=row[0], occurrence=row[1], to=row[2], status=row[3],
                provider_id=row[4], attempts=row[5], error_code=row[6], error_message=row[7],
                updated_at=row[8], sent_at=row[9],
            )  # fmt: skip

    def events(self, filters: LogFilter) -> Iterator[EventView]:
        """The delivery log's events in ``filters``, in the order they were written."""
        e = DeliveryEventRow
        query = select(e.id, e.at, e.campaign_id, e.occurrence_key, e.phone, e.status,
                       e.attempt, e.provider_id, e.error_code, e.detail).order_by(e.id)  # fmt: skip
        query = query.where(*_conditions(filters, e, e.occurrence_key, e.at))
        for row in self.session.execute(query.execution_options(yield_per=1000)):
            yield EventView(
                id=row[0], at=row[1], campaign=row[2], occurrence=row[3], to=row[4],
                status=row[5], attempt=row[6], provider_id=row[7], error_code=row[8],
                detail=row[9],
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
    if filters.campaigns is not None:
        found.append(table.campaign_id.in_(filters.campaigns))
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
