"""leaner outbox indexes: fewer index writes per new delivery

``ix_deliveries_phone`` goes (``ix_deliveries_phone_sent_at`` leads with phone and serves the
same lookups), and ``ix_deliveries_provider_id`` keeps only the rows that have a provider id:
a new outbox row has none, so writing it no longer touches that index.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# Written out rather than taken from the models, so this revision never changes under us.
HAS_PROVIDER_ID = sa.text("provider_id IS NOT NULL")


def upgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_deliveries_phone")
        batch_op.drop_index("ix_deliveries_provider_id")
        batch_op.create_index(
            "ix_deliveries_provider_id",
            ["provider_id"],
            unique=False,
            postgresql_where=HAS_PROVIDER_ID,
            sqlite_where=HAS_PROVIDER_ID,
        )


def downgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_deliveries_provider_id")
        batch_op.create_index("ix_deliveries_provider_id", ["provider_id"], unique=False)
        batch_op.create_index("ix_deliveries_phone", ["phone"], unique=False)
