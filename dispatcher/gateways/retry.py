"""Retry policy as data, and how a Twilio error is classified. Pure; no I/O.

Facts this rests on (Twilio's documentation, see README "Errors and retries"):
- message create has no idempotency key, so any answer that may mean "created" is never retried
  blindly: 500/502/504 and read timeouts become ``unknown`` and are reconciled;
- 429/20429 is "never processed, always safe to retry", 503/20503 asks for retry with back-off,
  and 21611 (the sender's queue is full) asks us to slow down;
- a failed connection never reached the server: safe to retry.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from dispatcher.settings.config import RetrySettings


class ErrorKind(Enum):
    RETRY = "retry"  # provably not processed; try again after a back-off
    PERMANENT = "permanent"  # refused for this recipient; fail the delivery with the code
    AMBIGUOUS = "ambiguous"  # may or may not have created a message: outcome unknown
    HALT = "halt"  # refused for the whole account or sender: stop the run


RETRYABLE_STATUS = frozenset({429, 503})
RETRYABLE_CODES = frozenset({20429, 20503, 21611})
AMBIGUOUS_STATUS = frozenset({500, 502, 504})
HALT_CODES: dict[int, str] = {
    20003: "authentication failed: check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN",
    20005: "the Twilio account is not active",
    30002: "the Twilio account is suspended",
    21603: "no sender: set `sms.sender`, TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID",
    21606: "the sender ('From') is not a valid number or sender ID of this account",
    21212: "the sender ('From') is not a valid phone number or sender ID",
    21705: "the messaging service SID is not valid",
}

# Refusals of the account itself, not of one campaign's sender: every worker sends with the same
# credentials and would be refused too, so these set the global halt (dispatcher.safety.halting).
ACCOUNT_CODES = frozenset({20003, 20005, 30002})


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    initial_backoff_s: float
    max_backoff_s: float
    jitter_s: float

    @classmethod
    def from_settings(cls, settings: RetrySettings) -> RetryPolicy:
        return cls(**settings.model_dump())


def classify(status: int, code: int | None) -> ErrorKind:
    """Decide what to do about an HTTP error answer to a message create."""
    if code in HALT_CODES or status in (401, 403):
        return ErrorKind.HALT
    if status in RETRYABLE_STATUS or code in RETRYABLE_CODES:
        return ErrorKind.RETRY
    if status in AMBIGUOUS_STATUS or status >= 500:
        return ErrorKind.AMBIGUOUS
    return ErrorKind.PERMANENT


def account_refusal(status: int, code: int | None) -> str | None:
    """Why every worker must stop, when the answer refuses the whole account; else None."""
    if code in ACCOUNT_CODES:
        return f"automatic: Twilio {code} {HALT_CODES[code]}"
    if code is None and status == 401:
        return "automatic: HTTP 401 authentication failed"
    return None
