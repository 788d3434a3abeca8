"""Service settings: ``config.yaml`` plus ``DISPATCHER_*`` environment overrides, validated once.

Secrets never live here: Twilio credentials are read from the environment by the gateway adapter.
The file is optional — without one the embedded defaults apply (SQLite next to the working
directory, the built-in simulator), so a fresh checkout runs as it is.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pydantic
from pydantic import BaseModel, ConfigDict, Field, field_validator

from dispatcher.core.errors import BadInput, ConfigError, Problem
from dispatcher.core.schedule import known_zone
from dispatcher.core.text import refuse_control_characters
from dispatcher.core.yamlfile import YamlDocument, read_yaml, validation_problems
from dispatcher.settings import safeguards
from dispatcher.sms import quiet
from dispatcher.sms.carriers import CarrierSettings

ENV_CONFIG = "DISPATCHER_CONFIG"
ENV_DB_URL = "DISPATCHER_DB_URL"
ENV_GATEWAY = "DISPATCHER_GATEWAY"
ENV_HTTP = {"host": "DISPATCHER_HTTP_HOST", "port": "DISPATCHER_HTTP_PORT"}  # `serve` --host/--port
ENV_QUIET_HOURS = quiet.ENV_VAR  # "22:00-07:00" or "off"; a campaign's own window still wins
ENV_TWILIO_API_BASE_URL = "TWILIO_API_BASE_URL"  # a Twilio-compatible server instead of Twilio

GatewayName = Literal["twilio", "simulator"]
# What bootstrap can open: SQLite, and PostgreSQL through psycopg 3 (the driver we ship).
DATABASE_DRIVERS = ("sqlite", "sqlite+pysqlite", "postgresql", "postgres", "postgresql+psycopg")
DATABASE_EXAMPLE = "like sqlite:///var/dispatcher.sqlite3 or postgresql://user@host:5432/dispatcher"
# A SQLite file URL has no host or port: SQLAlchemy reads every one of this form, so it is not
# imported (~0.2 s) just to check the usual URL of `validate` and `plan` (any other is parsed).
PLAIN_SQLITE_URL = re.compile(r"sqlite(\+pysqlite)?:///[^?]*(\?.*)?", re.DOTALL)


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RetrySettings(_Frozen):
    """How transient gateway failures are retried: exponential backoff with jitter, bounded."""

    max_attempts: int = Field(5, ge=1, le=20)
    initial_backoff_s: float = Field(0.5, gt=0, le=60)
    max_backoff_s: float = Field(30.0, gt=0, le=600)
    jitter_s: float = Field(0.5, ge=0, le=60)


class FrequencyCap(_Frozen):
    max_messages: int = Field(1, ge=1, le=100)
    window_hours: float = Field(24.0, gt=0, le=24 * 31)


class SendingSettings(_Frozen):
    batch_size: int = Field(100, ge=1, le=10_000)
    concurrency: int = Field(32, ge=1, le=256)
    request_timeout_s: float = Field(15.0, gt=0, le=300)
    grace_period_minutes: int = Field(120, ge=0, le=7 * 24 * 60)
    # Twilio meters message segments per second per sender: 10 for an alphanumeric sender ID or
    # any number sending outside North America. Sending faster makes Twilio queue, then refuse
    # (21611), and makes carriers filter.
    rate_per_sender: float = Field(10.0, gt=0, le=1_000_000)
    burst_segments: int = Field(10, ge=1, le=100_000)
    sender_rates: dict[str, float] = {}  # per-sender overrides, segments per second
    queue_limit_hours: float = Field(10.0, gt=0, le=100)  # Twilio queues about 10 h per sender
    # An attempt whose outcome stays unknown this long becomes `failed` (unknown-outcome).
    unknown_max_age_minutes: int = Field(24 * 60, ge=1, le=30 * 24 * 60)
    # A run asks the provider about its own unknown outcomes once the latest is this old: Twilio
    # documents no bound on when a new message shows in its list, and a request we gave up on
    # (request_timeout_s) may still be processed. The simulator lists at once: tests set ~0.
    unknown_settle_seconds: float = Field(60.0, ge=0, le=3600)
    # Look up → resend rounds a run makes for them; what is still unknown after is reported.
    # 0: the run leaves them to the next one.
    unknown_settle_rounds: int = Field(5, ge=0, le=20)
    # A worker silent this long is dead: its claimed rows become `unknown` and are reconciled.
    lease_s: float = Field(60.0, ge=5, le=3600)
    # At most `max_messages` per subscriber per `window_hours`, across campaigns; null: no cap.
    frequency_cap: FrequencyCap | None = None
    # `send --test` sends only to these (staff phones); any usual written form.
    test_numbers: list[str] = []
    retry: RetrySettings = RetrySettings()
    # No SMS inside this daily window (campaign time zone): Decree 91/2020 allows 07:00-22:00.
    quiet_hours: str = quiet.DEFAULT
    # Set by load_settings, not written in the file: where quiet_hours came from, for messages.
    quiet_hours_source: Literal["sending.quiet_hours", "DISPATCHER_QUIET_HOURS"] = Field(
        "sending.quiet_hours", exclude=True
    )

    _quiet_window = field_validator("quiet_hours", mode="before")(quiet.canonical_window)
    _test_numbers = field_validator("test_numbers")(safeguards.test_numbers)


class SimulatorSettings(_Frozen):
    """The built-in Twilio-compatible simulator, used when ``gateway: simulator``."""

    latency_ms: int = Field(0, ge=0, le=60_000)


class StatusSettings(_Frozen):
    """Status polling: the primary way of learning what happened (callbacks need a public URL)."""

    poll_interval_s: float = Field(60.0, gt=0, le=86_400)
    poll_batch: int = Field(500, ge=1, le=10_000)


class HttpSettings(_Frozen):
    """`dispatcher serve`: status callbacks and inbound SMS; loopback unless told otherwise."""

    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65_535)
    # The URL Twilio can reach this service at; when set, sends ask for status callbacks.
    public_base_url: str | None = None
    # How long a commune's page link works (`dispatcher broadcast link --days` overrides).
    link_days: int = Field(180, ge=1, le=3650)
    # How long a browser stays signed in after opening a link (never past its token's expiry).
    session_hours: int = Field(12, ge=1, le=24 * 90)
    # Cookies marked Secure (sent over https only): auto when public_base_url is https.
    secure_cookies: Literal["auto"] | bool = "auto"


class OptOutSettings(_Frozen):
    # Inbound keywords that opt a number out, where the sender supports replies (not in Vietnam).
    keywords: list[str] = ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "TC", "HUY"]


class HealthSettings(_Frozen):
    """When `dispatcher status` and `GET /health` call work stuck: nothing is silently lost."""

    # A row `sending` (claimed) or `unknown` (not reconciled) for longer than this is stuck.
    stuck_after_minutes: int = Field(15, ge=1, le=7 * 24 * 60)
    # An occurrence with pending rows and no row claimed for this long is not being sent.
    no_progress_minutes: int = Field(30, ge=1, le=7 * 24 * 60)
    # A worker holding `sending` rows without a heartbeat for this long has died.
    worker_silent_minutes: int = Field(5, ge=1, le=7 * 24 * 60)
    # One error code in more than this share of a campaign's recent failures dominates...
    error_dominance: float = Field(0.5, gt=0, lt=1)
    error_window: int = Field(200, ge=1, le=100_000)  # ...of its last this many failures
    error_window_minutes: int = Field(60, ge=1, le=7 * 24 * 60)  # ...within this long
    error_min_failures: int = Field(20, ge=1, le=100_000)  # fewer failures prove nothing


class SchedulerSettings(_Frozen):
    """`dispatcher serve` sends the scheduled campaigns of one folder."""

    campaigns_dir: Path = Path("campaigns")  # every *.yaml there with an sms.schedule
    interval_s: float = Field(30.0, ge=1, le=3600)  # how often it looks for due occurrences


# Constant bit rates (kbit/s) an MP3 can have at each sample rate: MPEG-1 Layer III above
# 32 kHz, MPEG-2 below. Anything else the encoder would silently round.
MP3_BITRATES_KBPS: dict[int, tuple[int, ...]] = {
    **dict.fromkeys((32_000, 44_100, 48_000), (32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192)),
    **dict.fromkeys((16_000, 22_050, 24_000), (8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128)),
}


class AudioSettings(_Frozen):
    """Loudspeaker audio: the offline voice, the output format and the jingles around it."""

    engine: Literal["espeak-ng"] = "espeak-ng"
    # espeak-ng's Vietnamese voices: vi (Northern), vi-vn-x-central, vi-vn-x-south.
    voice: str = Field("vi", min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9_/+-]*$")
    speed: int = Field(105, ge=80, le=450)  # espeak-ng -s; 105 reads about 140 syllables/min
    # Hz, of both files. espeak-ng speaks at 22,050 Hz and horn loudspeakers stop near 8 kHz:
    # more would only double the files.
    sample_rate: int = 22_050
    channels: Literal[1, 2] = 1
    target_lufs: float = Field(-16.0, ge=-36, le=-6)  # integrated loudness, ITU-R BS.1770
    peak_dbfs: float = Field(-1.0, ge=-12, le=0)  # no sample louder: a limiter catches peaks
    mp3_bitrate_kbps: int = 64
    # Optional jingles before and after the speech; relative to the config file.
    intro: Path | None = None
    outro: Path | None = None
    gap_s: float = Field(0.5, ge=0, le=10)  # silence between a jingle and the speech

    @pydantic.model_validator(mode="after")
    def _mp3_can_encode(self) -> AudioSettings:
        rates = MP3_BITRATES_KBPS.get(self.sample_rate)
        if rates is None:
            raise ValueError(f"sample_rate must be one of {', '.join(map(str, MP3_BITRATES_KBPS))}")
        if self.mp3_bitrate_kbps not in rates:
            allowed = ", ".join(map(str, rates))
            raise ValueError(f"mp3_bitrate_kbps at {self.sample_rate} Hz must be one of {allowed}")
        return self


class BroadcastSettings(_Frozen):
    """Loudspeaker scripts: how fast the announcer reads, to estimate each airing's length."""

    # A commune announcer reads about 140 syllables a minute (TV presenters 220-330).
    syllables_per_minute: float = Field(140.0, ge=60, le=400)
    # How long after pressing "Đã phát" a commune may take it back (a press on the wrong airing).
    undo_minutes: int = Field(15, ge=0, le=24 * 60)


