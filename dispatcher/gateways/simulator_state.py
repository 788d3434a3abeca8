"""What the Twilio simulator knows: its settings, the messages it accepted and how they age.

No I/O except the optional JSONL record. A message's status is never stored: it is read off a
timeline fixed when the message is accepted, at the time of asking, so thousands of messages
need no timers and a settings change never rewrites a message's past.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime
from email.utils import format_datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

API_VERSION = "2010-04-01"
PRICE_UNIT = "USD"
FINAL_ERRORS = {
    "undelivered": (30003, "Unreachable destination handset"),
    "failed": (30008, "Unknown error"),
}
SECONDS_PER_DAY = 86_400
CALLBACK_STATUSES = frozenset({"sent", "delivered", "undelivered", "failed"})

Fate = Literal["delivered", "undelivered", "failed"]


@dataclass(frozen=True)
class SimulatorConfig:
    """Faults and timings of the simulator. The defaults inject no fault at all.

    Request faults (``drop_rate``, ``rate_429``, ``rate_503``, ``rate_500``,
    ``accept_then_hang_rate``) are probabilities per create request, drawn from one
    ``random.Random(seed)``: their sum must not exceed 1. ``rate_500`` answers 500 *after*
    recording the message when ``error_500_after_accept`` (Twilio documents that a 5xx on a
    create may or may not have sent it: this is the worst case), before validation otherwise.
    ``fail_to`` maps a To number to the 400 error code every create to it gets (21610...).

    Outcomes (``undelivered_rate`` → 30003, ``failed_rate`` → 30008) are drawn per message
    from a hash of ``seed``, To and Body, so the same message meets the same fate whatever the
    arrival order. Timings are seconds after creation; ``queued_at_s`` only applies to
    messages sent through a messaging service (accepted → queued). A failed message fails at
    ``sent_at_s`` and is never sent; the others end at ``final_at_s``.
    """

    latency_ms: float = 0.0
    drop_rate: float = 0.0
    rate_429: float = 0.0
    rate_503: float = 0.0
    rate_500: float = 0.0
    accept_then_hang_rate: float = 0.0
    error_500_after_accept: bool = True
    hang_s: float = 300.0  # a hung request is answered by closing it after this long at most
    fail_to: Mapping[str, int] = field(default_factory=dict)
    undelivered_rate: float = 0.0
    failed_rate: float = 0.0
    queued_at_s: float = 0.05
    sending_at_s: float = 0.1
    sent_at_s: float = 0.5
    final_at_s: float = 2.0
    callbacks: bool = True
    seed: int = 0

    def __post_init__(self) -> None:
        # A caller's dict could change under a "frozen" config: keep a read-only copy.
        object.__setattr__(self, "fail_to", MappingProxyType(dict(self.fail_to)))
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name.endswith("rate") or f.name.startswith("rate_"):
                if not 0.0 <= value <= 1.0:
                    raise ValueError(f"{f.name} must be between 0 and 1, got {value}")
            elif f.name != "seed" and isinstance(value, int | float) and value < 0:
                raise ValueError(f"{f.name} must not be negative, got {value}")
        if sum(rate for _, rate in self.request_faults()) > 1.0:
            raise ValueError("the request fault rates add up to more than 1")
        if self.undelivered_rate + self.failed_rate > 1.0:
            raise ValueError("undelivered_rate + failed_rate is more than 1")
        if not self.queued_at_s <= self.sending_at_s <= self.sent_at_s <= self.final_at_s:
            raise ValueError("expected queued_at_s <= sending_at_s <= sent_at_s <= final_at_s")

    def request_faults(self) -> tuple[tuple[str, float], ...]:
        """The request faults and their rates, in the order a random draw is matched to them."""
        return (
            ("drop", self.drop_rate),
            ("429", self.rate_429),
            ("503", self.rate_503),
            ("500", self.rate_500),
            ("hang", self.accept_then_hang_rate),
        )

    def fate(self, to: str, body: str) -> Fate:
        """The outcome of a message: deterministic for a given seed, To and Body."""
        if not (self.undelivered_rate or self.failed_rate):
            return "delivered"
        digest = hashlib.blake2b(f"{self.seed}\x00{to}\x00{body}".encode(), digest_size=8)
        draw = int.from_bytes(digest.digest(), "big") / 2**64
        if draw < self.failed_rate:
            return "failed"
        if draw < self.failed_rate + self.undelivered_rate:
            return "undelivered"
        return "delivered"


@dataclass(frozen=True, slots=True)
class AcceptedMessage:
    """One message the simulator accepted (answered 201, or meant to: see the faults)."""

    sid: str
    to: str
    from_: str | None
    messaging_service_sid: str | None
    body: str
    segments: int
    created_at: datetime

    def to_json(self) -> str:
        """One line of the JSONL record."""
        data = {
            "sid": self.sid,
            "to": self.to,
            "from": self.from_,
            "messaging_service_sid": self.messaging_service_sid,
            "body": self.body,
            "segments": self.segments,
            "created_at": self.created_at.isoformat(),
        }
        return json.dumps(data, ensure_ascii=False)

    @classmethod
    def from_json(cls, line: str) -> AcceptedMessage:
        data = json.loads(line)
        return cls(
            sid=data["sid"],
            to=data["to"],
            from_=data["from"],
            messaging_service_sid=data["messaging_service_sid"],
            body=data["body"],
            segments=data["segments"],
            created_at=datetime.fromisoformat(data["created_at"]),
        )


@dataclass(frozen=True, slots=True)
class StoredMessage:
    """An accepted message with what decides its future: its timeline and callback URL."""

    record: AcceptedMessage
    timeline: tuple[tuple[float, str], ...]  # (epoch seconds, status) in order
    status_callback: str | None

    @property
    def created(self) -> float:
        """When it was accepted (epoch seconds): the start of its timeline."""
        return self.timeline[0][0]

    def phase(self, now: float) -> tuple[float, str]:
        """The (since, status) the message is in at ``now``."""
        for since, status in reversed(self.timeline):
            if since <= now:
                return since, status
        return self.timeline[0]

    def sent_at(self, now: float) -> float | None:
        """When it was sent, if it has been by ``now`` (a failed message never is)."""
        for since, status in self.timeline:
            if status == "sent":
                return since if since <= now else None
        return None

    def callback_events(self) -> list[tuple[float, str]]:
        """The status changes Twilio reports to a StatusCallback (not the initial ones)."""
        return [(since, status) for since, status in self.timeline if status in CALLBACK_STATUSES]


def build_timeline(
    config: SimulatorConfig, created: float, via_service: bool, fate: Fate
) -> tuple[tuple[float, str], ...]:
    """The statuses a message goes through and when, fixed at acceptance."""
    steps: list[tuple[float, str]] = [(created, "accepted")] if via_service else []
    steps.append((created + (config.queued_at_s if via_service else 0.0), "queued"))
    steps.append((created + config.sending_at_s, "sending"))
    if fate == "failed":
        steps.append((created + config.sent_at_s, "failed"))
    else:
        steps.append((created + config.sent_at_s, "sent"))
        steps.append((created + config.final_at_s, fate))
    return tuple(steps)


def rfc2822(epoch: float) -> str:
    """A Twilio date: RFC 2822 in GMT, as in the spec's examples (``... 05:01:45 +0000``)."""
    return format_datetime(datetime.fromtimestamp(int(epoch), UTC))


