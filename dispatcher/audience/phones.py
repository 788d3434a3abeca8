"""Vietnamese phone numbers: clean what people type into spreadsheets, answer in E.164.

Pure functions, no I/O. ``phonenumbers`` (region ``VN``) is the authority on whether a number
exists and what type it is; this module only cleans the text first (separators, Excel artefacts,
pre-2018 11-digit mobile numbers) and turns its verdict into a short reason people can act on.
For speed on big lists, the common case (a 9-digit national number) is checked against
phonenumbers' own VN patterns compiled once, see :func:`_mobile_matchers`.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal
from functools import lru_cache

import phonenumbers
from phonenumbers import (
    NumberParseException,
    PhoneMetadata,
    PhoneNumber,
    PhoneNumberDesc,
    PhoneNumberType,
)

__all__ = ["OLD_MOBILE_PREFIXES", "InvalidPhone", "mask", "normalize"]

COUNTRY_CODE = 84
REGION = "VN"

# The 2018 conversion of 11-digit mobile numbers to 10 digits (Ministry of Information and
# Communications plan, carried out 15/9/2018 – 30/6/2019): the old 4-digit prefix became a
# 3-digit one and the last 7 digits were kept. Old numbers still turn up in lists collected
# before then; phonenumbers rejects them, so they are rewritten before it sees them.
OLD_MOBILE_PREFIXES: dict[str, str] = {
    # MobiFone
    "0120": "070",
    "0121": "079",
    "0122": "077",
    "0126": "076",
    "0128": "078",
    # VinaPhone
    "0123": "083",
    "0124": "084",
    "0125": "085",
    "0127": "081",
    "0129": "082",
    # Viettel
    "0162": "032",
    "0163": "033",
    "0164": "034",
    "0165": "035",
    "0166": "036",
    "0167": "037",
    "0168": "038",
    "0169": "039",
    # Vietnamobile
    "0186": "056",
    "0188": "058",
    # Gmobile
    "0199": "059",
}

REASON_EMPTY = "empty"
REASON_NOT_A_NUMBER = "not a phone number"
REASON_INVALID = "not a valid Vietnamese number"
REASON_FOREIGN = "not a Vietnamese number"
REASON_LANDLINE = "landline: cannot receive SMS"
REASON_FRACTION = "a number with a fraction, not a phone number: format the column as Text"
REASON_ROUNDED = (
    "a number Excel shortened (digits lost in its E notation): widen the column or format it as "
    "Text, then save again"
)

_ACCEPTED_TYPES = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE})

# Everything people put between digit groups. NFKC has already turned NBSP and full-width
# characters into their ASCII forms; Unicode dashes survive it, so they are listed.
_SEPARATORS = re.compile(r"[\s.\-()\u2010-\u2015]+")
_CLEAN = re.compile(r"\+?[0-9]+")
# Excel and pandas write a number column back as floats: "912345678.0", "8.4912345678E10".
# Nine or more digits before ".0" keeps grouped input such as "091.234.5670" out of this path.
_EXCEL_FLOAT = re.compile(r"([0-9]{9,13})\.0+")
# Vietnamese Windows writes the decimal comma: "9,12345678E+08".
_EXCEL_SCIENTIFIC = re.compile(r"[0-9][.,][0-9]+[eE]\+?[0-9]{1,2}")
# Seven digits and more before one point are a number, not digit groups ("0912.345.678"): with a
# fraction it was never a phone number ("91234567.8", a computed cell).
_EXCEL_FRACTION = re.compile(r"[0-9]{7,}\.[0-9]*[1-9][0-9]*")
# An old 11-digit mobile number in national, international or Excel-stripped form.
_OLD_FORM = re.compile(r"(?:\+84|0084|84|0)?(1[0-9]{2})([0-9]{7})")
# Forms whose national significant number is unambiguous, so phonenumbers.parse (~20 µs)
# can be skipped; tests check this path agrees with parse().
_FAST_FORM = re.compile(r"(?:\+84|84|0)?([1-9][0-9]{8})")


class InvalidPhone(ValueError):
    """The text is not a Vietnamese mobile number that can receive SMS."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def normalize(raw: str) -> str:
    """Return ``raw`` as an E.164 Vietnamese mobile number (``+84…``).

    Accepts the forms found in real lists: ``0912 345 678``, ``091.234.5678``, ``84912345678``,
    ``(+84) 91 234 5678``, ``912345678``, Excel leftovers (leading apostrophe, ``912345678.0``),
    NBSP and full-width digits, and pre-2018 11-digit mobile numbers (``0168 123 4567``).

    Raises :class:`InvalidPhone` whose ``reason`` says why the number cannot receive SMS.
    """
    verdict = _verdict(_clean(raw))
    if verdict.startswith("+"):
        return verdict
    raise InvalidPhone(verdict)


