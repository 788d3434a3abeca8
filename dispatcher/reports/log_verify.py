"""``dispatcher log verify``: walk the audit chain and say whether the logs are as written.

The walk recomputes every position's hash from its record and the previous hash, in constant
memory. It names the first position that fails: a record edited (its content no longer hashes
to the chained value), deleted (the chain names a record that is gone), a position removed (a
gap) or moved (the links break there), and records that no position names (added outside
dispatcher). Someone who also rewrites the chain itself is caught against a head printed
earlier (on a filed report): ``--head HASH --at N``.
"""

from __future__ import annotations

import multiprocessing
import os
import re
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from itertools import repeat

from dispatcher.bootstrap import Runtime
from dispatcher.core.chain import GENESIS, link
from dispatcher.core.errors import BadInput, Problem
from dispatcher.store.chain import CHAINED
from dispatcher.store.chain_walk import ChainEntry
from dispatcher.store.db import make_engine
from dispatcher.store.uow import UnitOfWork, unit_of_work_factory

MIN_SEGMENT = 250_000  # positions: below this a process costs more to start than it saves


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


def verify_log(rt: Runtime, expected: Anchor | None = None, jobs: int = 1) -> Verdict:
    """Walk the whole chain, in ``jobs`` processes when it is long enough to be worth it."""
    with rt.uow() as uow:
        last, _ = uow.chain.head()
    segments = split(last, jobs)
    if len(segments) == 1:
        with rt.uow() as uow:
            return verify_chain(uow, expected)
    return verify_in_parallel(rt.settings.resolved_database_url, segments, expected)


def verify_chain(uow: UnitOfWork, expected: Anchor | None = None) -> Verdict:
    """The whole chain in this process."""
    last, _ = uow.chain.head()
    walked = walk_segment(uow, Segment(0, last), expected)
    return _verdict([walked], lambda: _after_walk(uow, walked.position, expected))


def verify_in_parallel(
    url: str, segments: Sequence[Segment], expected: Anchor | None = None
) -> Verdict:
    """Each segment walked in its own process, on its own connection: a position's check
    needs only the hash stored at the one before, so the segments are independent, and
    together they check exactly what one walk from the start checks."""
    with ProcessPoolExecutor(len(segments), mp_context=_processes()) as pool:
        walked = list(pool.map(_walk_in_child, repeat(url), segments, repeat(expected)))
    engine = make_engine(url)
    try:
        with unit_of_work_factory(engine)() as uow:
            return _verdict(walked, lambda: _after_walk(uow, walked[-1].position, expected))
    finally:
        engine.dispose()


def _processes() -> multiprocessing.context.BaseContext:
    """Children forked from a clean server process that has imported this module once (no
    connections or threads inherited, no import per child); spawned where that is missing."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    return context


def default_jobs() -> int:
    """The CPUs this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def split(last: int, jobs: int, smallest: int = MIN_SEGMENT) -> list[Segment]:
    """Positions 1..last in at most ``jobs`` segments of at least ``smallest`` positions."""
    count = max(1, min(jobs, last // max(smallest, 1)))
    bounds = [last * k // count for k in range(count + 1)]
    return [Segment(bounds[k], bounds[k + 1]) for k in range(count)]


@dataclass(frozen=True)
class Segment:
    """Positions ``after + 1`` to ``last``."""

    after: int
    last: int


@dataclass(frozen=True)
class Walked:
    """How far a segment's walk got: its last good position and hash, and what broke."""

    position: int
    previous: str
    broken: Break | None


def walk_segment(uow: UnitOfWork, segment: Segment, expected: Anchor | None) -> Walked:
    """Check every position of ``segment`` against the hash stored at the one before it."""
    position = segment.after
    previous = GENESIS if position == 0 else uow.chain.position(position)
    if previous is None:  # the segment before ends in this gap and names it first
        what = f"position {position} is missing (records deleted)"
        return Walked(position, GENESIS, Break("audit_chain", None, position, what))
    anchored = expected.at if expected and segment.after < expected.at <= segment.last else -1
    for page in uow.chain.pages(segment.after, segment.last):
        for entry in page:
            seq, source, _, digest, values = entry
            # The common case in one line (millions of times); a failure is diagnosed by _check.
            if seq != position + 1 or values is None or link(previous, source, values) != digest:
                return Walked(
                    position, previous, _check(ChainEntry(*entry), position + 1, previous)
                )
            if seq == anchored and expected is not None:
                problem = _anchor_differs(ChainEntry(*entry), expected)
                if problem is not None:
                    return Walked(position, previous, problem)
            position, previous = seq, digest
    if position < segment.last:
        what = f"positions {position + 1} to {segment.last} are missing (records deleted)"
        return Walked(position, previous, Break("audit_chain", None, position + 1, what))
    return Walked(position, previous, None)


def _walk_in_child(url: str, segment: Segment, expected: Anchor | None) -> Walked:
    engine = make_engine(url)
    try:
        with unit_of_work_factory(engine)() as uow:
            return walk_segment(uow, segment, expected)
    finally:
        engine.dispose()


def _verdict(walked: Sequence[Walked], after_walk: Callable[[], Break | None]) -> Verdict:
    """The first segment that broke names the first break; else the records no position
    names, and the anchor past the end."""
    for part in walked:
        if part.broken is not None:
            return Verdict(part.position, (part.position, part.previous), part.broken)
    last = walked[-1]
    return Verdict(last.position, (last.position, last.previous), after_walk())


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
