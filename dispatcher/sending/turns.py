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


async def gather_outcomes(
    results: list[SendResult], ready: asyncio.Event, last_flush: float, enough: int
) -> None:
    """Let a trickle of outcomes gather into one commit per ``RECORD_EVERY_S`` (a commit is a
    transaction of a few statements: paced at 100 messages a second, one per outcome cost more
    than the messages), until ``enough`` are waiting: a flow is recorded as it comes, so the
    next claim is never held back long. Only while the workers have claimed work queued."""
    loop = asyncio.get_running_loop()
    while len(results) < enough:
        left = RECORD_EVERY_S - (loop.time() - last_flush)
        if left <= 0:
            return
        await wait_for_event(ready, left)


async def wait_for_event(event: asyncio.Event, timeout_s: float) -> None:
    # asyncio.timeout, not wait_for: this runs once per outcome, and wait_for wraps the wait in
    # a task of its own (4× the cost).
    try:
        async with asyncio.timeout(timeout_s):
            await event.wait()
    except TimeoutError:
        return
    event.clear()
