"""Pacing: per-sender rate limits in message segments per second, and spreading over a pool.

Twilio meters segments per second per sender and queues (then refuses, 21611) what comes faster;
carriers filter bursts. Each sender gets a token bucket (GCRA, "virtual scheduling"): a send
reserves its segments and waits until the bucket has paid them back. So in any window of T
seconds a sender sends at most ``burst + rate × T`` segments, and while work is waiting it sends at
the full rate. Time comes from an injected monotonic function, so tests need no sleeping.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Protocol

from dispatcher.core.outbox import NewDelivery

if TYPE_CHECKING:
    from dispatcher.campaigns.spec import Campaign
    from dispatcher.settings.config import Settings

Monotonic = Callable[[], float]


class TokenBucket:
    """``rate`` segments per second, at most ``burst`` at once."""

    def __init__(self, rate: float, burst: float, now: Monotonic = time.monotonic) -> None:
        if rate <= 0 or burst <= 0:
            raise ValueError("rate and burst must be positive")
        self.rate = rate
        self.burst = burst
        self._now = now
        self._tokens = burst
        self._at = now()

    def reserve(self, segments: float) -> float:
        """Take ``segments`` now and return how long to wait before sending them (seconds).

        Tokens may go negative: later reservations queue behind earlier ones, in order.
        """
        now = self._now()
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
        self._at = now
        self._tokens -= segments
        return max(0.0, -self._tokens / self.rate)


class Pacing(Protocol):
    """What the sender needs of a pacer: this process's (:class:`Pacer`) or a shared one."""

    def rate_of(self, sender: str | None) -> float: ...

    def set_rate(self, sender: str | None, rate: float) -> None: ...

    async def wait(self, sender: str | None, segments: int) -> None: ...


class Pacer:
    """One bucket per sender; ``None`` is the gateway's default sender."""

    def __init__(
        self,
        default_rate: float,
        burst: float,
        rates: Mapping[str, float] | None = None,
        now: Monotonic = time.monotonic,
    ) -> None:
        self._default_rate = default_rate
        self._burst = burst
        self._rates = dict(rates or {})
        self._now = now
        self._buckets: dict[str | None, TokenBucket] = {}

    def rate_of(self, sender: str | None) -> float:
        return self._rates.get(sender or "", self._default_rate)

    def set_rate(self, sender: str | None, rate: float) -> None:
        """Change one sender's rate; its bucket starts again (full) at the new rate."""
        if self.rate_of(sender) != rate:
            self._rates[sender or ""] = rate
            self._buckets.pop(sender, None)

    def delay(self, sender: str | None, segments: int) -> float:
        bucket = self._buckets.get(sender)
        if bucket is None:
            bucket = TokenBucket(self.rate_of(sender), self._burst, self._now)
            self._buckets[sender] = bucket
        return bucket.reserve(segments)

    async def wait(self, sender: str | None, segments: int) -> None:
        delay = self.delay(sender, segments)
        if delay > 0:
            import asyncio  # here: `plan` reads the rates without loading asyncio (and ssl)

            await asyncio.sleep(delay)


def assign_senders(
    deliveries: Iterable[NewDelivery],
    pool: Sequence[str | None],
    rate_of: Callable[[str | None], float],
) -> Iterator[NewDelivery]:
    """Spread messages over a pool of senders in proportion to their rates.

    Each message goes to the sender that would finish its share soonest (segments so far / rate),
    so a pool of a 10/s and a 5/s sender gets two thirds and one third of the segments.
    """
    if len(pool) == 1:
        only = pool[0]
        yield from (d if d.sender == only else replace(d, sender=only) for d in deliveries)
        return
    load = dict.fromkeys(pool, 0.0)
    for delivery in deliveries:
        sender = min(pool, key=lambda s: (load[s] + delivery.segments) / rate_of(s))
        load[sender] += delivery.segments
        yield replace(delivery, sender=sender)


def duration_s(
    total_segments: int, senders: Sequence[str | None], rate_of: Callable[[str | None], float]
) -> float:
    """How long sending ``total_segments`` takes at the senders' combined rate."""
    combined = sum(rate_of(s) for s in senders)
    return total_segments / combined if combined else float("inf")


def campaign_pacer(settings: Settings, campaign: Campaign) -> Pacer:
    """Per-sender pacing: the campaign's `sms.rate` for its senders, else config's rates."""
    sending = settings.sending
    sms = campaign.spec.sms
    rates = dict(sending.sender_rates)
    if sms is not None and sms.rate is not None:
        rates.update({sender or "": sms.rate for sender in sms.sender_pool})
    return Pacer(sending.rate_per_sender, sending.burst_segments, rates)
