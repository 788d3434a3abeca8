"""Pacing shared by every worker: one budget per sender, kept in PostgreSQL.

The per-process :class:`~dispatcher.sending.pacing.Pacer` keeps its buckets in memory, which is
right for one process (SQLite). Several workers must draw from one budget, or three of them send
three times the rate. The budget is GCRA state in the ``rate_limits`` table, moved by one atomic
statement on the database clock (:meth:`WorkerRepository.reserve`); PostgreSQL serializes the
updates, so no coordinator of our own is needed. To keep that to a few statements per second
whatever the rate, a worker reserves a small grant (about ``GRANT_S`` of the rate) and spaces its
messages inside it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from dispatcher.sending.pacing import Monotonic
from dispatcher.store.uow import UnitOfWork

GRANT_S = 0.2  # a grant covers this long at the sender's rate (never more than the burst)


@dataclass
class _Grant:
    start: float  # monotonic time when the grant's first segment may go
    size: float
    used: float = 0.0


class SharedPacer:
    """Same interface as :class:`~dispatcher.sending.pacing.Pacer`, budget in the database."""

    def __init__(
        self,
        uow: Callable[[], UnitOfWork],
        default_rate: float,
        burst: float,
        rates: Mapping[str, float] | None = None,
        now: Monotonic = time.monotonic,
    ) -> None:
        self._uow = uow
        self._now = now  # real time by default: the waits it computes are slept for real
        self._default_rate = default_rate
        self._burst = burst
        self._rates = dict(rates or {})
        self._grants: dict[str, _Grant] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def rate_of(self, sender: str | None) -> float:
        return self._rates.get(sender or "", self._default_rate)

    def set_rate(self, sender: str | None, rate: float) -> None:
        self._rates[sender or ""] = rate

    async def wait(self, sender: str | None, segments: int) -> None:
        key, rate = sender or "", self.rate_of(sender)
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            grant = self._grants.get(key)
            if grant is None or grant.used + segments > grant.size:
                size = max(float(segments), min(self._burst, rate * GRANT_S))
                delay = await asyncio.to_thread(self._reserve, key, size, rate)
                grant = self._grants[key] = _Grant(self._now() + delay, size)
            at = grant.start + grant.used / rate  # spaced inside the grant, never bunched
            grant.used += segments
        delay = at - self._now()
        if delay > 0:
            await asyncio.sleep(delay)

    def _reserve(self, sender: str, segments: float, rate: float) -> float:
        with self._uow() as uow:
            delay = uow.workers.reserve(sender, segments, rate, self._burst)
            uow.commit()
        return delay
