"""What Vietnamese carriers will deliver: sender names, registered templates, advertising.

The pure rules, with no settings and no campaign files (:mod:`dispatcher.safety.carrier_checks`
applies them to a campaign with the config):

* **Sender names.** Operators deliver only pre-registered alphanumeric senders: at most 11 ASCII
  letters, digits, ``- _ .`` or spaces, not all digits (that would be read as a number). Twilio
  refuses any other alphanumeric sender too, so the format is checked wherever a name is written
  (campaign model, config); whether a name is *registered* depends on the gateway.
* **Templates.** Operators filter messages that do not match a template registered with them.
  A template is fixed text with placeholders written ``{name}`` (letters, digits, ``_``); a
  message matches when it equals the template with each placeholder replaced by some non-empty
  text. The names are only labels: the campaign's ``sms.text`` is Jinja2 (``{{ name }}``) and
  fills them however it likes; what counts is the message as sent.
* **Advertising** (Decree 91/2020/ND-CP): it starts with ``[QC]``, ends with an opt-out
  instruction, is never sent from 22:00 to 07:00 and never urgent; at most 3 per subscriber per
  24 h is :func:`dispatcher.safety.caps.cap_for`'s.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import time
from functools import lru_cache
from typing import Annotated, Literal, Protocol, TypeVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

from dispatcher.sms.encoding import Mode, fold_vietnamese
from dispatcher.sms.quiet import CAMPAIGN_FIELD, QuietHours, parse_window

Category = Literal["notice", "customer-care", "advertising"]
ADVERTISING_PREFIX = "[QC]"  # "quảng cáo": Decree 91/2020 requires it first in every message
# Decree 91/2020: advertising only from 07:00 to 22:00.
NIGHT_FROM, NIGHT_UNTIL = time(22), time(7)
LEGAL_NIGHT = QuietHours(NIGHT_FROM, NIGHT_UNTIL)
# Phrases of an opt-out instruction, compared without diacritics or case, as whole words, in the
# message's last sentence ("Tu choi QC soan TC gui 9xxx"). "HUY" alone would also match the
# given name Huy, hence "HUY gửi" (soạn HUY gửi 9xxx).
DEFAULT_OPT_OUT_PHRASES = ("từ chối", "TC gửi", "HUY gửi", "hủy đăng ký", "ngừng nhận")

_SENDER_NAME = re.compile(r"[A-Za-z0-9_. -]{1,11}")
_TEMPLATE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
# Everything up to the last sentence break: the greedy .* backtracks from the end, so finding
# it costs the length of the last sentence (a pass over the whole text costs microseconds).
_UP_TO_LAST_BREAK = re.compile(r".*(?:[.!?]\s+|\n)", re.DOTALL)


def sender_name(value: str) -> str:
    """A pydantic validator: a sender name carriers (and Twilio) accept."""
    if not _SENDER_NAME.fullmatch(value) or value.isdigit() or value != value.strip():
        raise ValueError(
            f"'{value}' is not a sender name: at most 11 ASCII letters, digits, '-', '_', '.' "
            "or spaces (not first or last), not all digits, like VANQUAN"
        )
    return value


def _id_text(value: object) -> object:
    # Carriers number their templates, and YAML reads an unquoted 1024 as an integer.
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def template_id(value: str) -> str:
    """A pydantic validator: the id of a registered template (``sms.template_id``, config keys)."""
    if not _TEMPLATE_ID.fullmatch(value):
        raise ValueError(
            f"'{value}' is not a template id: up to 64 ASCII letters, digits, '_', '.', '-'"
        )
    return value


def template_text(value: str) -> str:
    """A pydantic validator: a registered template, with placeholders written ``{name}``."""
    text = value.strip()
    if not text:
        raise ValueError("a template cannot be empty")
    stray = PLACEHOLDER.sub("", text)
    if "{" in stray or "}" in stray:
        raise ValueError(
            "write each placeholder as {name} (letters, digits, _), and no other { or }: "
            "Jinja2's {{ name }} belongs in the campaign's sms.text"
        )
    return text


def _phrase(value: str) -> str:
    if not _plain(value):
        raise ValueError("an opt-out phrase cannot be empty")
    return value


SenderName = Annotated[str, AfterValidator(sender_name)]
TemplateId = Annotated[str, BeforeValidator(_id_text), AfterValidator(template_id)]
TemplateText = Annotated[str, AfterValidator(template_text)]


class CarrierSettings(BaseModel):
    """``carriers`` in config.yaml: what the operators registered for this district."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Sender names registered with the operators; a real gateway sends only from these.
    registered_senders: list[SenderName] = []
    # Registered templates by id: fixed text with {placeholders}; sms.template_id names one.
    templates: dict[TemplateId, TemplateText] = {}
    # An advertising message's last sentence must contain one of these (an opt-out instruction).
    opt_out_phrases: list[Annotated[str, AfterValidator(_phrase)]] = Field(
        default_factory=lambda: list(DEFAULT_OPT_OUT_PHRASES), min_length=1
    )


