"""opt-out list

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

# Kept here rather than imported so this revision never changes under us.
APPEND_ONLY_TABLES = ("optout_log",)

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "optouts",
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("phone", name=op.f("pk_optouts")),
    )
    op.create_table(
        "optout_log",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("action", sa.String(length=8), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=True),
        sa.CheckConstraint("action IN ('add', 'remove')", name="ck_optout_log_action"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_optout_log")),
    )
    with op.batch_alter_table("optout_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_optout_log_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_optout_log_phone"), ["phone"], unique=False)

    for table in APPEND_ONLY_TABLES:
        _forbid_changes(table)


def _forbid_changes(table: str) -> None:
    """The logs are evidence: the database itself refuses to update or delete their rows."""
    if op.get_bind().dialect.name == "sqlite":
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
            )
        return
    op.execute(
        f"CREATE FUNCTION {table}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN RAISE EXCEPTION '{table} is append-only'; END $$"
    )
    op.execute(
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON {table} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {table}_append_only()"
    )


def _allow_changes(table: str) -> None:
    if op.get_bind().dialect.name == "sqlite":
        for action in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{action}")
        return
    op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
    op.execute(f"DROP FUNCTION IF EXISTS {table}_append_only()")


def downgrade() -> None:
    for table in APPEND_ONLY_TABLES:
        _allow_changes(table)
    with op.batch_alter_table("optout_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_optout_log_phone"))
        batch_op.drop_index(batch_op.f("ix_optout_log_at"))

    op.drop_table("optout_log")
    op.drop_table("optouts")
