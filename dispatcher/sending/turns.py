"""The database thread's turns: outcomes gathered into one transaction with the next claim.

The sender's event loop hands the database thread one turn at a time (:class:`Step`): record
the outcomes back so far, then claim the next rows when that leaves room. How long it lets
outcomes gather first decides how many transactions a message costs; a crash loses nothing by
it (what is claimed and not recorded is reconciled as ever).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from dispatcher.core.outbox import OutboundMessage, Outcome
from dispatcher.gateways.base import SendResult

# Outcomes are committed in groups: at least this often while claimed work is queued, and at
# once when a quarter of a batch has come back. At 100 messages a second (10 paced senders), 0.1 s
# and a tenth of a batch made 10 commits a second; 0.25 s and a quarter make 4 (bench/soak.py,
# same run: 13.9 % → 11.4 % of a core). A crash loses no more: what is claimed and not recorded
# is reconciled as ever.
RECORD_EVERY_S = 0.25
RECORD_SHARE = 4  # ... or when batch_size // RECORD_SHARE outcomes are waiting


@dataclass(frozen=True)
class Step:
    """One turn of the database thread: the outcomes it recorded, how many rows it claimed
    (opted-out ones included: 0 means none are left) and, of those, the messages to send."""

    outcomes: list[Outcome]
    claimed: int
    batch: list[OutboundMessage]


class Outcomes:
    """The results back from the gateway, and the pump's wake-up: a worker adding one wakes the
    pump only once as many are waiting as the pump asked for (at 0 ms, waking it for each of
    2,000 results a second, to see there were not enough yet, was the loop's busiest timer)."""

    def __init__(self) -> None:
        self._results: list[SendResult] = []
        self._ready = asyncio.Event()
        self._wanted = 1

    def add(self, result: SendResult) -> None:
        self._results.append(result)
        if len(self._results) >= self._wanted:
            self._ready.set()

    def take(self) -> list[SendResult]:
        taken, self._results = self._results, []
        return taken

    async def wait(self, count: int, timeout_s: float) -> None:
        """Until ``count`` results are waiting, or ``timeout_s`` has passed."""
        if len(self._results) >= count or timeout_s <= 0:
            return
        self._wanted = count
        self._ready.clear()
        try:
            # asyncio.timeout, not wait_for: wait_for wraps the wait in a task of its own.
            async with asyncio.timeout(timeout_s):
                await self._ready.wait()
        except TimeoutError:
            return
        finally:
            self._wanted = 1


async def gather_outcomes(outcomes: Outcomes, last_turn: float, enough: int) -> None:
    """Let a trickle of outcomes gather into one commit per ``RECORD_EVERY_S`` (a commit is a
    transaction of a few statements: paced at 100 messages a second, one per outcome cost more
    than the messages), until ``enough`` are waiting: a flow is recorded as it comes, so the
    next claim is never held back long. Only while the workers have claimed work queued."""
    elapsed = asyncio.get_running_loop().time() - last_turn
    await outcomes.wait(enough, RECORD_EVERY_S - elapsed)