def as_sent(text: str, encoding: Mode) -> str:
    """``text`` folded the way the sender folds a message of this ``encoding`` (NFC; for
    ``ascii`` also without diacritics), so a template compares with the message as sent."""
    nfc = unicodedata.normalize("NFC", text)
    return fold_vietnamese(nfc) if encoding == "ascii" else nfc


def template_pattern(text: str, encoding: Mode = "auto") -> re.Pattern[str]:
    """A regex whose ``fullmatch`` accepts exactly the messages the template allows.

    The literal parts are escaped (``re.escape``: a ``.`` or ``(`` in a template is itself);
    each placeholder is some non-empty text. A placeholder takes the *shortest* text up to the
    next literal part, atomically (``(?>…)``): if any split of the message fits, the one that
    ends each placeholder as early as possible does too (later parts only get more room). So
    a message that does not match costs linear time, not len(message) ** placeholders.
    """
    head, *rest = PLACEHOLDER.split(as_sent(text, encoding))[::2]
    parts = [re.escape(head)]
    for index, literal in enumerate(rest):
        last = index == len(rest) - 1  # the last literal part ends the message: no commitment
        parts.append(f".+{re.escape(literal)}" if last else f"(?>.+?{re.escape(literal)})")
    return re.compile("".join(parts), re.DOTALL)


@lru_cache(maxsize=1024)
def _plain(text: str) -> str:
    """Without diacritics, case or repeated spaces: how opt-out phrases are compared."""
    # Folding costs microseconds, a million times for a big list: but the last sentence (the
    # opt-out) is the same in most messages (the cache), and an ascii campaign's is folded.
    folded = text if text.isascii() else fold_vietnamese(text)
    return " ".join(folded.casefold().split())


def opt_out_pattern(phrases: list[str]) -> re.Pattern[str]:
    """Any of ``phrases`` as whole words, to search in :func:`last_sentence` made plain."""
    alternatives = "|".join(re.escape(_plain(p)) for p in phrases)
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")


def last_sentence(body: str) -> str:
    """The text after the last ``.``, ``!`` or ``?`` followed by a space, or line break.

    A dot inside a number (``1900.1234``) or a name (``H.Văn Quan``) does not end a sentence.
    """
    text = body.strip()  # a break must be followed by some text
    before = _UP_TO_LAST_BREAK.match(text)
    return text[before.end() :].strip() if before else text


def ends_with_opt_out(body: str, phrases: re.Pattern[str]) -> bool:
    """Whether the last sentence of ``body`` is an opt-out instruction (:func:`opt_out_pattern`)."""
    return phrases.search(_plain(last_sentence(body))) is not None


def covers_legal_night(window: QuietHours) -> bool:
    """Whether ``window`` holds back at least 22:00-07:00 (it may hold back more)."""
    if window.off:
        return False
    assert window.start is not None and window.end is not None
    wraps = window.start > window.end  # only a window across midnight can hold the night
    return wraps and window.start <= NIGHT_FROM and window.end >= NIGHT_UNTIL


class AdvertisingFields(Protocol):
    """What :func:`advertising_rules` reads of a campaign's ``sms`` section."""

    @property
    def category(self) -> str: ...
    @property
    def urgent(self) -> bool: ...
    @property
    def quiet_hours(self) -> str | None: ...


SmsFields = TypeVar("SmsFields", bound=AdvertisingFields)


def advertising_rules(sms: SmsFields) -> SmsFields:
    """A pydantic validator of ``sms``: advertising is never urgent and keeps quiet hours of at
    least 22:00-07:00 (Decree 91/2020), whatever else the campaign says."""
    if sms.category != "advertising":
        return sms
    problems: list[InitErrorDetails] = []
    if sms.urgent:
        message = "advertising is never urgent (Decree 91/2020): an emergency is category notice"
        problems.append(_error("urgent", message))
    if sms.quiet_hours is not None:
        window = parse_window(sms.quiet_hours, CAMPAIGN_FIELD)
        if not covers_legal_night(window):
            message = (
                f"'{window}' lets advertising out between 22:00 and 07:00, which Decree 91/2020 "
                f"forbids: write {LEGAL_NIGHT} or wider"
            )
            problems.append(_error("quiet_hours", message))
    if problems:
        # Raised as a ValidationError so that each problem names its own key and line.
        raise ValidationError.from_exception_data("SmsSection", problems)
    return sms


def _error(key: str, message: str) -> InitErrorDetails:
    return {"type": PydanticCustomError("carrier_rule", message), "loc": (key,), "input": None}
