"""The sending's tables: campaigns, their occurrences, the outbox (``deliveries``) and its
append-only history (``delivery_log``), opt-outs, workers, shared pacing, approvals, switches."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from dispatcher.store.models.base import Base, BigId, UTCDateTime


class CampaignRow(Base):
    __tablename__ = "campaigns"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    unit: Mapped[str] = mapped_column(Text)
    timezone: Mapped[str] = mapped_column(String(64))
    source_path: Mapped[str] = mapped_column(Text)
    fingerprint: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # active | paused | canceled: workers read it before every claim.
    state: Mapped[str] = mapped_column(String(16), server_default="active")
    # The campaign as last registered (canonical JSON), so `plan` can say what an edit changed.
    spec: Mapped[str | None] = mapped_column(Text)


class OccurrenceRow(Base):
    __tablename__ = "occurrences"
    __table_args__ = (UniqueConstraint("campaign_id", "key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"), index=True)
    key: Mapped[str] = mapped_column(String(64))
    scheduled_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # open: its outbox rows exist and are being worked; skipped: missed its window, never sent.
    state: Mapped[str] = mapped_column(String(16))
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # `send --test`: to the configured staff numbers only; never counted in reports.
    test: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class DeliveryRow(Base):
    __tablename__ = "deliveries"
    __table_args__ = (
        # One message per number and occurrence; phone first, so the same index serves every
        # lookup by number (cap, log --phone). Numbers arrive in random order, so each index
        # led by phone costs a random write per new row: this is the only one (migration 0006).
        UniqueConstraint("phone", "occurrence_id"),
        Index("ix_deliveries_occurrence_id_status", "occurrence_id", "status"),
        Index("ix_deliveries_campaign_id_status", "campaign_id", "status"),
        # The auditors' pages of one campaign, by id (keyset): no sort of the campaign's rows.
        Index("ix_deliveries_campaign_id_id", "campaign_id", "id"),
        # Whole, not partial: status-only queries (pending rows, status totals) lead with it.
        Index("ix_deliveries_status_claimed_at", "status", "claimed_at"),
        # Partial: a new outbox row has no provider id yet, so inserting it skips this index.
        Index(
            "ix_deliveries_provider_id",
            "provider_id",
            postgresql_where=text("provider_id IS NOT NULL"),
            sqlite_where=text("provider_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    occurrence_id: Mapped[int] = mapped_column(ForeignKey("occurrences.id"))
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"))
    phone: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(Text)  # list file:line the recipient came from
    body: Mapped[str] = mapped_column(Text)
    encoding: Mapped[str] = mapped_column(String(8))
    segments: Mapped[int] = mapped_column(Integer)
    sender: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    provider_id: Mapped[str | None] = mapped_column(String(64))
    # Which gateway took it: "twilio:<account SID>@<base URL>", "simulator-run:<id>" (the built-in
    # simulator of one command), "legacy" (sent before this was recorded), None (never tried).
    # Only that gateway can know the message, so only it is polled (migration 0011).
    gateway: Mapped[str | None] = mapped_column(Text)
    error_code: Mapped[int | None] = mapped_column(Integer)
    error_message: Mapped[str | None] = mapped_column(Text)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claimed_by: Mapped[str | None] = mapped_column(String(64))  # worker id holding the lease
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # first reached the provider
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime())  # deferred until then
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class DeliveryEventRow(Base):
    """One event in the append-only delivery log: an attempt or a status change."""

    __tablename__ = "delivery_log"
    __table_args__ = (
        # A delivery's history, and (covering) the monthly report's "first reached the
        # provider": read from the index alone, never the table (migration 0010).
        Index("ix_delivery_log_delivery_id_at_status", "delivery_id", "at", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    # No foreign key: the log stands on its own and outlives outbox rows (migration 0006).
    delivery_id: Mapped[int] = mapped_column(BigId)
    campaign_id: Mapped[str] = mapped_column(String(64), index=True)
    occurrence_key: Mapped[str] = mapped_column(String(64))
    phone: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(16))
    attempt: Mapped[int] = mapped_column(Integer)
    segments: Mapped[int] = mapped_column(Integer)
    provider_id: Mapped[str | None] = mapped_column(String(64))
    error_code: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[str | None] = mapped_column(Text)


class OptOutRow(Base):
    """A number that must not be sent to. The current list; its history is ``optout_log``."""

    __tablename__ = "optouts"

    phone: Mapped[str] = mapped_column(String(20), primary_key=True)  # E.164
    reason: Mapped[str] = mapped_column(Text)
    # cli, import:<file>:<line>, twilio-21610, inbound:STOP, ...
    source: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str | None] = mapped_column(Text)


class OptOutEventRow(Base):
    """One change to the opt-out list, in the append-only ``optout_log``."""

    __tablename__ = "optout_log"
    __table_args__ = (CheckConstraint("action IN ('add', 'remove')", name="ck_optout_log_action"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    phone: Mapped[str] = mapped_column(String(20), index=True)
    action: Mapped[str] = mapped_column(String(8))  # add | remove
    reason: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(Text)


class WorkerRow(Base):
    """A running (or stopped) dispatcher process, with its heartbeat."""

    __tablename__ = "workers"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    host: Mapped[str] = mapped_column(Text)
    pid: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(16))  # send | serve | worker
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime())
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class RateLimitRow(Base):
    """One sender's shared GCRA state, so that every worker paces against the same budget."""

    __tablename__ = "rate_limits"

    sender: Mapped[str] = mapped_column(String(64), primary_key=True)
    tat: Mapped[float] = mapped_column(Float)  # theoretical arrival time, epoch seconds


class ApprovalRow(Base):
    """A second operator's approval of one version of a campaign (append-only): it holds for
    sends whose fingerprint (text, lists' contents, recipient count) is the same."""

    __tablename__ = "approvals"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"), index=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    recipients: Mapped[int] = mapped_column(Integer)
    approver: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class ControlRow(Base):
    """A switch every worker reads, such as the global halt."""

    __tablename__ = "controls"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    set_by: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
