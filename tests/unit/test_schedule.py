"""Occurrences, their timing and their Vietnamese spelling (dispatcher.core.schedule)."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dispatcher.campaigns.timing import Schedule
from dispatcher.core.schedule import (
    WEEKDAYS,
    check_cron,
    classify,
    expand,
    format_date_vi,
    format_datetime_vi,
    format_time_vi,
    localize,
    next_occurrences,
    occurrence_key,
    occurrences,
    weekday_vi,
)

VN = ZoneInfo("Asia/Ho_Chi_Minh")
BERLIN = ZoneInfo("Europe/Berlin")
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)


def iso(moments: Iterable[datetime]) -> list[str]:
    return [m.isoformat(timespec="minutes") for m in moments]


@pytest.mark.parametrize(
    ("start", "end", "times", "days", "zone", "expected"),
    [
        pytest.param(
            date(2024, 8, 1), date(2024, 8, 7), [time(6)], {MON, WED, FRI}, VN,
            ["2024-08-02T06:00+07:00", "2024-08-05T06:00+07:00", "2024-08-07T06:00+07:00"],
            id="days-filter-and-inclusive-end",
        ),
        pytest.param(
            date(2024, 8, 1), date(2024, 8, 1), [time(17, 30), time(6)], None, VN,
            ["2024-08-01T06:00+07:00", "2024-08-01T17:30+07:00"],
            id="one-day-several-times-sorted",
        ),
        pytest.param(
            date(2024, 8, 1), date(2024, 8, 2), [time(8), time(8)], None, VN,
            ["2024-08-01T08:00+07:00", "2024-08-02T08:00+07:00"],
            id="duplicate-times-once",
        ),
        pytest.param(
            date(2024, 8, 3), date(2024, 8, 4), [time(6)], {MON}, VN, [], id="no-matching-day"
        ),
        pytest.param(
            date(2024, 8, 2), date(2024, 8, 1), [time(6)], None, VN, [], id="end-before-start"
        ),
        pytest.param(
            date(2024, 12, 31), date(2025, 1, 1), [time(23, 59), time(0)], None, VN,
            ["2024-12-31T00:00+07:00", "2024-12-31T23:59+07:00",
             "2025-01-01T00:00+07:00", "2025-01-01T23:59+07:00"],
            id="across-new-year",
        ),
        pytest.param(
            date(1975, 6, 12), date(1975, 6, 13), [time(8)], None, VN,
            ["1975-06-12T08:00+08:00", "1975-06-13T08:00+07:00"],
            id="saigon-moved-from-utc8-to-utc7-in-1975",
        ),
        pytest.param(
            date(2024, 3, 30), date(2024, 4, 1), [time(1, 30), time(2, 30), time(3)], None, BERLIN,
            ["2024-03-30T01:30+01:00", "2024-03-30T02:30+01:00", "2024-03-30T03:00+01:00",
             # 02:30 does not exist on the 31st: it moves forward by the gap, after 03:00.
             "2024-03-31T01:30+01:00", "2024-03-31T03:00+02:00", "2024-03-31T03:30+02:00",
             "2024-04-01T01:30+02:00", "2024-04-01T02:30+02:00", "2024-04-01T03:00+02:00"],
            id="berlin-spring-forward-gap",
        ),
        pytest.param(
            date(2024, 3, 31), date(2024, 3, 31), [time(2), time(3)], None, BERLIN,
            ["2024-03-31T03:00+02:00"],
            id="berlin-gap-time-landing-on-another-time-counts-once",
        ),
        pytest.param(
            date(2024, 10, 27), date(2024, 10, 27), [time(2, 30)], None, BERLIN,
            ["2024-10-27T02:30+02:00"],
            id="berlin-fall-back-first-occurrence-only",
        ),
    ],
)  # fmt: skip
def test_expand(
    start: date,
    end: date,
    times: list[time],
    days: set[int] | None,
    zone: ZoneInfo,
    expected: list[str],
) -> None:
    moments = list(expand(start, end, times, days, zone))
    assert iso(moments) == expected
    assert all(m.tzinfo is zone for m in moments)


def test_expand_gap_time_is_a_day_of_real_time_after_the_day_before() -> None:
    before, gap_day = expand(date(2024, 3, 30), date(2024, 3, 31), [time(2, 30)], None, BERLIN)
    # Subtracting in the zone would give the wall-clock 25 hours; real time is 24.
    assert gap_day.astimezone(UTC) - before.astimezone(UTC) == timedelta(hours=24)
    assert gap_day.astimezone(UTC) == datetime(2024, 3, 31, 1, 30, tzinfo=UTC)


def test_expand_rejects_weekday_numbers_out_of_range() -> None:
    with pytest.raises(ValueError, match=r"\[7\]"):
        list(expand(date(2024, 8, 1), date(2024, 8, 2), [time(6)], {0, 7}, VN))


def test_expand_is_lazy_over_long_ranges() -> None:
    moments = expand(date(2024, 1, 1), date.max, [time(6)], None, VN)
    assert next(moments).isoformat() == "2024-01-01T06:00:00+07:00"


def test_weekdays_match_date_weekday() -> None:
    monday = date(2024, 8, 5)
    names = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    assert list(WEEKDAYS) == names
    assert [WEEKDAYS[n] for n in names] == [(monday + timedelta(i)).weekday() for i in range(7)]


def test_localize_keeps_existing_wall_times() -> None:
    assert localize(date(2024, 8, 1), time(8), VN) == datetime(2024, 8, 1, 1, tzinfo=UTC)


# --- next_occurrences --------------------------------------------------------------------

DAILY = [datetime(2024, 8, d, 6, tzinfo=VN) for d in range(1, 6)]


@pytest.mark.parametrize(
    ("after", "limit", "expected_days"),
    [
        (datetime(2024, 8, 2, 6, tzinfo=VN), 2, [2, 3]),  # at the moment itself: included
        (datetime(2024, 8, 2, 6, 1, tzinfo=VN), 2, [3, 4]),
        (datetime(2024, 8, 1, 23, tzinfo=UTC), 1, [2]),  # 06:00 on the 2nd in Vietnam
        (datetime(2024, 8, 4, 12, tzinfo=VN), 5, [5]),  # fewer left than asked
        (datetime(2024, 8, 9, tzinfo=VN), 3, []),
        (datetime(2024, 7, 1, tzinfo=VN), 0, []),
    ],
)
def test_next_occurrences(after: datetime, limit: int, expected_days: list[int]) -> None:
    assert [m.day for m in next_occurrences(DAILY, after, limit)] == expected_days


def test_next_occurrences_over_expand() -> None:
    moments = expand(date(2024, 8, 1), date(2024, 10, 15), [time(6)], {MON}, VN)
    found = next_occurrences(moments, datetime(2024, 9, 1, tzinfo=VN), 2)
    assert iso(found) == ["2024-09-02T06:00+07:00", "2024-09-09T06:00+07:00"]


def test_next_occurrences_rejects_a_negative_limit() -> None:
    with pytest.raises(ValueError, match="negative"):
        next_occurrences(DAILY, DAILY[0], -1)


# --- classify ----------------------------------------------------------------------------

AT = datetime(2024, 8, 1, 8, tzinfo=VN)
GRACE = timedelta(minutes=30)
TICK = timedelta(microseconds=1)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (AT - timedelta(days=1), "future"),
        (AT - TICK, "future"),
        (AT, "due"),  # the start is included
        (AT + GRACE - TICK, "due"),
        (AT + GRACE, "missed"),  # the end is not
        (AT + timedelta(days=1), "missed"),
        (datetime(2024, 8, 1, 1, tzinfo=UTC), "due"),  # the same instant, written in UTC
        (datetime(2024, 8, 1, 0, 59, tzinfo=UTC), "future"),
    ],
)
def test_classify_boundaries(now: datetime, expected: str) -> None:
    assert classify(AT, now, GRACE) == expected


def test_classify_counts_real_time_across_a_fall_back() -> None:
    # 02:30 happens twice on 2024-10-27 in Berlin; the second one is an hour after the first.
    first = datetime(2024, 10, 27, 2, 30, tzinfo=BERLIN)
    second = first.replace(fold=1)
    assert classify(first, second, timedelta(hours=1)) == "missed"
    assert classify(first, second, timedelta(hours=1, minutes=1)) == "due"


@pytest.mark.parametrize("grace", [timedelta(0), timedelta(minutes=-5)])
def test_classify_needs_a_positive_grace(grace: timedelta) -> None:
    with pytest.raises(ValueError, match="grace"):
        classify(AT, AT, grace)


@pytest.mark.parametrize(
    ("at", "now"), [(AT.replace(tzinfo=None), AT), (AT, AT.replace(tzinfo=None))]
)
def test_classify_refuses_naive_datetimes(at: datetime, now: datetime) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        classify(at, now, GRACE)


# --- occurrence_key ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("at", "key"),
    [
        (datetime(2024, 8, 1, 8, tzinfo=VN), "2024-08-01T08:00+07:00"),
        (datetime(2024, 8, 1, 8, 5, 59, 999, tzinfo=VN), "2024-08-01T08:05+07:00"),
        (datetime(2024, 8, 1, 1, tzinfo=UTC), "2024-08-01T01:00+00:00"),
        (datetime(2024, 10, 27, 2, 30, tzinfo=BERLIN), "2024-10-27T02:30+02:00"),
        (datetime(2024, 10, 27, 2, 30, fold=1, tzinfo=BERLIN), "2024-10-27T02:30+01:00"),
    ],
)
def test_occurrence_key(at: datetime, key: str) -> None:
    assert occurrence_key(at) == key


def test_occurrence_key_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        occurrence_key(datetime(2024, 8, 1, 8))


# --- Vietnamese display ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "name"),
    [
        (date(2024, 8, 5), "Thứ Hai"),
        (date(2024, 8, 6), "Thứ Ba"),
        (date(2024, 8, 7), "Thứ Tư"),
        (date(2024, 8, 8), "Thứ Năm"),
        (date(2024, 8, 9), "Thứ Sáu"),
        (date(2024, 8, 10), "Thứ Bảy"),
        (date(2024, 8, 11), "Chủ nhật"),
        (date(2024, 10, 16), "Thứ Tư"),  # the day 2G-only phones were cut off
    ],
)
def test_weekday_vi(day: date, name: str) -> None:
    assert weekday_vi(day) == name


@pytest.mark.parametrize(
    ("day", "text"),
    [
        (date(2024, 2, 5), "05/02/2024"),
        (date(2024, 10, 16), "16/10/2024"),
        (date(2024, 12, 31), "31/12/2024"),
        (date(999, 1, 1), "01/01/0999"),
    ],
)
def test_format_date_vi(day: date, text: str) -> None:
    assert format_date_vi(day) == text


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (datetime(2024, 2, 5, 8, tzinfo=VN), "08:00 05/02/2024"),
        (datetime(2024, 10, 16, 17, 30, tzinfo=VN), "17:30 16/10/2024"),
        (datetime(2024, 1, 1, 0, 5, 59, tzinfo=VN), "00:05 01/01/2024"),
        # The wall time of the moment's own zone: no conversion.
        (datetime(2024, 2, 5, 1, tzinfo=UTC), "01:00 05/02/2024"),
    ],
)
def test_format_datetime_vi(moment: datetime, text: str) -> None:
    assert format_datetime_vi(moment) == text


def test_format_time_vi_pads() -> None:
    assert format_time_vi(time(6, 5)) == "06:05"


# --- properties --------------------------------------------------------------------------

STARTS = st.dates(min_value=date(1990, 1, 1), max_value=date(2040, 12, 31))
SPANS = st.integers(min_value=0, max_value=70)
TIMES = st.lists(st.times().map(lambda t: t.replace(second=0, microsecond=0)), max_size=5)
DAYS = st.none() | st.sets(st.integers(min_value=0, max_value=6))


def _strictly_increasing(moments: list[datetime]) -> bool:
    instants = [m.astimezone(UTC) for m in moments]
    return all(a < b for a, b in itertools.pairwise(instants))


@given(STARTS, SPANS, TIMES, DAYS, st.sampled_from(["Asia/Ho_Chi_Minh", "Asia/Bangkok", "UTC"]))
def test_expand_without_dst(
    start: date, span: int, times: list[time], days: set[int] | None, zone: str
) -> None:
    tz = ZoneInfo(zone)
    end = start + timedelta(days=span)
    moments = list(expand(start, end, times, days, tz))
    assert _strictly_increasing(moments)
    assert all(start <= m.date() <= end for m in moments)
    assert all(days is None or m.weekday() in days for m in moments)
    assert all(m.time() in times and m.tzinfo is tz for m in moments)
    # Counted independently: every matching day times every distinct time.
    matching = [start + timedelta(i) for i in range(span + 1)]
    matching = [d for d in matching if days is None or d.weekday() in days]
    assert len(moments) == len(matching) * len(set(times))


@given(
    STARTS,
    SPANS,
    TIMES,
    DAYS,
    st.sampled_from(["Europe/Berlin", "America/New_York", "Australia/Lord_Howe"]),
)
def test_expand_with_dst(
    start: date, span: int, times: list[time], days: set[int] | None, zone: str
) -> None:
    tz = ZoneInfo(zone)
    moments = list(expand(start, start + timedelta(days=span), times, days, tz))
    assert _strictly_increasing(moments)
    assert len(moments) <= (span + 1) * len(set(times))
    assert all(days is None or m.weekday() in days for m in moments)
    for moment in moments:
        wall = datetime.combine(moment.date(), moment.time())
        # A wall time is kept, or moved forward out of a DST gap (at most an hour).
        assert any(
            timedelta(0) <= wall - datetime.combine(moment.date(), t) <= timedelta(hours=1)
            for t in times
        )


# --- occurrences: the three forms ------------------------------------------------------------


def _spec(**fields: object) -> Schedule:
    return Schedule.model_validate(fields)


@pytest.mark.parametrize(
    ("fields", "zone", "expected"),
    [
        pytest.param(
            {"start": "2024-08-01", "end": "2024-08-08", "times": ["08:00"],
             "days": ["mon", "thu"]},
            VN, ["2024-08-01T08:00+07:00", "2024-08-05T08:00+07:00", "2024-08-08T08:00+07:00"],
            id="simple",
        ),
        pytest.param(
            {"start": "2024-08-01", "end": "2024-08-08", "cron": "0 8 * * mon,thu"},
            VN, ["2024-08-01T08:00+07:00", "2024-08-05T08:00+07:00", "2024-08-08T08:00+07:00"],
            id="cron-equal-to-the-simple-form",
        ),
        pytest.param(
            {"start": "2024-08-01", "end": "2024-10-31", "cron": "30 17 1,15 * *"},
            VN, ["2024-08-01T17:30+07:00", "2024-08-15T17:30+07:00", "2024-09-01T17:30+07:00",
                 "2024-09-15T17:30+07:00", "2024-10-01T17:30+07:00", "2024-10-15T17:30+07:00"],
            id="cron-days-of-the-month",
        ),
        pytest.param(
            {"start": "2024-08-01", "end": "2024-08-31", "cron": "0 8 1 * mon"},
            VN, ["2024-08-01T08:00+07:00", "2024-08-05T08:00+07:00", "2024-08-12T08:00+07:00",
                 "2024-08-19T08:00+07:00", "2024-08-26T08:00+07:00"],
            id="cron-day-of-month-or-day-of-week-as-in-cron",
        ),
        pytest.param(
            {"start": "2024-08-01", "end": "2024-08-01", "cron": "0 0 * * *"},
            VN, ["2024-08-01T00:00+07:00"], id="cron-midnight-of-the-first-day-is-included",
        ),
        pytest.param(
            {"start": "2024-03-30", "end": "2024-04-01", "cron": "30 2 * * *"},
            BERLIN, ["2024-03-30T02:30+01:00", "2024-03-31T03:30+02:00", "2024-04-01T02:30+02:00"],
            id="cron-gap-time-moves-forward-like-localize",
        ),
        pytest.param(
            {"start": "2024-03-31", "end": "2024-03-31", "cron": "0,30 2,3 * * *"},
            BERLIN, ["2024-03-31T03:00+02:00", "2024-03-31T03:30+02:00"],
            id="cron-gap-times-landing-on-others-count-once",
        ),
        pytest.param(
            {"start": "2024-10-27", "end": "2024-10-27", "cron": "30 2 * * *"},
            BERLIN, ["2024-10-27T02:30+02:00"], id="cron-fall-back-first-occurrence-only",
        ),
        pytest.param(
            {"start": "2024-01-01", "end": "2030-12-31", "cron": "0 8 30 2 *"},
            VN, [], id="cron-that-never-matches",
        ),
        pytest.param(
            {"at": ["2024-08-15 17:30", "2024-08-01 08:00"]},
            VN, ["2024-08-01T08:00+07:00", "2024-08-15T17:30+07:00"], id="at-in-time-order",
        ),
        pytest.param(
            {"at": ["2024-03-31 02:30", "2024-03-31 03:30"]},
            BERLIN, ["2024-03-31T03:30+02:00"], id="at-gap-time-landing-on-another-counts-once",
        ),
    ],
)  # fmt: skip
def test_occurrences(fields: dict[str, object], zone: ZoneInfo, expected: list[str]) -> None:
    moments = list(occurrences(_spec(**fields), zone))
    assert iso(moments) == expected
    assert _strictly_increasing(moments)


@pytest.mark.parametrize(
    "fields",
    [
        {"start": "2024-08-01", "end": "2024-08-31", "times": ["08:00", "17:00"]},
        {"start": "2024-08-01", "end": "2024-08-31", "cron": "0 8,17 * * *"},
        {"at": [f"2024-08-{d:02d} {h}" for d in range(1, 32) for h in ("08:00", "17:00")]},
    ],
)
def test_occurrences_from_day_skips_the_days_before(fields: dict[str, object]) -> None:
    moments = occurrences(_spec(**fields), VN, from_day=date(2024, 8, 30))
    assert iso(moments) == ["2024-08-30T08:00+07:00", "2024-08-30T17:00+07:00",
                            "2024-08-31T08:00+07:00", "2024-08-31T17:00+07:00"]  # fmt: skip


def test_occurrences_are_lazy_over_a_long_cron() -> None:
    moments = occurrences(_spec(start="2024-01-01", end="9999-12-30", cron="* * * * *"), VN)
    assert next(moments).isoformat() == "2024-01-01T00:00:00+07:00"


@pytest.mark.parametrize(
    ("written", "tidied"),
    [("0 8 * * mon,thu", "0 8 * * mon,thu"), ("  0  8 1,15 * *\t", "0 8 1,15 * *")],
)
def test_check_cron_accepts_five_fields(written: str, tidied: str) -> None:
    assert check_cron(written) == tidied


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ("0 8 * *", "write five fields"),
        ("0 8 * * mon 2024", "write five fields"),
        ("@daily", "write five fields"),
        ("0 25 * * *", "not a valid cron expression"),
        ("0 8 * * caturday", "not a valid cron expression"),
    ],
)
def test_check_cron_refuses(written: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        check_cron(written)


HOURS = st.integers(min_value=0, max_value=23)
MINUTES = st.integers(min_value=0, max_value=59)


@given(STARTS, SPANS, st.lists(HOURS, min_size=1, max_size=3, unique=True), MINUTES,
       st.sets(st.integers(min_value=0, max_value=6), min_size=1),
       st.sampled_from(["Asia/Ho_Chi_Minh", "Europe/Berlin", "America/New_York"]))  # fmt: skip
def test_a_cron_and_the_simple_form_agree(
    start: date, span: int, hours: list[int], minute: int, days: set[int], zone: str
) -> None:
    names = list(WEEKDAYS)
    end = start + timedelta(days=span)
    cron = f"{minute} {','.join(map(str, hours))} * * {','.join(names[d] for d in sorted(days))}"
    simple = _spec(start=start, end=end, times=[time(h, minute) for h in hours],
                   days=[names[d] for d in days])  # fmt: skip
    tz = ZoneInfo(zone)
    assert iso(occurrences(_spec(start=start, end=end, cron=cron), tz)) == iso(
        occurrences(simple, tz)
    )
