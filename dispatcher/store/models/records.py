"""The other records: the activity log, outreach reported by the units (append-only),
access tokens and web sessions, and the audit chain over every append-only record."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from dispatcher.store.models.base import Base, BigId, UTCDateTime


class ActivityRow(Base):
    """Append-only log of campaign-level events (occurrence skipped, run halted, ...)."""

    __tablename__ = "activity_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    campaign_id: Mapped[str | None] = mapped_column(String(64), index=True)
    occurrence_key: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(Text)


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
