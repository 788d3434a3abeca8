"""What processes share through the database: who is alive, shared rate limits, the halt switch.

Several workers (on several hosts) work one outbox. A row in ``sending`` belongs to the worker
that claimed it (``deliveries.claimed_by``); only when that worker is dead may anyone else turn the
row into ``unknown`` and reconcile it. A worker is dead when it said it stopped, when its heartbeat
is older than the lease, or, on this very host, when its process no longer exists (so a ``send``
killed with SIGKILL is recovered at once by the next run, not a lease later).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sl_insert
from sqlalchemy.orm import Session

from dispatcher.core.status import Status
from dispatcher.store.models import (
    CampaignRow,
    ControlRow,
    DeliveryRow,
    OccurrenceRow,
    RateLimitRow,
    WorkerRow,
)

HALT = "halt"
ON, OFF = "on", "off"  # the halt switch's values


@dataclass(frozen=True)
class Identity:
    """This process, as other workers see it."""

    id: str
    host: str = field(default_factory=socket.gethostname)
    pid: int = field(default_factory=os.getpid)


@dataclass(frozen=True)
class HaltState:
    """The global halt in force: why, who set it (a login name, or ``dispatcher``), since when."""

    reason: str | None
    by: str
    since: datetime


@dataclass(frozen=True)
class Job:
    """An occurrence with work a worker can do now."""

    occurrence_id: int
    campaign_id: str
    source_path: str


class WorkerRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # -- liveness ------------------------------------------------------------------------------
    def register(self, me: Identity, role: str, now: datetime) -> None:
        self.session.add(
            WorkerRow(
                id=me.id, host=me.host, pid=me.pid, role=role, started_at=now, heartbeat_at=now
            )
        )

    def heartbeat(self, worker_id: str, now: datetime) -> None:
        query = update(WorkerRow).where(WorkerRow.id == worker_id).values(heartbeat_at=now)
        self.session.execute(query)

    def stopped(self, worker_id: str, now: datetime) -> None:
        query = update(WorkerRow).where(WorkerRow.id == worker_id)
        self.session.execute(query.values(heartbeat_at=now, stopped_at=now))

    def dead_claimants(
        self, occurrence_id: int | None, now: datetime, lease: timedelta, me: Identity
    ) -> set[str | None]:
        """Claimants of ``sending`` rows (of one occurrence, or all) that are no longer alive.

        ``None`` stands for rows claimed by a version that did not record its claimant.
        """
        query = select(DeliveryRow.claimed_by).where(DeliveryRow.status == Status.SENDING)
        if occurrence_id is not None:
            query = query.where(DeliveryRow.occurrence_id == occurrence_id)
        claimants = set(self.session.scalars(query.distinct()))
        named = [c for c in claimants if c is not None]
        rows = self.session.scalars(select(WorkerRow).where(WorkerRow.id.in_(named)))
        known = {row.id: row for row in rows}
        return {
            c for c in claimants if c is None or c not in known or _dead(known[c], now, lease, me)
        }

    def next_job(self, now: datetime, stale: datetime, exclude: Collection[int]) -> Job | None:
        """The earliest open occurrence of an active campaign with rows to send (pending and
        due), to reconcile (unknown), or left ``sending`` by a claim older than ``stale``."""
        d = DeliveryRow
        work = or_(
            and_(d.status == Status.PENDING, or_(d.not_before.is_(None), d.not_before <= now)),
            d.status == Status.UNKNOWN,
            and_(d.status == Status.SENDING, d.claimed_at < stale),
        )
        query = (
            select(OccurrenceRow.id, OccurrenceRow.campaign_id, CampaignRow.source_path)
            .join(CampaignRow, CampaignRow.id == OccurrenceRow.campaign_id)
            .where(OccurrenceRow.state == "open", CampaignRow.state == "active")
            .where(exists().where(d.occurrence_id == OccurrenceRow.id, work))
            .order_by(OccurrenceRow.scheduled_at, OccurrenceRow.id)
            .limit(1)
        )
        if exclude:
            query = query.where(OccurrenceRow.id.not_in(list(exclude)))
        row = self.session.execute(query).first()
        return None if row is None else Job(row.id, row.campaign_id, row.source_path)

    # -- shared pacing -------------------------------------------------------------------------
    def reserve(self, sender: str, segments: float, rate: float, burst: float) -> float:
        """Reserve ``segments`` of ``sender``'s shared budget; returns the seconds to wait.

        GCRA on the database clock, in one atomic statement, so every worker on every host
        draws from one budget: ``tat`` is when the bucket would be empty again.
        """
        now = func.extract("epoch", func.clock_timestamp())
        insert = pg_insert(RateLimitRow).values(sender=sender, tat=now + segments / rate)
        upsert = insert.on_conflict_do_update(
            index_elements=[RateLimitRow.sender],
            set_={"tat": func.greatest(RateLimitRow.tat, now) + segments / rate},
        ).returning(RateLimitRow.tat - now)
        ahead = float(self.session.execute(upsert).scalar_one())
        return max(0.0, ahead - burst / rate)

    # -- the halt switch -----------------------------------------------------------------------
    def control(self, name: str) -> ControlRow | None:
        return self.session.get(ControlRow, name)

    def halted(self) -> str | None:
        """The reason of the global halt, or None when sending may go on."""
        row = self.control(HALT)
        if row is None or row.value != ON:
            return None
        return row.reason or "halted"

    def halt_state(self) -> HaltState | None:
        """The halt in force, or None when sending may go on."""
        row = self.control(HALT)
        if row is None or row.value != ON:
            return None
        return HaltState(row.reason, row.set_by or "unknown", row.at)

    def set_halt(self, on: bool, reason: str | None, by: str, now: datetime) -> bool:
        """Turn the halt switch on or off; True when this call changed it.

        One conditional UPDATE, so of several workers halting at once exactly one changes the
        switch (PostgreSQL re-reads the row after waiting for the other's lock) and records it.
        """
        insert = pg_insert if self.session.get_bind().dialect.name == "postgresql" else sl_insert
        absent = insert(ControlRow).values(name=HALT, value=OFF, at=now).on_conflict_do_nothing()
        self.session.execute(absent)
        changes = ControlRow.value != ON if on else ControlRow.value == ON
        query = (
            update(ControlRow)
            .where(ControlRow.name == HALT, changes)
            .values(value=ON if on else OFF, reason=reason, set_by=by, at=now)
        )
        return bool(self.session.execute(query).rowcount)  # type: ignore[attr-defined]

    def campaign_states(self, ids: Collection[str]) -> dict[str, str]:
        query = select(CampaignRow.id, CampaignRow.state).where(CampaignRow.id.in_(ids))
        return {row.id: row.state for row in self.session.execute(query)}

    def last_sent_at(self, occurrence_id: int) -> datetime | None:
        """When the occurrence's last message first reached the provider (None: none did)."""
        query = select(func.max(DeliveryRow.sent_at)).where(
            DeliveryRow.occurrence_id == occurrence_id
        )
        return self.session.scalar(query)


def _dead(worker: WorkerRow, now: datetime, lease: timedelta, me: Identity) -> bool:
    if worker.id == me.id:
        return False
    if worker.stopped_at is not None or now - worker.heartbeat_at > lease:
        return True
    if worker.host != me.host:
        return False
    # Same host: its process is gone, or its pid is now ours (reused after a kill).
    return worker.pid == me.pid or not _process_exists(worker.pid)


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    return True
