"""airing confirmations: the communes' word that a planned airing went out

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

# Kept here rather than imported so this revision never changes under us.
APPEND_ONLY_TABLES = ("airing_confirmations",)

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "airing_confirmations",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("campaign_id", sa.String(length=64), nullable=False),
        sa.Column("commune", sa.Text(), nullable=False),
        sa.Column("scheduled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("aired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duration_s", sa.Integer(), nullable=True),
        sa.Column("confirmed_by", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "source IN ('cli', 'web', 'http')", name="ck_airing_confirmations_source"
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_airing_confirmations_campaign_id_campaigns"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_airing_confirmations")),
        sa.UniqueConstraint(
            "campaign_id",
            "commune",
            "scheduled_at",
            name=op.f("uq_airing_confirmations_campaign_id_commune_scheduled_at"),
        ),
    )
    with op.batch_alter_table("airing_confirmations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_airing_confirmations_aired_at"), ["aired_at"], unique=False
        )

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
    with op.batch_alter_table("airing_confirmations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_airing_confirmations_aired_at"))
    op.drop_table("airing_confirmations")
