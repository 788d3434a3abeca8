"""Settling unknown outcomes: ask the provider about each attempt whose outcome is unknown, take
the ones it has with its SID and status, and put the others back to ``pending`` to be sent again.
Never a blind resend: a row goes back to ``pending`` only when the provider has no record of it.

A run settles twice (:class:`~dispatcher.sending.sender.Sender`): before sending, what a previous
run left in flight (crash recovery); after sending, its own unknowns (a 500, a timeout, a dropped
connection), in a bounded number of rounds of look up → resend, so that one run ends with nothing
in doubt that the provider can answer for. A lookup only sees what the provider lists, so it waits
until the attempt has had :attr:`SettlePolicy.delay_s` to show up there.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Collection, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TypeVar

from dispatcher.core.clock import Clock
from dispatcher.core.errors import DispatcherError
from dispatcher.core.outbox import OutboundMessage, Outcome
from dispatcher.core.status import Status
from dispatcher.gateways.base import Gateway
from dispatcher.settings.config import SendingSettings
from dispatcher.store.uow import UnitOfWork
from dispatcher.store.workers import Identity

log = logging.getLogger(__name__)

T = TypeVar("T")
RECONCILE_CONCURRENCY = 8  # provider lookups in flight: leave Twilio's concurrency cap to sends
WAIT_STEP_S = 1.0  # a stop or the halt is noticed within this long while waiting to settle
NOT_AT_PROVIDER = "the provider has no record of it"


@dataclass(frozen=True)
class SettlePolicy:
    """When a run asks the provider about its unknown outcomes, and how often it tries again."""

    delay_s: float  # after the attempt became unknown, before the provider's list is asked
    rounds: int  # look up → resend rounds after sending; 0: own unknowns wait for the next run

    @classmethod
    def from_settings(cls, sending: SendingSettings) -> SettlePolicy:
        return cls(sending.unknown_settle_seconds, sending.unknown_settle_rounds)


# What a Sender does unless told otherwise: recovery looks up at once, no rounds after sending.
NO_ROUNDS = SettlePolicy(delay_s=0.0, rounds=0)


@dataclass
class Settled:
    """What one pass of lookups did."""

    found: list[Outcome] = field(default_factory=list)  # the provider has it (its status)
    released: list[int] = field(default_factory=list)  # it does not: back to pending
    error: DispatcherError | None = None  # the provider could not be asked about some

    @property
    def ids(self) -> set[int]:
        return {o.delivery_id for o in self.found} | set(self.released)


class Reconciler:
    """The lookups and their records; database work runs on the sender's database thread."""

    def __init__(
        self,
        uow: Callable[[], UnitOfWork],
        gateway: Gateway,
        clock: Clock,
        db_thread: Executor,
        identity: Identity,
        lease: timedelta,
    ) -> None:
        self._uow = uow
        self._gateway = gateway
        self._clock = clock
        self._db_thread = db_thread
        self._identity = identity
        self._lease = lease

    async def _db(self, func: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._db_thread, func)

    async def stranded(self, occurrence_id: int) -> list[OutboundMessage]:
        """Rows that dead workers left ``sending`` become ``unknown`` (live workers' rows are
        theirs to finish); returns every ``unknown`` row of the occurrence."""
        return await self._db(lambda: self._mark_stranded(occurrence_id))

    async def still_unknown(
        self, occurrence_id: int, ids: Collection[int]
    ) -> list[OutboundMessage]:
        """The rows among ``ids`` that are still ``unknown`` (a status callback may have told
        us meanwhile)."""
        rows = await self._db(lambda: self._unknown(occurrence_id))
        return [m for m in rows if m.delivery_id in ids]

    async def reconcile(self, messages: Sequence[OutboundMessage]) -> Settled:
        """Look each up, a few at a time, and record what the provider said. A provider that
        cannot be asked leaves those rows ``unknown`` and is reported in ``error``, once every
        lookup has ended (none is left running behind the caller's back)."""
        limit = asyncio.Semaphore(RECONCILE_CONCURRENCY)

        async def one(message: OutboundMessage) -> Outcome | None:
            async with limit:
                taken = await self._db(lambda: self._sids_of(message.to, message.delivery_id))
                found = await self._gateway.lookup(message, taken)
                await self._db(lambda: self._settle(message, found))
                return found

        answers = await asyncio.gather(*(one(m) for m in messages), return_exceptions=True)
        settled = Settled()
        for message, answer in zip(messages, answers, strict=True):
            if isinstance(answer, DispatcherError):
                settled.error = settled.error or answer
            elif isinstance(answer, BaseException):
                raise answer
            elif answer is None:
                settled.released.append(message.delivery_id)
            else:
                settled.found.append(answer)
        return settled

    # -- database steps (run on the database thread) --------------------------------------------
    def _mark_stranded(self, occurrence_id: int) -> list[OutboundMessage]:
        now = self._clock.now()
        with self._uow() as uow:
            dead = uow.workers.dead_claimants(occurrence_id, now, self._lease, self._identity)
            stranded = uow.repo.in_flight(occurrence_id, dead) if dead else []
            detail = "the previous run stopped during the attempt; outcome unknown"
            uow.repo.apply([Outcome(i, Status.UNKNOWN, detail=detail) for i in stranded], now)
            unknown = uow.repo.deliveries_in(occurrence_id, Status.UNKNOWN)
            uow.commit()
        if stranded:
            log.warning("%d deliveries were in flight when the last run stopped", len(stranded))
        return unknown

    def _unknown(self, occurrence_id: int) -> list[OutboundMessage]:
        with self._uow() as uow:
            return uow.repo.deliveries_in(occurrence_id, Status.UNKNOWN)

    def _sids_of(self, phone: str, delivery_id: int) -> set[str]:
        with self._uow() as uow:
            return uow.tracking.provider_ids_for(phone, except_delivery=delivery_id)

    def _settle(self, message: OutboundMessage, found: Outcome | None) -> None:
        now = self._clock.now()
        with self._uow() as uow:
            if found is not None:
                uow.repo.apply([found], now)
            else:
                uow.repo.release([message.delivery_id], NOT_AT_PROVIDER, now, Status.UNKNOWN,
                                 attempt=message.attempt)  # fmt: skip
            uow.commit()


async def wait_unless(seconds: float, interrupted: Callable[[], Awaitable[bool]]) -> bool:
    """Sleep ``seconds`` in steps, asking ``interrupted()`` before each; False if it said so.

    Real time: the caller works out from its clock how long is left, and a fake clock that
    never moves must not make this wait forever."""
    left = seconds
    while True:
        if await interrupted():
            return False
        if left <= 0:
            return True
        step = min(left, WAIT_STEP_S)
        await asyncio.sleep(step)
        left -= step
