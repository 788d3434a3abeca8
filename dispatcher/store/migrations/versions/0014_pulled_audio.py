"""pulled audio: where ``broadcast pull --out`` wrote each airing's audio, with its SHA-256

The commune's page serves an airing's audio from wherever a pull put it, once the file is
checked against its hash (a file edited or replaced since is not served). One row per file
path, updated when a later pull writes the same path. Not a log: rows change.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-11
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

TABLE = "pulled_audio"
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_AIRING = ["campaign_id", "commune", "scheduled_at"]


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("campaign_id", sa.Text(), nullable=False),
        sa.Column("commune", sa.Text(), nullable=False),
        sa.Column("scheduled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("suffix", sa.String(length=8), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("pulled_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pulled_audio")),
        sa.UniqueConstraint("path", name=op.f("uq_pulled_audio_path")),
    )
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.create_index("ix_pulled_audio_campaign_id_commune_scheduled_at", _AIRING)


def downgrade() -> None:
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.drop_index("ix_pulled_audio_campaign_id_commune_scheduled_at")
    op.drop_table(TABLE)