def _document_text(value: str) -> str:
    """One line of the document: no control characters, runs of spaces as one."""
    return " ".join(refuse_control_characters(value).split())


def _required_text(value: str) -> str:
    text = _document_text(value)
    if not text:
        raise ValueError("must not be empty")
    return text


def _document_lines(values: list[str]) -> list[str]:
    lines = [_document_text(v) for v in values]
    if not all(lines) or max(map(len, lines)) > 200:
        raise ValueError("every line must hold some text, 200 characters at most")
    return lines


class DocumentSettings(_Frozen):
    """The .docx report's administrative header and signature block (Decree 30/2020/ND-CP).

    Names are written as people write them; the document puts them in capitals where the
    decree wants capitals. The Văn Quan defaults: the district's Culture and Information
    Office consolidates the communes' reports for the province (the directive's item 5).
    """

    superior: str = Field("UBND huyện Văn Quan", max_length=200)  # cơ quan chủ quản; "" none
    issuer: str = Field("Phòng Văn hóa và Thông tin", min_length=1, max_length=200)
    # "Số:      /BC-VHTT": the clerk writes the number in when the document is registered.
    number_suffix: str = Field("BC-VHTT", pattern=r"^[A-ZĐ0-9]+(?:-[A-ZĐ0-9]+)*$")
    place: str = Field("Văn Quan", min_length=1, max_length=60)  # "Văn Quan, ngày 05 tháng..."
    subject: str = Field("về lộ trình dừng công nghệ di động 2G", max_length=200)
    recipients: list[str] = Field(["Sở Thông tin và Truyền thông tỉnh Lạng Sơn"], min_length=1)
    copies_to: list[str] = Field(  # Nơi nhận
        ["Như trên", "UBND huyện Văn Quan (b/c)", "Lưu: VT, VHTT"], min_length=1
    )
    # "KT. CHỦ TỊCH" over "PHÓ CHỦ TỊCH" when a deputy signs for the head.
    signatory_capacity: list[str] = Field(["Trưởng phòng"], min_length=1, max_length=3)
    signatory_name: str = Field("", max_length=100)  # "": a dotted line to write it on

    _texts = field_validator("superior", "subject", "signatory_name")(_document_text)
    _required = field_validator("issuer", "place")(_required_text)
    _lines = field_validator("recipients", "copies_to", "signatory_capacity")(_document_lines)


