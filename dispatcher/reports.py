"""The monthly report the directive asks for: per unit, form of communication, times, means.

Computed from the logs only: SMS from the delivery log (a message counts in the month it first
reached the provider), loudspeaker airings from the airing plan (marked as planned until
communes confirm airings).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from dispatcher.bootstrap import Runtime
from dispatcher.errors import BadInput, Problem

FORM_SMS = "Tin nhắn SMS"
FORM_LOUDSPEAKER = "Phát thanh trên loa truyền thanh cơ sở"
MONTH = re.compile(r"^(\d{4})-(\d{2})$")
YEARS = range(2000, 3000)  # plausible report years; 0001 or 9999 overflow dates (traceback)


@dataclass(frozen=True)
class ReportRow:
    unit: str
    form: str
    means: str
    count: int
    count_unit: str  # "tin" (messages) or "lượt" (airings)
    status: str  # "sent" or "planned"
    segments: int | None = None

    @property
    def note(self) -> str:
        if self.status == "planned":
            return "Theo kế hoạch (chưa xác nhận đã phát)"
        return f"{self.segments} phần tin (segment)" if self.segments is not None else ""


@dataclass(frozen=True)
class MonthlyReport:
    month: str  # YYYY-MM
    start: datetime
    end: datetime
    rows: list[ReportRow]

    @property
    def period_label(self) -> str:
        return f"tháng {self.start.month:02d}/{self.start.year}"


def parse_month(value: str) -> tuple[int, int]:
    match = MONTH.match(value.strip())
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) not in YEARS:
        raise BadInput(Problem(f"'{value}' is not a month like 2024-10", field="--month"))
    return int(match.group(1)), int(match.group(2))


def month_bounds(year: int, month: int, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """[first instant, first instant of next month) in the reporting time zone."""
    start = datetime(year, month, 1, tzinfo=tz)
    following = date(year + month // 12, month % 12 + 1, 1)
    return start, datetime(following.year, following.month, 1, tzinfo=tz)


def monthly(rt: Runtime, month: str) -> MonthlyReport:
    year, number = parse_month(month)
    start, end = month_bounds(year, number, rt.settings.tz)
    with rt.uow() as uow:
        sms = uow.repo.sms_sent_between(start, end)
        airings = uow.repo.airings_between(start, end)
    rows = [
        ReportRow(unit, FORM_SMS, _sms_means(sender), n, "tin", "sent", segments)
        for unit, sender, n, segments in sms
    ]
    rows += [
        ReportRow(unit, FORM_LOUDSPEAKER, f"Đài truyền thanh {commune}", n, "lượt", "planned")
        for unit, commune, n in airings
    ]
    rows.sort(key=lambda r: (r.unit, r.form, r.means))
    return MonthlyReport(f"{year:04d}-{number:02d}", start, end, rows)


def _sms_means(sender: str) -> str:
    return f"Tin nhắn qua tổng đài, tên định danh {sender}" if sender else "Tin nhắn qua tổng đài"
