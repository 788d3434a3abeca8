"""Value objects that move between the service layer, the sender and the store (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from dispatcher.core.status import Status


@dataclass(frozen=True)
class NewDelivery:
    """A rendered message for one recipient, before it enters the outbox."""

    phone: str
    source: str  # list file:line, so a delivery can be traced back to its row
    body: str
    encoding: str
    segments: int
    sender: str | None


@dataclass(frozen=True)
class OutboundMessage:
    """A claimed outbox row, ready to hand to the gateway."""

    delivery_id: int
    to: str
    body: str
    sender: str | None
    segments: int
    attempt: int
    claimed_at: datetime


@dataclass(frozen=True)
class Outcome:
    """What became of one delivery: the status to move to and what the provider told us."""

    delivery_id: int
    status: Status
    provider_id: str | None = None
    error_code: int | None = None
    error_message: str | None = None
    detail: str | None = None
    # The gateway that produced it (``deliveries.gateway``), so polling later asks only a
    # gateway that can know the message; None leaves the recorded one as it is.
    gateway: str | None = None


@dataclass(frozen=True)
class LogFilter:
    """What ``dispatcher log`` (and ``log events``) shows; None: no filter."""

    campaign: str | None = None
    phone: str | None = None  # E.164
    status: Status | None = None
    first: datetime | None = None  # from this instant (aware), included
    last: datetime | None = None  # until this instant, excluded
    occurrence: str | None = None  # its key
    unit: str | None = None  # the campaigns' unit, as written (resolved into ``campaigns``)
    campaigns: tuple[str, ...] | None = None  # only these campaigns (those of ``unit``)


@dataclass(frozen=True)
class DeliveryView:
    """One outbox row as shown by ``dispatcher log``."""

    campaign: str
    occurrence: str
    to: str
    status: str
    provider_id: str | None
    attempts: int
    error_code: int | None
    error_message: str | None
    updated_at: datetime
    sent_at: datetime | None = None  # when it first reached the provider

    @property
    def at(self) -> datetime:
        """When it happened, for people: sent, else last changed."""
        return self.sent_at or self.updated_at


@dataclass(frozen=True, kw_only=True)
class EventView:
    """One event of the append-only delivery log: a delivery's change of status."""

    id: int
    at: datetime
    campaign: str
    occurrence: str
    to: str
    status: str
    attempt: int
    provider_id: str | None
    error_code: int | None
    detail: str | None


@dataclass(frozen=True)
class TrackedDelivery:
    """What a status report about one delivery is checked against."""

    delivery_id: int
    phone: str
    status: Status
    provider_id: str | None
