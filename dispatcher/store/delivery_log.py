"""The delivery log (``delivery_event``): one appended row per change of a delivery's status.

Append-only (triggers refuse updates and deletes); written in set-based statements so a large
occurrence is logged at once. The repository calls these in the transaction of the change;
each notes what it appended for the audit chain (dispatcher.store.chain).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import insert, literal, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from dispatcher.store.chain import chained_columns, last_id, note_records, note_selection
from dispatcher.store.models import DeliveryEventRow, DeliveryRow, OccurrenceRow

TABLE = "delivery_log"


def log_pending(session: Session, occurrence: OccurrenceRow, now: datetime) -> None:
    """Log every row of a new occurrence as ``pending``, in one INSERT ... SELECT."""
    log_selected(session, [DeliveryRow.occurrence_id == occurrence.id], now, detail=None)


def log_events(
    session: Session, events: Sequence[tuple[DeliveryRow, str | None, int | None]], now: datetime
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
            "status": row.status,
            "attempt": row.attempts,
            "segments": row.segments,
            "provider_id": row.provider_id,
            "error_code": error_code,
            "detail": detail,
        }
        for row, detail, error_code in events
    ]
    added = session.execute(insert(DeliveryEventRow).returning(*chained_columns(TABLE)), values)
    note_records(session, TABLE, added)


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
    query = select(OccurrenceRow.id, OccurrenceRow.key).where(OccurrenceRow.id.in_(ids))
    return {row.id: row.key for row in session.execute(query)}
