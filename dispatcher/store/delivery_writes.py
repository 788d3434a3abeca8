"""The sending cycle's reads and writes of the outbox, as plain rows and Core statements.

Every message moves a delivery at least twice (pending → sending → accepted), thousands a
second. Loaded as ORM objects, each row was tracked by the session and flushed one UPDATE at a
time: the database thread spent two thirds of its time in that machinery. Here a batch is read
as :class:`DeliveryState` values (its row lock taken as before) and written back by one
executemany UPDATE of the columns that changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Integer, Select, Table, bindparam, or_, select, update
from sqlalchemy.orm import Session

from dispatcher.core.outbox import OutboundMessage
from dispatcher.core.status import Status
from dispatcher.store.models import DeliveryRow, UTCDateTime

_TABLE: Table = DeliveryRow.__table__  # type: ignore[assignment]
# The table's columns, for the statements' WHERE: an ORM attribute there would send the
# whole statement through the ORM's execution path, a third of the database thread's time.
_C = _TABLE.c
_ID = "delivery_id"  # the WHERE's parameter: a column's own name is reserved for its SET


@dataclass(slots=True)
class DeliveryState:
    """A delivery as the sending cycle reads and changes it (the columns of
    :class:`~dispatcher.store.models.DeliveryRow` it needs, by the same names)."""

    id: int
    occurrence_id: int
    campaign_id: str
    phone: str
    body: str
    sender: str | None
    segments: int
    status: str
    attempts: int
    provider_id: str | None
    gateway: str | None
    error_code: int | None
    error_message: str | None
    claimed_at: datetime | None
    claimed_by: str | None
    sent_at: datetime | None
    updated_at: datetime


_COLUMNS = tuple(DeliveryState.__dataclass_fields__)


def in_status(session: Session, occurrence_id: int, status: Status) -> list[DeliveryState]:
    """The occurrence's rows in ``status``, in id order."""
    return _run(session, _in_status(), {"occurrence": occurrence_id, "status": status.value})


def claimable(
    session: Session, occurrence_id: int, limit: int, now: datetime, not_tried_since: datetime
) -> list[DeliveryState]:
    """Up to ``limit`` pending rows of the occurrence, due and not tried since
    ``not_tried_since``, in id order, locked (others' locks skipped)."""
    values = {"occurrence": occurrence_id, "limit": limit, "now": now,
              "since": not_tried_since}  # fmt: skip
    return _run(session, _claimable(), values)


def locked(session: Session, ids: Sequence[int]) -> list[DeliveryState]:
    """These rows, locked in id order (one lock order everywhere: no deadlocks)."""
    return _run(session, _locked(), {"ids": list(ids)})


def write(session: Session, states: Sequence[DeliveryState], changed: Sequence[str]) -> None:
    """Store the ``changed`` columns of ``states`` (one executemany UPDATE by primary key)."""
    if not states:
        return
    rows = [{_ID: s.id, **{name: getattr(s, name) for name in changed}} for s in states]
    session.flush()  # what the ORM holds goes first, as session.execute would
    session.connection().execute(_update(), rows)


def _run(session: Session, query: Any, values: dict[str, Any]) -> list[DeliveryState]:
    # On the connection: the session's execution layer costs as much as the statement here.
    session.flush()  # what the ORM holds goes first, as session.execute would
    return [DeliveryState(*row) for row in session.connection().execute(query, values)]


# The statements, built once (each batch of every send runs them; building and keying a
# statement of 17 columns cost more than running it).
def _selecting() -> Select[Any]:
    return select(*(_C[name] for name in _COLUMNS))


@cache
def _in_status() -> Any:
    where = (_C.occurrence_id == bindparam("occurrence"), _C.status == bindparam("status"))
    return _selecting().where(*where).order_by(_C.id)


@cache
def _claimable() -> Any:
    c = _C
    untried = or_(c.claimed_at.is_(None), c.claimed_at < bindparam("since", type_=UTCDateTime()))
    due = or_(c.not_before.is_(None), c.not_before <= bindparam("now", type_=UTCDateTime()))
    return (
        _selecting()
        .where(c.occurrence_id == bindparam("occurrence"), c.status == Status.PENDING.value)
        .where(untried, due)
        .order_by(c.id)
        .limit(bindparam("limit", type_=Integer()))
        .with_for_update(skip_locked=True)
    )


@cache
def _locked() -> Any:
    c = _C
    ids: Any = bindparam("ids", expanding=True)
    return _selecting().where(c.id.in_(ids)).order_by(c.id).with_for_update()


@cache
def _update() -> Any:
    """The UPDATE by id; executed with a list of dicts, it sets the columns the dicts name."""
    return update(_TABLE).where(_TABLE.c.id == bindparam(_ID))


def outbound(row: DeliveryState) -> OutboundMessage:
    """A claimed (or pending) row as the sender sends it."""
    assert row.claimed_at is not None or row.status == Status.PENDING
    return OutboundMessage(
        delivery_id=row.id,
        to=row.phone,
        body=row.body,
        sender=row.sender,
        segments=row.segments,
        attempt=row.attempts,
        claimed_at=row.claimed_at or row.updated_at,
    )


def fitting(rows: list[DeliveryState], max_segments: int) -> list[DeliveryState]:
    """The first rows whose segments add up to at most ``max_segments``."""
    taken, total = [], 0
    for row in rows:
        if total + row.segments > max_segments:
            break
        taken.append(row)
        total += row.segments
    return taken
