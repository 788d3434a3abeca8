"""Times and days read as the database keeps them, turned into the ISO text the chain hashes.

``log verify`` reads every record of the logs. Through the column types a time costs a parse
into a datetime, a zone attached, then an ``isoformat`` back to text: a third of the walk.
Read as stored and turned into that same text directly, it costs a slice. The result is
exactly ``UTCDateTime``'s value's ``isoformat()`` (``Date``'s for days), which the writer
hashed: a test compares the two on both databases, edge cases included.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Date

from dispatcher.store.models import UTCDateTime


def times_as_text(columns: Sequence[Any]) -> dict[int, Callable[[Any], str | None]]:
    """For each time or day column of ``columns`` (by index), its stored value to ISO text."""
    readers: dict[int, Callable[[Any], str | None]] = {}
    for index, column in enumerate(columns):
        if isinstance(column.type, UTCDateTime):
            readers[index] = moment_text
        elif isinstance(column.type, Date):
            readers[index] = day_text
    return readers


def moment_text(stored: Any) -> str | None:
    """A ``UTCDateTime`` as stored: SQLite's text in UTC ('2024-10-01 05:00:00.250000', as
    SQLAlchemy writes it, or without the fraction), or PostgreSQL's aware datetime."""
    if stored is None:
        return None
    if isinstance(stored, str):
        if len(stored) == 26 and stored[10] == " " and stored[19] == ".":
            fraction = "" if stored.endswith(".000000") else stored[19:]  # as isoformat does
            return f"{stored[:10]}T{stored[11:19]}{fraction}+00:00"
        if len(stored) == 19 and stored[10] == " ":
            return f"{stored[:10]}T{stored[11:]}+00:00"
        stored = datetime.fromisoformat(stored)  # anything else SQLite was given
    if not isinstance(stored, datetime):
        raise TypeError(f"a time column holds {stored!r}")
    if stored.tzinfo is None:
        return stored.replace(tzinfo=UTC).isoformat()
    return stored.astimezone(UTC).isoformat()


def day_text(stored: Any) -> str | None:
    """A ``Date`` as stored: SQLite's 'YYYY-MM-DD' text, or PostgreSQL's date."""
    if stored is None or isinstance(stored, str):
        return stored
    if isinstance(stored, date):
        return stored.isoformat()
    raise TypeError(f"a day column holds {stored!r}")
