"""Approvals (append-only): who approved which version of a campaign, and when."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatcher.store.models import ApprovalRow


class ApprovalRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(
        self, campaign_id: str, fingerprint: str, recipients: int, approver: str, now: datetime
    ) -> None:
        row = ApprovalRow(
            campaign_id=campaign_id, fingerprint=fingerprint, recipients=recipients,
            approver=approver, at=now,
        )  # fmt: skip
        self.session.add(row)

    def latest(self, campaign_id: str) -> ApprovalRow | None:
        query = select(ApprovalRow).where(ApprovalRow.campaign_id == campaign_id)
        return self.session.scalars(query.order_by(ApprovalRow.id.desc()).limit(1)).first()

    def matching(self, campaign_id: str, fingerprint: str) -> ApprovalRow | None:
        query = select(ApprovalRow).where(
            ApprovalRow.campaign_id == campaign_id, ApprovalRow.fingerprint == fingerprint
        )
        return self.session.scalars(query.order_by(ApprovalRow.id.desc()).limit(1)).first()
