"""Quiet hours (dispatcher.sms.quiet): the window, when sending resumes, and which window
applies."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dispatcher.campaigns.spec import Campaign, CampaignSpec
from dispatcher.core.errors import BadInput
from dispatcher.core.yamlfile import YamlDocument
from dispatcher.safety.gates import effective_quiet_hours
from dispatcher.settings.config import Settings
from dispatcher.sms.quiet import QuietHours, parse_window, send_timing
from tests.fakes import FakeClock

VN = ZoneInfo("Asia/Ho_Chi_Minh")
BERLIN = ZoneInfo("Europe/Berlin")
NIGHT = QuietHours(time(22), time(7))
LUNCH = QuietHours(time(11, 30), time(13, 30))


def vn(day: int, hour: int, minute: int = 0, month: int = 8) -> datetime:
    return datetime(2024, month, day, hour, minute, tzinfo=VN)


# --- parse ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "start", "end", "shown"),
    [
        ("22:00-07:00", time(22), time(7), "22:00-07:00"),
        (" 7:30 - 21:00 ", time(7, 30), time(21), "07:30-21:00"),
        ("22:00–07:00", time(22), time(7), "22:00-07:00"),  # an en dash, as people type ranges
        ("00:00-00:00", time(0), time(0), "00:00-00:00"),  # empty window
        ("off", None, None, "off"),
        ("OFF", None, None, "off"),
        (False, None, None, "off"),  # YAML 1.1 reads an unquoted off as false
    ],
)
def test_parse_window(text: Any, start: time | None, end: time | None, shown: str) -> None:
    window = parse_window(text)
    assert (window.start, window.end, str(window)) == (start, end, shown)


@pytest.mark.parametrize("text", ["22-07", "22:00", "24:00-07:00", "22:60-07:00", "on", True, 2200])
def test_parse_window_refuses(text: Any) -> None:
    with pytest.raises(ValueError, match="not a quiet-hours window"):
        parse_window(text)


@pytest.mark.parametrize(
    ("source", "field"),
    [
        ("sending.quiet_hours", "sending.quiet_hours"),
        ("DISPATCHER_QUIET_HOURS", "$DISPATCHER_QUIET_HOURS"),
        ("sms.quiet_hours", "sms.quiet_hours"),
    ],
)
def test_parse_names_the_source_of_a_bad_window(source: str, field: str) -> None:
    with pytest.raises(BadInput) as caught:
        QuietHours.parse("22h-7h", source)
    (problem,) = caught.value.problems
    assert problem.field == field
    assert str(problem) == f"{field}: '22h-7h' is not a quiet-hours window: write it like " \
        "22:00-07:00, or off"  # fmt: skip


def test_the_source_is_not_part_of_the_value() -> None:
    assert QuietHours.parse("22:00-07:00", "sms.quiet_hours") == NIGHT
    assert QuietHours.parse("22:00-07:00", "sms.quiet_hours").source == "sms.quiet_hours"


# --- is_quiet ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("window", "moment", "quiet"),
    [
        (NIGHT, vn(1, 21, 59), False),
        (NIGHT, vn(1, 22), True),  # the start is included
        (NIGHT, vn(1, 23, 59), True),
        (NIGHT, vn(2, 0), True),  # past midnight
        (NIGHT, vn(2, 6, 59), True),
        (NIGHT, vn(2, 7), False),  # the end is not
        (NIGHT, datetime(2024, 8, 1, 15, tzinfo=UTC), True),  # 22:00 in Vietnam
        (NIGHT, datetime(2024, 8, 1, 14, 59, tzinfo=UTC), False),
        (LUNCH, vn(1, 11, 29), False),
        (LUNCH, vn(1, 11, 30), True),
        (LUNCH, vn(1, 13, 29), True),
        (LUNCH, vn(1, 13, 30), False),
        (QuietHours(time(7), time(7)), vn(1, 7), False),  # empty window
        (QuietHours(None, None), vn(1, 23), False),  # off
    ],
)
def test_is_quiet(window: QuietHours, moment: datetime, quiet: bool) -> None:
    assert window.is_quiet(moment, VN) is quiet


def test_is_quiet_reads_the_campaign_zone_not_the_moment_zone() -> None:
    moment = datetime(2024, 8, 1, 23, tzinfo=BERLIN)  # 04:00 in Vietnam
    assert NIGHT.is_quiet(moment, VN)
    assert not NIGHT.is_quiet(moment.replace(hour=12), VN)  # 17:00 in Vietnam


def test_is_quiet_refuses_naive_moments() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        NIGHT.is_quiet(datetime(2024, 8, 1, 23), VN)


# --- next_open, next_quiet ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("window", "moment", "opens"),
    [
        (NIGHT, vn(1, 21), vn(1, 21)),  # not quiet: at once
        (NIGHT, vn(1, 22), vn(2, 7)),
        (NIGHT, vn(1, 23, 30), vn(2, 7)),
        (NIGHT, vn(2, 3), vn(2, 7)),  # after midnight: the same morning
        (NIGHT, vn(31, 23, month=12), datetime(2025, 1, 1, 7, tzinfo=VN)),
        (LUNCH, vn(1, 12), vn(1, 13, 30)),
        (QuietHours(None, None), vn(1, 23), vn(1, 23)),
    ],
)
def test_next_open(window: QuietHours, moment: datetime, opens: datetime) -> None:
    assert window.next_open(moment, VN) == opens


@pytest.mark.parametrize(
    ("window", "moment", "closes"),
    [
        (NIGHT, vn(1, 8), vn(1, 22)),
        (NIGHT, vn(1, 22, 30), vn(1, 22, 30)),  # already quiet
        (LUNCH, vn(1, 14), vn(2, 11, 30)),  # today's is over: tomorrow's
        (QuietHours(None, None), vn(1, 8), None),
        (QuietHours(time(9), time(9)), vn(1, 8), None),
    ],
)
def test_next_quiet(window: QuietHours, moment: datetime, closes: datetime | None) -> None:
    assert window.next_quiet(moment, VN) == closes


def test_next_open_across_a_dst_change() -> None:
    # Berlin springs forward on 31/03/2024 at 02:00; quiet until 02:30 means until 03:30 CEST.
    window = QuietHours(time(1), time(2, 30))
    moment = datetime(2024, 3, 31, 1, 15, tzinfo=BERLIN)
    opens = window.next_open(moment, BERLIN)
    assert opens.isoformat() == "2024-03-31T03:30:00+02:00"
    assert opens.astimezone(UTC) - moment.astimezone(UTC) == timedelta(hours=1, minutes=15)


@given(
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2040, 1, 1)),
    st.times().map(lambda t: t.replace(second=0, microsecond=0)),
    st.times().map(lambda t: t.replace(second=0, microsecond=0)),
)
def test_next_open_is_never_quiet_and_never_earlier(
    naive: datetime, start: time, end: time
) -> None:
    window, moment = QuietHours(start, end), naive.replace(tzinfo=VN)
    opens = window.next_open(moment, VN)
    assert opens >= moment
    assert not window.is_quiet(opens, VN)
    assert opens - moment < timedelta(days=1)
    if window.is_quiet(moment, VN):
        assert opens.time() == end


# --- send timing on a controllable clock -------------------------------------------------


def test_a_send_inside_quiet_hours_waits_for_them_to_end() -> None:
    clock = FakeClock(vn(1, 23))
    timing = send_timing(clock.now(), 120.0, NIGHT, VN)
    assert (timing.starts, timing.finishes) == (vn(2, 7), vn(2, 7, 2))
    assert timing.waits and not timing.pauses


def test_a_send_that_runs_into_quiet_hours_pauses_until_they_end() -> None:
    timing = send_timing(vn(1, 21, 30), 3600.0, NIGHT, VN)  # 30 min before 22:00, 30 min after
    assert (timing.starts, timing.finishes) == (vn(1, 21, 30), vn(2, 7, 30))
    assert timing.pauses and not timing.waits


def test_a_long_send_pauses_every_night() -> None:
    # 40 hours of sending at 15 open hours a day: 15 + 15 + 10.
    timing = send_timing(vn(1, 7), 40 * 3600.0, NIGHT, VN)
    assert timing.finishes == vn(3, 17)


@pytest.mark.parametrize("window", [None, QuietHours(None, None), QuietHours(time(5), time(5))])
def test_urgent_or_no_window_sends_at_once(window: QuietHours | None) -> None:
    timing = send_timing(vn(1, 23), 60.0, window, VN)
    assert (timing.starts, timing.finishes) == (vn(1, 23), vn(1, 23, 1))
    assert not timing.waits and not timing.pauses


# --- which window applies ----------------------------------------------------------------


def _campaign(**sms: Any) -> Campaign:
    spec = CampaignSpec.model_validate(
        {"id": "t", "title": "T", "unit": "U", "sms": {"text": "x", "recipients": ["a.csv"], **sms}}
    )
    return Campaign(spec, Path("t.yaml"), YamlDocument({}, None, "t.yaml"), "0" * 64)


def _settings(window: str, source: str = "sending.quiet_hours") -> Settings:
    return Settings.model_validate(
        {"sending": {"quiet_hours": window, "quiet_hours_source": source}}
    )


@pytest.mark.parametrize(
    ("sms", "settings", "expected", "source"),
    [
        ({}, Settings(), "22:00-07:00", "sending.quiet_hours"),  # the built-in default
        ({}, _settings("21:00-06:00"), "21:00-06:00", "sending.quiet_hours"),
        ({}, _settings("off", "DISPATCHER_QUIET_HOURS"), "off", "DISPATCHER_QUIET_HOURS"),
        # The campaign's own window wins over config and the environment alike.
        ({"quiet_hours": "20:00-08:00"}, _settings("off", "DISPATCHER_QUIET_HOURS"),
         "20:00-08:00", "sms.quiet_hours"),
        ({"quiet_hours": False}, _settings("21:00-06:00"), "off", "sms.quiet_hours"),
    ],
)  # fmt: skip
def test_effective_quiet_hours_precedence(
    sms: dict[str, Any], settings: Settings, expected: str, source: str
) -> None:
    window = effective_quiet_hours(_campaign(**sms), settings)
    assert window is not None
    assert (str(window), window.source) == (expected, source)


def test_an_urgent_campaign_has_no_quiet_hours_whatever_is_set() -> None:
    urgent = _campaign(urgent=True, quiet_hours="20:00-08:00")
    assert effective_quiet_hours(urgent, _settings("21:00-06:00")) is None
