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
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dispatcher.bootstrap import Runtime
from dispatcher.core.chain import GENESIS
from dispatcher.core.errors import BadInput, Problem
from dispatcher.core.schedule import month_bounds
from dispatcher.reports.forms import form_by_code
from dispatcher.sms.encoding import fold_vietnamese
from dispatcher.store.airings import AiredTotals, PlannedAiring
from dispatcher.store.reports import SmsTotals
from dispatcher.store.uow import UnitOfWork

FORM_SMS = "Tin nhắn SMS"
FORM_LOUDSPEAKER = "Phát thanh trên loa truyền thanh cơ sở"
NOTE_UNCONFIRMED = "Chưa xác nhận (không tính)"
NOTE_AIRED = "Đã được xã xác nhận"
RESULT_COLUMN = "Kết quả (người/thuê bao đã tiếp cận)"
# The report's columns as filed (CSV, .xlsx): the count and what it counts in apart.
COLUMNS = ("STT", "Đơn vị", "Hình thức truyền thông", "Nội dung", "Số lượt", "Đơn vị tính",
           "Phương tiện", RESULT_COLUMN, "Ghi chú")  # fmt: skip
MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_KIND = re.compile(r"^(?:Xã|Phường|Thị trấn|Đặc khu)(?= )")
_UNIT_WORDS = re.compile(r"^(?:ubnd\s+)?(?:xa|phuong|thi tran|huyen|tinh)\s+")
MONTH_VI = re.compile(r"^(\d{1,2})/(\d{4})$")  # 10/2024, as people write it
YEARS = range(2000, 3000)  # plausible report years; 0001 or 9999 overflow dates (traceback)


@dataclass(frozen=True)
class SmsResult:
    """What came of a row's messages (they count in the month they reached the provider)."""

    sent: int
    delivered: int  # the carrier acknowledged them
    failed: int  # undelivered, failed, or refused by the provider
    reached: int  # distinct subscribers at least one was delivered to
    numbers: int  # distinct subscribers sent to


@dataclass(frozen=True)
class AiringResult:
    """A commune's confirmed airings: how long they ran, and the month's airings not confirmed."""

    seconds: int  # summed over the airings confirmed with a duration
    timed: int  # how many were
    unconfirmed: int = 0  # past airings of the month no one has confirmed (not counted)


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
    content: str = ""  # Nội dung: the campaigns' titles, or what the unit recorded
    sms: SmsResult | None = None
    airing: AiringResult | None = None

    def cells(self, number: int | str) -> tuple[int | str, ...]:
        """The row under :data:`COLUMNS`, numbered ``number``."""
        return (number, self.unit, self.form, self.content, self.count, self.count_unit,
                self.means, self.result, self.note)  # fmt: skip

    @property
    def result(self) -> str:
        """Kết quả: the subscribers reached, or how long the loudspeakers ran."""
        if self.sms is not None:
            return _reached(self.sms)
        if self.airing is not None and self.airing.timed:
            text = f"Đã phát {vi_number((self.airing.seconds + 30) // 60)} phút"  # half up
            untimed = self.count - self.airing.timed
            return text + (f" ({untimed} lượt không ghi thời lượng)" if untimed else "")
        return ""

    @property
    def note(self) -> str:
        if self.status == "unconfirmed":
            return NOTE_UNCONFIRMED
        if self.status == "aired":
            waiting = self.airing.unconfirmed if self.airing else 0
            return NOTE_AIRED + (f"; {waiting} lượt chưa xác nhận (không tính)" if waiting else "")
        if self.status == "recorded":
            return "Đơn vị ghi nhận"
        if self.sms is None:
            return ""
        return (f"Đã gửi {vi_number(self.sms.sent)} tin ({vi_number(self.segments or 0)} phần "
                f"tin); đã nhận {vi_number(self.sms.delivered)}; không thành công "
                f"{vi_number(self.sms.failed)}")  # fmt: skip


def _reached(sms: SmsResult) -> str:
    if not sms.reached:  # no delivery report yet (or the carrier sends none)
        return f"Đã gửi tới {vi_number(sms.numbers)} thuê bao (chưa có báo đã nhận)"
    text = f"{vi_number(sms.reached)} thuê bao đã nhận"
    return text if sms.reached == sms.numbers else f"{text} / {vi_number(sms.numbers)} đã gửi tới"


