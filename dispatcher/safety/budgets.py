"""Budgets: per campaign (`sms.budget`) and per calendar month (`budgets.monthly`), in money.

Enforced when work is claimed: before each batch the sender asks :class:`BudgetRule` how many
more segments may go, in the same transaction as the claim and under the budget lock, and claims
only what fits. When nothing fits the run stops (exit 3), saying which budget and how far it got;
the rest stays `pending`, so raising the budget and running `send` again goes on. Prices per
segment come from `pricing.per_segment` for the gateway in use.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from dispatcher.campaigns.spec import Campaign
from dispatcher.core.errors import ConfigError, Problem
from dispatcher.core.schedule import month_bounds
from dispatcher.settings.config import Settings
from dispatcher.store.uow import UnitOfWork


@dataclass(frozen=True)
class Room:
    """How many more segments may be claimed now, and the budget that says so."""

    segments: int
    budget: str  # "campaign budget 5.00 USD" or "monthly budget 100.00 USD (11/2026)"
    spent: float


@dataclass(frozen=True)
class BudgetRule:
    campaign_id: str
    price: float
    currency: str
    campaign_budget: float | None
    monthly_budget: float | None
    tz: ZoneInfo

    def room(self, uow: UnitOfWork, now: datetime) -> Room | None:
        """The tightest budget's room (locks the budgets until the transaction ends)."""
        uow.budgets.lock()
        rooms = []
        if self.campaign_budget is not None:
            segments = uow.budgets.campaign_segments(self.campaign_id)
            rooms.append(self._room(self.campaign_budget, segments, "campaign budget"))
        if self.monthly_budget is not None:
            start, end = month_of(now, self.tz)
            segments = uow.budgets.segments_between(start, end)
            label = f"monthly budget ({start.strftime('%m/%Y')})"
            rooms.append(self._room(self.monthly_budget, segments, label))
        return min(rooms, key=lambda r: r.segments) if rooms else None

    def _room(self, budget: float, spent_segments: int, label: str) -> Room:
        # In decimal, as written in the config: 0.50 at 0.01 a segment is 50 segments, where
        # binary floats would make it 49.99999.
        price, limit = Decimal(str(self.price)), Decimal(str(budget))
        spent = price * spent_segments
        left = max(0, math.floor((limit - spent) / price))
        return Room(left, f"{label} {money(float(limit), self.currency)}", float(spent))


def budget_rule(
    campaign: Campaign | None, settings: Settings, campaign_id: str | None = None
) -> BudgetRule | None:
    """The budgets that apply to a campaign's sends; None when there are none. Without the
    campaign file (``campaign`` None, ``campaign_id`` given) only the monthly budget applies.

    Raises :class:`ConfigError` when a budget applies but the segment price is not known.
    """
    sms = campaign.spec.sms if campaign is not None else None
    campaign_budget = sms.budget if sms is not None else None
    monthly = settings.budgets.monthly
    if campaign_budget is None and monthly is None:
        return None
    price = settings.pricing.price(settings.gateway)
    if price is None:
        field = f"pricing.per_segment.{settings.gateway}"
        message = "a budget is set but the price of a segment is not: set it to keep the budget"
        raise ConfigError(Problem(message, field=field))
    if price == 0:
        return None  # nothing costs anything: no budget can be reached
    cid = campaign.id if campaign is not None else campaign_id or ""
    currency = settings.pricing.currency
    return BudgetRule(cid, price, currency, campaign_budget, monthly, settings.tz)


def refuse_all(reason: str) -> Callable[[UnitOfWork, datetime], Room]:
    """A budget check that lets nothing through: what a worker uses when it cannot know."""
    return lambda _uow, _now: Room(0, reason, 0.0)


def month_of(now: datetime, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The calendar month of ``now`` on ``tz``'s clocks, [start, end), as the report counts."""
    local = now.astimezone(tz)
    return month_bounds(local.year, local.month, tz)


def money(amount: float, currency: str) -> str:
    return f"{amount:,.2f} {currency}"
