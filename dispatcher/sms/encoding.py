"""SMS text: GSM-7 vs UCS-2 encoding, billing units, segments, and Vietnamese folding.

Everything here is pure: no I/O, no settings. Counts follow what carriers bill and what Twilio
checks, so the numbers we show before a send are the numbers on the invoice:

* A message is GSM-7 only if *every* character is in the GSM 03.38 default alphabet or its
  extension table; one other character makes the *whole* message UCS-2.
* GSM-7: up to 160 septets in one part, else parts of 153 (the rest is the concatenation header).
  Extension characters are sent as ESC + char and cost 2 septets; a pair is never split.
* UCS-2: up to 70 UTF-16 code units in one part, else parts of 67. Characters outside the BMP
  (emoji) are surrogate pairs costing 2 units; a pair is never split.

Text is always NFC-normalized first: Vietnamese pasted from Unikey's "tổ hợp" (decomposed) mode
would otherwise count each mark as its own character and inflate the bill.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Literal

from dispatcher.core.errors import BadInput

Encoding = Literal["GSM-7", "UCS-2"]
Mode = Literal["auto", "unicode", "ascii"]

# Twilio rejects a Body longer than this; it counts code points, whatever the encoding.
MAX_BODY_CHARACTERS = 1600

GSM7_SINGLE_SEPTETS = 160
GSM7_PART_SEPTETS = 153
UCS2_SINGLE_UNITS = 70
UCS2_PART_UNITS = 67

# GSM 03.38 default alphabet, row by row (0x00, 0x10, ... 0x70). 0x1B is ESC, the escape to the
# extension table, which is not a character a user can write, so it is left out (127 characters).
GSM7_BASIC: frozenset[str] = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)

# Characters reached through ESC: each costs two septets. The form feed is a page break.
GSM7_EXTENSION: frozenset[str] = frozenset("\f^{}\\[~]|€")

GSM7: frozenset[str] = GSM7_BASIC | GSM7_EXTENSION

# Combining Diacritical Marks block: every Vietnamese tone and vowel mark (grave, acute, hook
# above, tilde, dot below, circumflex, breve, horn) lives here, as do the other Latin accents.
# We drop only this block, not every Mn character, so that other scripts' vowel signs and emoji
# variation selectors survive to be reported instead of being silently mangled.
_LATIN_MARKS = range(0x0300, 0x0370)

_FOLD_TABLE: dict[int, str | None] = {
    # Đ/đ are letters of their own and do not decompose. U+00D0 (Icelandic eth) looks
    # identical to Đ, so a Đ typed with the wrong key folds the same way.
    **dict.fromkeys(map(ord, "Đ\u00d0"), "D"),
    ord("đ"): "d",
    **dict.fromkeys(map(ord, "“”„‟«»″"), '"'),
    **dict.fromkeys(map(ord, "‘’‚‛‹›′"), "'"),
    **dict.fromkeys(map(ord, "\u2010\u2011‒–—―−•"), "-"),
    ord("…"): "...",
    # Tab, NBSP, the U+2000 spaces, narrow NBSP, medium math space, ideographic space.
    **dict.fromkeys([0x09, 0xA0, *range(0x2000, 0x200B), 0x202F, 0x205F, 0x3000], " "),
    # Invisible: soft hyphen, zero-width space/non-joiner/joiner, word joiner, BOM.
    **dict.fromkeys([0xAD, 0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF], None),
}


@dataclass(frozen=True)
class SmsInfo:
    """How a body will be sent and billed.

    ``characters`` is the NFC length in code points (what Twilio's 1,600 limit counts);
    ``units`` is septets for GSM-7 (extension characters count 2) or UTF-16 code units for
    UCS-2 (emoji count 2); ``segments`` is the number of billed parts, 0 for an empty body.
    """

    encoding: Encoding
    characters: int
    units: int
    segments: int


@dataclass(frozen=True)
class PreparedSms:
    """A body ready to send (NFC, folded if asked) and what it will cost."""

    body: str
    info: SmsInfo


class NotGsm7(BadInput, ValueError):
    """The text has characters outside the GSM-7 alphabet.

    A ``ValueError`` too, so pydantic validators can raise it as is.
    """

    def __init__(self, characters: list[str]) -> None:
        self.characters = list(characters)
        names = ", ".join(f"{ch!r} (U+{ord(ch):04X})" for ch in self.characters)
        super().__init__(f"characters not in the GSM-7 alphabet: {names}")


def fold_vietnamese(text: str) -> str:
    """Return ``text`` without diacritics or typographic punctuation (không dấu).

    Tone and vowel marks are removed (``"Hữu Lễ"`` → ``"Huu Le"``), ``đ/Đ`` become ``d/D``,
    curly quotes, dashes, the ellipsis and odd spaces become ASCII, zero-width characters go.
    All Latin accents are folded, even the few that GSM-7 has (à è é ì ò ù É Ç), because a
    half-accented Vietnamese word reads worse than none and old 2G handsets render them poorly.
    Anything else is kept unchanged so the caller can report it (see :func:`non_gsm7`).
    """
    # Punctuation first, so removing zero-width characters cannot leave a pair that a later
    # NFC would compose differently on a second pass (keeps the fold idempotent).
    text = unicodedata.normalize("NFC", text).translate(_FOLD_TABLE)
    decomposed = unicodedata.normalize("NFD", text)
    bare = "".join(ch for ch in decomposed if ord(ch) not in _LATIN_MARKS)
    return unicodedata.normalize("NFC", bare)


def non_gsm7(text: str) -> list[str]:
    """Distinct characters of the NFC ``text`` that GSM-7 cannot carry, in order of appearance."""
    nfc = unicodedata.normalize("NFC", text)
    return list(dict.fromkeys(ch for ch in nfc if ch not in GSM7))


def analyze(text: str) -> SmsInfo:
    """Encoding, length, billing units and segment count of ``text`` as it will be sent.

    An empty text is GSM-7 with 0 characters, 0 units and 0 segments: nothing can be billed
    because Twilio refuses an empty Body (checking that is the caller's job).
    """
    nfc = unicodedata.normalize("NFC", text)
    if all(ch in GSM7 for ch in nfc):
        return _gsm7_info(nfc)
    return _ucs2_info(nfc)


def prepare(text: str, mode: Mode = "auto") -> PreparedSms:
    """NFC-normalize ``text`` for sending and count it according to ``mode``.

    ``auto`` keeps the text and its natural encoding; ``unicode`` keeps the text but counts it
    as UCS-2 even when it is GSM-7; ``ascii`` folds it with :func:`fold_vietnamese` and then
    requires GSM-7, raising :class:`NotGsm7` rather than quietly sending UCS-2 at 2-3 times
    the price.
    """
    body = unicodedata.normalize("NFC", text)
    if mode == "auto":
        return PreparedSms(body, analyze(body))
    if mode == "unicode":
        return PreparedSms(body, _ucs2_info(body))
    if mode == "ascii":
        body = fold_vietnamese(body)
        if bad := non_gsm7(body):
            raise NotGsm7(bad)
        return PreparedSms(body, _gsm7_info(body))
    raise ValueError(f"unknown SMS mode {mode!r}: expected auto, unicode or ascii")


def _gsm7_info(nfc: str) -> SmsInfo:
    costs = [2 if ch in GSM7_EXTENSION else 1 for ch in nfc]
    segments = _segments(costs, GSM7_SINGLE_SEPTETS, GSM7_PART_SEPTETS)
    return SmsInfo("GSM-7", len(nfc), sum(costs), segments)


def _ucs2_info(nfc: str) -> SmsInfo:
    # Outside the Basic Multilingual Plane a character is a UTF-16 surrogate pair.
    costs = [2 if ord(ch) > 0xFFFF else 1 for ch in nfc]
    segments = _segments(costs, UCS2_SINGLE_UNITS, UCS2_PART_UNITS)
    return SmsInfo("UCS-2", len(nfc), sum(costs), segments)


def _segments(costs: list[int], single: int, part: int) -> int:
    """Parts needed for characters of the given unit costs, none split across two parts."""
    total = sum(costs)
    if total <= single:
        return 1 if total else 0
    # Greedy packing, like the handset and SMSC: a 2-unit character that does not fit in the
    # current part's last unit starts the next part, so ceil(total / part) can undercount.
    parts, used = 1, 0
    for cost in costs:
        if used + cost > part:
            parts, used = parts + 1, 0
        used += cost
    return parts