class ReportSettings(_Frozen):
    """The monthly report's period: the calendar month, or from a day of the month before."""

    # 1: the calendar month. 15: the report of 10/2024 counts 15/09/2024 to 14/10/2024, as some
    # provinces cut off (Decree 09/2019/ND-CP leaves the day to them).
    period_start_day: int = Field(1, ge=1, le=28)
    document: DocumentSettings = DocumentSettings()


class Settings(_Frozen):
    database_url: str = "sqlite:///var/dispatcher.sqlite3"
    gateway: GatewayName = "simulator"
    timezone: str = "Asia/Ho_Chi_Minh"
    output_dir: Path = Path("audio/out")
    sending: SendingSettings = SendingSettings()
    simulator: SimulatorSettings = SimulatorSettings()
    status: StatusSettings = StatusSettings()
    http: HttpSettings = HttpSettings()
    optout: OptOutSettings = OptOutSettings()
    health: HealthSettings = HealthSettings()
    scheduler: SchedulerSettings = SchedulerSettings()
    audio: AudioSettings = AudioSettings()
    broadcast: BroadcastSettings = BroadcastSettings()
    report: ReportSettings = ReportSettings()
    pricing: safeguards.PricingSettings = safeguards.PricingSettings()
    budgets: safeguards.BudgetSettings = safeguards.BudgetSettings()
    approval: safeguards.ApprovalSettings = safeguards.ApprovalSettings()
    # The sender names and templates registered with the operators; advertising's opt-out words.
    carriers: CarrierSettings = CarrierSettings()
    # auto: see gateway_is_real(). true: the twilio gateway is real whatever server it talks to,
    # so tests can check the real-gateway rules against a test server. There is no false:
    # nothing written here may make api.twilio.com, which reaches real phones, count as a test.
    gateway_is_real: Literal["auto", True] = "auto"
    # The administrative units registry (communes and their validity dates); relative to this file.
    units_file: Path = Path("units.yaml")  # next to config.yaml: not in the campaigns folder
    # Directory that relative paths in this file are resolved against.
    base_dir: Path = Field(Path("."), exclude=True)

    _known_zone = field_validator("timezone")(known_zone)

    @field_validator("gateway_is_real", mode="before")
    @classmethod
    def _never_false(cls, value: object) -> object:
        if value is False or (isinstance(value, str) and value.strip().lower() == "false"):
            raise ValueError(
                "false is not accepted: Twilio itself always reaches real phones; point "
                f"${ENV_TWILIO_API_BASE_URL} at a test server instead (auto or true)"
            )
        return value

    @field_validator("database_url")
    @classmethod
    def _usable_database(cls, value: str) -> str:
        # Checked here, not when the engine is built, so the error names the file line or the
        # variable. The URL itself is never echoed: it may hold a password.
        if PLAIN_SQLITE_URL.fullmatch(value):
            return value
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            driver = make_url(value).drivername
        except (ArgumentError, ValueError) as exc:
            raise ValueError(f"not a database URL; write one {DATABASE_EXAMPLE}") from exc
        if driver not in DATABASE_DRIVERS:
            raise ValueError(f"unsupported database '{driver}'; use one {DATABASE_EXAMPLE}")
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def resolved_database_url(self) -> str:
        """The database URL with a relative SQLite path anchored at ``base_dir``."""
        prefix = "sqlite:///"
        if self.database_url.startswith(prefix):
            path = Path(self.database_url.removeprefix(prefix))
            if str(path) != ":memory:" and not path.is_absolute():
                return prefix + str((self.base_dir / path).resolve())
        return self.database_url

    @property
    def resolved_campaigns_dir(self) -> Path:
        folder = self.scheduler.campaigns_dir
        return folder if folder.is_absolute() else self.base_dir / folder

    @property
    def resolved_output_dir(self) -> Path:
        return self.output_dir if self.output_dir.is_absolute() else self.base_dir / self.output_dir

    @property
    def resolved_units_file(self) -> Path:
        return self.units_file if self.units_file.is_absolute() else self.base_dir / self.units_file

    @property
    def resolved_audio(self) -> AudioSettings:
        """The audio settings with the jingle paths anchored at ``base_dir``: pass this one on."""
        jingles = {"intro": self.audio.intro, "outro": self.audio.outro}
        anchored = {key: self.base_dir / path for key, path in jingles.items() if path is not None}
        return self.audio.model_copy(update=anchored)


