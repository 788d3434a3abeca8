"""The sender: claim → pace → send → record, pipelined, with a bound on what is in flight.

Crash safety comes from the order of writes: a row is committed as ``sending`` (and logged)
before its request is made, and its outcome is committed after. At most ``batch_size`` rows are
ever claimed and not yet recorded, so a process killed at any moment leaves at most one batch
``sending``; the next run marks those ``unknown`` and asks the provider about each before anything
is resent (:meth:`Sender.recover`). The run's own unknown outcomes (a 500, a timeout) are settled
the same way before it returns, in bounded rounds (:mod:`dispatcher.sending.settling`).

Database work runs on one dedicated thread, so the event loop keeps requests flowing while a
transaction commits; the requests themselves are bounded by ``concurrency`` and paced per sender.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import ParamSpec, TypeVar

from dispatcher.core.clock import Clock
from dispatcher.core.outbox import OutboundMessage, Outcome
from dispatcher.core.status import Status
from dispatcher.gateways.base import Gateway, SendResult
from dispatcher.safety.budgets import Room
from dispatcher.safety.halting import AUTOMATIC, engage, stop_message
from dispatcher.sending.pacing import Pacing
from dispatcher.sending.progress import Progress, RunResult, count, count_settled
from dispatcher.sending.settling import NO_ROUNDS, Reconciler, SettlePolicy, wait_unless
from dispatcher.sending.turns import (
    RECORD_EVERY_S,
    RECORD_SHARE,
    Outcomes,
    Step,
    gather_outcomes,
)
from dispatcher.store.uow import UnitOfWork
from dispatcher.store.workers import Identity

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")
GATE_EVERY_S = 1.0  # pause, cancel, halt and quiet hours are noticed within this long
OTHERS_POLL_S = 0.5  # `send` looks this often at rows another worker holds...
OTHERS_STALL_S = 5.0  # ...until they have not moved for this long (a dead worker's)
# Whether sending may go on now: None, or why not ("campaign paused", "halted: ...").
Gate = Callable[[UnitOfWork, datetime], str | None]
# How many more segments the budgets allow now (locking them till commit); None: no budget.
BudgetCheck = Callable[[UnitOfWork, datetime], Room | None]


class Sender:
    """Works one occurrence's outbox to the end; ``stop()`` parks what is queued and returns."""

    def __init__(
        self,
        uow: Callable[[], UnitOfWork],
        gateway: Gateway,
        clock: Clock,
        *,
        batch_size: int,
        concurrency: int,
        on_progress: Callable[[Progress], None] | None = None,
        pacer: Pacing | None = None,
        identity: Identity | None = None,
        lease: timedelta = timedelta(seconds=60),
        wait_for_others: bool = False,
        gate: Gate | None = None,
        budget: BudgetCheck | None = None,
        settle: SettlePolicy = NO_ROUNDS,
    ) -> None:
        self._uow = uow
        self._gateway = gateway
        self._clock = clock
        self._batch_size = batch_size
        self._concurrency = concurrency
        self._on_progress = on_progress or (lambda _p: None)
        self._pacer = pacer
        self._identity = identity or Identity("unregistered")
        self._lease = lease
        # `send` (not a worker): rows of the occurrence that other workers (a running `serve`)
        # hold are waited for while they move, so one run reports the occurrence settled.
        self._wait_for_others = wait_for_others
        self._gate = gate
        self._budget = budget
        self._over_budget: str | None = None
        self._stopping = False
        self._halt: str | None = None
        self._blocked: str | None = None
        self._gate_checked = float("-inf")
        self._started = 0.0  # the run's start on clock.monotonic()
        self._db_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dispatcher-db")
        self._settle = settle
        self._reconciler = Reconciler(uow, gateway, clock, self._db_thread, self._identity, lease)
        self._own_unknown: set[int] = set()  # rows this run recorded unknown, not settled yet
        self._unknown_at = float("-inf")  # when it last recorded one, on clock.monotonic()
        self._unknown_reason: str | None = None

    def stop(self) -> None:
        self._stopping = True

    async def _db(self, func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._db_thread, lambda: func(*args, **kwargs))

    async def run(self, occurrence_id: int) -> RunResult:
        try:
            # Halted: not even reconciling, which asks the provider (see dispatcher.safety.halting).
            self._halt = await self._db(self._halted)
            if self._halt is None:
                await self.recover(occurrence_id)
            counts = await self._db(self._counts, occurrence_id)
            self._started = self._clock.monotonic()
            progress = Progress(total=counts.get(Status.PENDING, 0))
            if progress.total and self._halt is None:
                self._on_progress(progress)
                await self._pump(occurrence_id, progress)
                await self._settle_own(occurrence_id, progress)
            counts = await self._db(self._counts, occurrence_id)
            if self._wait_for_others and counts.get(Status.SENDING):
                counts = await self._others_settle(occurrence_id, counts)
            why = self._unsettled_reason() if counts.get(Status.UNKNOWN) else None
            return RunResult(
                counts, self._halt, self._stopping, self._blocked, self._over_budget, why
            )
        finally:
            self._db_thread.shutdown(wait=True)

    async def _others_settle(
        self, occurrence_id: int, counts: dict[Status, int]
    ) -> dict[Status, int]:
        """Once this run's own rows are recorded, the ones still `sending` are another
        worker's: wait while they move (a live worker records them within seconds), up to the
        lease; rows that stop moving (a dead worker's) are left to reconciliation."""
        deadline = self._clock.monotonic() + self._lease.total_seconds()
        last_change = self._clock.monotonic()
        while counts.get(Status.SENDING) and not self._halted_or_stopping():
            now = self._clock.monotonic()
            if now >= deadline or now - last_change >= OTHERS_STALL_S:
                break
            await asyncio.sleep(OTHERS_POLL_S)
            latest = await self._db(self._counts, occurrence_id)
            if latest != counts:
                counts, last_change = latest, self._clock.monotonic()
        return counts

    def _counts(self, occurrence_id: int) -> dict[Status, int]:
        with self._uow() as uow:
            return uow.repo.status_counts(occurrence_id)

    # -- the pipeline --------------------------------------------------------------------------
    async def _pump(self, occurrence_id: int, progress: Progress) -> None:
        """Keep the queue fed while at most ``batch_size`` rows are claimed and unrecorded.

        Each turn is one transaction on the database thread: the outcomes back so far are
        recorded and, when that leaves room for half a batch, the next rows are claimed with
        them (at 0 ms latency, claims and records on their own were twice the transactions,
        each waiting for the other's turn while the requests ran dry)."""
        run_started = self._clock.now()
        queue: asyncio.Queue[OutboundMessage] = asyncio.Queue()
        outcomes = Outcomes()
        workers = [
            asyncio.create_task(self._worker(queue, outcomes)) for _ in range(self._concurrency)
        ]
        outstanding, exhausted = 0, False
        last_turn = asyncio.get_running_loop().time()
        try:
            while True:
                await self._check_gate()
                taken = outcomes.take()
                room = self._batch_size - outstanding + len(taken)
                claiming = not exhausted and not self._halted_or_stopping()
                want = room if claiming and room >= max(1, self._batch_size // 2) else 0
                if taken or want:
                    step = await self._db(self._step, taken, occurrence_id, want, run_started)
                    outstanding -= len(taken)
                    if taken:
                        self._note(step.outcomes, progress)
                    if want:
                        exhausted = step.claimed == 0
                        outstanding += len(step.batch)
                        for message in step.batch:
                            queue.put_nowait(message)
                if outstanding == 0 and (exhausted or self._halted_or_stopping()):
                    return
                await outcomes.wait(1, RECORD_EVERY_S)
                if not queue.empty():
                    enough = max(2, self._batch_size // RECORD_SHARE)
                    await gather_outcomes(outcomes, last_turn, enough)
                last_turn = asyncio.get_running_loop().time()
        finally:
            for worker in workers:
                worker.cancel()
            await asyncio.gather(*workers, return_exceptions=True)

    def _halted_or_stopping(self) -> bool:
        """No more claims: halted, stopped, blocked by a gate, or a budget is reached."""
        return self._must_stop_sending() or self._over_budget is not None

    def _must_stop_sending(self) -> bool:
        """Not even what is claimed may go. A reached budget is not such a reason: what was
        claimed fitted in it, and parking it would leave the run short of its budget."""
        stopped = self._halt is not None or self._blocked is not None
        return self._stopping or stopped

    async def _check_gate(self) -> None:
        if self._halted_or_stopping():
            return
        now = self._clock.monotonic()
        if now - self._gate_checked < GATE_EVERY_S:
            return
        self._gate_checked = now
        halt, self._blocked = await self._db(self._ask_gate)
        self._halt = self._halt or halt
        if halt or self._blocked:
            log.info("sending stops: %s", halt or self._blocked)

    def _ask_gate(self) -> tuple[str | None, str | None]:
        """(the global halt, else why this campaign may not go on now). The halt is checked
        with or without a gate: it stops every sender, whatever it sends."""
        with self._uow() as uow:
            state = uow.workers.halt_state()
            if state is not None:
                return stop_message(state), None
            return None, self._gate(uow, self._clock.now()) if self._gate else None

    def _halted(self) -> str | None:
        with self._uow() as uow:
            state = uow.workers.halt_state()
        return None if state is None else stop_message(state)

    async def _worker(self, queue: asyncio.Queue[OutboundMessage], outcomes: Outcomes) -> None:
        while True:
            message = await queue.get()
            outcomes.add(await self._send(message))

    async def _send(self, message: OutboundMessage) -> SendResult:
        if not self._must_stop_sending() and self._pacer is not None:
            await self._pacer.wait(message.sender, message.segments)
        if self._must_stop_sending():  # claimed but never sent: park it, nothing is lost
            return SendResult(message.delivery_id, None, self._park_reason())
        result = await self._gateway.send(message)
        if result.halt and self._halt is None:
            self._halt = result.halt
        return result

    def _park_reason(self) -> str:
        if self._halt:
            return f"run halted: {self._halt}"
        if self._blocked:
            return f"not sent: {self._blocked}"
        return "run stopped before sending"

    def _note(self, outcomes: list[Outcome], progress: Progress) -> None:
        count(progress, outcomes)
        unknown = {o.delivery_id for o in outcomes if o.status is Status.UNKNOWN}
        if unknown:
            self._own_unknown |= unknown
            self._unknown_at = self._clock.monotonic()
        progress.elapsed_s = self._clock.monotonic() - self._started
        self._on_progress(progress)

    # -- database steps (run on the database thread) --------------------------------------------
    def _step(
        self, results: list[SendResult], occurrence_id: int, limit: int, run_started: datetime
    ) -> Step:
        """Record ``results``, then claim up to ``limit`` rows: one transaction."""
        with self._uow() as uow:
            outcomes = self._record(uow, results) if results else []
            claimed, batch = 0, list[OutboundMessage]()
            if limit:
                claimed, batch = self._claim(uow, occurrence_id, limit, run_started)
            uow.commit()
        return Step(outcomes, claimed, batch)

    def _claim(
        self, uow: UnitOfWork, occurrence_id: int, limit: int, run_started: datetime
    ) -> tuple[int, list[OutboundMessage]]:
        """(rows claimed, the ones to send): opted-out numbers are claimed, then skipped."""
        now = self._clock.now()
        room = self._budget(uow, now) if self._budget is not None else None
        batch, cut = uow.repo.claim(
            occurrence_id, limit, now, run_started, self._identity.id,
            max_segments=room.segments if room is not None else None,
        )  # fmt: skip
        # Stop when nothing more fits (what did fit in this batch is sent first).
        if cut and not batch and room is not None:
            self._over_budget = f"{room.budget} reached ({room.spent:,.2f} spent)"
        # A number may have opted out since the occurrence started: never send to it.
        opted_out = uow.optouts.contains([m.to for m in batch])
        skipped = [
            Outcome(m.delivery_id, Status.SKIPPED, detail="opted out before sending")
            for m in batch
            if m.to in opted_out
        ]
        uow.repo.apply(skipped, now)
        return len(batch), [m for m in batch if m.to not in opted_out]

    def _record(self, uow: UnitOfWork, results: list[SendResult]) -> list[Outcome]:
        now = self._clock.now()
        outcomes = [r.outcome for r in results if r.outcome is not None]
        released = [r for r in results if r.outcome is None]
        applied = {outcome.delivery_id for outcome in uow.repo.apply(outcomes, now)}
        for result in results:
            notice = result.opted_out
            if notice is None or result.delivery_id not in applied:
                continue
            delivery = uow.tracking.delivery_by_id(result.delivery_id)
            if delivery is not None:  # the provider knows they opted out: so do we
                uow.optouts.add(delivery.phone, notice.reason, notice.source, now)
        by_reason: dict[str, list[int]] = {}
        for result in released:
            reason = result.not_processed_reason or "not processed by the provider"
            by_reason.setdefault(reason, []).append(result.delivery_id)
        for reason, ids in by_reason.items():  # one statement per reason, not per row
            uow.repo.release(ids, reason, now, Status.SENDING)
        halt = next((r for r in results if r.halt), None)
        if halt is not None:
            uow.repo.record_activity("halted", now, detail=halt.halt)
        if halt is not None and halt.halt_all:  # the account is refused: stop every worker
            engage(uow, halt.halt_all, AUTOMATIC, now)
        return outcomes

    # -- settling unknown outcomes --------------------------------------------------------------
    async def recover(self, occurrence_id: int) -> None:
        """Settle what a previous run left in doubt, before anything is resent: its ``sending``
        rows become ``unknown``, and once they have had the settle delay to show up at the
        provider (counted from now: when their requests went out is not known), each is looked
        up. The provider unreachable raises: nothing is sent while that is so."""
        unknown = await self._reconciler.stranded(occurrence_id)
        if not unknown:
            return
        log.warning("%d in doubt: asking the provider in %g s", len(unknown), self._settle.delay_s)
        if not await self._waited(self._settle.delay_s):
            return
        settled = await self._reconciler.reconcile(unknown)
        if settled.error is not None:
            raise settled.error

    async def _settle_own(self, occurrence_id: int, progress: Progress) -> None:
        """Rounds of: wait until this run's unknowns can show at the provider, look them up,
        send again what it does not have (pacing, gates and budgets as ever)."""
        for round_ in range(1, self._settle.rounds + 1):
            doubtful = await self._reconciler.still_unknown(occurrence_id, self._own_unknown)
            self._own_unknown = {m.delivery_id for m in doubtful}
            if not doubtful:
                return
            left = self._unknown_at + self._settle.delay_s - self._clock.monotonic()
            log.info("%d unknown: asking the provider in %.0f s (round %d of %d)",
                     len(doubtful), max(left, 0), round_, self._settle.rounds)  # fmt: skip
            if not await self._waited(left):
                return
            settled = await self._reconciler.reconcile(doubtful)
            self._own_unknown -= settled.ids
            count_settled(progress, settled)
            self._on_progress(progress)
            if settled.error is not None:
                self._unknown_reason = f"the provider could not be asked: {settled.error.message}"
                return
            if settled.released:
                await self._pump(occurrence_id, progress)

    def _unsettled_reason(self) -> str:
        """Why the run ends with deliveries ``unknown``."""
        if self._unknown_reason:
            return self._unknown_reason
        if self._stopping or self._halt:
            return "the run stopped before the provider was asked about them"
        if not self._settle.rounds:
            return "not asked about in this run (sending.unknown_settle_rounds is 0)"
        return (
            f"still in doubt after {self._settle.rounds} rounds of asking the provider and "
            "resending what it did not have"
        )

    async def _waited(self, seconds: float) -> bool:
        """Wait ``seconds``; False when a stop or the halt came meanwhile (a halted sender does
        not even ask the provider). A pause or quiet hours do not interrupt: asking sends
        nothing, and what would go again is held by the gate as ever."""

        async def interrupted() -> bool:
            await self._check_gate()
            return self._stopping or self._halt is not None

        return await wait_unless(seconds, interrupted)
