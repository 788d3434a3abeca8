"""The audit chain in the database: every record of the logs, in commit order, hash-linked.

Writers note what they append to a log (:func:`note_ids`, :func:`note_selection`, or simply by
adding ORM rows, picked up after each flush); the unit of work calls :func:`seal` just before
it commits, which takes the chain's lock, reads the head, links the transaction's records after
it and inserts their chain rows. Ordering: on PostgreSQL a transaction-scoped advisory lock, so
transactions append to the chain one at a time, for the few milliseconds from their seal to
their commit (their own inserts run in parallel, before it); on SQLite the transaction already
holds the database's write lock. The chain's order is therefore the commit order.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Select, and_, exists, func, insert, select, text
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from dispatcher.core.chain import GENESIS, link
from dispatcher.store.models import (
    ActivityRow,
    AiringConfirmationRow,
    AiringCorrectionRow,
    ApprovalRow,
    Base,
    ChainRow,
    DeliveryEventRow,
    OptOutEventRow,
    OutreachActivityRow,
)

# The chained tables, in the order one transaction's records are linked, with the columns that
# make a record's canonical content. Fixed: a column added to one of these tables later is
# chained only by a deliberate change here (a unit test compares these with the models).
CHAINED: dict[str, tuple[type[Base], tuple[str, ...]]] = {
    "delivery_log": (DeliveryEventRow, (
        "id", "at", "delivery_id", "campaign_id", "occurrence_key", "phone", "status", "attempt",
        "segments", "provider_id", "error_code", "detail")),
    "airing_confirmations": (AiringConfirmationRow, (
        "id", "campaign_id", "commune", "scheduled_at", "aired_at", "duration_s", "confirmed_by",
        "source", "created_at")),
    "airing_corrections": (AiringCorrectionRow, (
        "id", "confirmation_id", "kind", "corrects_id", "recorded_by", "source", "created_at")),
    "outreach_activities": (OutreachActivityRow, (
        "id", "kind", "corrects_id", "unit_code", "unit_name", "form", "count", "day", "means",
        "content", "campaign_id", "note", "reason", "source", "recorded_by", "recorded_at")),
    "optout_log": (OptOutEventRow, (
        "id", "at", "phone", "action", "reason", "source", "created_by")),
    "approvals": (ApprovalRow, (
        "id", "campaign_id", "fingerprint", "recipients", "approver", "at")),
    "activity_log": (ActivityRow, (
        "id", "at", "kind", "campaign_id", "occurrence_key", "detail")),
}  # fmt: skip
CHAIN_LOCK = 0x6469737063680001  # PostgreSQL advisory lock key: "dispch" + 1
PAGE = 5000  # records read and chain rows written at once


@dataclass
class _Pending:
    """What one transaction appended to one table and has not chained yet."""

    ids: set[int] = field(default_factory=set)
    records: dict[int, tuple[Any, ...]] = field(default_factory=dict)  # values already known
    selections: list[tuple[int, datetime]] = field(default_factory=list)


def _pending(session: Session) -> dict[str, _Pending]:
    return session.info.setdefault("audit_chain", {})


def note_ids(session: Session, table: str, ids: Iterable[int]) -> None:
    """This transaction appended the records ``ids`` of ``table``."""
    _pending(session).setdefault(table, _Pending()).ids.update(ids)


def note_records(session: Session, table: str, records: Iterable[Sequence[Any]]) -> None:
    """This transaction appended these records of ``table``: their canonical values, in the
    order of :data:`CHAINED`'s columns, as ``INSERT … RETURNING`` gave them back (through the
    columns' types, as a read would), so the seal need not read them again."""
    known = _pending(session).setdefault(table, _Pending()).records
    for values in records:
        known[values[0]] = tuple(values)


def chained_columns(table: str) -> list[Any]:
    """The columns of ``table`` that make a record's canonical content, in order."""
    model, names = CHAINED[table]
    return [getattr(model, name) for name in names]


def last_id(session: Session, table: str) -> int:
    session.flush()  # records the ORM holds count, as session.execute would see them
    return session.connection().execute(_max_id(table)).scalar() or 0


