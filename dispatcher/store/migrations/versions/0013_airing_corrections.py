"""airing corrections: a commune's confirmation undone (within minutes), or that undo redone

``airing_confirmations`` stays as it is (one row per airing, never changed); a correction
names the confirmation it concerns and, for a redo, the undo it corrects. Append-only and in
the audit chain like the other logs (dispatcher.store.chain.CHAINED).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-10
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

TABLE = "airing_corrections"
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("confirmation_id", _ID, nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("corrects_id", _ID, nullable=True),
        sa.Column("recorded_by", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('undo', 'redo')", name=op.f("ck_airing_corrections_kind")),
        sa.CheckConstraint(
            "source IN ('cli', 'web', 'http')", name=op.f("ck_airing_corrections_source")
        ),
        sa.ForeignKeyConstraint(
            ["confirmation_id"],
            ["airing_confirmations.id"],
            name=op.f("fk_airing_corrections_confirmation_id_airing_confirmations"),
        ),
        sa.ForeignKeyConstraint(
            ["corrects_id"],
            [f"{TABLE}.id"],
            name=op.f("fk_airing_corrections_corrects_id_airing_corrections"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_airing_corrections")),
        sa.UniqueConstraint("corrects_id", name=op.f("uq_airing_corrections_corrects_id")),
    )
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_airing_corrections_confirmation_id"), ["confirmation_id"], unique=False
        )
    _forbid_changes()


def _forbid_changes() -> None:
    """As for the other logs (kept here so this revision never changes)."""
    if op.get_bind().dialect.name == "sqlite":
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {TABLE}_no_{action.lower()} BEFORE {action} ON {TABLE} "
                f"BEGIN SELECT RAISE(ABORT, '{TABLE} is append-only'); END"
            )
        return
    op.execute(
        f"CREATE FUNCTION {TABLE}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN RAISE EXCEPTION '{TABLE} is append-only'; END $$"
    )
    op.execute(
        f"CREATE TRIGGER {TABLE}_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON {TABLE} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {TABLE}_append_only()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for action in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_{action}")
    else:
        op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_append_only ON {TABLE}")
        op.execute(f"DROP FUNCTION IF EXISTS {TABLE}_append_only()")
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_airing_corrections_confirmation_id"))
    op.drop_table(TABLE)
