"""Fakes shipped with the package, for unit tests of pure logic (no network, no sleeping)."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from dispatcher.core.errors import ProviderNotFound
from dispatcher.core.outbox import OutboundMessage, Outcome
from dispatcher.core.status import Status
from dispatcher.gateways.base import ProviderStatus, SendResult


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FakeClock needs an aware datetime")
        self._now = start

    def now(self) -> datetime:
        return self._now

    def monotonic(self) -> float:
        return self._now.timestamp()  # moves with the clock, as intervals do

    def advance(self, delta: timedelta) -> None:
        self._now += delta

    def set(self, moment: datetime) -> None:
        self._now = moment


@dataclass
class FakeGateway:
    """Accepts everything unless ``script`` says otherwise for a number; records what it got."""

    script: dict[str, Callable[[OutboundMessage], SendResult]] = field(default_factory=dict)
    sent: list[OutboundMessage] = field(default_factory=list)
    known: dict[str, Outcome] = field(default_factory=dict)  # what lookup() finds, by number
    statuses: dict[str, ProviderStatus] = field(default_factory=dict)  # fetch(), by provider id

    async def send(self, message: OutboundMessage) -> SendResult:
        self.sent.append(message)
        if message.to in self.script:
            return self.script[message.to](message)
        sid = f"SM{len(self.sent):032x}"
        return SendResult(message.delivery_id, Outcome(message.delivery_id, Status.ACCEPTED, sid))

    async def lookup(self, message: OutboundMessage, taken: Collection[str] = ()) -> Outcome | None:
        found = self.known.get(message.to)
        if found is None or found.provider_id in taken:
            return None
        return Outcome(message.delivery_id, found.status, found.provider_id, detail="reconciled")

    async def fetch(self, provider_id: str) -> ProviderStatus:
        found = self.statuses.get(provider_id)
        if found is None:
            raise ProviderNotFound(f"the provider has no message {provider_id}")
        return found

    async def aclose(self) -> None:
        return None
