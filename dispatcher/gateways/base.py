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


# -- which gateway took a message (``deliveries.gateway``) ------------------------------------
# Only the gateway that took a message can report on it: the built-in simulator of a command
# forgets everything when the command ends, and one Twilio account cannot see another's.
LEGACY = "legacy"  # sent before the gateway was recorded: polled as before
TWILIO_API = "https://api.twilio.com"
_TWILIO, _SIMULATOR_RUN = "twilio:", "simulator-run:"


def twilio_identity(account_sid: str, base_url: str | None) -> str:
    """A Twilio account at one API (Twilio itself, or a server speaking its API)."""
    return f"{_TWILIO}{account_sid}@{(base_url or TWILIO_API).rstrip('/')}"


def simulator_run_identity(run_id: str) -> str:
    """The built-in simulator of one command: gone, with its messages, when the command ends."""
    return f"{_SIMULATOR_RUN}{run_id}"


def is_simulator_run(identity: str) -> bool:
    return identity.startswith(_SIMULATOR_RUN)


def describe(identity: str) -> str:
    """For people: "the built-in simulator of run 1f2e…", "Twilio account AC… at https://…"."""
    if is_simulator_run(identity):
        return f"the built-in simulator of run {identity.removeprefix(_SIMULATOR_RUN)}"
    account, _, url = identity.removeprefix(_TWILIO).partition("@")
    return f"Twilio account {account} at {url}" if url else identity


class Gateway(Protocol):
    # Which gateway this is (:func:`twilio_identity`, :func:`simulator_run_identity`): recorded
    # on what it sends, and compared by polling with what a delivery went through.
    identity: str

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
