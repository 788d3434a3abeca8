"""The monthly report's queries: what reached the provider, what came of it, and by which day.

A message counts in the period it first reached the provider (its first ``accepted``, ``sent``,
``delivered`` or ``undelivered`` event); what came of it is its status now. A message the
provider refused outright counts as failed in the period it failed.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Date, case, cast, exists, func, literal, null, or_, select
from sqlalchemy.orm import Session, aliased
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


@dataclass
class _Group:
    """One unit and sender's figures as the month's rows are read."""

    sent: int = 0
    segments: int = 0
    delivered: int = 0
    failed: int = 0
    reached: int = 0
    numbers: int = 0
    titles: set[str] = field(default_factory=set)


class ReportRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def sms_month(
        self, start: datetime, end: datetime, tz: ZoneInfo
    ) -> tuple[list[SmsTotals], Counter[tuple[str, date]]]:
        """Per unit and sender (by unit then sender) the period's messages and their results,
        and per unit and day (in ``tz``) how many first reached the provider.

        One statement, one pass over the period's part of the log: its deliveries are
        gathered once (a materialized CTE), then grouped twice, by campaign, sender and day
        (counts, segments, results, titles, days) and by number (distinct subscribers)."""
        groups: dict[tuple[str, str], _Group] = defaultdict(_Group)
        daily: Counter[tuple[str, date]] = Counter()
        query, day_of = _period_sms(self.session, start, end, tz)
        for kind, unit, sender, title, day, n, segments, done, failed in self.session.execute(
            query
        ):
            group = groups[(unit, sender)]
            if kind == _NUMBERS:
                group.numbers, group.reached = n, int(done or 0)
                continue
            group.sent, group.segments = group.sent + n, group.segments + int(segments or 0)
            group.delivered, group.failed = group.delivered + done, group.failed + failed
            group.titles.add(title)
            daily[(unit, day_of(day))] += n
        for unit, sender, refused in self.session.execute(_refused(start, end)):
            groups[(unit, sender)].failed += refused
        totals = [
            SmsTotals(unit, sender, g.sent, g.segments, g.delivered, g.failed, g.reached,
                      g.numbers, tuple(sorted(g.titles)))
            for (unit, sender), g in sorted(groups.items())
        ]  # fmt: skip
        return totals, daily


_SENDER = func.coalesce(DeliveryRow.sender, "")
_DAYS, _NUMBERS = "days", "numbers"


def _period_sms(
    session: Session, start: datetime, end: datetime, tz: ZoneInfo
) -> tuple[Any, Callable[[Any], date]]:
    """The statement :meth:`ReportRepository.sms_month` reads: rows of kind ``days`` (unit,
    sender, title, day, messages, segments, delivered, failed) and ``numbers`` (unit, sender,
    numbers sent to, numbers delivered to); and how to read a day."""
    first = _first_reached(start, end)
    bucket, day_of = local_day(session, first.c.at, tz)
    delivered = case((DeliveryRow.status == Status.DELIVERED.value, 1), else_=0)
    failed = case((DeliveryRow.status.in_(_FAILED), 1), else_=0)
    period = (
        _of_the_period(first)
        .add_columns(CampaignRow.title, bucket.label("day"), DeliveryRow.phone,
                     DeliveryRow.segments, delivered.label("delivered"), failed.label("failed"))
        .cte("period_sms")
        .prefix_with("MATERIALIZED")  # read twice, computed once
    )  # fmt: skip
    c = period.c
    days = select(
        literal(_DAYS), c.unit, c.sender, c.title, c.day, func.count(), func.sum(c.segments),
        func.sum(c.delivered), func.sum(c.failed),
    ).group_by(c.unit, c.sender, c.title, c.day)  # fmt: skip
    # Grouped by number first, then counted: PostgreSQL sorts far less than for COUNT(DISTINCT).
    per_number = (
        select(c.unit, c.sender, func.max(c.delivered).label("delivered"))
        .group_by(c.unit, c.sender, c.phone)
        .subquery()
    )
    n = per_number.c
    numbers = select(
        literal(_NUMBERS), n.unit, n.sender, null(), null(), func.count(), null(),
        func.sum(n.delivered), null(),
    ).group_by(n.unit, n.sender)  # fmt: skip
    return days.union_all(numbers), day_of


def _first_reached(start: datetime, end: datetime) -> Subquery:
    """(delivery_id, at) of the deliveries that first reached the provider in [start, end).

    Only the period's part of the log is grouped. A delivery's ``accepted`` event is its first
    that reached the provider (statuses only move forward, and ``accepted`` is the lowest of
    them), so the log before the period is looked into only for a delivery whose first event
    in it is a later one (``sent``, ``delivered``...: accepted in an earlier period, perhaps)."""
    event, before = aliased(DeliveryEventRow), aliased(DeliveryEventRow)
    accepted = func.max(case((event.status == Status.ACCEPTED.value, 1), else_=0)) == 1
    earlier = exists(
        select(before.id).where(before.delivery_id == event.delivery_id,
                                before.status.in_(_REACHED), before.at < start)
    )  # fmt: skip
    return (
        select(event.delivery_id, func.min(event.at).label("at"))
        .where(event.status.in_(_REACHED), event.at >= start, event.at < end)
        .group_by(event.delivery_id)
        .having(or_(accepted, ~earlier))
        .subquery()
    )


def _of_the_period(first: Subquery) -> Any:
    """The period's deliveries, by unit and sender."""
    query = select(CampaignRow.unit, _SENDER.label("sender")).select_from(first)
    return _public(query.join(DeliveryRow, DeliveryRow.id == first.c.delivery_id))


def _public(query: Any) -> Any:
    """``query`` over deliveries joined to their campaign, without the test sends (they go to
    staff, not the public)."""
    return (
        query.join(CampaignRow, CampaignRow.id == DeliveryRow.campaign_id)
        .join(OccurrenceRow, OccurrenceRow.id == DeliveryRow.occurrence_id)
        .where(OccurrenceRow.test.is_(False))
    )


def _refused(start: datetime, end: datetime) -> Any:
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
    query = select(CampaignRow.unit, _SENDER, func.count()).select_from(DeliveryRow)
    return (
        _public(query)
        .where(DeliveryRow.status == Status.FAILED.value, failed_in_period, ~reached)
        .group_by(CampaignRow.unit, _SENDER)
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
