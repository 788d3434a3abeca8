"""The audit chain read back, for ``log verify``: every position in order with its record.

Millions of records a walk, so the page query runs on the DB-API cursor, compiled once per
table and dialect: SQLAlchemy's rows and their type processing cost a quarter of the walk, and
nothing here needs them (times and days are turned into the chain's ISO text directly, by
:mod:`dispatcher.store.chain_text`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple

from sqlalchemy import Dialect, and_, bindparam, select
from sqlalchemy.orm import Session

from dispatcher.store.chain import CHAINED, PAGE, chain_head, chained_columns, unchained_query
from dispatcher.store.chain_text import times_as_text
from dispatcher.store.models import ChainRow


class ChainEntry(NamedTuple):
    """One position of the chain with the record it names (``values``: None if it is gone;
    its times and days as the ISO text the chain hashes)."""

    seq: int
    source: str
    record_id: int
    hash: str
    values: Sequence[Any] | None


# A ChainEntry's fields as a plain tuple: what a page holds (ten million of them a walk, and a
# named tuple costs a Python call each); ``ChainEntry(*entry)`` names them where it matters.
Entry = tuple[int, str, int, str, Sequence[Any] | None]


class ChainRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def head(self) -> tuple[int, str]:
        """The last position and its hash; (0, GENESIS) for an empty chain."""
        return chain_head(self.session)

    def position(self, seq: int) -> str | None:
        """The hash chained at position ``seq``, if that position exists."""
        return self.session.scalar(select(ChainRow.hash).where(ChainRow.seq == seq))

    def pages(self, after: int, last: int) -> Iterator[list[Entry]]:
        """The positions after ``after`` up to ``last``, in order, each with its record, a
        page at a time so memory stays flat however long the chain. Per page, each table's
        positions come joined to their records in one query of the chained columns (one row
        read per record; a join of every table would cost 70 columns a row, and a read of
        the positions then of the records two rows)."""
        connection = self.session.connection()
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            while after < last:
                upto = min(after + PAGE, last)
                in_page = and_(ChainRow.seq > after, ChainRow.seq <= upto)
                query = select(ChainRow.source).where(in_page).distinct()
                entries: list[Entry] = []
                for source in connection.scalars(query).all():
                    entries += _page_query(connection.dialect, source).run(cursor, after, upto)
                entries.sort()  # each table's run is in order already: a merge
                yield entries
                after = upto
        finally:
            cursor.close()

    def unchained(self, table: str) -> int | None:
        """The first record of ``table`` that no chain position names."""
        return self.session.scalar(unchained_query(table))


class _PageQuery:
    """One table's positions in a page, joined to their records: compiled once, run on the
    DB-API cursor with the page's bounds."""

    def __init__(self, dialect: Dialect, source: str) -> None:
        chain = (ChainRow.seq, ChainRow.source, ChainRow.record_id, ChainRow.hash)
        in_page = and_(ChainRow.seq > bindparam("after"), ChainRow.seq <= bindparam("upto"))
        # `source || ''`: compared as is, SQLite walks the (source, record_id) index over the
        # whole table for every page instead of the page's range of positions.
        of_source = ChainRow.source.concat("") == source
        self.chained = source in CHAINED
        if self.chained:
            columns = chained_columns(source)
            self.texts = list(times_as_text(columns).items())
            query = (
                select(*chain, *columns)
                .select_from(ChainRow)
                .outerjoin(CHAINED[source][0], columns[0] == ChainRow.record_id)
                .where(in_page, of_source)
            )
        else:  # a forged position: named, with no record, for the walk to report
            query = select(*chain).where(in_page, of_source)
        compiled = query.compile(dialect=dialect)
        self.sql = compiled.string
        self.params = compiled.params
        self.order = compiled.positiontup if compiled.positional else None

    def run(self, cursor: Any, after: int, upto: int) -> list[Entry]:
        params = {**self.params, "after": after, "upto": upto}
        cursor.execute(self.sql, params if self.order is None else [params[n] for n in self.order])
        rows = cursor.fetchall()
        if not self.chained:
            return [(row[0], row[1], row[2], row[3], None) for row in rows]
        if not self.texts:
            return [(*row[:4], None if row[4] is None else row[4:]) for row in rows]
        texts = self.texts
        entries: list[Entry] = []
        for row in rows:
            if row[4] is None:
                entries.append((*row[:4], None))
                continue
            values = list(row[4:])
            for index, as_text in texts:
                values[index] = as_text(values[index])
            entries.append((row[0], row[1], row[2], row[3], values))
        return entries


_COMPILED: dict[tuple[str, str], _PageQuery] = {}


def _page_query(dialect: Dialect, source: str) -> _PageQuery:
    key = (dialect.name, source)
    if key not in _COMPILED:
        _COMPILED[key] = _PageQuery(dialect, source)
    return _COMPILED[key]
