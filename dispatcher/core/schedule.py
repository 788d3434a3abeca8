"""Calendars: when a campaign's occurrences happen, and how to write those moments for people.

Everything here is pure. The current time is always an argument (``now``), never read, so the
service layer decides which clock to trust and tests need no freezing.

Moments are timezone-aware. Comparisons and arithmetic go through UTC on purpose: Python compares
two datetimes that share a ``tzinfo`` by their wall clocks, which is wrong across a DST change.
"""

from __future__ import annotations

import itertools
from collections.abc import Collection, Iterable, Iterator, Sequence
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Literal, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WEEKDAYS: dict[str, int] = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}

# Monday first, as date.weekday() counts. "Chủ nhật" keeps its lower-case n: it is a noun
# phrase, not "Thứ" + a numeral like the others.
WEEKDAY_NAMES_VI: tuple[str, ...] = (
    "Thứ Hai",
    "Thứ Ba",
    "Thứ Tư",
    "Thứ Năm",
    "Thứ Sáu",
    "Thứ Bảy",
    "Chủ nhật",
)

Timing = Literal["future", "due", "missed"]


def localize(day: date, wall: time, tz: tzinfo) -> datetime:
    """The aware moment when clocks in ``tz`` show ``wall`` on ``day``.

    DST makes some wall times ambiguous or nonexistent; we follow RFC 5545 (iCalendar) §3.3.5:

    * ambiguous (autumn fall-back, the hour happens twice): the *first* occurrence, so an
      occurrence is never sent twice;
    * nonexistent (spring-forward gap): read with the offset in force *before* the gap, which
      moves it forward by the gap's length (Europe/Berlin, 2024-03-31: 02:30 becomes
      03:30+02:00). It still happens, as soon as the clock allows, instead of silently vanishing.
    """
    naive = datetime.combine(day, wall.replace(tzinfo=None))
    # fold=0 selects the first reading; the UTC round trip turns a gap time into a real one.
    return naive.replace(tzinfo=tz, fold=0).astimezone(UTC).astimezone(tz)


def expand(
    start: date,
    end: date,
    times: Sequence[time],
    days: Collection[int] | None,
    tz: tzinfo,
) -> Iterator[datetime]:
    """Every moment from ``start`` to ``end`` (both included) on ``days`` at each of ``times``.

    ``days`` holds ``date.weekday()`` numbers (Monday 0, see :data:`WEEKDAYS`); ``None`` means
    every day. Moments are aware, in ``tz``, strictly increasing: wall times are resolved with
    :func:`localize`, and a gap time that lands on a moment already produced (02:00 and 03:00 on a
    spring-forward day) is produced once.
    """
    weekdays = _check_weekdays(days)
    walls = sorted(set(times))
    last: datetime | None = None
    for ordinal in range(start.toordinal(), end.toordinal() + 1):
        day = date.fromordinal(ordinal)
        if weekdays is not None and day.weekday() not in weekdays:
            continue
        # Sorting by instant matters only on gap days, where 02:30 resolves after 03:00.
        for moment in sorted((localize(day, wall, tz) for wall in walls), key=instant):
            if last is None or instant(moment) > instant(last):
                last = moment
                yield moment


class ScheduleSpec(Protocol):
    """What :func:`occurrences` reads: one of the three forms of a campaign's ``sms.schedule``.

    The simple form has ``start``, ``end``, ``times`` (and ``weekdays``); the cron form ``cron``
    with ``start`` and ``end``; the one-off form ``at``, naive local date-times.
    """

    @property
    def start(self) -> date | None: ...
    @property
    def end(self) -> date | None: ...
    @property
    def times(self) -> Sequence[time] | None: ...
    @property
    def weekdays(self) -> Collection[int] | None: ...
    @property
    def cron(self) -> str | None: ...
    @property
    def at(self) -> Sequence[datetime] | None: ...


def occurrences(spec: ScheduleSpec, tz: tzinfo, from_day: date | None = None) -> Iterator[datetime]:
    """Every moment ``spec`` fires, aware, in ``tz``, strictly increasing (lazy).

    All three forms resolve wall times with :func:`localize`, so DST is handled the same way.
    ``from_day`` skips the days before it: a shortcut for callers that only look ahead.
    """
    if spec.at is not None:
        return _one_offs(spec.at, tz, from_day)
    if spec.start is None or spec.end is None:
        raise ValueError("a schedule without `at` needs `start` and `end`")
    first = max(spec.start, from_day) if from_day else spec.start
    if spec.cron is not None:
        return cron_moments(spec.cron, first, spec.end, tz)
    return expand(first, spec.end, spec.times or (), spec.weekdays, tz)


def cron_moments(expression: str, start: date, end: date, tz: tzinfo) -> Iterator[datetime]:
    """The moments a five-field cron ``expression`` names, from ``start`` to ``end`` (included).

    croniter walks the *wall clock* (naive datetimes), and each wall time is then resolved with
    :func:`localize`: croniter's own DST handling differs from ours, and one rule must hold for
    every form. Day of month and day of week combine as in cron: either one matching is enough.
    """
    from croniter import CroniterBadDateError, croniter  # for cron schedules only (and dateutil)

    walls = croniter(expression, datetime.combine(start, time()) - timedelta(minutes=1))
    last: datetime | None = None
    while True:
        try:
            wall: datetime = walls.get_next(datetime)
        except CroniterBadDateError:  # nothing matches for decades (30 February)
            return
        if wall.date() > end:
            return
        moment = localize(wall.date(), wall.time(), tz)
        if last is None or instant(moment) > instant(last):  # a gap time landing on another
            last = moment
            yield moment


