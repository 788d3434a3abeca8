"""Monthly reports made by hand, for the tests of what the report is written as (no database)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from dispatcher.reports.monthly import (
    FORM_LOUDSPEAKER,
    FORM_SMS,
    AiringResult,
    MonthlyReport,
    ReportRow,
    SmsResult,
)

VN = ZoneInfo("Asia/Ho_Chi_Minh")
HEAD = (42, "ab" * 32)
DISTRICT, COMMUNE = "UBND huyện Văn Quan", "Xã Tân Đoàn"
STATION = "Đài truyền thanh xã Tân Đoàn"
MEETING = "Hội nghị, họp dân"


def october(*, unit: str | None = None) -> MonthlyReport:
    """10/2024: 1.234 SMS, 8 airings confirmed (2 not), 2 meetings; counted on three days."""
    sms = SmsResult(sent=1234, delivered=1200, failed=34, reached=1190, numbers=1230)
    rows = [
        ReportRow(DISTRICT, FORM_SMS, "Tin nhắn qua tổng đài, tên định danh VANQUAN", 1234, "tin",
                  "sent", 1300, content="Tắt sóng 2G", sms=sms),
        ReportRow(COMMUNE, FORM_LOUDSPEAKER, STATION, 8, "lượt", "aired", content="Thử loa",
                  airing=AiringResult(2400, 8, 2)),
        ReportRow(COMMUNE, MEETING, "Hội trường thôn Bản Chắt", 2, "buổi", "recorded",
                  content="Tắt sóng 2G"),
    ]  # fmt: skip
    planned = (datetime(2024, 10, 2, 6, 0, tzinfo=VN), datetime(2024, 10, 4, 17, 30, tzinfo=VN))
    unconfirmed = [ReportRow(COMMUNE, FORM_LOUDSPEAKER, STATION, 2, "lượt", "unconfirmed",
                             times=planned)]  # fmt: skip
    daily = {
        (DISTRICT, FORM_SMS, date(2024, 10, 3)): 1234,
        (COMMUNE, FORM_LOUDSPEAKER, date(2024, 10, 3)): 3,
        (COMMUNE, FORM_LOUDSPEAKER, date(2024, 10, 7)): 5,
        (COMMUNE, MEETING, date(2024, 10, 10)): 2,
    }
    return MonthlyReport("2024-10", datetime(2024, 10, 1, tzinfo=VN),
                         datetime(2024, 11, 1, tzinfo=VN), rows, unconfirmed, HEAD, daily,
                         unit)  # fmt: skip


def empty(month: int = 2, year: int = 2025) -> MonthlyReport:
    """A month with nothing counted: the calendar month ``month``/``year``."""
    start = datetime(year, month, 1, tzinfo=VN)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=VN)
    return MonthlyReport(f"{year:04d}-{month:02d}", start, end, [])
