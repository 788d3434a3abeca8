"""Budget arithmetic (pure): calendar months on Vietnamese clocks, and decimal rooms."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from dispatcher.safety.budgets import BudgetRule, month_of

VN = ZoneInfo("Asia/Ho_Chi_Minh")


def test_a_month_is_the_calendar_month_on_local_clocks() -> None:
    # 17:30 UTC on 31/10 is already 00:30 on 01/11 in Vietnam.
    start, end = month_of(datetime(2026, 10, 31, 17, 30, tzinfo=UTC), VN)
    assert (start, end) == (datetime(2026, 11, 1, tzinfo=VN), datetime(2026, 12, 1, tzinfo=VN))
    december = month_of(datetime(2026, 12, 31, 12, tzinfo=VN), VN)
    assert december == (datetime(2026, 12, 1, tzinfo=VN), datetime(2027, 1, 1, tzinfo=VN))


def test_rooms_are_counted_in_decimal_as_written() -> None:
    rule = BudgetRule("c", 0.01, "USD", 0.5, None, VN)
    assert rule._room(0.5, 8, "campaign budget").segments == 42  # not 41 (binary 0.41999…)
    assert rule._room(0.3, 0, "b").segments == 30
    assert rule._room(0.5, 60, "b").segments == 0  # already over: nothing, never negative
    assert rule._room(0.5, 8, "campaign budget").budget == "campaign budget 0.50 USD"
