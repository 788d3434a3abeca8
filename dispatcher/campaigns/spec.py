"""The campaign file: its model (the contract operators write to) and its loader.

The YAML shape is the contract: it can be extended, never renamed. Everything here is validated
once, with errors pointing at ``file:line``; the result is immutable.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from pydantic import (
    AfterValidator,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from dispatcher.audience.lists import display_path
from dispatcher.campaigns.timing import (
    Calendar,
    LocalMoment,
    Schedule,
    StrictModel,
    not_before_start,
    window_or_none,
)
from dispatcher.campaigns.vocabulary import BUILTIN_VARIABLES
from dispatcher.campaigns.vocabulary import DEFAULT_LANGUAGE as VIETNAMESE
from dispatcher.core.errors import BadInput, Problem
from dispatcher.core.schedule import known_zone
from dispatcher.core.text import refuse_control_characters
from dispatcher.core.yamlfile import YamlDocument, load_model, read_yaml
from dispatcher.sms.carriers import Category, SenderName, TemplateId, advertising_rules

DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
CAMPAIGN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,63}")


class RetryOverride(StrictModel):
    """Per-campaign retry settings; what is not given comes from config.yaml."""

    max_attempts: int | None = Field(None, ge=1, le=20)
    initial_backoff_s: float | None = Field(None, gt=0, le=60)
    max_backoff_s: float | None = Field(None, gt=0, le=600)
    jitter_s: float | None = Field(None, ge=0, le=60)


class SmsSection(StrictModel):
    text: Annotated[str, AfterValidator(refuse_control_characters)] = Field(min_length=1)
    # ascii strips Vietnamese diacritics so the message fits GSM-7 (1 segment instead of 3).
    encoding: Literal["auto", "unicode", "ascii"] = "auto"
    # Registered alphanumeric names (Vietnamese operators take no other): format in carriers.py.
    sender: SenderName | None = None
    # A pool of senders, each paced at its own rate; instead of `sender`.
    senders: list[SenderName] | None = Field(None, min_length=1)
    # How carriers treat it (Decree 91/2020): advertising has rules of its own (carriers.py).
    category: Category = "notice"
    # A template registered with the operators (config `carriers.templates`) every message fits.
    template_id: TemplateId | None = None
    rate: float | None = Field(None, gt=0, le=1_000_000)  # segments/s per sender; else config
    retry: RetryOverride | None = None
    recipients: list[str] = Field(min_length=1)
    exclude: list[str] = Field(default_factory=list)
    schedule: Schedule | None = None
    max_segments: int = Field(3, ge=1, le=10)
    # "22:00-07:00" or "off": this campaign's quiet hours, over config and the environment.
    quiet_hours: str | None = None
    # An emergency notice: sends inside quiet hours too (the sender logs that it did).
    urgent: bool = Field(False, strict=True)
    # The most this campaign may spend, all occurrences together, in `pricing.currency`.
    budget: float | None = Field(None, ge=0)

    _quiet_window = field_validator("quiet_hours", mode="before")(window_or_none)
    _advertising = model_validator(mode="after")(advertising_rules)

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


LANGUAGE_CODE = re.compile(r"[a-z]{2,8}")
RESERVED_SUFFIXES = frozenset({"spoken", "audio", "txt", "docx", "wav", "mp3"})


def _language_code(value: str) -> str:
    if not LANGUAGE_CODE.fullmatch(value) or value in RESERVED_SUFFIXES:
        raise ValueError(
            f"'{value}' is not a language code: 2-8 lower-case ASCII letters, like tay or nung "
            f"(not {', '.join(sorted(RESERVED_SUFFIXES))}: they name other files)"
        )
    return value


LanguageCode = Annotated[str, AfterValidator(_language_code)]
# What the renderer decodes (pedalboard); a phone's .m4a is refused here, before any airing.
RECORDING_SUFFIXES = (".mp3", ".wav", ".flac", ".ogg")


def _recording_file(value: str) -> str:
    if Path(value).suffix.lower() not in RECORDING_SUFFIXES:
        raise ValueError(
            f"'{value}' is not an MP3, WAV, FLAC or Ogg file (a phone's .m4a: convert it to MP3)"
        )
    return value


class Recording(StrictModel):
    """A human recording played instead of the offline voice (``broadcast.recordings``).

    For every airing of the campaign, a commune's (``commune``) or one airing (``at``, a local
    time in the campaign's zone); in Vietnamese or a variant's language (``language``). The most
    specific one that fits an airing wins (:func:`dispatcher.broadcast.audio.find_recording`).
    """

    file: Annotated[str, AfterValidator(_recording_file)]  # relative to the campaign file
    commune: str | None = Field(None, min_length=1)
    at: LocalMoment | None = None
    language: LanguageCode | None = None  # None: Vietnamese, like "vi"


class ScriptVariant(StrictModel):
    """The script in another language (Tày, Nùng), which a commune's announcer may read instead.

    Written next to the Vietnamese one with the language before the suffix (``…_0600.tay.txt``);
    no offline voice speaks these languages, so its audio can only be a human recording.
    """

    name: str = Field(min_length=1)  # the language as people call it, for the header: "Tày"
    template: str | None = None
    script: str | None = None
    communes: list[str] | None = Field(None, min_length=1)  # None: every commune of the campaign

    @model_validator(mode="after")
    def _one_source(self) -> ScriptVariant:
        if (self.template is None) == (self.script is None):
            raise ValueError("give exactly one of `template` (a file) or `script` (inline text)")
        return self


class BroadcastSection(Calendar):
    communes: list[str] | str
    repeat: int = Field(1, ge=1, le=5)
    start: date | None = None
    end: date | None = None
    template: str | None = None
    script: Annotated[str, AfterValidator(refuse_control_characters)] | None = None
    vars: dict[str, Annotated[str, AfterValidator(refuse_control_characters)]] = Field(
        default_factory=dict
    )
    # The announcer's pace for this campaign's reading times; else config.yaml's.
    syllables_per_minute: float | None = Field(None, ge=60, le=400)
    # Added to the default table of what the voice reads for an abbreviation ("UBND" → "Ủy ban…").
    abbreviations: dict[str, str] = Field(default_factory=dict)
    variants: dict[LanguageCode, ScriptVariant] = Field(default_factory=dict)
    recordings: list[Recording] = Field(default_factory=list)

    _ordered = field_validator("end")(not_before_start)

    @field_validator("vars")
    @classmethod
    def _no_builtin(cls, value: dict[str, str]) -> dict[str, str]:
        clash = sorted(BUILTIN_VARIABLES & value.keys())
        if clash:
            raise ValueError(f"cannot redefine built-in variables: {', '.join(clash)}")
        return value

    @model_validator(mode="after")
    def _one_source(self) -> BroadcastSection:
        if (self.template is None) == (self.script is None):
            raise ValueError("give exactly one of `template` (a file) or `script` (inline text)")
        if isinstance(self.communes, list) and not self.communes:
            raise ValueError("`communes` is empty")
        if isinstance(self.communes, list) and not all(c.strip() for c in self.communes):
            raise ValueError("a name in `communes` is empty")
        return self

    @model_validator(mode="after")
    def _recording_languages(self) -> BroadcastSection:
        codes = ", ".join(self.variants) or "none"
        problems: list[InitErrorDetails] = []
        for index, recording in enumerate(self.recordings):
            language = recording.language
            if language is not None and language != VIETNAMESE and language not in self.variants:
                message = f"'{language}' is neither vi nor a code of `variants` ({codes})"
                error = PydanticCustomError("recording_language", message)
                loc = ("recordings", index, "language")
                problems.append({"type": error, "loc": loc, "input": language})
        if problems:
            # Raised as a ValidationError so that each problem names its own entry and line.
            raise ValidationError.from_exception_data("BroadcastSection", problems)
        return self


class CampaignSpec(StrictModel):
    id: str
    title: Annotated[str, AfterValidator(refuse_control_characters)] = Field(min_length=1)
    unit: str = Field(min_length=1)
    timezone: str = DEFAULT_TIMEZONE
    # The operator who wrote it: they cannot also be its second approver.
    author: str | None = Field(None, min_length=1, max_length=64)
    sms: SmsSection | None = None
    broadcast: BroadcastSection | None = None

    @field_validator("id")
    @classmethod
    def _plain_id(cls, value: str) -> str:
        if not CAMPAIGN_ID.fullmatch(value):
            raise ValueError(
                f"'{value}' is not a campaign id: use up to 64 ASCII letters, digits and '-' "
                "(no spaces or diacritics), like 2g-shutdown-2024"
            )
        return value

    _known_zone = field_validator("timezone")(known_zone)

    @model_validator(mode="after")
    def _something_to_do(self) -> CampaignSpec:
        if self.sms is None and self.broadcast is None:
            raise ValueError("a campaign needs an `sms` section, a `broadcast` section, or both")
        if self.broadcast is None:
            return self
        start, end = self.broadcast_dates
        if start is None or end is None:
            raise ValueError("broadcast needs `start` and `end` when there is no sms schedule")
        if end < start:
            raise ValueError(f"the broadcast would end ({end}) before it starts ({start})")
        return self

    @property
    def sms_schedule(self) -> Schedule | None:
        return self.sms.schedule if self.sms else None

    @property
    def broadcast_dates(self) -> tuple[date | None, date | None]:
        """The broadcast's first and last day: its own, else the sms schedule's."""
        section, schedule = self.broadcast, self.sms_schedule
        start = section.start if section else None
        end = section.end if section else None
        first, last = schedule.bounds if schedule else (None, None)
        return start or first, end or last


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
        if self.spec.broadcast is None:
            return None
        start, end = self.spec.broadcast_dates
        assert start is not None and end is not None  # guaranteed by the model's validator
        return start, end


def load_campaign(path: Path) -> Campaign:
    """Read, validate and locate a campaign file; raises :class:`BadInput` with every problem."""
    doc = read_yaml(path, display_path=display_path(path, Path.cwd()))
    spec = load_model(CampaignSpec, doc)
    campaign = Campaign(spec, path.resolve(), doc, _fingerprint(path))
    problems = _missing_files(campaign)
    if problems:
        raise BadInput(problems)
    return campaign


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
        for code, variant in spec.broadcast.variants.items():
            if variant.template:
                wanted.append((["broadcast", "variants", code, "template"], variant.template))
        if isinstance(spec.broadcast.communes, str):
            wanted.append((["broadcast", "communes"], spec.broadcast.communes))
        for index, recording in enumerate(spec.broadcast.recordings):
            wanted.append((["broadcast", "recordings", index, "file"], recording.file))
    return [
        campaign.problem(loc, f"file not found: {relative}")
        for loc, relative in wanted
        if not campaign.resolve(relative).is_file()
    ]
