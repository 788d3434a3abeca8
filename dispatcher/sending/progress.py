"""What a sender run reports: its progress while it runs, and its result when it ends."""

from __future__ import annotations

from dataclasses import dataclass

from dispatcher.core.outbox import Outcome
from dispatcher.core.status import FINAL, REACHED_PROVIDER, Status
from dispatcher.sending.settling import Settled


@dataclass
class Progress:
    total: int
    done: int = 0  # rows that reached a status other than pending/sending in this run
    reached: int = 0
    failed: int = 0
    unknown: int = 0
    elapsed_s: float = 0.0  # since the run began, on the sender's clock, at the last update

    @property
    def rate(self) -> float:
        return self.done / self.elapsed_s if self.elapsed_s > 0 else 0.0


@dataclass(frozen=True)
class RunResult:
    counts: dict[Status, int]
    halted: str | None
    stopped: bool
    blocked: str | None = None  # paused, canceled, halted by an operator, quiet hours
    over_budget: str | None = None  # which budget stopped the run, and how far it got
    unknown_reason: str | None = None  # why deliveries are left unknown, when some are

    @property
    def complete(self) -> bool:
        """Every recipient reached the provider or was deliberately not sent (opted out);
        none failed, is unknown, or is left pending."""
        settled = REACHED_PROVIDER | {Status.SKIPPED, Status.CANCELED}
        return all(status in settled for status, n in self.counts.items() if n)


def count(progress: Progress, outcomes: list[Outcome]) -> None:
    """Outcomes just recorded, into the run's progress."""
    for outcome in outcomes:
        progress.done += 1
        if outcome.status in REACHED_PROVIDER:
            progress.reached += 1
        elif outcome.status is Status.UNKNOWN:
            progress.unknown += 1
        elif outcome.status in FINAL:
            progress.failed += 1


def count_settled(progress: Progress, settled: Settled) -> None:
    """Unknowns the provider had count as what it said; the others are to be sent again."""
    progress.unknown -= len(settled.found) + len(settled.released)
    progress.done -= len(settled.released)
    for outcome in settled.found:
        if outcome.status in REACHED_PROVIDER:
            progress.reached += 1
        elif outcome.status in FINAL:
            progress.failed += 1
