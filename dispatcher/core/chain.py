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
from json.encoder import c_make_encoder, encode_basestring  # type: ignore[attr-defined]
from typing import Any

GENESIS = "0" * 64  # the "previous hash" of the first record
Encoder = Callable[[object, int], Sequence[str]]  # a value and the indent level: JSON's pieces


def canonical(table: str, values: Sequence[object]) -> bytes:
    """Compact JSON of ``[table, *values]``: exactly what ``json.dumps(..., ensure_ascii=False,
    separators=(",", ":"), default=...)`` writes, times and days as ISO text. The chain is
    recomputed for every record on every send and every ``log verify`` (ten million records):
    json.dumps with options builds an encoder per call, so its C encoder is built once here
    and reused, which halves the cost of a record."""
    return "".join(_encode([table, *values], 0)).encode()


def link(previous: str, table: str, values: Sequence[object]) -> str:
    """The hash of one record, given the previous record's hash (hex)."""
    return hashlib.sha256(bytes.fromhex(previous) + canonical(table, values)).hexdigest()


def _plain(value: object) -> str:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("a chained time must carry its zone")
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"cannot put {type(value).__name__} in a chained record")


def _encoder(c_encoder: Callable[..., Any] | None = c_make_encoder) -> Encoder:
    """The stdlib's JSON encoder for ``canonical``'s options: its C one when built (CPython),
    else the pure-Python one, which writes the same text. No circular check: a record is a flat
    list of column values."""
    if c_encoder is not None:  # the arguments json.JSONEncoder.iterencode passes it
        encode: Encoder = c_encoder(None, _plain, encode_basestring, None, ":", ",", False,
                                    False, True)  # fmt: skip
        return encode
    options = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=_plain)
    return lambda values, _level: list(options.iterencode(values))


_encode = _encoder()