def gateway_is_real(settings: Settings, environ: Mapping[str, str]) -> bool:
    """Whether messages would reach real phones: the one answer for every real-gateway rule
    (registered senders, confirmation and approval of a send).

    True for the ``twilio`` gateway when ``$TWILIO_API_BASE_URL`` is unset or names a host of
    twilio.com (api.twilio.com, or a regional edge such as api.dublin.ie1.twilio.com), or when
    config says ``gateway_is_real: true`` (a test server marked real). False for the built-in
    simulator and for a Twilio-compatible test server. Pure: ``environ`` is passed in.
    """
    if settings.gateway != "twilio":
        return False
    if settings.gateway_is_real is True:
        return True
    base = environ.get(ENV_TWILIO_API_BASE_URL, "").strip()
    if not base:
        return True
    # In doubt, real: the rules it turns on only ask for more care. Without a scheme urlsplit
    # sees no host, hence the "//".
    try:
        host = urlsplit(base if "//" in base else f"//{base}").hostname
    except ValueError:
        return True
    return host is None or host == "twilio.com" or host.endswith(".twilio.com")


def load_settings(environ: dict[str, str] | None = None, cwd: Path | None = None) -> Settings:
    """Settings from ``$DISPATCHER_CONFIG``, else ``./config.yaml`` if present, else defaults."""
    env = dict(os.environ if environ is None else environ)
    here = cwd or Path.cwd()
    explicit = env.get(ENV_CONFIG)
    path = Path(explicit) if explicit else here / "config.yaml"
    if explicit and not path.is_file():
        raise ConfigError(Problem(f"config file not found (from ${ENV_CONFIG})", file=str(path)))
    try:
        doc = read_yaml(path) if path.is_file() else YamlDocument({}, None, str(path))
    except BadInput as exc:
        raise ConfigError(exc.problems) from exc
    if not isinstance(doc.data or {}, dict):
        raise ConfigError(doc.problem([], "expected a mapping of keys to values"))
    data = dict(doc.data or {})
    data["base_dir"] = path.parent.resolve() if path.is_file() else here.resolve()
    overrides = {"database_url": ENV_DB_URL, "gateway": ENV_GATEWAY}
    data.update({key: env[var] for key, var in overrides.items() if env.get(var)})
    if any(env.get(var) for var in ENV_HTTP.values()) and isinstance(data.get("http") or {}, dict):
        http = {key: env[var] for key, var in ENV_HTTP.items() if env.get(var)}
        data["http"] = dict(data.get("http") or {}) | http
    if env.get(ENV_QUIET_HOURS) and isinstance(data.get("sending") or {}, dict):
        sending = dict(data.get("sending") or {}) | {"quiet_hours": env[ENV_QUIET_HOURS]}
        data["sending"] = sending | {"quiet_hours_source": quiet.ENV_VAR}
    try:
        return Settings.model_validate(data)
    except pydantic.ValidationError as exc:
        problems = validation_problems(doc, exc)
        for problem, error in zip(problems, exc.errors(include_url=False), strict=True):
            var = overrides.get(str(error["loc"][0])) if error["loc"] else None
            if tuple(error["loc"][:2]) == ("sending", "quiet_hours"):
                var = ENV_QUIET_HOURS
            if error["loc"][:1] == ("http",) and len(error["loc"]) > 1:
                var = ENV_HTTP.get(str(error["loc"][1]))
            if var and env.get(var):
                problems[problems.index(problem)] = Problem(problem.message, field=f"${var}")
        raise ConfigError(problems) from exc
