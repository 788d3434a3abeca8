"""What auditors read: the outbox rows and the delivery log's events, filtered, streamed, or a
page at a time by keyset (``id > after ORDER BY id LIMIT n``: the millionth page costs what the
first does, where OFFSET would read every row before it)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql.elements import ColumnElement

from dispatcher.core.outbox import DeliveryView, EventView, LogFilter
from dispatcher.store.models import DeliveryEventRow, DeliveryRow, OccurrenceRow

Rows = Select[*tuple[Any, ...]]  # a query of columns, of any types
STREAM_ROWS = 1000  # rows the driver hands over at a time when streaming


class AuditRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def deliveries(self, filters: LogFilter) -> Iterator[DeliveryView]:
        """The outbox rows in ``filters`` (their time: sent, else last changed), by id.

        Columns, not ORM objects: a million rows are read at the driver's pace."""
        query = _deliveries(filters).execution_options(yield_per=STREAM_ROWS)
        for row in self.session.execute(query):
            yield _delivery(row)

    def delivery_page(
        self, filters: LogFilter, after: int | None, limit: int
    ) -> list[tuple[int, DeliveryView]]:
        """At most ``limit`` outbox rows in ``filters`` with an id above ``after``, by id, each
        with its id (the next page's ``after``)."""
        query = _after(_deliveries(filters), DeliveryRow.id, after).limit(limit)
        return [(row[0], _delivery(row)) for row in self.session.execute(query)]

    def events(self, filters: LogFilter) -> Iterator[EventView]:
        """The delivery log's events in ``filters``, in the order they were written."""
        query = _events(filters).execution_options(yield_per=STREAM_ROWS)
        for row in self.session.execute(query):
            yield _event(row)

    def event_page(self, filters: LogFilter, after: int | None, limit: int) -> list[EventView]:
        """At most ``limit`` events in ``filters`` with an id above ``after``, by id."""
        query = _after(_events(filters), DeliveryEventRow.id, after).limit(limit)
        return [_event(row) for row in self.session.execute(query)]


def _deliveries(filters: LogFilter) -> Rows:
    d = DeliveryRow
    query = (
        select(d.id, d.campaign_id, OccurrenceRow.key, d.phone, d.status, d.provider_id,
               d.attempts, d.error_code, d.error_message, d.updated_at, d.sent_at)
        .join(OccurrenceRow, d.occurrence_id == OccurrenceRow.id)
        .order_by(d.id)
    )  # fmt: skip
    when = func.coalesce(d.sent_at, d.updated_at)
    return query.where(*_conditions(filters, d, OccurrenceRow.key, when))


def _delivery(row: Sequence[Any]) -> DeliveryView:
    return DeliveryView(
        campaign=row[1], occurrence=row[2], to=row[3], status=row[4], provider_id=row[5],
        attempts=row[6], error_code=row[7], error_message=row[8], updated_at=row[9],
        sent_at=row[10],
    )  # fmt: skip


def _events(filters: LogFilter) -> Rows:
    e = DeliveryEventRow
    query = select(e.id, e.at, e.campaign_id, e.occurrence_key, e.phone, e.status,
                   e.attempt, e.provider_id, e.error_code, e.detail).order_by(e.id)  # fmt: skip
    return query.where(*_conditions(filters, e, e.occurrence_key, e.at))


def _event(row: Sequence[Any]) -> EventView:
    return EventView(
        id=row[0], at=row[1], campaign=row[2], occurrence=row[3], to=row[4], status=row[5],
        attempt=row[6], provider_id=row[7], error_code=row[8], detail=row[9],
    )  # fmt: skip


def _after(query: Rows, key: InstrumentedAttribute[int], after: int | None) -> Rows:
    """The keyset condition: the rows after the last one shown (the primary key's index)."""
    return query if after is None else query.where(key > after)


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
