"""Tables. Alembic owns the schema; these models must match the migrations (a test checks it).

Two tables carry the sending: ``deliveries`` is the mutable outbox (one row per occurrence and
recipient, its current status) and ``delivery_log`` is the append-only history that audits and
reports read. Database triggers (created by the migrations) refuse UPDATE and DELETE on the logs.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# BIGINT on PostgreSQL, but INTEGER on SQLite where only "INTEGER PRIMARY KEY" autoincrements.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on every backend (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


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


class AiringRow(Base):
    """A loudspeaker airing of a campaign in one commune, as planned (later: as confirmed)."""

    __tablename__ = "airings"
    __table_args__ = (UniqueConstraint("campaign_id", "commune", "scheduled_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"), index=True)
    unit: Mapped[str] = mapped_column(Text)
    commune: Mapped[str] = mapped_column(Text)
    scheduled_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    state: Mapped[str] = mapped_column(String(16))  # planned | canceled
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AiringConfirmationRow(Base):
    """A commune's word that a planned airing went out, in the append-only
    ``airing_confirmations``: one row per airing, so confirming it again changes nothing."""

    __tablename__ = "airing_confirmations"
    __table_args__ = (
        UniqueConstraint("campaign_id", "commune", "scheduled_at"),
        CheckConstraint("source IN ('cli', 'web', 'http')", name="ck_airing_confirmations_source"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"))
    commune: Mapped[str] = mapped_column(Text)  # as in the airing plan (``airings.commune``)
    scheduled_at: Mapped[datetime] = mapped_column(UTCDateTime())  # the planned airing
    aired_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)  # when it really aired
    duration_s: Mapped[int | None] = mapped_column(Integer)
    confirmed_by: Mapped[str] = mapped_column(Text)  # cli:<login>, web:<unit code> link <id>
    source: Mapped[str] = mapped_column(String(8))  # cli | web | http
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AiringCorrectionRow(Base):
    """An undo of a commune's confirmation, or a redo of that undo, in the append-only
    ``airing_corrections``: the confirmation stands unless its latest correction is an undo."""

    __tablename__ = "airing_corrections"
    __table_args__ = (
        CheckConstraint("kind IN ('undo', 'redo')", name="ck_airing_corrections_kind"),
        CheckConstraint("source IN ('cli', 'web', 'http')", name="ck_airing_corrections_source"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    confirmation_id: Mapped[int] = mapped_column(ForeignKey("airing_confirmations.id"), index=True)
    kind: Mapped[str] = mapped_column(String(8))  # undo | redo
    # The correction this one corrects (a redo names its undo); unique: one successor each.
    corrects_id: Mapped[int | None] = mapped_column(
        ForeignKey("airing_corrections.id"), unique=True
    )
    recorded_by: Mapped[str] = mapped_column(Text)  # as confirmed_by
    source: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PulledAudioRow(Base):
    """An audio file ``broadcast pull`` wrote (under ``--out``, wherever that was), so that the
    commune's page can serve it; ``sha256`` tells whether the file is still as pulled."""

    __tablename__ = "pulled_audio"
    __table_args__ = (
        UniqueConstraint("path"),  # a file holds one airing's audio: the latest pull's
        Index("ix_pulled_audio_campaign_id_commune_scheduled_at", "campaign_id", "commune",
              "scheduled_at"),
    )  # fmt: skip

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    # No foreign key: `pull --campaign FILE` may pull a campaign it does not register.
    campaign_id: Mapped[str] = mapped_column(Text)
    commune: Mapped[str] = mapped_column(Text)  # the airing's commune, as in the plan
    scheduled_at: Mapped[datetime] = mapped_column(UTCDateTime())
    language: Mapped[str] = mapped_column(String(8))  # vi, or a variant's code (tay)
    suffix: Mapped[str] = mapped_column(String(8))  # .mp3 | .wav
    path: Mapped[str] = mapped_column(Text)  # absolute
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    pulled_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ActivityRow(Base):
    """Append-only log of campaign-level events (occurrence skipped, run halted, ...)."""

    __tablename__ = "activity_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    campaign_id: Mapped[str | None] = mapped_column(String(64), index=True)
    occurrence_key: Mapped[str | None] = mapped_column(String(64))
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