def check_cron(expression: str) -> str:
    """Validate a five-field cron expression (a pydantic validator); returns it tidied."""
    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(
            f"'{expression}' is not a cron expression: write five fields, minute hour "
            'day-of-month month day-of-week, like "0 8 * * mon,thu"'
        )
    from croniter import CroniterBadCronError, croniter

    try:
        croniter(" ".join(fields))
    except (CroniterBadCronError, ValueError) as exc:
        raise ValueError(f"'{expression}' is not a valid cron expression: {exc}") from exc
    return " ".join(fields)


def _one_offs(walls: Iterable[datetime], tz: tzinfo, from_day: date | None) -> Iterator[datetime]:
    moments = sorted(
        (localize(w.date(), w.time(), tz) for w in walls if not from_day or w.date() >= from_day),
        key=instant,
    )
    last: datetime | None = None
    for moment in moments:
        if last is None or instant(moment) > instant(last):
            last = moment
            yield moment


def next_occurrences(
    occurrences: Iterable[datetime], after: datetime, limit: int
) -> list[datetime]:
    """The first ``limit`` of the chronological ``occurrences`` at or after ``after``."""
    if limit < 0:
        raise ValueError(f"limit must not be negative, got {limit}")
    threshold = instant(after)
    upcoming = itertools.dropwhile(lambda at: instant(at) < threshold, occurrences)
    return list(itertools.islice(upcoming, limit))


def classify(at: datetime, now: datetime, grace: timedelta) -> Timing:
    """Whether the occurrence at ``at`` is still ahead, may run now, or was missed.

    It is ``"due"`` from ``at`` (included) until ``at + grace`` (excluded): a sender that was down
    at the hour may still catch up within the grace period, but never sends hours late.
    """
    if grace <= timedelta(0):
        raise ValueError(f"grace must be positive, got {grace}")
    start, moment = instant(at), instant(now)
    if moment < start:
        return "future"
    return "due" if moment < start + grace else "missed"


def occurrence_key(at: datetime) -> str:
    """``at`` as ISO 8601 local time with offset to the minute, e.g. ``2024-08-01T08:00+07:00``.

    A stable database key: it is written in ``at``'s own zone (pass the campaign's local moments,
    as :func:`expand` yields them), and the offset keeps the two 02:30s of a fall-back night apart.
    """
    _require_aware(at, "at")
    return at.isoformat(timespec="minutes")


def format_date_vi(day: date) -> str:
    """``05/02/2024``: day/month/year, zero-padded, as Vietnamese documents write dates."""
    return f"{day.day:02d}/{day.month:02d}/{day.year:04d}"


def format_time_vi(moment: datetime | time) -> str:
    """``08:00``: 24-hour clock, zero-padded."""
    return f"{moment.hour:02d}:{moment.minute:02d}"


def format_datetime_vi(moment: datetime) -> str:
    """``08:00 05/02/2024``: the wall time in ``moment``'s own zone, time before date."""
    return f"{format_time_vi(moment)} {format_date_vi(moment.date())}"


def weekday_vi(day: date) -> str:
    """The weekday's Vietnamese name, ``"Thứ Hai"`` … ``"Chủ nhật"``."""
    return WEEKDAY_NAMES_VI[day.weekday()]


def instant(moment: datetime) -> datetime:
    """``moment`` in UTC, for comparisons that must not be fooled by wall clocks."""
    _require_aware(moment, "moment")
    return moment.astimezone(UTC)


def _require_aware(moment: datetime, name: str) -> None:
    # A naive datetime would be read as the *server's* local time by astimezone(): refuse it.
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {moment.isoformat()}")


def _check_weekdays(days: Collection[int] | None) -> frozenset[int] | None:
    if days is None:
        return None
    weekdays = frozenset(days)
    wrong = sorted(d for d in weekdays if d not in range(7))
    if wrong:
        raise ValueError(f"weekdays are 0 (Monday) to 6 (Sunday), got {wrong}")
    return weekdays


def known_zone(value: str) -> str:
    """Validate an IANA time zone name (a pydantic field validator for settings and campaigns)."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone '{value}'") from exc
    return value


def month_bounds(
    year: int, month: int, tz: tzinfo, start_day: int = 1
) -> tuple[datetime, datetime]:
    """[first instant, first instant after) of the month's reporting period in ``tz``: the
    calendar month, or with ``start_day`` > 1 from that day of the month before to the day
    before it in this month (15: 15/09 to 14/10 for October)."""
    if start_day == 1:
        start = datetime(year, month, 1, tzinfo=tz)
        following = date(year + month // 12, month % 12 + 1, 1)
        return start, datetime(following.year, following.month, 1, tzinfo=tz)
    before = date(year - (month == 1), (month - 2) % 12 + 1, start_day)
    return (datetime(before.year, before.month, start_day, tzinfo=tz),
            datetime(year, month, start_day, tzinfo=tz))  # fmt: skip
