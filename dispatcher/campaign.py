"""The campaign file: its model (the contract operators write to) and its loader.

The YAML shape is the contract: it can be extended, never renamed. Everything here is validated
once, with errors pointing at ``file:line``; the result is immutable.
"""

from __future__ import annotations

import hashlib
from datetime import date, time
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from dispatcher.errors import BadInput, Problem
from dispatcher.schedule import WEEKDAYS
from dispatcher.yamlfile import YamlDocument, load_model, read_yaml

DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"


def _parse_time(value: object) -> object:
    # YAML 1.1 reads an unquoted 17:30 as the base-60 integer 1050; take it back as a time.
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 24 * 60:
        return time(value // 60, value % 60)
    if isinstance(value, str):
        try:
            return time.fromisoformat(value.strip())
        except ValueError as exc:
            raise ValueError(f"'{value}' is not a time of day like \"08:00\"") from exc
    return value


TimeOfDay = Annotated[time, BeforeValidator(_parse_time)]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Calendar(_Strict):
    times: list[TimeOfDay] = Field(min_length=1)
    days: list[Weekday] | None = None

    @field_validator("times")
    @classmethod
    def _distinct_times(cls, times: list[time]) -> list[time]:
        if len(set(times)) != len(times):
            raise ValueError("the same time is listed twice")
        return sorted(times)

    @property
    def weekdays(self) -> frozenset[int] | None:
        return None if self.days is None else frozenset(WEEKDAYS[d] for d in self.days)


class Schedule(_Calendar):
    start: date
    end: date

    @model_validator(mode="after")
    def _ordered(self) -> Schedule:
        if self.end < self.start:
            raise ValueError("end is before start")
        return self


class RetryOverride(_Strict):
    """Per-campaign retry settings; what is not given comes from config.yaml."""

    max_attempts: int | None = Field(None, ge=1, le=20)
    initial_backoff_s: float | None = Field(None, gt=0, le=60)
    max_backoff_s: float | None = Field(None, gt=0, le=600)
    jitter_s: float | None = Field(None, ge=0, le=60)


class SmsSection(_Strict):
    text: str = Field(min_length=1)
    # ascii strips Vietnamese diacritics so the message fits GSM-7 (1 segment instead of 3).
    encoding: Literal["auto", "unicode", "ascii"] = "auto"
    sender: str | None = Field(None, min_length=1, max_length=64)
    # A pool of senders (From numbers or IDs), each paced at its own rate; instead of `sender`.
    senders: list[str] | None = Field(None, min_length=1)
    rate: float | None = Field(None, gt=0, le=1_000_000)  # segments/s per sender; else config
    retry: RetryOverride | None = None
    recipients: list[str] = Field(min_length=1)
    exclude: list[str] = []
    schedule: Schedule | None = None
    max_segments: int = Field(3, ge=1, le=10)


    @model_validator(mode="after")
    def _one_sender_form(self) -> SmsSection:
        if self.sender is not None and self.senders is not None:
            raise ValueError("give `sender` or `senders` (a pool), not both")
        if self.senders is not None and len(set(self.senders)) != len(self.senders):
            raise ValueError("a sender is listed twice in `senders`")
        return self

    @property
    def sender_pool(self) -> list[str | None]:
        """The senders to spread messages over; [None] means the gateway's default."""
        if self.senders:
            return list(self.senders)
        return [self.sender]


class BroadcastSection(_Calendar):
    communes: list[str] | str
    repeat: int = Field(1, ge=1, le=5)
    start: date | None = None
    end: date | None = None
    template: str | None = None
    script: str | None = None
    vars: dict[str, str] = {}

    @model_validator(mode="after")
    def _one_source(self) -> BroadcastSection:
        if (self.template is None) == (self.script is None):
            raise ValueError("give exactly one of `template` (a file) or `script` (inline text)")
        if isinstance(self.communes, list) and not self.communes:
            raise ValueError("`communes` is empty")
        return self


class CampaignSpec(_Strict):
    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{0,63}$")
    title: str = Field(min_length=1)
    unit: str = Field(min_length=1)
    timezone: str = DEFAULT_TIMEZONE
    sms: SmsSection | None = None
    broadcast: BroadcastSection | None = None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone '{value}'") from exc
        return value

    @model_validator(mode="after")
    def _something_to_do(self) -> CampaignSpec:
        if self.sms is None and self.broadcast is None:
            raise ValueError("a campaign needs an `sms` section, a `broadcast` section, or both")
        if self.broadcast and self.broadcast.start is None and self.sms_schedule is None:
            raise ValueError("broadcast needs `start` and `end` when there is no sms schedule")
        return self

    @property
    def sms_schedule(self) -> Schedule | None:
        return self.sms.schedule if self.sms else None


class Campaign:
    """A loaded campaign: the validated spec plus where it came from."""

    def __init__(self, spec: CampaignSpec, path: Path, doc: YamlDocument, fingerprint: str):
        self.spec = spec
        self.path = path
        self.doc = doc
        self.fingerprint = fingerprint

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.spec.timezone)

    @property
    def display_path(self) -> str:
        return self.doc.display_path

    def resolve(self, relative: str) -> Path:
        """A path written in the campaign file, relative to the file's folder."""
        return (self.path.parent / relative).resolve()

    def problem(self, loc: list[int | str], message: str) -> Problem:
        return self.doc.problem(loc, message)

    def broadcast_window(self) -> tuple[date, date] | None:
        section = self.spec.broadcast
        if section is None:
            return None
        schedule = self.spec.sms_schedule
        start = section.start or (schedule.start if schedule else None)
        end = section.end or (schedule.end if schedule else None)
        assert start is not None and end is not None  # guaranteed by the model's validator
        return start, end


def load_campaign(path: Path) -> Campaign:
    """Read, validate and locate a campaign file; raises :class:`BadInput` with every problem."""
    doc = read_yaml(path, display_path=_display(path))
    spec = load_model(CampaignSpec, doc)
    campaign = Campaign(spec, path.resolve(), doc, _fingerprint(path))
    problems = _missing_files(campaign)
    if problems:
        raise BadInput(problems)
    return campaign


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _fingerprint(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _missing_files(campaign: Campaign) -> list[Problem]:
    spec = campaign.spec
    wanted: list[tuple[list[int | str], str]] = []
    if spec.sms:
        wanted += [(["sms", "recipients", i], p) for i, p in enumerate(spec.sms.recipients)]
        wanted += [(["sms", "exclude", i], p) for i, p in enumerate(spec.sms.exclude)]
    if spec.broadcast:
        if spec.broadcast.template:
            wanted.append((["broadcast", "template"], spec.broadcast.template))
        if isinstance(spec.broadcast.communes, str):
            wanted.append((["broadcast", "communes"], spec.broadcast.communes))
    return [
        campaign.problem(loc, f"file not found: {relative}")
        for loc, relative in wanted
        if not campaign.resolve(relative).is_file()
    ]
