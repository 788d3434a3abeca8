"""The monthly report's queries: what reached the provider, what came of it, and by which day.

A message counts in the period it first reached the provider (its first ``accepted``, ``sent``,
``delivered`` or ``undelivered`` event); what came of it is its status now. A message the
provider refused outright counts as failed in the period it failed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Date, case, cast, exists, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import Subquery

from dispatcher.core.status import REACHED_PROVIDER, Status
from dispatcher.store.models import CampaignRow, DeliveryEventRow, DeliveryRow, OccurrenceRow

_REACHED = [s.value for s in REACHED_PROVIDER]
_FAILED = [Status.UNDELIVERED.value, Status.FAILED.value]


@dataclass(frozen=True)
class SmsTotals:
    """One unit's messages under one sender name in a period."""

    unit: str
    sender: str
    sent: int  # first reached the provider in the period
    segments: int
    delivered: int  # of those sent: the carrier acknowledged them
    failed: int  # of those sent: undelivered or failed; and those refused in the period
    reached: int  # distinct numbers at least one message was delivered to
    numbers: int  # distinct numbers sent to
    titles: tuple[str, ...] = ()  # the campaigns' titles


class ReportRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def sms_between(self, start: datetime, end: datetime) -> list[SmsTotals]:
        """Per unit and sender, by unit then sender: the period's messages and their results."""
        first = _first_reached(start, end)
        delivered = DeliveryRow.status == Status.DELIVERED.value
        query = (
            _by_unit_and_sender(first)
            .add_columns(
                func.count(),
                func.sum(DeliveryRow.segments),
                func.sum(case((delivered, 1), else_=0)),
                func.sum(case((DeliveryRow.status.in_(_FAILED), 1), else_=0)),
                func.count(func.distinct(case((delivered, DeliveryRow.phone)))),
                func.count(func.distinct(DeliveryRow.phone)),
            )
        )  # fmt: skip
        totals: dict[tuple[str, str], list[int]] = {}
        for unit, sender, *figures in self.session.execute(query):
            totals[(unit, sender)] = [int(n or 0) for n in figures]
        for unit, sender, refused in self.session.execute(self._refused(start, end)):
            totals.setdefault((unit, sender), [0, 0, 0, 0, 0, 0])[3] += int(refused)
        titles = self._sms_titles(first)
        return [
            SmsTotals(unit, sender, sent, segments, done, failed, reached, numbers,
                      tuple(sorted(titles.get((unit, sender), ()))))
            for (unit, sender), (sent, segments, done, failed, reached, numbers)
            in sorted(totals.items())
        ]  # fmt: skip

    def sms_daily(self, start: datetime, end: datetime, tz: ZoneInfo) -> Counter[tuple[str, date]]:
        """Messages first reaching the provider per unit and day (in ``tz``)."""
        first = _first_reached(start, end)
        bucket, day_of = local_day(self.session, first.c.at, tz)
        query = (
            select(CampaignRow.unit, bucket, func.count())
            .select_from(first)
            .join(DeliveryRow, DeliveryRow.id == first.c.delivery_id)
            .join(CampaignRow, CampaignRow.id == DeliveryRow.campaign_id)
            .join(OccurrenceRow, OccurrenceRow.id == DeliveryRow.occurrence_id)
            .where(OccurrenceRow.test.is_(False))
            .group_by(CampaignRow.unit, bucket)
        )
        daily: Counter[tuple[str, date]] = Counter()
        for unit, value, n in self.session.execute(query):
            daily[(unit, day_of(value))] += int(n)
        return daily

    def _sms_titles(self, first: Subquery) -> dict[tuple[str, str], set[str]]:
        query = _by_unit_and_sender(first).add_columns(CampaignRow.title).distinct()
        titles: dict[tuple[str, str], set[str]] = {}
        for unit, sender, title in self.session.execute(query.order_by(None).group_by(None)):
            titles.setdefault((unit, sender), set()).add(title)
        return titles

    def _refused(self, start: datetime, end: datetime) -> Any:
        """(unit, sender, n): messages that failed in [start, end) and never reached it."""
        event = DeliveryEventRow
        failed_in_period = exists(
            select(event.id).where(event.delivery_id == DeliveryRow.id,
                                   event.status == Status.FAILED.value,
                                   event.at >= start, event.at < end)
        )  # fmt: skip
        reached = exists(
            select(event.id).where(event.delivery_id == DeliveryRow.id, event.status.in_(_REACHED))
        )
        sender = func.coalesce(DeliveryRow.sender, "")
        return (
            select(CampaignRow.unit, sender, func.count())
            .select_from(DeliveryRow)
            .join(CampaignRow, CampaignRow.id == DeliveryRow.campaign_id)
            .join(OccurrenceRow, OccurrenceRow.id == DeliveryRow.occurrence_id)
            .where(DeliveryRow.status == Status.FAILED.value, OccurrenceRow.test.is_(False))
            .where(failed_in_period, ~reached)
            .group_by(CampaignRow.unit, sender)
        )


def _first_reached(start: datetime, end: datetime) -> Subquery:
    """(delivery_id, at) of the deliveries that first reached the provider in [start, end)."""
    first = (
        select(DeliveryEventRow.delivery_id, func.min(DeliveryEventRow.at).label("at"))
        .where(DeliveryEventRow.status.in_(_REACHED))
        .group_by(DeliveryEventRow.delivery_id)
        .subquery()
    )
    return select(first).where(first.c.at >= start, first.c.at < end).subquery()


def _by_unit_and_sender(first: Subquery) -> Any:
    """The period's deliveries, not the test sends (they go to staff, not the public),
    grouped by unit and sender."""
    sender = func.coalesce(DeliveryRow.sender, "")
    return (
        select(CampaignRow.unit, sender)
        .select_from(first)
        .join(DeliveryRow, DeliveryRow.id == first.c.delivery_id)
        .join(CampaignRow, CampaignRow.id == DeliveryRow.campaign_id)
        .join(OccurrenceRow, OccurrenceRow.id == DeliveryRow.occurrence_id)
        .where(OccurrenceRow.test.is_(False))
        .group_by(CampaignRow.unit, sender)
        .order_by(CampaignRow.unit, sender)
    )


def local_day(
    session: Session, column: Any, tz: ZoneInfo
) -> tuple[ColumnElement[Any], Callable[[Any], date]]:
    """A grouping expression for the day of ``column`` in ``tz``, and how to read its values as
    dates. PostgreSQL converts exactly; SQLite (which keeps UTC text) groups by the UTC hour,
    which falls on one local day in every zone whose offset is whole hours."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.timezone(tz.key, column), Date), _as_date
    hour = func.substr(column, 1, 13)  # "2024-10-05 03"

    def day_of(value: str) -> date:
        return datetime.strptime(value, "%Y-%m-%d %H").replace(tzinfo=UTC).astimezone(tz).date()

    return hour, day_of


def _as_date(value: date) -> date:
    return value
