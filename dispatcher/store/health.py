"""Campaigns as operators see them: states, progress, recent activity, and the counts that health
rules judge. The only place that runs SQL for ``dispatcher campaigns``, ``status`` and
``GET /health``.

The one write here is a campaign's state (``active`` | ``paused`` | ``canceled``), which every
worker reads before it claims. Canceling the pending rows is ``Repository.cancel_pending``, next to
the delivery-log helpers, so that every canceled row is logged like any other status change.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from dispatcher.core.status import Status
from dispatcher.store.models import (
    ActivityRow,
    CampaignRow,
    DeliveryEventRow,
    DeliveryRow,
    OccurrenceRow,
    WorkerRow,
)

ACTIVE, PAUSED, CANCELED = "active", "paused", "canceled"
LEFT_TO_SEND = (Status.PENDING, Status.SENDING, Status.UNKNOWN)  # an occurrence is done without
FAILURES = (Status.FAILED.value, Status.UNDELIVERED.value)  # what error-code rules count


@dataclass(frozen=True)
class OccurrenceSummary:
    """One occurrence of a campaign and its deliveries per status."""

    key: str
    scheduled_at: datetime
    state: str  # open | skipped
    recipients: int
    counts: dict[Status, int]
    finished_at: datetime | None
    last_change: datetime | None  # the newest status change of its deliveries

    @property
    def done(self) -> bool:
        """Nothing left to send: no row pending, in flight or awaiting reconciliation."""
        return not any(self.counts.get(s) for s in LEFT_TO_SEND)


@dataclass(frozen=True)
class CampaignSummary:
    """A campaign with its progress over all its occurrences."""

    id: str
    title: str
    unit: str
    state: str
    source_path: str
    recipients: int  # distinct numbers in its outbox
    occurrences: list[OccurrenceSummary]
    last_activity: datetime | None  # newest delivery status change or activity-log event

    @property
    def counts(self) -> dict[Status, int]:
        total: dict[Status, int] = defaultdict(int)
        for occurrence in self.occurrences:
            for status, n in occurrence.counts.items():
                total[status] += n
        return dict(total)

    @property
    def occurrences_done(self) -> int:
        return sum(1 for o in self.occurrences if o.done)


@dataclass(frozen=True)
class ActivityEvent:
    """One event of the activity log (skipped occurrence, pause, cancel...)."""

    at: datetime
    kind: str
    occurrence_key: str | None
    detail: str | None


# -- what health rules judge ---------------------------------------------------------------------
@dataclass(frozen=True)
class StuckRows:
    """A campaign's deliveries in one status since before the cutoff: how many, since when."""

    campaign_id: str
    status: Status
    count: int
    oldest: datetime


@dataclass(frozen=True)
class OpenWork:
    """An occurrence with pending rows that are due now."""

    campaign_id: str
    campaign_state: str
    occurrence_key: str
    scheduled_at: datetime
    started_at: datetime  # when its outbox was written
    pending: int
    last_claim: datetime | None  # the newest claim of any of its rows


@dataclass(frozen=True)
class FailureCount:
    """How many of a campaign's recent failures carried one error code (None: no code)."""

    campaign_id: str
    error_code: int | None
    count: int


@dataclass(frozen=True)
class SilentWorker:
    """A worker without a heartbeat since the cutoff, never stopped, still holding claims."""

    id: str
    host: str
    pid: int
    role: str
    heartbeat_at: datetime
    held: dict[str, int] = field(default_factory=dict)  # campaign id -> rows `sending`


@dataclass(frozen=True)
class Snapshot:
    """Everything the health rules look at, read in one transaction."""

    stuck_sending: list[StuckRows]
    stuck_unknown: list[StuckRows]
    open_work: list[OpenWork]
    failures: list[FailureCount]
    silent_workers: list[SilentWorker]


