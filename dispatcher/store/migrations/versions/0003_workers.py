"""workers, leases, campaign lifecycle, shared rate limits, halt switch

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("state", sa.String(length=16), server_default="active", nullable=False)
        )
        batch_op.add_column(sa.Column("spec", sa.Text(), nullable=True))
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("not_before", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_deliveries_phone_sent_at", ["phone", "sent_at"], unique=False)
        batch_op.create_index(
            "ix_deliveries_status_claimed_at", ["status", "claimed_at"], unique=False
        )
    with op.batch_alter_table("occurrences", schema=None) as batch_op:
        batch_op.add_column(sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "workers",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("host", sa.Text(), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workers")),
    )
    op.create_table(
        "rate_limits",
        sa.Column("sender", sa.String(length=64), nullable=False),
        # GCRA's theoretical arrival time, in seconds since the epoch (database clock).
        sa.Column("tat", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("sender", name=op.f("pk_rate_limits")),
    )
    op.create_table(
        "controls",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("set_by", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_controls")),
    )


def downgrade() -> None:
    op.drop_table("controls")
    op.drop_table("rate_limits")
    op.drop_table("workers")
    with op.batch_alter_table("occurrences", schema=None) as batch_op:
        batch_op.drop_column("finished_at")
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_deliveries_status_claimed_at")
        batch_op.drop_index("ix_deliveries_phone_sent_at")
        batch_op.drop_column("not_before")
        batch_op.drop_column("sent_at")
        batch_op.drop_column("claimed_by")
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.drop_column("spec")
        batch_op.drop_column("state")
