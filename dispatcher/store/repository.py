"""The outbox's repository: campaigns, occurrences, deliveries and their sending cycle.

SQL lives in ``dispatcher.store`` only, one module per concern (this one, ``delivery_log``,
``tracking``, ``reports``, ``airings``, ``health``, ``optouts``, ``workers``, ``budgets``,
``caps``, ``approvals``); callers get and give plain value objects through the unit of work.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import Any, NamedTuple, cast

from sqlalchemy import CursorResult, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from dispatcher.core.outbox import (
    NewDelivery,
    OutboundMessage,
    Outcome,
)
from dispatcher.core.status import REACHED_PROVIDER, Status, can_move, can_release
from dispatcher.store import delivery_writes as writes
from dispatcher.store.airings import AiringRepository
from dispatcher.store.bulk import bound, insert_rows
from dispatcher.store.delivery_log import log_events, log_pending, log_selected
from dispatcher.store.delivery_writes import DeliveryState
from dispatcher.store.health import LifecycleRepository
from dispatcher.store.models import (
    ActivityRow,
    AiringRow,
    CampaignRow,
    DeliveryRow,
    OccurrenceRow,
)

# What registering a campaign writes (besides its id and times).
_CAMPAIGN_FIELDS = ("title", "unit", "timezone", "source_path", "fingerprint", "spec")
# The columns a new outbox row is written with, in the order of add_deliveries' tuples.
_NEW_DELIVERY_COLUMNS = (
    "occurrence_id",
    "campaign_id",
    "phone",
    "source",
    "body",
    "encoding",
    "segments",
    "sender",
    "status",
    "attempts",
    "updated_at",
)


# The columns each step of the sending cycle changes (written back by delivery_writes).
_CLAIMED = ("status", "attempts", "claimed_at", "claimed_by", "updated_at")
_APPLIED = ("status", "sent_at", "provider_id", "gateway", "error_code", "error_message",
            "updated_at")  # fmt: skip
_RELEASED = ("status", "updated_at")


class Claim(NamedTuple):
    """What a claim took, and whether claimable rows were left because they did not fit."""

    messages: list[OutboundMessage]
    cut: bool


class Repository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # -- campaigns and occurrences -------------------------------------------------------------
    def save_campaign(self, row: CampaignRow, now: datetime) -> None:
        """Register the campaign, or update what is registered of it. Two processes may
        register it at once (``serve``'s scheduler and a ``send``): ON CONFLICT, the one that
        comes second updates the row the first wrote instead of failing on its key."""
        sqlite_write_lock(self.session)  # SQLite: read and write under one lock
        existing = self.session.get(CampaignRow, row.id)
        if existing is None:
            values = {field: getattr(row, field) for field in _CAMPAIGN_FIELDS}
            values |= {"id": row.id, "created_at": now, "updated_at": now}
            dialect = self.session.get_bind().dialect.name
            insert_into = pg_insert if dialect == "postgresql" else sqlite_insert
            query = insert_into(CampaignRow).values(values).on_conflict_do_nothing()
            if self.session.execute(query.returning(CampaignRow.id)).first() is not None:
                return
            existing = self.session.get(CampaignRow, row.id, populate_existing=True)
            assert existing is not None  # the conflicting row is committed: rows are never deleted
        for field in _CAMPAIGN_FIELDS:
            setattr(existing, field, getattr(row, field))
        existing.updated_at = now

    def registered_spec(self, campaign_id: str) -> tuple[str | None, datetime] | None:
        """The campaign's canonical spec as last registered and when; None if unknown."""
        row = self.session.get(CampaignRow, campaign_id)
        return None if row is None else (row.spec, row.updated_at)

    def campaign_sources(self) -> list[tuple[str, str]]:
        """(campaign id, file it was registered from) of every campaign, by id."""
        query = select(CampaignRow.id, CampaignRow.source_path).order_by(CampaignRow.id)
        return [(cid, path) for cid, path in self.session.execute(query)]

    def occurrence(self, campaign_id: str, key: str) -> OccurrenceRow | None:
        query = select(OccurrenceRow).filter_by(campaign_id=campaign_id, key=key)
        return self.session.scalars(query).one_or_none()

    def occurrence_keys(self, campaign_id: str) -> set[str]:
        query = select(OccurrenceRow.key).filter_by(campaign_id=campaign_id)
        return set(self.session.scalars(query))

    def add_occurrence(
        self, campaign_id: str, key: str, scheduled_at: datetime, state: str, now: datetime
    ) -> OccurrenceRow:
        row = OccurrenceRow(
            campaign_id=campaign_id,
            key=key,
            scheduled_at=scheduled_at,
            state=state,
            recipients=0,
            created_at=now,
        )
        self.session.add(row)
        self.session.flush()
        return row

    def claim_occurrence(
        self, campaign_id: str, key: str, scheduled_at: datetime, state: str, now: datetime
    ) -> OccurrenceRow | None:
        """Create the occurrence unless it exists: exactly one of several schedulers racing for
        it gets the row (the others wait for its transaction, then get None)."""
        values = {
            "campaign_id": campaign_id,
            "key": key,
            "scheduled_at": scheduled_at,
            "state": state,
            "recipients": 0,
            "created_at": now,
        }
        dialect = self.session.get_bind().dialect.name
        insert_into = pg_insert if dialect == "postgresql" else sqlite_insert
        query = insert_into(OccurrenceRow).values(values).on_conflict_do_nothing()
        new_id = self.session.execute(query.returning(OccurrenceRow.id)).scalar_one_or_none()
        return None if new_id is None else self.session.get(OccurrenceRow, new_id)

    def add_deliveries(
        self, occurrence: OccurrenceRow, deliveries: Iterable[NewDelivery], now: datetime
    ) -> int:
        """Insert the outbox rows of a new occurrence and log each as ``pending``."""
        updated_at = bound(self.session, DeliveryRow.updated_at.type, now)
        ids, pending = (occurrence.id, occurrence.campaign_id), Status.PENDING.value
        rows = (
            (
                *ids,
                d.phone,
                d.source,
                d.body,
                d.encoding,
                d.segments,
                d.sender,
                pending,
                0,
                updated_at,
            )
            for d in deliveries
        )
        count = insert_rows(self.session, DeliveryRow.__tablename__, _NEW_DELIVERY_COLUMNS, rows)
        occurrence.recipients = count
        log_pending(self.session, occurrence, now)
        return count

    # -- the sending cycle ---------------------------------------------------------------------
    def in_flight(self, occurrence_id: int, claimants: Collection[str | None]) -> list[int]:
        """Rows of the occurrence in ``sending``, claimed by one of ``claimants``."""
        named = [c for c in claimants if c is not None]
        by: ColumnElement[bool] = DeliveryRow.claimed_by.in_(named)
        if None in claimants:
            by = or_(by, DeliveryRow.claimed_by.is_(None))
        query = select(DeliveryRow.id).where(
            DeliveryRow.occurrence_id == occurrence_id, DeliveryRow.status == Status.SENDING, by
        )
        return list(self.session.scalars(query))

    def deliveries_in(self, occurrence_id: int, status: Status) -> list[OutboundMessage]:
        found = writes.in_status(self.session, occurrence_id, status)
        return [writes.outbound(row) for row in found]

    def claim(
        self,
        occurrence_id: int,
        limit: int,
        now: datetime,
        not_tried_since: datetime,
        claimant: str | None = None,
        max_segments: int | None = None,
    ) -> Claim:
        """Move up to ``limit`` pending rows to ``sending`` (logged) and return them; with
        ``max_segments``, only the rows (in order) whose segments fit in it (a budget).

        Rows already tried since ``not_tried_since`` (the start of the current run) are left
        alone, so a row the provider bounced back to pending is not hammered in a loop; so are
        rows deferred past ``now``. Other workers' claims are skipped, never waited for
        (PostgreSQL ``SKIP LOCKED``; SQLite has one writer at a time, taken first).
        """
        self._write_lock()
        rows = writes.claimable(self.session, occurrence_id, limit, now, not_tried_since)
        taken = rows if max_segments is None else writes.fitting(rows, max_segments)
        for row in taken:
            row.status = Status.SENDING.value
            row.attempts += 1
            row.claimed_at = row.updated_at = now
            row.claimed_by = claimant
        writes.write(self.session, taken, _CLAIMED)
        self._log_rows(taken, now, detail=None)
        return Claim([writes.outbound(row) for row in taken], cut=len(taken) < len(rows))

    def apply(self, outcomes: Sequence[Outcome], now: datetime) -> list[Outcome]:
        """Record outcomes that move a delivery forward; returns those that did (the rest are
        stale or repeated reports, which change nothing)."""
        rows = self._rows_by_id([o.delivery_id for o in outcomes])
        applied: list[Outcome] = []
        logged: list[tuple[DeliveryState, str | None, int | None]] = []
        for outcome in outcomes:
            row = rows.get(outcome.delivery_id)
            if row is None or not can_move(Status(row.status), outcome.status):
                continue
            row.status = outcome.status.value
            if row.sent_at is None and outcome.status in REACHED_PROVIDER:
                row.sent_at = now  # what the frequency cap counts
            row.provider_id = outcome.provider_id or row.provider_id
            row.gateway = outcome.gateway or row.gateway
            if outcome.error_code is not None:
                row.error_code = outcome.error_code
            row.error_message = outcome.error_message or row.error_message
            row.updated_at = now
            logged.append((row, outcome.detail, outcome.error_code))
            applied.append(outcome)
        # A row moved twice in one batch is written once, at its last state.
        writes.write(self.session, list({row.id: row for row, _, _ in logged}.values()), _APPLIED)
        log_events(self.session, logged, now)
        return applied

    def release(
        self,
        delivery_ids: Sequence[int],
        reason: str,
        now: datetime,
        expected: Status,
        attempt: int | None = None,
    ) -> int:
        """Put rows back to ``pending``: claimed ones the provider provably never processed, and
        unknown ones the provider has no record of. Only rows still in ``expected`` move: a row
        another worker has meanwhile reconciled or claimed again is not theirs to release; with
        ``attempt``, only rows still at that attempt (the one the provider was asked about: a
        row another process resent meanwhile, unknown again, may have been created by then)."""
        rows = [
            r
            for r in self._rows_by_id(delivery_ids).values()
            if r.status == expected
            and can_release(Status(r.status))
            and (attempt is None or r.attempts == attempt)
        ]
        for row in rows:
            row.status = Status.PENDING.value
            row.updated_at = now
        writes.write(self.session, rows, _RELEASED)
        self._log_rows(rows, now, detail=f"released: {reason}")
        return len(rows)

    def _rows_by_id(self, ids: Sequence[int]) -> dict[int, DeliveryState]:
        """The rows, locked for the read-modify-write of apply/release: a report arriving at the
        same moment (sender, status poll, callback) waits, instead of being overwritten by one
        that read the row before it (a late `sent` over `delivered`)."""
        if not ids:
            return {}
        self._write_lock()
        return {row.id: row for row in writes.locked(self.session, ids)}

    def _write_lock(self) -> None:
        sqlite_write_lock(self.session)

    def _log_rows(self, rows: Sequence[DeliveryState], now: datetime, detail: str | None) -> None:
        log_events(self.session, [(row, detail, None) for row in rows], now)

    def status_counts(self, occurrence_id: int) -> dict[Status, int]:
        query = (
            select(DeliveryRow.status, func.count())
            .where(DeliveryRow.occurrence_id == occurrence_id)
            .group_by(DeliveryRow.status)
        )
        return {Status(status): count for status, count in self.session.execute(query)}

    # -- logs, airings, reports ----------------------------------------------------------------
    def record_activity(
        self,
        kind: str,
        now: datetime,
        campaign_id: str | None = None,
        occurrence_key: str | None = None,
        detail: str | None = None,
    ) -> None:
        self.session.add(
            ActivityRow(
                at=now,
                kind=kind,
                campaign_id=campaign_id,
                occurrence_key=occurrence_key,
                detail=detail,
            )
        )

    def save_airings(
        self, campaign_id: str, unit: str, planned: Iterable[tuple[str, datetime]], now: datetime
    ) -> int:
        """Record planned airings (commune, time); ones already recorded are left as they are."""
        query = select(AiringRow.commune, AiringRow.scheduled_at).filter_by(campaign_id=campaign_id)
        known = set(self.session.execute(query))
        new = [
            {
                "campaign_id": campaign_id,
                "unit": unit,
                "commune": commune,
                "scheduled_at": at,
                "state": "planned",
                "created_at": now,
            }
            for commune, at in planned
            if (commune, at) not in known
        ]
        if new:
            self.session.execute(insert(AiringRow), new)
        return len(new)

    @property
    def airings(self) -> AiringRepository:
        """The airing plan and the communes' confirmations (``dispatcher.store.airings``)."""
        return AiringRepository(self.session)

    # -- campaign lifecycle --------------------------------------------------------------------
    @property
    def lifecycle(self) -> LifecycleRepository:
        """Campaign states, progress and health counts (``dispatcher.store.health``)."""
        return LifecycleRepository(self.session)

    def cancel_pending(self, campaign_id: str, now: datetime, detail: str) -> int:
        """Cancel every ``pending`` row of a campaign in one statement, each one logged.

        Rows in ``sending`` or ``unknown`` are left to finish or be reconciled: they may have
        reached the provider. Set-based (no row is loaded), so a large outbox cancels at once.
        """
        self._write_lock()
        mine = (DeliveryRow.campaign_id == campaign_id, DeliveryRow.status == Status.PENDING)
        statement = update(DeliveryRow).where(*mine).values(status=Status.CANCELED, updated_at=now)
        result = self.session.execute(statement.execution_options(synchronize_session=False))
        # The rows this statement changed: canceled, by it, at this very moment. Another
        # transaction cannot cancel them at the same microsecond (its UPDATE waits for ours).
        changed = (
            DeliveryRow.campaign_id == campaign_id,
            DeliveryRow.status == Status.CANCELED,
            DeliveryRow.updated_at == now,
        )
        log_selected(self.session, changed, now, detail)
        return cast("CursorResult[Any]", result).rowcount


def sqlite_write_lock(session: Session) -> None:
    """SQLite has no row locks: take its database write lock now, before reading, so two
    processes never both read a row as free and then both take it. Nothing on PostgreSQL."""
    if session.get_bind().dialect.name == "sqlite":  # as SQL: it runs before every batch
        session.connection().exec_driver_sql("UPDATE deliveries SET id = id WHERE 0")
