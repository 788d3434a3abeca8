"""The operators' dashboard as data: every campaign's progress, recent rate and next occurrence,
one campaign's failures by error code and its recent activity, and the global halt.

Read only; the changes (pause, resume, cancel, halt) are :mod:`dispatcher.ops.controls` and
:mod:`dispatcher.safety.halting`, called with who asked. The web pages format this for people.

The *recent rate* is send attempts per minute over the last :data:`RATE_WINDOW_MINUTES`
minutes, counted in the delivery log: each claim of a delivery is logged as a ``sending``
event, one per request to the provider (a retry is a second one). Ten minutes smooth the
bursts of batch claims yet show within minutes that a campaign has stopped sending.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from dispatcher.bootstrap import Runtime
from dispatcher.campaigns.timing import Schedule
from dispatcher.core import schedule
from dispatcher.core.status import Status
from dispatcher.store.dashboard import DashboardQueries, ErrorCount, RegisteredSchedule
from dispatcher.store.health import CANCELED, ActivityEvent, CampaignSummary, OccurrenceSummary
from dispatcher.store.workers import HaltState

RATE_WINDOW_MINUTES = 10
RECENT_ACTIVITY = 15  # activity-log events shown on a campaign's page
RECENT_HALTS = 5  # halt and unhalt events shown on the dashboard
HALT_KINDS = ("halt", "unhalt")  # as dispatcher.safety.halting logs them

# The progress bar's parts: each the statuses it adds up. Every status is in one part, so the
# parts add up to the campaign's deliveries.
PARTS: dict[str, tuple[Status, ...]] = {
    "delivered": (Status.DELIVERED,),
    "sent": (Status.ACCEPTED, Status.SENT),
    "failed": (Status.FAILED, Status.UNDELIVERED),
    "pending": (Status.PENDING, Status.SENDING, Status.UNKNOWN),
    "not_sent": (Status.CANCELED, Status.SKIPPED),
}


@dataclass(frozen=True)
class Progress:
    """Deliveries by part of the bar (:data:`PARTS`), and their total."""

    parts: dict[str, int]

    @classmethod
    def of(cls, counts: Mapping[Status, int]) -> Progress:
        return cls({part: sum(counts.get(s, 0) for s in statuses)
                    for part, statuses in PARTS.items()})  # fmt: skip

    @property
    def total(self) -> int:
        return sum(self.parts.values())

    def share(self, part: str) -> float:
        """The part's share of the total, in percent (0 when there is nothing)."""
        return 100.0 * self.parts[part] / self.total if self.total else 0.0


@dataclass(frozen=True)
class CampaignLine:
    """One campaign as the dashboard lists it."""

    summary: CampaignSummary
    progress: Progress
    per_minute: float  # send attempts per minute over the last RATE_WINDOW_MINUTES
    next_at: datetime | None  # the next occurrence, in the campaign's zone; None: none left


@dataclass(frozen=True)
class Overview:
    """The dashboard: every campaign, the halt in force and the last halts and unhalts."""

    campaigns: list[CampaignLine]
    halt: HaltState | None
    halts: list[ActivityEvent]
    checked_at: datetime


@dataclass(frozen=True)
class CampaignDetail:
    """One campaign's page: its line, per-occurrence progress, failures and activity."""

    line: CampaignLine
    failures: list[ErrorCount]
    activity: list[ActivityEvent]
    halt: HaltState | None
    checked_at: datetime

    @property
    def occurrences(self) -> list[tuple[OccurrenceSummary, Progress]]:
        """Each occurrence with its progress, oldest first."""
        return [(o, Progress.of(o.counts)) for o in self.line.summary.occurrences]


def overview(rt: Runtime) -> Overview:
    """Every campaign the database knows, by id, with the global halt."""
    now = rt.clock.now()
    with rt.uow() as uow:
        queries = DashboardQueries(uow.repo.session)
        summaries = uow.repo.lifecycle.summaries()
        rates = queries.attempts_since(now - timedelta(minutes=RATE_WINDOW_MINUTES))
        schedules = {s.campaign_id: s for s in queries.schedules()}
        halts = queries.global_activity(HALT_KINDS, RECENT_HALTS)
        halt = uow.workers.halt_state()
    lines = [_line(s, rates, schedules.get(s.id), now) for s in summaries]
    return Overview(lines, halt, halts, now)


def campaign(rt: Runtime, campaign_id: str) -> CampaignDetail | None:
    """One campaign's page; None when the database does not know it."""
    now = rt.clock.now()
    with rt.uow() as uow:
        found = uow.repo.lifecycle.summaries(campaign_id)
        if not found:
            return None
        queries = DashboardQueries(uow.repo.session)
        rates = queries.attempts_since(now - timedelta(minutes=RATE_WINDOW_MINUTES))
        registered = queries.schedules(campaign_id)
        failures = queries.failures_by_error(campaign_id)
        activity = uow.repo.lifecycle.activity(campaign_id, RECENT_ACTIVITY)
        halt = uow.workers.halt_state()
    line = _line(found[0], rates, registered[0] if registered else None, now)
    return CampaignDetail(line, failures, activity, halt, now)


def state(rt: Runtime, campaign_id: str) -> str | None:
    """The campaign's state (active, paused, canceled); None when the database does not know it."""
    with rt.uow() as uow:
        return uow.repo.lifecycle.campaign_state(campaign_id)


def _line(
    summary: CampaignSummary,
    rates: Mapping[str, int],
    registered: RegisteredSchedule | None,
    now: datetime,
) -> CampaignLine:
    per_minute = rates.get(summary.id, 0) / RATE_WINDOW_MINUTES
    upcoming = None
    if summary.state != CANCELED and registered is not None:  # a canceled one sends no more
        upcoming = next_occurrence(registered, now)
    return CampaignLine(summary, Progress.of(summary.counts), per_minute, upcoming)


def next_occurrence(registered: RegisteredSchedule, now: datetime) -> datetime | None:
    """The first occurrence at or after ``now`` of the schedule as last registered (quiet hours
    may hold it back when it comes); None for a campaign without a schedule or past its end,
    or one registered by a version whose schedule this one cannot read."""
    found = _schedule(registered.spec)
    if found is None:
        return None
    tz = ZoneInfo(registered.timezone)
    yesterday = schedule.instant(now).astimezone(tz).date() - timedelta(days=1)
    ahead = schedule.occurrences(found, tz, from_day=yesterday)  # earlier days are all past
    upcoming = schedule.next_occurrences(ahead, now, 1)
    return upcoming[0] if upcoming else None


def _schedule(spec: str | None) -> Schedule | None:
    try:
        data = json.loads(spec) if spec else {}
        raw = (data.get("sms") or {}).get("schedule")
        if not isinstance(raw, dict):
            return None
        # A null in the canonical dump is a key the file left out (see registry.as_current).
        return Schedule.model_validate({k: v for k, v in raw.items() if v is not None})
    except (ValueError, ValidationError, AttributeError):
        return None