def mask(e164: str) -> str:
    """Hide the middle of a number for logs and screens: ``+84912345678`` → ``+84 91x xxx 678``."""
    national = e164.removeprefix(f"+{COUNTRY_CODE}")
    if national == e164 or len(national) < 6:
        return "x" * len(e164)
    hidden = national[:2] + "x" * (len(national) - 5) + national[-3:]
    return f"+{COUNTRY_CODE} {hidden[:3]} {hidden[3:-3]} {hidden[-3:]}"


_E164_IN_TEXT = re.compile(r"\+\d{8,15}")


def mask_in_text(text: str) -> str:
    """Every E.164 number inside a text masked, such as a provider's error message ("The 'To'
    number +84912345678 is not valid")."""
    return _E164_IN_TEXT.sub(lambda m: mask(m.group()), text)


MASK_FROM_DIGITS = 7  # shorter fragments of a number identify nobody


def mask_digits(text: str) -> str:
    """Hide the middle digits of a raw value (a landline, a mistyped number) for screens:
    ``(0205) 3206606`` → ``(020x) xxxx606``, the first and last three digits kept, the rest of
    the text as written. Text with fewer than seven digits is shown as it is."""
    digits = sum(c.isdigit() for c in text)
    if digits < MASK_FROM_DIGITS:
        return text
    out, seen = [], 0
    for c in text:
        if c.isdigit():
            seen += 1
            c = c if seen <= 3 or seen > digits - 3 else "x"
        out.append(c)
    return "".join(out)


def _clean(raw: str) -> str:
    """Reduce ``raw`` to ``+?digits``, ``""`` for an empty cell, or ``"?"`` for text."""
    plain = raw.isascii()
    text = (raw if plain else _unicode_to_ascii(raw)).strip()
    if text[:1] == "'":
        text = text[1:].lstrip()
    if plain and text.isdigit():
        return _new_prefix(text)  # the usual case, already clean
    if not text:
        return ""
    if "." in text or "e" in text or "E" in text:
        text = _excel_number(text)
    text = _SEPARATORS.sub("", text)
    if not text:
        # Only separators: a placeholder such as "-" in an empty cell.
        return ""
    if not _CLEAN.fullmatch(text):
        return "?"
    return _new_prefix(text)


def _unicode_to_ascii(text: str) -> str:
    # NFKC maps full-width digits/plus and NBSP to ASCII; format characters (bidi marks that
    # phones and Windows add when a number is copied) are invisible, so they are dropped.
    text = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf")


def _excel_number(text: str) -> str:
    """The digits of a number Excel wrote as a float; raises :class:`InvalidPhone` when the
    number is not whole, or when its E notation dropped digits (``8.49123E+10``)."""
    match = _EXCEL_FLOAT.fullmatch(text)
    if match:
        return match.group(1)
    if _EXCEL_FRACTION.fullmatch(text):
        raise InvalidPhone(REASON_FRACTION)
    if _EXCEL_SCIENTIFIC.fullmatch(text):
        value = Decimal(text.replace(",", "."))  # the regex only lets valid literals through
        if value != value.to_integral_value():
            raise InvalidPhone(REASON_FRACTION)
        exponent = value.as_tuple().exponent
        # A positive exponent left in the Decimal is digits the notation did not carry: Excel
        # rounds a number to fit a narrow column, so they cannot be told to be zeros.
        if isinstance(exponent, int) and exponent > 0:
            raise InvalidPhone(REASON_ROUNDED)
        return str(int(value))
    return text


def _new_prefix(digits: str) -> str:
    """Rewrite a pre-2018 11-digit mobile number into today's national form."""
    match = _OLD_FORM.fullmatch(digits)
    if match:
        new = OLD_MOBILE_PREFIXES.get("0" + match.group(1))
        if new:
            return new + match.group(2)
    return digits