def message_json(message: StoredMessage, account_sid: str, now: float) -> dict[str, Any]:
    """The Message resource as Twilio returns it, with every key of the OpenAPI schema."""
    rec = message.record
    since, status = message.phase(now)
    sent = message.sent_at(now)
    error_code, error_message = FINAL_ERRORS.get(status, (None, None))
    uri = f"/{API_VERSION}/Accounts/{account_sid}/Messages/{rec.sid}"
    return {
        "account_sid": account_sid,
        "api_version": API_VERSION,
        "body": rec.body,
        "date_created": rfc2822(rec.created_at.timestamp()),
        "date_sent": rfc2822(sent) if sent is not None else None,
        "date_updated": rfc2822(since),
        "direction": "outbound-api",
        "error_code": error_code,
        "error_message": error_message,
        "from": rec.from_,
        "messaging_service_sid": rec.messaging_service_sid,
        "num_media": "0",
        # Twilio answers "0" until a messaging service has picked a sender.
        "num_segments": "0" if status == "accepted" else str(rec.segments),
        "price": None,
        "price_unit": PRICE_UNIT,
        "sid": rec.sid,
        "status": status,
        "subresource_uris": {"media": f"{uri}/Media.json", "feedback": f"{uri}/Feedback.json"},
        "to": rec.to,
        "uri": f"{uri}.json",
    }