def vi_number(n: int) -> str:
    """``12.345``: thousands grouped with dots, as Vietnamese documents write them."""
    return f"{n:,}".replace(",", ".")


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
    # What was counted per (unit, form, day), for the chart of the month.
    daily: dict[tuple[str, str, date], int] = field(default_factory=dict)
    unit: str | None = None  # the unit asked for (--unit), named as its rows name it

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
    last_day = end.astimezone(tz).date() - timedelta(days=1)
    with rt.uow() as uow:
        sms, sms_daily = uow.reports.sms_month(start, end, tz)
        aired = uow.repo.airings.aired_between(start, end)
        missing = uow.repo.airings.unconfirmed_between(start, min(end, past))
        recorded = uow.outreach.counted_between(start.astimezone(tz).date(), last_day)
        daily = _daily(uow, sms_daily, start, end, tz, last_day)
        head = uow.chain.head()  # read last: it covers everything counted above
    unconfirmed = _unconfirmed(missing, tz)
    waiting = {(r.unit, r.means): r.count for r in unconfirmed}
    rows = [_sms(totals) for totals in sms]
    rows += [_aired(totals, waiting.get((totals.unit, _station(totals.commune)), 0))
             for totals in aired]  # fmt: skip
    rows += _recorded(recorded)
    rows.sort(key=lambda r: (r.unit, r.form, r.means))
    if unit is not None:
        rows = [r for r in rows if unit_match_key(r.unit) == unit_match_key(unit)]
        unconfirmed = [r for r in unconfirmed if unit_match_key(r.unit) == unit_match_key(unit)]
        daily = {k: n for k, n in daily.items() if unit_match_key(k[0]) == unit_match_key(unit)}
        unit = next((r.unit for r in [*rows, *unconfirmed]), unit)
    month_key = f"{year:04d}-{number:02d}"
    return MonthlyReport(month_key, start, end, rows, unconfirmed, head, daily, unit)


def _daily(
    uow: UnitOfWork, sms: Counter[tuple[str, date]], start: datetime, end: datetime,
    tz: ZoneInfo, last_day: date,
) -> dict[tuple[str, str, date], int]:  # fmt: skip
    daily: dict[tuple[str, str, date], int] = {}
    for (unit, day), n in sms.items():
        daily[(unit, FORM_SMS, day)] = n
    for (unit, day), n in uow.repo.airings.aired_daily(start, end, tz).items():
        daily[(unit, FORM_LOUDSPEAKER, day)] = n
    for unit, day, code, n in uow.outreach.counted_daily(start.astimezone(tz).date(), last_day):
        key = (unit, form_by_code(code).label, day)
        daily[key] = daily.get(key, 0) + n
    return daily


def _sms(totals: SmsTotals) -> ReportRow:
    result = SmsResult(totals.sent, totals.delivered, totals.failed, totals.reached, totals.numbers)
    means, content = _sms_means(totals.sender), "; ".join(totals.titles)
    return ReportRow(totals.unit, FORM_SMS, means, totals.sent, "tin", "sent", totals.segments,
                     content=content, sms=result)  # fmt: skip


def _aired(totals: AiredTotals, waiting: int) -> ReportRow:
    result = AiringResult(totals.seconds, totals.timed, waiting)
    return ReportRow(totals.unit, FORM_LOUDSPEAKER, _station(totals.commune), totals.airings,
                     "lượt", "aired", content="; ".join(totals.titles), airing=result)  # fmt: skip


def unit_match_key(name: str) -> str:
    """How units compare in ``--unit`` (the report's, the log's): no tone marks, case, "UBND"
    or kind ("Xã Tân Đoàn", "tan doan" and "UBND xã Tân Đoàn" are one unit)."""
    return _UNIT_WORDS.sub("", " ".join(fold_vietnamese(name).casefold().split()))


def _recorded(recorded: list[tuple[str, str, str, str, int]]) -> list[ReportRow]:
    """One row per unit, form and means, its contents listed once each."""
    grouped: dict[tuple[str, str, str], tuple[list[str], int]] = {}
    for unit, code, means, content, count in recorded:
        contents, total = grouped.get((unit, code, means), ([], 0))
        grouped[(unit, code, means)] = ([*contents, content] if content else contents,
                                        total + count)  # fmt: skip
    rows = []
    for (unit, code, means), (contents, count) in grouped.items():
        form = form_by_code(code)
        rows.append(ReportRow(unit, form.label, means, count, form.count_unit, "recorded",
                              content="; ".join(contents)))  # fmt: skip
    return rows


def _station(commune: str) -> str:
    """ "Đài truyền thanh xã Tân Đoàn": inside a phrase the kind of unit is not capitalised."""
    return f"Đài truyền thanh {_KIND.sub(lambda kind: kind[0].lower(), commune)}"


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
