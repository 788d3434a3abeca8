"""The loudspeakers' tables: planned airings, the communes' confirmations and their
corrections (append-only), and the audio files pulled for the communes' pages."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from dispatcher.store.models.base import Base, BigId, UTCDateTime


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
