"""The audit chain's arithmetic: a record's canonical bytes and the link that binds it.

Each auditable record, in the order it was committed, gets a position (1, 2, 3 ...) and a hash:
``SHA-256(previous hash || canonical bytes of the record)``, the first record's previous hash
being :data:`GENESIS`. Changing, removing, adding or moving any record changes every hash after
it, so the last hash (the head) stands for the whole history up to it.

The canonical bytes are compact JSON of ``[table, column values...]`` in a fixed column order,
with times as ISO 8601 in UTC and days as ISO dates: the same on SQLite and PostgreSQL, and
readable by anyone who wants to check the chain with other tools.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from datetime import date, datetime
from json.encoder import encode_basestring

GENESIS = "0" * 64  # the "previous hash" of the first record


def canonical(table: str, values: Sequence[object]) -> bytes:
    """Compact JSON of ``[table, *values]``: what ``json.dumps(..., ensure_ascii=False,
    separators=(",", ":"))`` writes, built directly for the types the logs hold (the chain is
    recomputed for every record on every send and every ``log verify``; json.dumps with a
    ``default`` builds an encoder per call), and by json.dumps itself for any other type."""
    try:
        parts = [encode_basestring(table), *[_JSON[type(value)](value) for value in values]]
    except KeyError:
        return _dumps(table, values)
    return f"[{','.join(parts)}]".encode()


def _dumps(table: str, values: Sequence[object]) -> bytes:
    return json.dumps(
        [table, *values], default=_plain, ensure_ascii=False, separators=(",", ":")
    ).encode("utf-8")


def link(previous: str, table: str, values: Sequence[object]) -> str:
    """The hash of one record, given the previous record's hash (hex)."""
    return hashlib.sha256(bytes.fromhex(previous) + canonical(table, values)).hexdigest()


def _moment(value: datetime) -> str:
    return encode_basestring(_plain(value))


# Exact types only: a bool is an int to isinstance, but JSON writes it ``true``.
_JSON: dict[type, Callable[..., str]] = {
    str: encode_basestring,
    int: int.__repr__,
    type(None): {None: "null"}.get,  # a C call, not a lambda: most records hold a few
    datetime: _moment,
    date: lambda value: encode_basestring(value.isoformat()),
}


def _plain(value: object) -> str:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("a chained time must carry its zone")
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"cannot put {type(value).__name__} in a chained record")