def _verdict(cleaned: str) -> str:
    """E.164 for an acceptable number, otherwise the reason."""
    if not cleaned:
        return REASON_EMPTY
    if cleaned == "?":
        return REASON_NOT_A_NUMBER
    fast = _FAST_FORM.fullmatch(cleaned)
    if fast and _is_mobile(fast.group(1)):
        # Not cached: the numbers of a list are nearly all distinct, so a cache would miss
        # (and cost more than this check) on almost every row.
        return f"+{COUNTRY_CODE}{fast.group(1)}"
    return _slow_verdict(cleaned)


@lru_cache(maxsize=4_096)
def _slow_verdict(cleaned: str) -> str:
    """phonenumbers' verdict (~20 µs), cached per cleaned string: lists repeat their mistakes."""
    fast = _FAST_FORM.fullmatch(cleaned)
    number = _as_number(fast.group(1)) if fast else _parse(cleaned)
    if number is None:
        return REASON_INVALID
    if number.country_code != COUNTRY_CODE:
        return REASON_FOREIGN
    return _type_verdict(number)


def _as_number(national: str) -> PhoneNumber:
    return PhoneNumber(country_code=COUNTRY_CODE, national_number=int(national))


def _parse(cleaned: str) -> PhoneNumber | None:
    try:
        return phonenumbers.parse(cleaned, REGION)
    except NumberParseException:
        return None


# number_type() checks these before fixed line and mobile; a match on any of them wins.
_CHECKED_BEFORE_MOBILE = (
    "premium_rate", "toll_free", "shared_cost", "voip", "personal_number", "pager", "uan",
    "voicemail",
)  # fmt: skip


def _mobile_matchers() -> dict[int, re.Pattern[str]]:
    """phonenumbers' own VN metadata compiled into one regex per national number length that
    matches exactly the numbers number_type() calls MOBILE or FIXED_LINE_OR_MOBILE.

    number_type() costs ~4 µs a call, mostly lookups around these same patterns, and a list of a
    million distinct numbers cannot be helped by a cache; one regex is ~10x faster. Only
    acceptance is decided here: everything else goes to number_type() for its reason, and tests
    compare the two on every leading prefix.
    """
    metadata = PhoneMetadata.metadata_for_region(REGION)
    if metadata is None:  # never with the bundled metadata; everything takes the slow path
        return {}
    valid = metadata.general_desc
    mobile = metadata.fixed_line if metadata.same_mobile_and_fixed_line_pattern else metadata.mobile
    if valid is None or mobile is None:
        return {}
    earlier = [getattr(metadata, name) for name in _CHECKED_BEFORE_MOBILE]
    matchers: dict[int, re.Pattern[str]] = {}
    for length in mobile.possible_length or valid.possible_length:
        if not (_fits(valid, length) and _fits(mobile, length)):
            continue
        blockers = "|".join(f"(?:{d.national_number_pattern})" for d in earlier if _fits(d, length))
        regex = rf"(?=(?:{valid.national_number_pattern})\Z)(?:{mobile.national_number_pattern})\Z"
        matchers[length] = re.compile(rf"(?!(?:{blockers})\Z){regex}" if blockers else regex)
    return matchers


def _fits(desc: PhoneNumberDesc | None, length: int) -> bool:
    """Could ``desc`` match a national number of ``length`` digits (its length filter passes)?"""
    if desc is None or desc.national_number_pattern is None:
        return False
    return not desc.possible_length or length in desc.possible_length


_MOBILE_BY_LENGTH = _mobile_matchers()


def _is_mobile(national: str) -> bool:
    """Would phonenumbers.number_type() call this number MOBILE or FIXED_LINE_OR_MOBILE?"""
    matcher = _MOBILE_BY_LENGTH.get(len(national))
    return matcher is not None and matcher.match(national) is not None


def _type_verdict(number: PhoneNumber) -> str:
    # number_type() is UNKNOWN exactly when is_valid_number() is false, so one call does both.
    kind = phonenumbers.number_type(number)
    if kind in _ACCEPTED_TYPES:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if kind == PhoneNumberType.UNKNOWN:
        return REASON_INVALID
    if kind == PhoneNumberType.FIXED_LINE:
        return REASON_LANDLINE
    label = PhoneNumberType.to_string(kind).lower().replace("_", " ")
    return f"not a mobile number ({label})"
