"""The delivery log (``delivery_event``): one appended row per change of a delivery's status.

Append-only (triggers refuse updates and deletes); written in set-based statements so a large
occurrence is logged at once. The repository calls these in the transaction of the change;
each notes what it appended for the audit chain (dispatcher.store.chain).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Protocol, cast
from weakref import WeakKeyDictionary

from sqlalchemy import Table, insert, literal, select, text
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from dispatcher.store.chain import CHAINED, last_id, note_records, note_selection
from dispatcher.store.models import DeliveryEventRow, DeliveryRow, OccurrenceRow

TABLE = "delivery_log"


def log_pending(session: Session, occurrence: OccurrenceRow, now: datetime) -> None:
    """Log every row of a new occurrence as ``pending``, in one INSERT ... SELECT."""
    log_selected(session, [DeliveryRow.occurrence_id == occurrence.id], now, detail=None)


class Logged(Protocol):
    """What an event is made of: a delivery row, or its state as the sending cycle holds it."""

    id: int
    campaign_id: str
    occurrence_id: int
    phone: str
    status: str
    attempts: int
    segments: int
    provider_id: str | None


def log_events(
    session: Session, events: Sequence[tuple[Logged, str | None, int | None]], now: datetime
) -> None:
    """Append one delivery-log event per (row, detail, error code), in one statement."""
    if not events:
        return
    keys = _occurrence_keys(session, {row.occurrence_id for row, _, _ in events})
    values = [
        {
            "at": now,
            "delivery_id": row.id,
            "campaign_id": row.campaign_id,
            "occurrence_key": keys[row.occurrence_id],
            "phone": row.phone,
            "status": str(row.status),  # a plain str, as a read gives it back (not the enum)
            "attempt": row.attempts,
            "segments": row.segments,
            "provider_id": row.provider_id,
            "error_code": error_code,
            "detail": detail,
        }
        for row, detail, error_code in events
    ]
    for value, new_id in zip(values, _new_ids(session, len(values)), strict=True):
        value["id"] = new_id
    # Core, on the table: executemany, no RETURNING to process, no ORM bulk bookkeeping.
    session.flush()  # what the ORM holds goes first, as session.execute would
    session.connection().execute(_EVENT_INSERT, values)
    at = now.astimezone(UTC)  # the stored time as a read gives it back
    note_records(session, TABLE, [[at if n == "at" else v[n] for n in _CHAINED] for v in values])


_CHAINED = CHAINED[TABLE][1]
_EVENT_INSERT = insert(cast(Table, DeliveryEventRow.__table__))
# Per database (engine): occurrence id → key, both fixed once the occurrence exists.
_KEYS: WeakKeyDictionary[object, dict[int, str]] = WeakKeyDictionary()
_MAX_KEYS = 10_000


def _new_ids(session: Session, count: int) -> list[int]:
    """Ids for ``count`` new events, taken before the insert so the chain is given each
    record's values as written (reading them back, or ``INSERT … RETURNING`` them, cost the
    send a quarter of its CPU per event). PostgreSQL: from the table's sequence, as the
    column's default would (other writers take theirs at the same time). SQLite: after the
    last, under the write lock this transaction holds; a writer that slipped in would make
    the insert fail on the primary key, never share an id."""
    if session.get_bind().dialect.name == "postgresql":
        query = text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) "
                     "FROM generate_series(1, :count)")  # fmt: skip
        return list(session.scalars(query, {"table": TABLE, "count": count}))
    first = last_id(session, TABLE) + 1
    return list(range(first, first + count))


def log_selected(
    session: Session, where: Sequence[ColumnElement[bool]], now: datetime, detail: str | None
) -> None:
    """Append one delivery-log event per row matching ``where``, in one INSERT ... SELECT;
    the same fields as :func:`log_events` writes."""
    columns = (
        select(
            literal(now, DeliveryEventRow.at.type), DeliveryRow.id, DeliveryRow.campaign_id,
            OccurrenceRow.key, DeliveryRow.phone, DeliveryRow.status, DeliveryRow.attempts,
            DeliveryRow.segments, DeliveryRow.provider_id,
            literal(detail, DeliveryEventRow.detail.type),
        )
        .join(OccurrenceRow, OccurrenceRow.id == DeliveryRow.occurrence_id)
        .where(*where)
    )  # fmt: skip
    target = ["at", "delivery_id", "campaign_id", "occurrence_key", "phone", "status",
              "attempt", "segments", "provider_id", "detail"]  # fmt: skip
    after_id = last_id(session, TABLE)
    session.execute(insert(DeliveryEventRow).from_select(target, columns))
    note_selection(session, TABLE, after_id, now)


def _occurrence_keys(session: Session, ids: set[int]) -> dict[int, str]:
    """The keys of these occurrences, read once per process (every batch of every send
    asks for the same one or two)."""
    known = _KEYS.setdefault(session.get_bind(), {})
    missing = ids - known.keys()
    if missing:
        query = select(OccurrenceRow.id, OccurrenceRow.key).where(OccurrenceRow.id.in_(missing))
        if len(known) > _MAX_KEYS:
            known.clear()
        known.update({row.id: row.key for row in session.execute(query)})
    return {occurrence: known[occurrence] for occurrence in ids}
