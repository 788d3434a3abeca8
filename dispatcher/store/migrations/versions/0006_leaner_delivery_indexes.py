"""leaner outbox writes: fewer indexes, and a delivery log that does not lock the outbox

Phone numbers arrive in random order, so every index led by phone costs a random write per
new outbox row (on PostgreSQL, ``ix_deliveries_phone_sent_at`` alone was 10 s of a million-row
occurrence). One is kept: the unique constraint, now (phone, occurrence_id), which serves the
lookups by number as well; ``ix_deliveries_phone`` and ``ix_deliveries_phone_sent_at`` go.
``ix_deliveries_provider_id`` keeps only the rows that have a provider id: a new outbox row has
none, so writing it no longer touches that index.

The delivery log loses its foreign key to the outbox. The log is the evidence and stands on its
own (each event carries its campaign, occurrence, number and status); its rows are written only
from outbox rows in the same transaction; and it must be able to outlive them, since the log can
never be changed while a purge of old outbox rows stays possible. On PostgreSQL the key also made
every event lock its outbox row: 11-19 s of a million-recipient occurrence (measured).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# Written out rather than taken from the models, so this revision never changes under us.
HAS_PROVIDER_ID = sa.text("provider_id IS NOT NULL")
LOG = "delivery_log"
LOG_TO_OUTBOX = "fk_delivery_log_delivery_id_deliveries"
OLD_UNIQUE = "uq_deliveries_occurrence_id_phone"
NEW_UNIQUE = "uq_deliveries_phone_occurrence_id"


def upgrade() -> None:
    # The log first: SQLite rebuilds both tables, and the outbox cannot be rebuilt while the
    # log's key points at it.
    _rebuild_log(lambda batch_op: batch_op.drop_constraint(LOG_TO_OUTBOX, type_="foreignkey"))
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_deliveries_phone")
        batch_op.drop_index("ix_deliveries_phone_sent_at")
        batch_op.drop_constraint(OLD_UNIQUE, type_="unique")
        batch_op.create_unique_constraint(NEW_UNIQUE, ["phone", "occurrence_id"])
        batch_op.drop_index("ix_deliveries_provider_id")
        batch_op.create_index(
            "ix_deliveries_provider_id",
            ["provider_id"],
            unique=False,
            postgresql_where=HAS_PROVIDER_ID,
            sqlite_where=HAS_PROVIDER_ID,
        )


def _rebuild_log(change: Callable[[Any], None]) -> None:
    """Apply ``change`` to the delivery log's constraints. SQLite rebuilds the table for it,
    which drops its triggers: the append-only ones are made again, exactly as 0001 made them."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    with op.batch_alter_table(LOG, schema=None) as batch_op:
        change(batch_op)
    if sqlite:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {LOG}_no_{action.lower()} BEFORE {action} ON {LOG} "
                f"BEGIN SELECT RAISE(ABORT, '{LOG} is append-only'); END"
            )


def downgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_deliveries_provider_id")
        batch_op.create_index("ix_deliveries_provider_id", ["provider_id"], unique=False)
        batch_op.drop_constraint(NEW_UNIQUE, type_="unique")
        batch_op.create_unique_constraint(OLD_UNIQUE, ["occurrence_id", "phone"])
        batch_op.create_index("ix_deliveries_phone_sent_at", ["phone", "sent_at"], unique=False)
        batch_op.create_index("ix_deliveries_phone", ["phone"], unique=False)
    _rebuild_log(
        lambda batch_op: batch_op.create_foreign_key(
            LOG_TO_OUTBOX, "deliveries", ["delivery_id"], ["id"]
        )
    )
