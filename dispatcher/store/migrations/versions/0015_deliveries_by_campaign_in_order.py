"""deliveries by campaign in id order: the auditors' pages of one campaign's log

A page of the delivery log filtered by campaign is ``campaign_id = ? AND id > ? ORDER BY id
LIMIT n``. With only ``(campaign_id, status)`` SQLite read and sorted every row of the campaign
for each page: 2.2 s a page for a campaign of 10 million. With ``(campaign_id, id)`` a page
costs 1 ms, the millionth as the first. Rows are added in id order per campaign, so the index
is appended to, not written at random.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

INDEX = "ix_deliveries_campaign_id_id"


def upgrade() -> None:
    op.create_index(INDEX, "deliveries", ["campaign_id", "id"])


def downgrade() -> None:
    op.drop_index(INDEX, table_name="deliveries")
