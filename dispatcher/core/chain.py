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
from collections.abc import Sequence
from datetime import date, datetime

GENESIS = "0" * 64  # the "previous hash" of the first record


def canonical(table: str, values: Sequence[object]) -> bytes:
    return json.dumps(
        [table, *values], default=_plain, ensure_ascii=False, separators=(",", ":")
    ).encode("utf-8")


def link(previous: str, table: str, values: Sequence[object]) -> str:
    """The hash of one record, given the previous record's hash (hex)."""
    digest = hashlib.sha256(bytes.fromhex(previous))
    digest.update(canonical(table, values))
    return digest.hexdigest()


def _plain(value: object) -> str:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("a chained time must carry its zone")
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"cannot put {type(value).__name__} in a chained record")
