"""The sender: claim a batch → send it with bounded concurrency → record every outcome.

Crash safety comes from the order of writes: a row is committed as ``sending`` (and logged)
before its request is made, and its outcome is committed after. A process killed in between
leaves rows ``sending``; the next run marks them ``unknown`` and asks the provider about each
before anything is resent (:meth:`Sender.recover`). At most one batch can be in that state.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from dispatcher.clock import Clock
from dispatcher.gateways.base import Gateway, SendResult
from dispatcher.outbox import OutboundMessage, Outcome
from dispatcher.status import FINAL, REACHED_PROVIDER, Status
from dispatcher.store.uow import UnitOfWork

log = logging.getLogger(__name__)


@dataclass
class Progress:
    total: int
    done: int = 0  # rows that reached a status other than pending/sending in this run
    reached: int = 0
    failed: int = 0
    unknown: int = 0
    started: float = field(default_factory=time.monotonic)

    @property
    def rate(self) -> float:
        elapsed = time.monotonic() - self.started
        return self.done / elapsed if elapsed > 0 else 0.0


@dataclass(frozen=True)
class RunResult:
    counts: dict[Status, int]
    halted: str | None
    stopped: bool

    @property
    def complete(self) -> bool:
        """Every recipient reached the provider (none failed, unknown or left pending)."""
        return all(status in REACHED_PROVIDER for status, n in self.counts.items() if n)


class Sender:
    """Works one occurrence's outbox to the end; ``stop()`` ends it after the current batch."""

    def __init__(
        self,
        uow: Callable[[], UnitOfWork],
        gateway: Gateway,
        clock: Clock,
        batch_size: int,
        concurrency: int,
        on_progress: Callable[[Progress], None] | None = None,
    ) -> None:
        self._uow = uow
        self._gateway = gateway
        self._clock = clock
        self._batch_size = batch_size
        self._limit = asyncio.Semaphore(concurrency)
        self._on_progress = on_progress or (lambda _p: None)
        self._stopping = False

    def stop(self) -> None:
        self._stopping = True

    async def run(self, occurrence_id: int) -> RunResult:
        await self.recover(occurrence_id)
        with self._uow() as uow:
            counts = uow.repo.status_counts(occurrence_id)
        progress = Progress(total=counts.get(Status.PENDING, 0))
        self._on_progress(progress)
        halted = None
        run_started = self._clock.now()
        while not self._stopping and halted is None:
            batch = self._claim(occurrence_id, run_started)
            if not batch:
                break
            results = await asyncio.gather(*(self._send(m) for m in batch))
            halted = self._record(results, progress)
            self._on_progress(progress)
        with self._uow() as uow:
            counts = uow.repo.status_counts(occurrence_id)
        return RunResult(counts=counts, halted=halted, stopped=self._stopping)

    async def recover(self, occurrence_id: int) -> None:
        """Settle what a previous run left in flight: ``sending`` → ``unknown`` → reconciled."""
        now = self._clock.now()
        with self._uow() as uow:
            stranded = uow.repo.in_flight(occurrence_id)
            detail = "the previous run stopped during the attempt; outcome unknown"
            uow.repo.apply([Outcome(i, Status.UNKNOWN, detail=detail) for i in stranded], now)
            unknown = uow.repo.deliveries_in(occurrence_id, Status.UNKNOWN)
            uow.commit()
        if stranded:
            log.warning("%d deliveries were in flight when the last run stopped", len(stranded))
        for message in unknown:
            await self._reconcile(message)

    async def _reconcile(self, message: OutboundMessage) -> None:
        found = await self._gateway.lookup(message)
        now = self._clock.now()
        with self._uow() as uow:
            if found is not None:
                uow.repo.apply([found], now)
            else:
                uow.repo.release([message.delivery_id], "the provider has no record of it", now)
            uow.commit()

    def _claim(self, occurrence_id: int, run_started: datetime) -> list[OutboundMessage]:
        with self._uow() as uow:
            now = self._clock.now()
            batch = uow.repo.claim(occurrence_id, self._batch_size, now, run_started)
            uow.commit()
        return batch

    async def _send(self, message: OutboundMessage) -> SendResult:
        async with self._limit:
            return await self._gateway.send(message)

    def _record(self, results: list[SendResult], progress: Progress) -> str | None:
        now = self._clock.now()
        outcomes = [r.outcome for r in results if r.outcome is not None]
        released = [r for r in results if r.outcome is None]
        with self._uow() as uow:
            uow.repo.apply(outcomes, now)
            for result in released:
                reason = result.not_processed_reason or "not processed by the provider"
                uow.repo.release([result.delivery_id], reason, now)
            halt = next((r.halt for r in results if r.halt), None)
            if halt:
                uow.repo.record_activity("halted", now, detail=halt)
            uow.commit()
        _count(progress, outcomes)
        return halt


def _count(progress: Progress, outcomes: list[Outcome]) -> None:
    for outcome in outcomes:
        progress.done += 1
        if outcome.status in REACHED_PROVIDER:
            progress.reached += 1
        elif outcome.status is Status.UNKNOWN:
            progress.unknown += 1
        elif outcome.status in FINAL:
            progress.failed += 1
