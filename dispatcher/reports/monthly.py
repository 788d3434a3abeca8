"""The monthly report the directive asks for: per unit, form of communication, times, means.

Computed from the logs only: SMS from the delivery log (a message counts in the month it first
reached the provider), loudspeaker airings from the communes' confirmations (an airing counts in
the month it aired), and the other forms from the activities the units recorded (``dispatcher
activity``; a record counts in the month of its day, in its corrected state, voids not).
Airings of past days that no commune has confirmed are listed apart, as "Chưa xác nhận", and
not counted; airings still to come are neither.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from dispatcher.bootstrap import Runtime
from dispatcher.core.chain import GENESIS
from dispatcher.core.errors import BadInput, Problem
from dispatcher.core.schedule import month_bounds
from dispatcher.reports.forms import form_by_code
from dispatcher.sms.encoding import fold_vietnamese
from dispatcher.store.airings import PlannedAiring

FORM_SMS = "Tin nhắn SMS"
FORM_LOUDSPEAKER = "Phát thanh trên loa truyền thanh cơ sở"
NOTE_UNCONFIRMED = "Chưa xác nhận (không tính)"
MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_UNIT_WORDS = re.compile(r"^(?:ubnd\s+)?(?:xa|phuong|thi tran|huyen|tinh)\s+")
MONTH_VI = re.compile(r"^(\d{1,2})/(\d{4})$")  # 10/2024, as people write it
YEARS = range(2000, 3000)  # plausible report years; 0001 or 9999 overflow dates (traceback)


@dataclass(frozen=True)
class ReportRow:
    unit: str
    form: str
    means: str
    count: int
    count_unit: str  # "tin" (messages) or "lượt" (airings)
    # "sent", "aired" (confirmed by the commune), "recorded" (an activity) or "unconfirmed"
    status: str
    segments: int | None = None
    times: tuple[datetime, ...] = ()  # of unconfirmed airings: when each was planned

    @property
    def note(self) -> str:
        if self.status == "unconfirmed":
            return NOTE_UNCONFIRMED
        if self.status == "aired":
            return "Xã đã xác nhận đã phát"
        if self.status == "recorded":
            return "Đơn vị ghi nhận"
        return f"{self.segments} phần tin (segment)" if self.segments is not None else ""


@dataclass(frozen=True)
class MonthlyReport:
    month: str  # YYYY-MM
    start: datetime
    end: datetime
    rows: list[ReportRow]  # what is counted: SMS sent, airings confirmed
    unconfirmed: list[ReportRow] = field(default_factory=list)  # past airings not confirmed
    # The audit chain's head (position, hash) when counted: `log verify --head H --at N`
    # later shows the log still holds exactly the history this report was computed on.
    chain_head: tuple[int, str] = (0, GENESIS)

    @property
    def anchor_line(self) -> str:
        at, head = self.chain_head
        return (f"Sổ nhật ký đến bản ghi {at}, mã {head} "
                f"(kiểm tra: dispatcher log verify --head {head} --at {at})")  # fmt: skip

    @property
    def period_label(self) -> str:
        """``tháng 10/2024``: the month reported (the month the period ends in)."""
        return f"tháng {self.month[5:]}/{self.month[:4]}"


def parse_month(value: str) -> tuple[int, int]:
    """``2024-10`` or ``10/2024`` as (year, month); :class:`BadInput` naming ``--month``."""
    iso, vi = MONTH.match(value.strip()), MONTH_VI.match(value.strip())
    year, number = (int(iso[1]), int(iso[2])) if iso else (int(vi[2]), int(vi[1])) if vi else (0, 0)
    if not 1 <= number <= 12 or year not in YEARS:
        message = f"'{value}' is not a month like 2024-10 or 10/2024"
        raise BadInput(Problem(message, field="--month"))
    return year, number


def monthly(rt: Runtime, month: str, unit: str | None = None) -> MonthlyReport:
    """The report of ``month`` (``YYYY-MM``, in the configured time zone); with ``unit``, only
    that unit's rows (its name written with or without tone marks, "Xã" or "UBND")."""
    year, number = parse_month(month)
    tz = rt.settings.tz
    start, end = month_bounds(year, number, tz, rt.settings.report.period_start_day)
    # "Past days": an airing of today may still be confirmed today.
    past = datetime.combine(rt.clock.now().astimezone(tz).date(), time(), tz)
    with rt.uow() as uow:
        sms = uow.reports.sms_sent_between(start, end)
        aired = uow.repo.airings.aired_between(start, end)
        missing = uow.repo.airings.unconfirmed_between(start, min(end, past))
        last_day = end.astimezone(tz).date() - timedelta(days=1)
        recorded = uow.outreach.counted_between(start.astimezone(tz).date(), last_day)
        head = uow.chain.head()  # read last: it covers everything counted above
    rows = [
        ReportRow(unit, FORM_SMS, _sms_means(sender), n, "tin", "sent", segments)
        for unit, sender, n, segments in sms
    ]
    rows += [
        ReportRow(unit, FORM_LOUDSPEAKER, _station(commune), n, "lượt", "aired")
        for unit, commune, n in aired
    ]
    rows += [_recorded(unit, code, means, n) for unit, code, means, n in recorded]
    rows.sort(key=lambda r: (r.unit, r.form, r.means))
    unconfirmed = _unconfirmed(missing, tz)
    if unit is not None:
        rows = [r for r in rows if _unit_key(r.unit) == _unit_key(unit)]
        unconfirmed = [r for r in unconfirmed if _unit_key(r.unit) == _unit_key(unit)]
    return MonthlyReport(f"{year:04d}-{number:02d}", start, end, rows, unconfirmed, head)


def _unit_key(name: str) -> str:
    """How units compare in ``--unit``: no tone marks, case, "UBND" or kind."""
    return _UNIT_WORDS.sub("", " ".join(fold_vietnamese(name).casefold().split()))


def _recorded(unit: str, code: str, means: str, count: int) -> ReportRow:
    form = form_by_code(code)
    return ReportRow(unit, form.label, means, count, form.count_unit, "recorded")


def _station(commune: str) -> str:
    return f"Đài truyền thanh {commune}"


def _unconfirmed(airings: list[PlannedAiring], tz: ZoneInfo) -> list[ReportRow]:
    """One row per unit and commune, with the planned times (in ``tz``) of each airing."""
    grouped: dict[tuple[str, str], list[datetime]] = {}
    for airing in airings:
        grouped.setdefault((airing.unit, airing.commune), []).append(airing.scheduled_at)
    return [
        ReportRow(unit, FORM_LOUDSPEAKER, _station(commune), len(times), "lượt", "unconfirmed",
                  times=tuple(sorted(t.astimezone(tz) for t in times)))
        for (unit, commune), times in sorted(grouped.items())
    ]  # fmt: skip


def _sms_means(sender: str) -> str:
    return f"Tin nhắn qua tổng đài, tên định danh {sender}" if sender else "Tin nhắn qua tổng đài"
