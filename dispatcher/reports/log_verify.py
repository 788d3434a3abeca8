"""``dispatcher log verify``: walk the audit chain and say whether the logs are as written.

The walk recomputes every position's hash from its record and the previous hash, in constant
memory. It names the first position that fails: a record edited (its content no longer hashes
to the chained value), deleted (the chain names a record that is gone), a position removed (a
gap) or moved (the links break there), and records that no position names (added outside
dispatcher). Someone who also rewrites the chain itself is caught against a head printed
earlier (on a filed report): ``--head HASH --at N``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dispatcher.bootstrap import Runtime
from dispatcher.core.chain import GENESIS, link
from dispatcher.core.errors import BadInput, Problem
from dispatcher.store.chain import CHAINED, ChainEntry
from dispatcher.store.uow import UnitOfWork


@dataclass(frozen=True)
class Anchor:
    """A head printed earlier: position ``at`` had hash ``head``."""

    at: int
    head: str


@dataclass(frozen=True)
class Break:
    """The first thing that is not as it was chained."""

    table: str
    record_id: int | None
    position: int | None
    what: str


@dataclass(frozen=True)
class Verdict:
    records: int  # positions walked
    head: tuple[int, str]  # the last position and its hash, as walked
    broken: Break | None


def anchor(head: str | None, at: int | None) -> Anchor | None:
    """Check ``--head``/``--at`` (given together, a 64-digit hex hash and a position ≥ 1)."""
    if head is None and at is None:
        return None
    if head is None or at is None:
        raise BadInput(Problem("give --head and --at together, as a report prints them",
                               field="--head" if head is None else "--at"))  # fmt: skip
    if not re.fullmatch(r"[0-9a-fA-F]{64}", head):
        raise BadInput(Problem(f"'{head}' is not a SHA-256 hash (64 hex digits)", field="--head"))
    if at < 1:
        raise BadInput(Problem("a position is 1 or more", field="--at"))
    return Anchor(at, head.lower())


def verify_log(rt: Runtime, expected: Anchor | None = None) -> Verdict:
    with rt.uow() as uow:
        return verify_chain(uow, expected)


def verify_chain(uow: UnitOfWork, expected: Anchor | None = None) -> Verdict:
    position, previous = 0, GENESIS
    for entry in uow.chain.walk():
        problem = _check(entry, position + 1, previous)
        if problem is None and expected and entry.seq == expected.at:
            problem = _anchor_differs(entry, expected)
        if problem is not None:
            return Verdict(position, (position, previous), problem)
        position, previous = entry.seq, entry.hash
    problem = _after_walk(uow, position, expected)
    return Verdict(position, (position, previous), problem)


def _check(entry: ChainEntry, position: int, previous: str) -> Break | None:
    where = (entry.source, entry.record_id)
    if entry.seq != position:
        what = f"positions {position} to {entry.seq - 1} are missing (records deleted)"
        return Break(*where, position, what)
    if entry.source not in CHAINED:
        return Break(*where, position, f"names a table that is not chained: {entry.source}")
    if entry.values is None:
        return Break(*where, position, "the chain names this record but it is gone (deleted)")
    if link(previous, entry.source, entry.values) != entry.hash:
        what = "its content does not hash to the chained value (edited, or moved in the chain)"
        return Break(*where, position, what)
    return None


def _anchor_differs(entry: ChainEntry, expected: Anchor) -> Break | None:
    if entry.hash == expected.head:
        return None
    what = f"the chain at {expected.at} is {entry.hash}, not {expected.head}: history rewritten"
    return Break(entry.source, entry.record_id, entry.seq, what)


def _after_walk(uow: UnitOfWork, last: int, expected: Anchor | None) -> Break | None:
    if expected is not None and expected.at > last:
        what = f"the chain ends at {last}, before {expected.at}: records deleted at its end"
        return Break("audit_chain", None, expected.at, what)
    for table in CHAINED:
        stray = uow.chain.unchained(table)
        if stray is not None:
            what = "no chain position names this record (added outside dispatcher)"
            return Break(table, stray, None, what)
    return None