@cache
def _max_id(table: str) -> Select[Any]:
    """``max(id)`` of a log, on the table's column: Core, built once (it runs per batch)."""
    return select(func.max(CHAINED[table][0].__table__.c.id))


def note_selection(session: Session, table: str, after_id: int, at: datetime) -> None:
    """This transaction appended many records of ``table`` in one INSERT ... SELECT, all at
    ``at``, after ``after_id`` (read just before): the ones still unchained at the seal."""
    _pending(session).setdefault(table, _Pending()).selections.append((after_id, at))


def note_flushed(session: Session, flushed: Iterable[object]) -> None:
    """After a flush: the log rows the ORM just inserted."""
    for row in flushed:
        table = getattr(row, "__tablename__", None)
        if table in CHAINED:
            note_ids(session, table, [row.id])  # type: ignore[attr-defined]


def forget_pending(session: Session) -> None:
    """After a rollback: nothing this transaction noted was kept."""
    session.info.pop("audit_chain", None)


def seal(session: Session) -> None:
    """Link this transaction's appended records after the chain's head, in one lock held to
    the commit that follows."""
    pending = session.info.pop("audit_chain", None)
    if not pending:
        return
    _lock(session)
    seq, previous = chain_head(session)
    for table in [t for t in CHAINED if t in pending]:
        for page in _records(session, table, pending[table]):
            rows = []
            for values in page:
                seq, previous = seq + 1, link(previous, table, values)
                rows.append({"seq": seq, "source": table, "record_id": values[0],
                             "hash": previous})  # fmt: skip
            session.connection().execute(_CHAIN_INSERT, rows)  # Core: no ORM bookkeeping


_CHAIN_INSERT = insert(ChainRow)
_HEAD = select(ChainRow.seq, ChainRow.hash).order_by(ChainRow.seq.desc()).limit(1)


def chain_head(session: Session) -> tuple[int, str]:
    """The last position and its hash; (0, GENESIS) for an empty chain. One row: LIMIT 1,
    read on the connection (Core), as it is on every commit."""
    row = session.connection().execute(_HEAD).first()
    return (row[0], row[1]) if row else (0, GENESIS)


def _lock(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK})


def _records(session: Session, table: str, pending: _Pending) -> Iterator[list[tuple[Any, ...]]]:
    """The pending records' canonical values by id, a page at a time, each page chained
    before the next is read (so a selection never takes a record twice): those the writer
    handed over as they were inserted, the others read back."""
    columns = chained_columns(table)
    missing = sorted(pending.ids - pending.records.keys())
    known = pending.records
    for start in range(0, len(missing), PAGE):
        chunk = missing[start : start + PAGE]
        query = select(*columns).where(columns[0].in_(chunk))
        known.update((row[0], tuple(row)) for row in session.connection().execute(query))
    ordered = [known[record_id] for record_id in sorted(known)]
    for start in range(0, len(ordered), PAGE):
        yield ordered[start : start + PAGE]
    for after_id, at in pending.selections:
        yield from _selected(session, table, after_id, at)


def _selected(
    session: Session, table: str, after_id: int, at: datetime
) -> Iterator[list[tuple[Any, ...]]]:
    model = CHAINED[table][0]
    columns = chained_columns(table)
    key = columns[0]
    while True:
        query = (
            select(*columns)
            .where(key > after_id, model.at == at, ~_chained(table, key))  # type: ignore[attr-defined]
            .order_by(key)
            .limit(PAGE)
        )
        page = [tuple(row) for row in session.execute(query)]
        if not page:
            return
        yield page
        after_id = page[-1][0]


def _chained(table: str, key: Any) -> ColumnElement[bool]:
    return exists().where(and_(ChainRow.source == table, ChainRow.record_id == key))


def unchained_query(table: str) -> Select[Any]:
    """The first record of ``table`` that no chain position names."""
    key = CHAINED[table][0].id  # type: ignore[attr-defined]
    return select(key).where(~_chained(table, key)).order_by(key).limit(1)
