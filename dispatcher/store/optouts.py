"""The opt-out list in the database: who must not be sent to, and every change, logged.

``optouts`` holds the current list (one row per E.164 number); ``optout_log`` is its append-only
history, written in the same transaction as each change. This is the only place that runs SQL on
them.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from dispatcher.store.chain import note_ids
from dispatcher.store.models import OptOutEventRow, OptOutRow

# Numbers per IN list: under SQLite's oldest bound-parameter limit (999). Larger chunks were
# measured no faster: 100,000 numbers take ~0.3 s on SQLite, ~1 s on PostgreSQL.
IN_CHUNK = 900
INSERT_CHUNK = 1_000  # rows per multi-row INSERT of an import
ADD = "add"
REMOVE = "remove"


@dataclass(frozen=True)
class NewOptOut:
    """A number to put on the list (E.164), with its reason and where the request came from."""

    phone: str
    reason: str
    source: str


@dataclass(frozen=True)
class OptOut:
    """A number on the opt-out list: why, where it came from, when and by whom."""

    phone: str
    reason: str
    source: str
    created_at: datetime
    created_by: str | None


class OptOutRepository:
    """The opt-out list of one unit of work; nothing is kept unless the unit of work commits."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(
        self, phone: str, reason: str, source: str, now: datetime, created_by: str | None = None
    ) -> bool:
        """Put the E.164 ``phone`` on the list; False (and nothing logged) if already there."""
        values = {"phone": phone, "reason": reason, "source": source, "created_at": now,
                  "created_by": created_by}  # fmt: skip
        # ON CONFLICT DO NOTHING: two processes adding one number at once do not collide, and
        # RETURNING says whether this one did it (rowcount is not reliable here on PostgreSQL).
        statement = self._insert().values(values).on_conflict_do_nothing(index_elements=["phone"])
        if self.session.scalar(statement.returning(OptOutRow.phone)) is None:
            return False
        self._log(ADD, phone, reason, source, now, created_by)
        return True

    def add_many(
        self, entries: Iterable[NewOptOut], now: datetime, created_by: str | None = None
    ) -> set[str]:
        """Put many numbers on the list at once (an import); returns those that were new.

        The first entry of a repeated number wins; each new number is logged like :meth:`add`.
        """
        added: set[str] = set()
        rows = iter(entries)
        while chunk := list(islice(rows, INSERT_CHUNK)):
            added |= self._add_chunk(chunk, now, created_by)
        return added

    def _add_chunk(self, chunk: list[NewOptOut], now: datetime, by: str | None) -> set[str]:
        first: dict[str, NewOptOut] = {}
        for entry in chunk:
            first.setdefault(entry.phone, entry)
        values = [{"phone": e.phone, "reason": e.reason, "source": e.source, "created_at": now,
                   "created_by": by} for e in first.values()]  # fmt: skip
        statement = self._insert().on_conflict_do_nothing(index_elements=["phone"])
        # RETURNING says exactly which rows went in, even when another process adds at once.
        added = set(self.session.scalars(statement.returning(OptOutRow.phone), values))
        log = [_event(ADD, first[phone], now, by) for phone in first if phone in added]
        if log:
            logged = self.session.scalars(insert(OptOutEventRow).returning(OptOutEventRow.id), log)
            note_ids(self.session, "optout_log", logged)
        return added

    def remove(
        self, phone: str, reason: str, source: str, now: datetime, created_by: str | None = None
    ) -> bool:
        """Take ``phone`` off the list; False (and nothing logged) if it was not on it."""
        statement = delete(OptOutRow).where(OptOutRow.phone == phone).returning(OptOutRow.phone)
        if self.session.scalar(statement) is None:
            return False
        self._log(REMOVE, phone, reason, source, now, created_by)
        return True

    def count(self) -> int:
        return self.session.scalar(select(func.count()).select_from(OptOutRow)) or 0

    def phones(self) -> set[str]:
        """Every number on the list (for a short list, cheaper than asking row by row)."""
        return set(self.session.scalars(select(OptOutRow.phone)))

    def contains(self, phones: Collection[str]) -> set[str]:
        """Which of these E.164 numbers are on the list (queried in chunks of ``IN_CHUNK``)."""
        found: set[str] = set()
        numbers = iter(set(phones))
        while chunk := list(islice(numbers, IN_CHUNK)):
            query = select(OptOutRow.phone).where(OptOutRow.phone.in_(chunk))
            found.update(self.session.scalars(query))
        return found

    def all(self) -> Iterator[OptOut]:
        """The whole list, oldest first, streamed."""
        query = select(OptOutRow).order_by(OptOutRow.created_at, OptOutRow.phone)
        for row in self.session.scalars(query.execution_options(yield_per=1000)):
            yield OptOut(row.phone, row.reason, row.source, row.created_at, row.created_by)

    def _insert(self) -> postgresql.Insert | sqlite.Insert:
        # Both dialects' insert() have on_conflict_do_nothing; the core one does not.
        dialect = self.session.get_bind().dialect.name
        return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(OptOutRow)

    def _log(
        self, action: str, phone: str, reason: str, source: str, now: datetime, by: str | None
    ) -> None:
        values = _event(action, NewOptOut(phone, reason, source), now, by)
        logged = self.session.scalars(
            insert(OptOutEventRow).values(values).returning(OptOutEventRow.id)
        )
        note_ids(self.session, "optout_log", logged)


def _event(action: str, entry: NewOptOut, now: datetime, by: str | None) -> dict[str, Any]:
    return {"at": now, "phone": entry.phone, "action": action, "reason": entry.reason,
            "source": entry.source, "created_by": by}  # fmt: skip
