"""Quiet hours: the daily window in which no SMS is sent, and when sending may resume.

Decree 91/2020/ND-CP allows bulk SMS only between 07:00 and 22:00, so the default window is
``22:00-07:00``. A window is read in a time zone (the campaign's) and may wrap midnight. Work
that falls due inside it waits for the window to open (:meth:`QuietHours.next_open`); an
``urgent`` campaign (an emergency notice) is the one exception.

Where the window comes from, most specific first: the campaign's ``sms.quiet_hours``, then
``$DISPATCHER_QUIET_HOURS``, then ``sending.quiet_hours`` in config.yaml (the last two are merged
into the settings when they are loaded). Everything here is pure: moments are arguments.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, tzinfo

from dispatcher.core.errors import BadInput, Problem
from dispatcher.core.schedule import format_time_vi, instant, localize

OFF = "off"
DEFAULT = "22:00-07:00"  # Decree 91/2020: bulk SMS only from 07:00 to 22:00
CONFIG_KEY = "sending.quiet_hours"
ENV_VAR = "DISPATCHER_QUIET_HOURS"
CAMPAIGN_FIELD = "sms.quiet_hours"
# What the sender writes to the activity log when an urgent campaign sends inside quiet hours.
URGENT_NOTE = "urgent campaign: sending inside quiet hours (emergency notice)"

# An en dash is accepted too: it is how people write a range, and word processors make one.
_WINDOW = re.compile(r"(\d{1,2}):(\d{2})\s*[-–]\s*(\d{1,2}):(\d{2})")


@dataclass(frozen=True)
class QuietHours:
    """No sending from ``start`` (included) to ``end`` (excluded), wall time, every day.

    ``start > end`` wraps midnight (22:00-07:00). ``start == end`` is an empty window, never
    quiet; so is :data:`OFF` (both ``None``). ``source`` says where the window was written.
    """

    start: time | None
    end: time | None
    source: str = field(default=CONFIG_KEY, compare=False)

    @classmethod
    def parse(cls, text: str, source: str = CONFIG_KEY) -> QuietHours:
        """``"22:00-07:00"`` or ``"off"``; :class:`BadInput` naming ``source`` otherwise."""
        try:
            return parse_window(text, source)
        except ValueError as exc:
            raise BadInput(Problem(str(exc), field=_shown(source))) from exc

    @property
    def off(self) -> bool:
        """True when the window never holds anything back (``off`` or empty)."""
        return self.start is None or self.end is None or self.start == self.end

    def is_quiet(self, moment: datetime, tz: tzinfo) -> bool:
        """Whether ``moment`` (aware) falls inside the window, read on ``tz``'s clocks."""
        if self.off:
            return False
        assert self.start is not None and self.end is not None
        wall = instant(moment).astimezone(tz).time().replace(tzinfo=None)
        if self.start < self.end:
            return self.start <= wall < self.end
        return wall >= self.start or wall < self.end  # wraps midnight

    def next_open(self, moment: datetime, tz: tzinfo) -> datetime:
        """When sending may resume: ``moment`` itself outside the window, else its end (in tz)."""
        if not self.is_quiet(moment, tz):
            return moment
        assert self.end is not None
        return self._next_wall(self.end, moment, tz)

    def next_quiet(self, moment: datetime, tz: tzinfo) -> datetime | None:
        """When the window next begins at or after ``moment``; ``None`` when it never does."""
        if self.off:
            return None
        if self.is_quiet(moment, tz):
            return moment
        assert self.start is not None
        return self._next_wall(self.start, moment, tz)

    def finish(self, start: datetime, seconds: float, tz: tzinfo) -> datetime:
        """When ``seconds`` of sending that begins at ``start`` ends, pausing in the window."""
        left = timedelta(seconds=seconds)
        at = self.next_open(start, tz)
        while True:
            closes = self.next_quiet(at, tz)
            if closes is None or instant(at) + left <= instant(closes):
                return (instant(at) + left).astimezone(tz)
            left -= instant(closes) - instant(at)
            at = self.next_open(closes, tz)

    def __str__(self) -> str:
        if self.start is None or self.end is None:
            return OFF
        return f"{format_time_vi(self.start)}-{format_time_vi(self.end)}"

    @staticmethod
    def _next_wall(wall: time, moment: datetime, tz: tzinfo) -> datetime:
        """The first moment after ``moment`` when clocks in ``tz`` show ``wall``."""
        day = instant(moment).astimezone(tz).date()
        for offset in range(3):  # today, tomorrow; a DST edge may need one day more
            candidate = localize(day + timedelta(days=offset), wall, tz)
            if instant(candidate) > instant(moment):
                return candidate
        raise AssertionError("unreachable: a wall time recurs every day")  # pragma: no cover


def parse_window(text: object, source: str = CONFIG_KEY) -> QuietHours:
    """Like :meth:`QuietHours.parse`, raising ``ValueError`` (for pydantic validators).

    YAML 1.1 reads an unquoted ``off`` as ``False``: that is taken as ``off`` too.
    """
    if text is False:
        return QuietHours(None, None, source)
    value = text.strip().lower() if isinstance(text, str) else None
    if value == OFF:
        return QuietHours(None, None, source)
    match = _WINDOW.fullmatch(value) if value is not None else None
    if match is None:
        raise ValueError(f"{text!r} is not a quiet-hours window: write it like {DEFAULT}, or off")
    hours_minutes = [int(g) for g in match.groups()]
    if any(h > 23 for h in hours_minutes[::2]) or any(m > 59 for m in hours_minutes[1::2]):
        raise ValueError(f"{text!r} is not a quiet-hours window: hours 00-23, minutes 00-59")
    start_h, start_m, end_h, end_m = hours_minutes
    return QuietHours(time(start_h, start_m), time(end_h, end_m), source)


def canonical_window(value: object) -> str:
    """A pydantic validator: check a window and write it the one canonical way."""
    return str(parse_window(value))


def _shown(source: str) -> str:
    return f"${source}" if source == ENV_VAR else source


@dataclass(frozen=True)
class SendTiming:
    """When an occurrence scheduled ``at`` really sends: quiet hours can delay or pause it."""

    at: datetime
    starts: datetime  # the window's end when ``at`` falls inside it, else ``at``
    finishes: datetime  # estimated, at the senders' rates, pausing while the window is closed
    seconds: float  # sending time, pauses not counted

    @property
    def waits(self) -> bool:
        """True when the occurrence falls inside quiet hours and waits for them to end."""
        return instant(self.starts) != instant(self.at)

    @property
    def pauses(self) -> bool:
        """True when the sending runs into quiet hours and the rest waits for them to end."""
        return instant(self.finishes) - instant(self.starts) > timedelta(seconds=self.seconds)


def send_timing(at: datetime, seconds: float, window: QuietHours | None, tz: tzinfo) -> SendTiming:
    """When sending ``seconds`` worth of messages scheduled at ``at`` starts and ends.

    ``window`` ``None`` (an urgent campaign) holds nothing back.
    """
    if window is None or window.off:
        finish = (instant(at) + timedelta(seconds=seconds)).astimezone(tz)
        return SendTiming(at, at, finish, seconds)
    return SendTiming(at, window.next_open(at, tz), window.finish(at, seconds, tz), seconds)
