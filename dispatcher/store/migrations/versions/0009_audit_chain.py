"""audit chain: every record of the logs hash-linked in commit order (`dispatcher log verify`)

The history already there is chained here, table by table in the order of
dispatcher.store.chain.CHAINED and by id within each: the chain starts over it.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from dispatcher.core.chain import GENESIS, link
from dispatcher.store.chain import CHAINED, PAGE

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

TABLE = "audit_chain"


def upgrade() -> None:
    chain = op.create_table(
        TABLE,
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column(
            "record_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_chain")),
        sa.UniqueConstraint("source", "record_id", name=op.f("uq_audit_chain_source_record_id")),
    )
    _chain_history(chain)
    _forbid_changes(TABLE)


def _chain_history(chain: sa.Table) -> None:
    """Link the records already in the logs, a page at a time."""
    bind = op.get_bind()
    seq, previous = 0, GENESIS
    for table, (model, names) in CHAINED.items():
        if not sa.inspect(bind).has_table(table):  # a log a later revision adds, empty then
            continue
        columns: list[Any] = [getattr(model, name) for name in names]
        after = 0
        while True:
            query = sa.select(*columns).where(columns[0] > after).order_by(columns[0])
            page = [tuple(row) for row in bind.execute(query.limit(PAGE))]
            if not page:
                break
            rows = []
            for values in page:
                seq, previous = seq + 1, link(previous, table, values)
                rows.append({"seq": seq, "source": table, "record_id": values[0],
                             "hash": previous})  # fmt: skip
            bind.execute(chain.insert(), rows)
            after = page[-1][0]


def _forbid_changes(table: str) -> None:
    """As for the logs (kept here so this revision never changes)."""
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


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for action in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_{action}")
    else:
        op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_append_only ON {TABLE}")
        op.execute(f"DROP FUNCTION IF EXISTS {TABLE}_append_only()")
    op.drop_table(TABLE)
