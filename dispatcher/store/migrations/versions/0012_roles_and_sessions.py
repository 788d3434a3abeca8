"""tokens for operators and auditors; browser sessions opened with a token

``access_tokens`` held the communes' links only. Operators and auditors (read-only) get tokens of
their own in the same table: their ``unit_key`` is NULL (a commune's token keeps its unit), and
``holder`` names the person a token was given to. ``web_sessions`` keeps the browser sessions a
token opens, as the SHA-256 digest of the cookie's value. Existing commune links keep working
unchanged. Neither table is chained, so the audit chain is untouched.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-09
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # SQLite cannot alter a constraint in place: batch mode copies the table (a few rows).
    with op.batch_alter_table("access_tokens", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_access_tokens_role"), type_="check")
        batch_op.alter_column("unit_key", existing_type=sa.Text(), nullable=True)
        batch_op.add_column(sa.Column("holder", sa.Text(), nullable=True))
        batch_op.create_check_constraint(
            op.f("ck_access_tokens_role"), "role IN ('operator', 'auditor', 'commune')"
        )
        batch_op.create_check_constraint(
            op.f("ck_access_tokens_unit"), "(role = 'commune') = (unit_key IS NOT NULL)"
        )
    op.create_table(
        "web_sessions",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("token_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["token_id"],
            ["access_tokens.id"],
            name=op.f("fk_web_sessions_token_id_access_tokens"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_sessions")),
        sa.UniqueConstraint("digest", name=op.f("uq_web_sessions_digest")),
    )
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_web_sessions_token_id"), ["token_id"], unique=False)


def downgrade() -> None:
    op.drop_table("web_sessions")
    op.execute(sa.text("DELETE FROM access_tokens WHERE role <> 'commune'"))
    with op.batch_alter_table("access_tokens", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_access_tokens_unit"), type_="check")
        batch_op.drop_constraint(op.f("ck_access_tokens_role"), type_="check")
        batch_op.drop_column("holder")
        batch_op.alter_column("unit_key", existing_type=sa.Text(), nullable=False)
        batch_op.create_check_constraint(op.f("ck_access_tokens_role"), "role IN ('commune')")