@dataclass(frozen=True)
class ListFilter:
    """The filters of a list request; ``sent_from``/``sent_until`` bound whole UTC seconds."""

    to: str | None = None
    from_: str | None = None
    sent_from: int | None = None  # inclusive
    sent_until: int | None = None  # exclusive

    def matches(self, message: StoredMessage, now: float) -> bool:
        rec = message.record
        if (self.to is not None and rec.to != self.to) or (
            self.from_ is not None and rec.from_ != self.from_
        ):
            return False
        if self.sent_from is None and self.sent_until is None:
            return True
        sent = message.sent_at(now)
        if sent is None:  # a DateSent filter cannot match what has not been sent
            return False
        second = int(sent)
        return (self.sent_from is None or second >= self.sent_from) and (
            self.sent_until is None or second < self.sent_until
        )


def parse_date_bound(value: str, op: Literal["=", "<", ">"]) -> tuple[int | None, int | None]:
    """Bounds of a ``DateSent``, ``DateSent<`` or ``DateSent>`` value, or ValueError.

    Twilio filters by whole GMT days (``YYYY-MM-DD``, ``<=YYYY-MM-DD``, ``>=YYYY-MM-DD``, all
    inclusive). twilio-python sends a ``date`` or ``datetime`` as ``YYYY-MM-DDThh:mm:ssZ``, so
    a time of day is accepted and ignored: its UTC day is what counts.
    """
    text = value.strip().replace(" ", "T")
    if len(text) == 10:
        day = date.fromisoformat(text)
    else:
        moment = datetime.fromisoformat(text)
        day = (moment if moment.tzinfo is None else moment.astimezone(UTC)).date()
    start = int(datetime.combine(day, datetime.min.time(), UTC).timestamp())
    end = start + SECONDS_PER_DAY
    if op == "<":
        return None, end
    if op == ">":
        return start, None
    return start, end


class MessageStore:
    """Accepted messages in arrival order, looked up by SID; safe to read from other threads."""

    def __init__(self) -> None:
        self._messages: list[StoredMessage] = []
        self._index: dict[str, int] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._messages)

    def add(self, message: StoredMessage) -> None:
        with self._lock:
            self._index[message.record.sid] = len(self._messages)
            self._messages.append(message)

    def get(self, sid: str) -> StoredMessage | None:
        position = self._index.get(sid)
        return None if position is None else self._messages[position]

    def position(self, sid: str) -> int | None:
        return self._index.get(sid)

    def records(self) -> list[AcceptedMessage]:
        with self._lock:
            return [message.record for message in self._messages]

    def older(self, before: int, wanted: ListFilter, now: float) -> Iterator[StoredMessage]:
        """Matching messages older than position ``before``, newest first."""
        for position in range(min(before, len(self._messages)) - 1, -1, -1):
            message = self._messages[position]
            if wanted.matches(message, now):
                yield message

    def newer(self, after: int, wanted: ListFilter, now: float) -> Iterator[StoredMessage]:
        """Matching messages newer than position ``after``, oldest first."""
        for position in range(after + 1, len(self._messages)):
            message = self._messages[position]
            if wanted.matches(message, now):
                yield message


class RecordFile:
    """The JSONL record of accepted messages.

    Each line is written and flushed before the 201 goes out, so it survives any process being
    killed (the kernel holds it); ``sync`` (fsync) runs in batches, for a machine crash.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._file = self.path.open("a", encoding="utf-8")
        self._dirty = False

    def append(self, record: AcceptedMessage) -> None:
        self._file.write(record.to_json() + "\n")
        self._file.flush()
        self._dirty = True

    def sync(self) -> None:
        if self._dirty:
            self._dirty = False
            os.fsync(self._file.fileno())

    def close(self) -> None:
        if not self._file.closed:
            self.sync()
            self._file.close()


def read_record(path: str | os.PathLike[str]) -> list[AcceptedMessage]:
    """The messages of a JSONL record, in acceptance order.

    A last line without its newline (the simulator was killed while writing it) is left out:
    that message was never answered 201.
    """
    text = Path(path).read_text(encoding="utf-8")
    lines = text.split("\n")
    return [AcceptedMessage.from_json(line) for line in lines[:-1] if line]
