"""deliveries remember the gateway that took them

``deliveries.gateway`` names the gateway a delivery went through: a Twilio account and base URL,
or one run of the built-in simulator. A status poll asks only the gateway that can know a
message: before this, `serve` asked its Twilio account about every message the demo had sent
to a built-in simulator long gone, and logged one "no message" warning per delivery a minute.

Rows already tried cannot say where they went: they are marked ``legacy`` and polled as before.
Rows never tried stay NULL until they are sent. The outbox is not a chained table, so the
audit chain is untouched.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# Written out rather than taken from the code, so this revision never changes under us.
LEGACY = "legacy"


def upgrade() -> None:
    # A nullable column without a default: SQLite adds it in place, PostgreSQL without a rewrite.
    op.add_column("deliveries", sa.Column("gateway", sa.Text(), nullable=True))
    op.execute(
        sa.text("UPDATE deliveries SET gateway = :legacy WHERE attempts > 0").bindparams(
            legacy=LEGACY
        )
    )


def downgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_column("gateway")