class OutreachActivityRow(Base):
    """A form of outreach the software did not perform itself (a meeting, banners, Zalo posts,
    door-to-door visits...), as a unit reported it; append-only.

    Never edited: a correction is a new row naming the one it replaces (``corrects_id``, at
    most one successor each), a void is a row of kind ``void`` naming it. Reports count the
    rows nothing replaced, and no void."""

    __tablename__ = "outreach_activities"
    __table_args__ = (
        UniqueConstraint("corrects_id"),
        CheckConstraint(
            "kind IN ('record', 'correction', 'void')", name="ck_outreach_activities_kind"
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("outreach_activities.id"))
    unit_code: Mapped[str] = mapped_column(String(32), index=True)
    unit_name: Mapped[str] = mapped_column(Text)  # the unit's name on ``day``
    form: Mapped[str] = mapped_column(String(32))  # a code of dispatcher.reports.forms
    count: Mapped[int] = mapped_column(Integer)
    day: Mapped[date] = mapped_column(Date, index=True)
    means: Mapped[str | None] = mapped_column(Text)
    content: Mapped[str | None] = mapped_column(Text)
    campaign_id: Mapped[str | None] = mapped_column(ForeignKey("campaigns.id"))
    note: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)  # of a correction or a void
    source: Mapped[str] = mapped_column(Text)  # "cli", or "import <file>:<line>"
    recorded_by: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AccessTokenRow(Base):
    """A token that opens pages, kept as its SHA-256 digest only: an operator's, an auditor's
    (read-only), or a commune's (its own unit's pages only).

    Never deleted: an expired or revoked token stays listed with who made and revoked it."""

    __tablename__ = "access_tokens"
    __table_args__ = (
        CheckConstraint("role IN ('operator', 'auditor', 'commune')", name="ck_access_tokens_role"),
        CheckConstraint(
            "(role = 'commune') = (unit_key IS NOT NULL)", name="ck_access_tokens_unit"
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)  # hex SHA-256 of the token
    role: Mapped[str] = mapped_column(String(16))
    # The unit a commune's token is for: its code in the units registry (its name as written,
    # without a registry); None for operators and auditors. ``label`` is what listings show:
    # the commune's name when the token was made, or the holder's name.
    unit_key: Mapped[str | None] = mapped_column(Text, index=True)
    label: Mapped[str] = mapped_column(Text)
    holder: Mapped[str | None] = mapped_column(Text)  # the person given it ("Chị Lan")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_by: Mapped[str | None] = mapped_column(Text)


class WebSessionRow(Base):
    """A browser's session on ``dispatcher serve``, opened with a token: the cookie's value is
    kept as its SHA-256 digest only. It ends at ``expires_at``, at logout (``ended_at``), or
    when its token expires or is revoked (checked on every request)."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    token_id: Mapped[int] = mapped_column(ForeignKey("access_tokens.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ControlRow(Base):
    """A switch every worker reads, such as the global halt."""

    __tablename__ = "controls"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    set_by: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class ChainRow(Base):
    """One auditable record's place in the audit chain (dispatcher.core.chain): its position
    in commit order, where it is, and its hash over its content and the previous hash.
    Append-only like the records it covers."""

    __tablename__ = "audit_chain"
    __table_args__ = (UniqueConstraint("source", "record_id"),)

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    source: Mapped[str] = mapped_column(String(32))  # the record's table
    record_id: Mapped[int] = mapped_column(BigId)
    hash: Mapped[str] = mapped_column(String(64))


# The logs: append-only (triggers), and each of their records is in the audit chain.
APPEND_ONLY_TABLES = (
    "delivery_log",
    "activity_log",
    "optout_log",
    "airing_confirmations",
    "approvals",
    "outreach_activities",
    "airing_corrections",
)
