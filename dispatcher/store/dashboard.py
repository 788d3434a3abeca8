"""What the operators' dashboard reads besides campaigns' progress (:mod:`dispatcher.store.health`
has that): recent sending rates, failures by error code, registered schedules, the activity log.

Read only. Every query is one aggregate over an indexed column (``delivery_log.at``,
``deliveries (campaign_id, status)``, ``activity_log.campaign_id``), so the page stays cheap
however large the outbox grows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatcher.core.status import Status
from dispatcher.store.health import FAILURES, ActivityEvent
from dispatcher.store.models import ActivityRow, CampaignRow, DeliveryEventRow, DeliveryRow


@dataclass(frozen=True)
class ErrorCount:
    """How many of a campaign's deliveries failed with one error: a provider's code, or for a
    failure without one, the label the dispatcher gave it (``unknown-outcome``...)."""

    code: int | None
    label: str | None  # only when code is None
    count: int


@dataclass(frozen=True)
class RegisteredSchedule:
    """A campaign's spec as last registered (canonical JSON) and its time zone."""

    campaign_id: str
    timezone: str
    spec: str | None


class DashboardQueries:
    """The dashboard's reads, in one unit of work's session."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def attempts_since(self, since: datetime) -> dict[str, int]:
        """Per campaign, the send attempts since ``since``: each claim is logged as a
        ``sending`` event of the delivery log, one per request made to the provider."""
        query = (
            select(DeliveryEventRow.campaign_id, func.count())
            .where(DeliveryEventRow.at >= since, DeliveryEventRow.status == Status.SENDING.value)
            .group_by(DeliveryEventRow.campaign_id)
        )
        return {campaign_id: int(n) for campaign_id, n in self.session.execute(query)}

    def failures_by_error(self, campaign_id: str) -> list[ErrorCount]:
        """The campaign's failed and undelivered deliveries, by error, most frequent first."""
        label = func.coalesce(DeliveryRow.error_message, "")
        query = (
            select(DeliveryRow.error_code, label, func.count())
            .where(DeliveryRow.campaign_id == campaign_id, DeliveryRow.status.in_(FAILURES))
            .group_by(DeliveryRow.error_code, label)
        )
        counts: dict[tuple[int | None, str | None], int] = {}
        for code, message, n in self.session.execute(query):
            # A provider's code is the error; its message text varies, so it is not a key.
            key = (code, None) if code is not None else (None, message or None)
            counts[key] = counts.get(key, 0) + int(n)
        found = [ErrorCount(code, text, n) for (code, text), n in counts.items()]
        return sorted(found, key=lambda e: (-e.count, e.code is None, e.code or 0, e.label or ""))

    def schedules(self, campaign_id: str | None = None) -> list[RegisteredSchedule]:
        """Every campaign's registered spec (or the one named), by id."""
        query = select(CampaignRow.id, CampaignRow.timezone, CampaignRow.spec)
        if campaign_id is not None:
            query = query.where(CampaignRow.id == campaign_id)
        rows = self.session.execute(query.order_by(CampaignRow.id))
        return [RegisteredSchedule(c, tz, spec) for c, tz, spec in rows]

    def global_activity(self, kinds: tuple[str, ...], limit: int) -> list[ActivityEvent]:
        """The newest events of ``kinds`` that concern no one campaign (halt, unhalt)."""
        query = (
            select(ActivityRow)
            .where(ActivityRow.campaign_id.is_(None), ActivityRow.kind.in_(kinds))
            .order_by(ActivityRow.at.desc(), ActivityRow.id.desc())
            .limit(limit)
        )
        return [
            ActivityEvent(row.at, row.kind, row.occurrence_key, row.detail)
            for row in self.session.scalars(query)
        ]
