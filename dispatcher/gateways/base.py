"""What the sender needs from an SMS gateway, and nothing more."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Protocol

from dispatcher.core.outbox import OutboundMessage, Outcome
from dispatcher.core.status import Status


@dataclass(frozen=True)
class OptOutNotice:
    """The provider refused a recipient because they unsubscribed: the opt-out list's entry."""

    reason: str  # "Twilio 21610: unsubscribed"
    source: str  # "twilio-21610"


@dataclass(frozen=True)
class SendResult:
    """The result of one send: an outcome, or proof that the provider never processed it.

    ``outcome is None`` means the request provably did not create a message (refused before
    processing: rate limited until retries ran out, connection never made, run halted), so the
    row may go back to pending. ``halt`` is set when the whole run must stop; ``halt_all`` too
    when the provider refused the account itself, so every worker must stop (the global halt).
    ``opted_out`` is set when the provider says the recipient unsubscribed (the adapter knows
    the provider's codes; the sender only adds the number to the opt-out list).
    """

    delivery_id: int
    outcome: Outcome | None
    not_processed_reason: str | None = None
    halt: str | None = None
    halt_all: str | None = None
    opted_out: OptOutNotice | None = None


@dataclass(frozen=True)
class ProviderStatus:
    """What the provider says about one message now (its status mapped onto ours)."""

    provider_id: str
    status: Status
    provider_status: str  # the provider's own word, for the log (``sending``, ``delivered``...)
    error_code: int | None = None
    num_segments: int | None = None
    price: str | None = None  # a decimal string with its currency, e.g. "-0.0075 USD"


class Gateway(Protocol):
    async def send(self, message: OutboundMessage) -> SendResult:
        """Send one message; never raises for a per-message problem."""
        ...

    async def lookup(self, message: OutboundMessage, taken: Collection[str] = ()) -> Outcome | None:
        """Ask the provider whether an attempt whose outcome is unknown created a message.

        Messages whose SID is in ``taken`` belong to other deliveries and never match.

        Returns the outcome when it did, None when the provider has no record of it. Raises
        :class:`dispatcher.core.errors.DispatcherError` when the provider cannot be asked.
        """
        ...

    async def fetch(self, provider_id: str) -> ProviderStatus:
        """The provider's current status of one message.

        Raises :class:`dispatcher.core.errors.ProviderNotFound` when the provider has no such
        message, :class:`dispatcher.core.errors.GatewayHalt` when it refuses the account, and
        :class:`dispatcher.core.errors.GatewayError` when it cannot be asked.
        """
        ...

    async def aclose(self) -> None: ...
