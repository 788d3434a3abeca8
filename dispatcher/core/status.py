"""The one delivery-status vocabulary, its order, and how provider statuses map onto it.

Statuses only move forward (to a higher rank) and final statuses never change, so a late or
repeated provider report cannot undo what we already know (a late ``sent`` never overwrites
``delivered``). The one way back is :func:`can_release`: a claimed row whose request the provider
provably never processed (refused credentials, rate limit exhausted), or an unknown one the provider
has no record of, goes back to ``pending``, logged, so it is sent later instead of being lost.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    PENDING = "pending"  # created in the outbox, not yet tried
    SENDING = "sending"  # claimed; the request may be on the wire
    UNKNOWN = "unknown"  # the attempt's outcome cannot be known (crash, timeout after write)
    ACCEPTED = "accepted"  # the provider took it and gave us its id (Twilio queued/accepted)
    SENT = "sent"  # the provider handed it to the carrier
    DELIVERED = "delivered"  # the carrier's SMSC acknowledged it (in Vietnam, not the handset)
    UNDELIVERED = "undelivered"  # the carrier could not deliver it
    FAILED = "failed"  # never sent: refused by the provider, or a permanent error
    SKIPPED = "skipped"  # deliberately not sent (occurrence missed its window)
    CANCELED = "canceled"  # canceled by an operator before it was sent


RANK: dict[Status, int] = {
    Status.PENDING: 0,
    Status.SENDING: 1,
    Status.UNKNOWN: 2,
    Status.ACCEPTED: 3,
    Status.SENT: 4,
    Status.DELIVERED: 5,
    Status.UNDELIVERED: 5,
    Status.FAILED: 5,
    Status.SKIPPED: 5,
    Status.CANCELED: 5,
}

FINAL = frozenset(s for s, rank in RANK.items() if rank == max(RANK.values()))
# Statuses that mean the provider has the message: what reports count as "sent".
REACHED_PROVIDER = frozenset({Status.ACCEPTED, Status.SENT, Status.DELIVERED, Status.UNDELIVERED})

# Twilio's message statuses onto ours. Twilio reports no callback for its initial status, and its
# intermediate ones (queued, accepted, scheduled, sending) all mean "the provider has it".
TWILIO_STATUS: dict[str, Status] = {
    "accepted": Status.ACCEPTED,
    "scheduled": Status.ACCEPTED,
    "queued": Status.ACCEPTED,
    "sending": Status.SENT,
    "sent": Status.SENT,
    "delivered": Status.DELIVERED,
    "read": Status.DELIVERED,
    "partially_delivered": Status.DELIVERED,
    "undelivered": Status.UNDELIVERED,
    "failed": Status.FAILED,
    "canceled": Status.CANCELED,
}


def can_move(current: Status, new: Status) -> bool:
    """True when ``new`` is progress over ``current`` (never backwards, never out of a final)."""
    return current not in FINAL and RANK[new] > RANK[current]


def can_release(current: Status) -> bool:
    """Only a claimed or unknown row may go back to pending, and only when provably not sent."""
    return current in (Status.SENDING, Status.UNKNOWN)


def from_twilio(status: str) -> Status:
    """Map a Twilio status; an unknown one (Twilio adds some without notice) means accepted."""
    return TWILIO_STATUS.get(status.lower(), Status.ACCEPTED)
