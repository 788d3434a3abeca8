"""The campaign file's times: times of day, local date-times, and ``sms.schedule``'s three forms.

Read in the campaign's time zone; the parsing is ours where YAML and pydantic would misread an
operator's ``17:30`` (YAML 1.1 base 60) or ``25:00`` (pydantic's seconds).
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from typing import Annotated, Literal, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from dispatcher.core.schedule import WEEKDAYS, check_cron
from dispatcher.sms.quiet import canonical_window

_CLOCK = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")
_LOCAL_MOMENT = re.compile(r"(\d{4}-\d{2}-\d{2})[ T](\S+)")


def _parse_time(value: object) -> object:
    if isinstance(value, time):
        return value
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        # YAML 1.1 reads an unquoted 17:30 as the base-60 integer 1050; take it back as text.
        value = f"{value // 60}:{value % 60:02d}"
    # Not pydantic's own parsing: it reads numbers as seconds (25:00 -> 1500 -> 00:25 UTC).
    match = _CLOCK.fullmatch(value.strip()) if isinstance(value, str) else None
    if match is None or int(match[1]) > 23 or int(match[2]) > 59 or int(match[3] or 0) > 59:
        raise ValueError(f'{value!r} is not a time of day like "08:00"')
    return time(int(match[1]), int(match[2]), int(match[3] or 0))


def _parse_local_moment(value: object) -> object:
    """``2024-08-01 08:00`` (YAML's own timestamps too), a wall time in the campaign's zone."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            raise ValueError(
                f"'{value}' has a UTC offset: write the local time without one, like "
                "2024-08-01 08:00 (it is read in the campaign's time zone)"
            )
        moment = value
    else:
        match = _LOCAL_MOMENT.fullmatch(value.strip()) if isinstance(value, str) else None
        if match is None:
            raise ValueError(f"'{value}' is not a local date and time like 2024-08-01 08:00")
        try:
            day = date.fromisoformat(match[1])
        except ValueError as exc:
            raise ValueError(f"{value!r}: {match[1]} is not a date") from exc
        moment = datetime.combine(day, _parse_time(match[2]))  # type: ignore[arg-type]
    if moment.second or moment.microsecond:
        raise ValueError(f"'{value}': give the time to the minute, like 08:00")
    return moment


def _sorted_distinct(values: list[_Ordered]) -> list[_Ordered]:
    if len(set(values)) != len(values):
        raise ValueError("the same time is listed twice")
    return sorted(values)


def window_or_none(value: object) -> str | None:
    return None if value is None else canonical_window(value)


def not_before_start(end: date | None, info: ValidationInfo) -> date | None:
    start = info.data.get("start")
    if end is not None and start is not None and end < start:
        raise ValueError(f"end {end} is before start {start}")
    return end


TimeOfDay = Annotated[time, BeforeValidator(_parse_time)]
LocalMoment = Annotated[datetime, BeforeValidator(_parse_local_moment)]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_Ordered = TypeVar("_Ordered", time, datetime)


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Calendar(StrictModel):
    times: list[TimeOfDay] = Field(min_length=1)
    days: list[Weekday] | None = None

    _distinct_times = field_validator("times")(_sorted_distinct)

    @property
    def weekdays(self) -> frozenset[int] | None:
        return None if self.days is None else frozenset(WEEKDAYS[d] for d in self.days)


class Schedule(StrictModel):
    """``sms.schedule``, in exactly one of three forms, read in the campaign's time zone.

    * simple: ``start``, ``end`` (both included), ``times``, optional ``days``;
    * ``cron``: a five-field expression, between ``start`` and ``end``. ``end`` is required:
      a cron schedule without one would send forever;
    * ``at``: a list of one-off local date-times, nothing else.
    """

    start: date | None = None
    end: date | None = None
    times: list[TimeOfDay] | None = Field(None, min_length=1)
    days: list[Weekday] | None = None
    cron: str | None = None
    at: list[LocalMoment] | None = Field(None, min_length=1)

    _ordered = field_validator("end")(not_before_start)
    _distinct_times = field_validator("times", "at")(_sorted_distinct)
    _cron = field_validator("cron")(check_cron)

    @model_validator(mode="after")
    def _one_form(self) -> Schedule:
        problems = _form_problems(self)
        if problems:
            # Raised as a ValidationError so that each problem names its own key and line.
            raise ValidationError.from_exception_data("Schedule", problems)
        return self

    @property
    def form(self) -> Literal["simple", "cron", "at"]:
        return "at" if self.at is not None else "cron" if self.cron is not None else "simple"

    @property
    def weekdays(self) -> frozenset[int] | None:
        return None if self.days is None else frozenset(WEEKDAYS[d] for d in self.days)

    @property
    def bounds(self) -> tuple[date, date]:
        """The first and the last day the schedule may send on."""
        if self.at:
            return self.at[0].date(), self.at[-1].date()
        assert self.start is not None and self.end is not None  # checked by _one_form
        return self.start, self.end


_NOT_WITH_AT = "not with `at`: one-off sends are whole local date-times, like 2024-08-01 08:00"
_NOT_WITH_CRON = "not with `cron`: the cron expression says the days and times"
_REQUIRED = "required key is missing"
_FORM_RULES: dict[str, dict[str, str]] = {
    # form -> key -> the problem when it is given (or, starting with "!", when it is missing)
    "at": {k: _NOT_WITH_AT for k in ("start", "end", "times", "days")}
    | {"cron": "give one form: `cron` or `at`, not both"},
    "cron": {
        "times": _NOT_WITH_CRON,
        "days": _NOT_WITH_CRON,
        "start": f"!{_REQUIRED} (with `cron`, the first day it may send)",
        "end": f"!{_REQUIRED}: a cron schedule without an end would send forever",
    },
    "simple": {
        "times": f"!{_REQUIRED}: the times of day to send (or a `cron` expression, or `at`)",
        "start": f"!{_REQUIRED}",
        "end": f"!{_REQUIRED}",
    },
}


def _form_problems(schedule: Schedule) -> list[InitErrorDetails]:
    problems: list[InitErrorDetails] = []
    for key, rule in _FORM_RULES[schedule.form].items():
        given = getattr(schedule, key) is not None
        if given != rule.startswith("!"):
            error = PydanticCustomError("schedule_form", rule.removeprefix("!"))
            problems.append({"type": error, "loc": (key,), "input": None})
    return problems