class LifecycleRepository:
    """Campaign states and progress of one unit of work."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # -- campaigns -------------------------------------------------------------------------------
    def campaign_ids(self) -> list[str]:
        return list(self.session.scalars(select(CampaignRow.id).order_by(CampaignRow.id)))

    def campaign_units(self) -> list[tuple[str, str]]:
        """(campaign id, the unit that runs it), by id."""
        query = select(CampaignRow.id, CampaignRow.unit).order_by(CampaignRow.id)
        return [(campaign_id, unit) for campaign_id, unit in self.session.execute(query)]

    def campaign_state(self, campaign_id: str) -> str | None:
        return self.session.scalar(select(CampaignRow.state).filter_by(id=campaign_id))

    def set_state(self, campaign_id: str, state: str, now: datetime) -> None:
        query = update(CampaignRow).where(CampaignRow.id == campaign_id)
        self.session.execute(query.values(state=state, updated_at=now))

    def count_in(self, campaign_id: str, statuses: Collection[Status]) -> int:
        """How many of the campaign's deliveries are in one of ``statuses``."""
        query = select(func.count()).where(
            DeliveryRow.campaign_id == campaign_id,
            DeliveryRow.status.in_([s.value for s in statuses]),
        )
        return int(self.session.scalar(query) or 0)

    def summaries(self, campaign_id: str | None = None) -> list[CampaignSummary]:
        """Every campaign (or the one named), by id, with its occurrences and their counts."""
        campaigns = select(CampaignRow).order_by(CampaignRow.id)
        if campaign_id is not None:
            campaigns = campaigns.where(CampaignRow.id == campaign_id)
        rows = list(self.session.scalars(campaigns))
        occurrences = self._occurrences(campaign_id)
        recipients = self._recipients(campaign_id)
        activity = self._last_activity(campaign_id)
        return [
            CampaignSummary(
                id=row.id, title=row.title, unit=row.unit, state=row.state,
                source_path=row.source_path, recipients=recipients.get(row.id, 0),
                occurrences=occurrences.get(row.id, []),
                last_activity=_newest(activity.get(row.id),
                                      *(o.last_change for o in occurrences.get(row.id, []))),
            )
            for row in rows
        ]  # fmt: skip

    def _occurrences(self, campaign_id: str | None) -> dict[str, list[OccurrenceSummary]]:
        counts: dict[int, dict[Status, int]] = defaultdict(dict)
        changed: dict[int, datetime] = {}
        query = select(
            DeliveryRow.occurrence_id, DeliveryRow.status, func.count(),
            func.max(DeliveryRow.updated_at),
        ).group_by(DeliveryRow.occurrence_id, DeliveryRow.status)  # fmt: skip
        if campaign_id is not None:
            query = query.where(DeliveryRow.campaign_id == campaign_id)
        for occurrence_id, status, n, last in self.session.execute(query):
            counts[occurrence_id][Status(status)] = int(n)
            if occurrence_id not in changed or last > changed[occurrence_id]:
                changed[occurrence_id] = last
        rows = select(OccurrenceRow).order_by(OccurrenceRow.scheduled_at, OccurrenceRow.id)
        if campaign_id is not None:
            rows = rows.where(OccurrenceRow.campaign_id == campaign_id)
        found: dict[str, list[OccurrenceSummary]] = defaultdict(list)
        for row in self.session.scalars(rows):
            found[row.campaign_id].append(
                OccurrenceSummary(row.key, row.scheduled_at, row.state, row.recipients,
                                  counts.get(row.id, {}), row.finished_at, changed.get(row.id))
            )  # fmt: skip
        return found

    def _recipients(self, campaign_id: str | None) -> dict[str, int]:
        query = select(DeliveryRow.campaign_id, func.count(DeliveryRow.phone.distinct()))
        if campaign_id is not None:
            query = query.where(DeliveryRow.campaign_id == campaign_id)
        return {c: int(n) for c, n in self.session.execute(query.group_by(DeliveryRow.campaign_id))}

    def _last_activity(self, campaign_id: str | None) -> dict[str, datetime]:
        query = select(ActivityRow.campaign_id, func.max(ActivityRow.at))
        query = query.where(ActivityRow.campaign_id.is_not(None))
        if campaign_id is not None:
            query = query.where(ActivityRow.campaign_id == campaign_id)
        rows = self.session.execute(query.group_by(ActivityRow.campaign_id))
        return {c: at for c, at in rows if c is not None}

    def activity(self, campaign_id: str, limit: int) -> list[ActivityEvent]:
        """The campaign's newest activity-log events, newest first."""
        query = (
            select(ActivityRow)
            .where(ActivityRow.campaign_id == campaign_id)
            .order_by(ActivityRow.at.desc(), ActivityRow.id.desc())
            .limit(limit)
        )
        return [
            ActivityEvent(row.at, row.kind, row.occurrence_key, row.detail)
            for row in self.session.scalars(query)
        ]

    # -- health ----------------------------------------------------------------------------------
    def snapshot(
        self,
        now: datetime,
        stuck_before: datetime,
        silent_before: datetime,
        failures_since: datetime,
        failures_per_campaign: int,
    ) -> Snapshot:
        """What the health rules judge, with the cutoffs they computed."""
        return Snapshot(
            stuck_sending=self.stuck(Status.SENDING, stuck_before),
            stuck_unknown=self.stuck(Status.UNKNOWN, stuck_before),
            open_work=self.open_work(now),
            failures=self.recent_failures(failures_since, failures_per_campaign),
            silent_workers=self.silent_workers(silent_before),
        )

    def stuck(self, status: Status, before: datetime) -> list[StuckRows]:
        """Per campaign, rows in ``status`` since before ``before``: claimed then (``sending``),
        or last changed then (``unknown``, i.e. not reconciled since)."""
        since: ColumnElement[datetime] = DeliveryRow.updated_at.expression
        if status == Status.SENDING:
            since = func.coalesce(DeliveryRow.claimed_at, DeliveryRow.updated_at)
        query = (
            select(DeliveryRow.campaign_id, func.count(), func.min(since))
            .where(DeliveryRow.status == status, since < before)
            .group_by(DeliveryRow.campaign_id)
            .order_by(DeliveryRow.campaign_id)
        )
        return [StuckRows(c, status, int(n), at) for c, n, at in self.session.execute(query)]

    def open_work(self, now: datetime) -> list[OpenWork]:
        """Occurrences with pending rows due now (not deferred past ``now``)."""
        due = or_(DeliveryRow.not_before.is_(None), DeliveryRow.not_before <= now)
        query = (
            select(DeliveryRow.occurrence_id, func.count())
            .where(DeliveryRow.status == Status.PENDING, due)
            .group_by(DeliveryRow.occurrence_id)
        )
        pending = {o: int(n) for o, n in self.session.execute(query)}
        if not pending:
            return []
        claims = (
            select(DeliveryRow.occurrence_id, func.max(DeliveryRow.claimed_at))
            .where(DeliveryRow.occurrence_id.in_(pending))
            .group_by(DeliveryRow.occurrence_id)
        )
        last_claim = {o: at for o, at in self.session.execute(claims)}
        rows = (
            select(OccurrenceRow, CampaignRow.state)
            .join(CampaignRow, CampaignRow.id == OccurrenceRow.campaign_id)
            .where(OccurrenceRow.id.in_(pending))
            .order_by(OccurrenceRow.campaign_id, OccurrenceRow.scheduled_at)
        )
        return [
            OpenWork(o.campaign_id, state, o.key, o.scheduled_at, o.created_at, pending[o.id],
                     last_claim.get(o.id))
            for o, state in self.session.execute(rows)
        ]  # fmt: skip

    def recent_failures(self, since: datetime, per_campaign: int) -> list[FailureCount]:
        """Error codes of each campaign's last ``per_campaign`` failures since ``since``."""
        newest_first = func.row_number().over(
            partition_by=DeliveryEventRow.campaign_id, order_by=DeliveryEventRow.id.desc()
        )
        ranked = (
            select(DeliveryEventRow.campaign_id, DeliveryEventRow.error_code,
                   newest_first.label("n"))
            .where(DeliveryEventRow.at >= since, DeliveryEventRow.status.in_(FAILURES))
            .subquery()
        )  # fmt: skip
        query = (
            select(ranked.c.campaign_id, ranked.c.error_code, func.count())
            .where(ranked.c.n <= per_campaign)
            .group_by(ranked.c.campaign_id, ranked.c.error_code)
            .order_by(ranked.c.campaign_id)
        )
        return [FailureCount(c, code, int(n)) for c, code, n in self.session.execute(query)]

    def silent_workers(self, before: datetime) -> list[SilentWorker]:
        """Workers never stopped, silent since before ``before``, that still hold claims."""
        held = (
            select(DeliveryRow.claimed_by, DeliveryRow.campaign_id, func.count())
            .join(WorkerRow, WorkerRow.id == DeliveryRow.claimed_by)
            .where(WorkerRow.stopped_at.is_(None), WorkerRow.heartbeat_at < before)
            .where(DeliveryRow.status == Status.SENDING)
            .group_by(DeliveryRow.claimed_by, DeliveryRow.campaign_id)
        )
        by_worker: dict[str, dict[str, int]] = defaultdict(dict)
        for worker_id, campaign_id, n in self.session.execute(held):
            if worker_id is not None:
                by_worker[worker_id][campaign_id] = int(n)
        workers = select(WorkerRow).where(WorkerRow.id.in_(by_worker)).order_by(WorkerRow.id)
        return [
            SilentWorker(w.id, w.host, w.pid, w.role, w.heartbeat_at, dict(by_worker[w.id]))
            for w in self.session.scalars(workers)
        ]


def _newest(*moments: datetime | None) -> datetime | None:
    known = [m for m in moments if m is not None]
    return max(known) if known else None
