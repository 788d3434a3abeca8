"""Written Vietnamese → the words an offline TTS voice (espeak-ng ``vi``) should read aloud.

espeak-ng reads ``16/10/2024`` without "tháng"/"năm", a phone number as one big number and
``UBND`` as English letters, so scripts go through :func:`spoken` before synthesis; the
announcer's copy keeps the written form. Pure functions: the only I/O is reading the packaged
default abbreviation table once (:mod:`~dispatcher.broadcast.speech.abbreviations`).

The rules run in this order, each on what the previous ones left. Each turns the digits it
matches into words (the range rule only puts "đến" between them), so a later rule never
re-reads an earlier rule's output:

1. abbreviations from the table, as whole words, case-sensitive (``UBND``, ``2G``, ``km``);
2. USSD codes, digit by digit (``*101#`` → "sao một không một thăng");
3. phone numbers, digit by digit in their written groups, a comma (a pause) between groups;
   numbers without separators are grouped the usual way (``0912 345 678``, ``1800 8098``).
   Short numbers count as phone numbers only after a word like "gọi", "tổng đài", "gửi";
4. dates written with dots or dashes and a 4-digit year (``16-10-2024``);
5. a dash between two numbers, times or dates is a range, read "đến" (``16-20``, ``7h-11h``);
6. dates with slashes (``16/10/2024``, ``16/10``) and months (``10/2024``); after a written
   "ngày"/"tháng" the word is not repeated;
7. times (``7h30``, ``17h``, ``07:30``), percentages (``12,5%``);
8. "tháng 4" → "tháng tư", "ngày 5 tháng" → "ngày mồng năm tháng", "thứ 2" → "thứ hai";
9. ratios ``50/100`` → "năm mươi trên một trăm";
10. every other number: ``1.234.567`` (dots group thousands), ``3,5`` (decimal comma), ``4.0``
    ("bốn chấm không"), ``05`` ("năm"), codes with a leading zero digit by digit.

Everything else, punctuation included (it gives the pauses), passes through unchanged.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from collections.abc import Mapping

from dispatcher.broadcast.speech.abbreviations import (
    Handler,
    abbreviation_rule,
    default_abbreviations,
)
from dispatcher.broadcast.speech.numbers import (
    MAX_NUMBER,
    day_words,
    digits_words,
    fraction_words,
    month_words,
    number_words,
    ordinal_words,
    time_words,
)

__all__ = [
    "DEFAULT_SYLLABLES_PER_MINUTE",
    "default_abbreviations",
    "reading_seconds",
    "spoken",
    "syllables",
]

# A commune announcer's pace; TV presenters read 220–330 syllables a minute.
DEFAULT_SYLLABLES_PER_MINUTE = 140.0
PAUSE = ", "  # between the groups of a phone number

# A year to check a day and month written without one: a leap year, so 29/2 is a date.
_ANY_LEAP_YEAR = 2024
_LAST_DAY = 31

# --- building blocks ---------------------------------------------------------------------------
# ASCII digits only: \d would also take Arabic-Indic and other digits that we cannot read.
_NUMBER = r"[0-9]{1,3}(?:\.[0-9]{3})+(?:,[0-9]+)?|[0-9]+(?:[.,][0-9]+)?"
_TIME = r"[0-9]{1,2}[hH](?:[0-9]{2})?(?![^\W\d_])|[0-9]{1,2}:[0-9]{2}"
_SLASH_DATE = r"[0-9]{1,2}/[0-9]{1,2}(?:/[0-9]{4})?"
# What may not touch a number on the left / right for it to stand alone (not part of 1.234,5).
_NOT_AFTER = r"(?<![0-9/.,:])"
_NOT_BEFORE = r"(?![0-9]|[/.,:][0-9]|/[^\W\d_])"
_THOUSANDS = re.compile(r"[0-9]{1,3}(?:\.[0-9]{3})+")
_TIME_PARTS = re.compile(r"([0-9]{1,2})(?:[hH]|:)([0-9]{2})?")
_WORD = re.compile(r"[^\W_]+")  # a run of letters or digits: one syllable once spoken
_SEPARATORS = re.compile(r"[ .-]+")


def spoken(text: str, abbreviations: Mapping[str, str] | None = None) -> str:
    """What the TTS voice should read for ``text`` (NFC in, NFC out).

    ``abbreviations`` replaces the default table (``None``: :func:`default_abbreviations`).
    """
    table = default_abbreviations() if abbreviations is None else abbreviations
    out = unicodedata.normalize("NFC", text)
    if table:
        out = _substitute(*abbreviation_rule(table), out)
    for pattern, handler in _RULES:
        out = _substitute(pattern, handler, out)
    return unicodedata.normalize("NFC", out)


def syllables(text: str, abbreviations: Mapping[str, str] | None = None) -> int:
    """Syllables read aloud for ``text``: the words of its spoken form, punctuation ignored."""
    return len(_WORD.findall(spoken(text, abbreviations)))


def reading_seconds(
    text: str,
    syllables_per_minute: float = DEFAULT_SYLLABLES_PER_MINUTE,
    abbreviations: Mapping[str, str] | None = None,
) -> float:
    """Seconds to read ``text`` aloud at ``syllables_per_minute`` (pauses not counted)."""
    if not (math.isfinite(syllables_per_minute) and syllables_per_minute > 0):
        raise ValueError(f"syllables per minute must be positive, got {syllables_per_minute}")
    return syllables(text, abbreviations) * 60.0 / syllables_per_minute


# --- the rule engine ---------------------------------------------------------------------------


def _substitute(pattern: re.Pattern[str], handler: Handler, text: str) -> str:
    """``pattern.sub`` with ``handler``, keeping the words apart from letters they touch."""

    def replace(match: re.Match[str]) -> str:
        words = handler(match)
        if words is None:
            return match.group()
        start, end = match.span()
        if start > 0 and text[start - 1].isalnum() and words[:1].isalnum():
            words = " " + words
        if end < len(text) and text[end].isalnum() and words[-1:].isalnum():
            words += " "
        return words

    return pattern.sub(replace, text)


def _with_lead(lead: str | None, words: str, drop: str) -> str:
    """Replace the leading ``drop`` word of ``words`` by the ``lead`` word the text already has.

    "ngày 16/10" must not become "ngày ngày mười sáu…"; the written word keeps its case.
    """
    if lead is None:
        return words
    if lead.lower() in ("mồng", "mùng"):
        return f"{lead} {words.removeprefix('ngày ').removeprefix('mồng ')}"
    return lead + words.removeprefix(drop)


# --- numbers -----------------------------------------------------------------------------------


def _integer(digits: str) -> str:
    """Digits without separators; codes with a leading zero and huge runs digit by digit."""
    if (len(digits) > 2 and digits.startswith("0")) or int(digits) > MAX_NUMBER:
        return digits_words(digits)
    return number_words(int(digits))


def _number(written: str) -> str:
    """``12``, ``1.234.567``, ``3,5``, ``1.234,5``, ``4.0`` as words."""
    whole, comma, fraction = written.partition(",")
    if comma:
        return f"{_integer(whole.replace('.', ''))} phẩy {fraction_words(fraction)}"
    if _THOUSANDS.fullmatch(written):
        return _integer(written.replace(".", ""))
    whole, dot, fraction = written.partition(".")
    if dot:
        return f"{_integer(whole)} chấm {fraction_words(fraction)}"
    return _integer(written)


def _time(written: str) -> str | None:
    parts = _TIME_PARTS.fullmatch(written)
    if parts is None:
        return None
    hour, minute = int(parts[1]), int(parts[2] or 0)
    if minute > 59 or (":" in written and hour > 23):
        return None
    return time_words(hour, minute)


def _date(day: int, month: int, year: int | None) -> str | None:
    try:
        dt.date(year or _ANY_LEAP_YEAR, month, day)
    except ValueError:
        return None
    words = f"{day_words(day)} {month_words(month)}"
    return f"{words} năm {number_words(year)}" if year is not None else words


# --- phone numbers -----------------------------------------------------------------------------

# The usual grouping of a number written without separators, by its kind.
_PHONE_SHAPES: tuple[tuple[re.Pattern[str], tuple[int, ...]], ...] = (
    (re.compile(r"0[35789][0-9]{8}"), (4, 3, 3)),  # mobile: 0912 345 678
    (re.compile(r"02[48][0-9]{8}"), (3, 4, 4)),  # Hà Nội, TP HCM: 024 3825 1234
    (re.compile(r"02[0-9]{9}"), (4, 4, 3)),  # other provinces: 0205 3830 018
    (re.compile(r"01[0-9]{9}"), (5, 3, 3)),  # pre-2018 mobile: 01621 234 567
    (re.compile(r"1[89]00[0-9]{4}"), (4, 4)),  # toll-free / premium: 1800 8098
    (re.compile(r"1[89]00[0-9]{6}"), (4, 3, 3)),
    (re.compile(r"[0-9]{9}"), (3, 3, 3)),  # after +84: 912 345 678
)

_SEP_DIGIT = r"(?:[ .-]?[0-9])"
_PHONE = re.compile(
    r"(?<![0-9+.,])(?:"
    # "84" without "+" only with spaces: 84.912.345.678 is eighty-four billion and more.
    rf"(?P<intl>\(\+84\)|\+84|84(?= ?[35789](?: ?[0-9]){{8}}(?![0-9])))"
    rf"{_SEP_DIGIT}{{9}}"
    rf"|0[35789]{_SEP_DIGIT}{{8}}"
    rf"|0[12]{_SEP_DIGIT}{{9}}"
    rf"|1[89]00{_SEP_DIGIT}{{4}}(?:{_SEP_DIGIT}{{2}})?"
    r")(?![0-9])"
)
# A short number (113, 5656, a local 3830018) is a phone number only after one of these.
_CUE = r"gọi|tổng đài|hotline|đường dây nóng|điện thoại|sđt|đt|đầu số|số máy|nhắn tin|nhắn|gửi"
_SHORT = r"[0-9]{3,8}(?:[.-][0-9]{2,4})*"  # 113, 5656, 3830.018; a list: "113, 114 hoặc 115"
_CUED_PHONE = re.compile(
    rf"\b(?P<cue>(?:{_CUE})(?:\s+(?:đến|tới|về|vào))?(?:\s+số)?[ \t]*:?[ \t]*)"
    rf"(?P<number>{_SHORT}(?:(?:,[ \t]*|[ \t]+(?:hoặc|và)[ \t]+){_SHORT})*){_NOT_BEFORE}",
    re.IGNORECASE,
)
# After "gửi"/"nhắn" alone a number is a short code only if it ends the clause.
_WEAK_CUE = re.compile(r"(?:gửi|nhắn|nhắn tin)[ \t]*:?[ \t]*", re.IGNORECASE)
_SHORT_RE = re.compile(_SHORT)
_CLAUSE_END = re.compile(r"[ \t]*(?:[^\w \t]|$)")  # punctuation, a line break or the end
_USSD = re.compile(r"(?<![\w*#])[*#][0-9*#]*[0-9][0-9*#]*")
_USSD_KEYS = {"*": "sao", "#": "thăng"}


def _phone(match: re.Match[str]) -> str:
    written, intl = match.group(), match.group("intl")
    national = written[len(intl) :] if intl else written
    groups = _SEPARATORS.split(national.strip(" .-"))
    if len(groups) == 1:
        groups = _default_groups(groups[0])
    spoken_groups = [digits_words(group) for group in groups]
    if intl:
        spoken_groups.insert(0, ("cộng " if "+" in intl else "") + digits_words("84"))
    return PAUSE.join(spoken_groups)


def _default_groups(digits: str) -> list[str]:
    for shape, sizes in _PHONE_SHAPES:
        if shape.fullmatch(digits):
            ends = [sum(sizes[: i + 1]) for i in range(len(sizes))]
            return [digits[end - size : end] for end, size in zip(ends, sizes, strict=True)]
    return [digits]


def _cued_phone(match: re.Match[str]) -> str | None:
    cue = match.group("cue")
    if _WEAK_CUE.fullmatch(cue) and not _CLAUSE_END.match(match.string, match.end()):
        return None  # "gửi 500 nghìn đồng" is money; "gửi 5656." is a short code
    return cue + _SHORT_RE.sub(_short_number, match.group("number"))


def _short_number(match: re.Match[str]) -> str:
    return PAUSE.join(digits_words(group) for group in _SEPARATORS.split(match.group()))


def _ussd(match: re.Match[str]) -> str:
    return " ".join(_USSD_KEYS.get(key) or digits_words(key) for key in match.group())


# --- dates, times, ranges ----------------------------------------------------------------------

_DAY_LEAD = r"(?:\b(?P<lead>ngày|mồng|mùng)\s+)?"
_DOTTED_DATE = re.compile(
    rf"{_DAY_LEAD}(?<![0-9/.,:-])(?P<d>[0-9]{{1,2}})(?P<sep>[.-])(?P<m>[0-9]{{1,2}})"
    rf"(?P=sep)(?P<y>[0-9]{{4}}){_NOT_BEFORE}",
    re.IGNORECASE,
)
_RANGE = re.compile(
    rf"{_NOT_AFTER}(?P<first>(?:{_SLASH_DATE}|{_TIME}|{_NUMBER})(?:\s?%)?)"
    r"[ \t]?[-–—][ \t]?(?=[0-9])"
)
_SLASH_DATE_RE = re.compile(
    rf"{_DAY_LEAD}{_NOT_AFTER}(?P<d>[0-9]{{1,2}})/(?P<m>[0-9]{{1,2}})(?:/(?P<y>[0-9]{{4}}))?"
    rf"{_NOT_BEFORE}",
    re.IGNORECASE,
)
_MONTH_YEAR = re.compile(
    rf"(?:\b(?P<lead>tháng)\s+)?{_NOT_AFTER}(?P<m>[0-9]{{1,2}})/(?P<y>[0-9]{{4}}){_NOT_BEFORE}",
    re.IGNORECASE,
)
_CLOCK = re.compile(rf"{_NOT_AFTER}(?:{_TIME})(?![0-9]|[:.,][0-9])")  # "2h/ngày" is a time
_PERCENT = re.compile(rf"{_NOT_AFTER}(?P<n>{_NUMBER})\s?%")
_MONTH = re.compile(rf"\b(?P<lead>tháng)\s+(?P<m>[0-9]{{1,2}}){_NOT_BEFORE}", re.IGNORECASE)
# "ngày 5" is a day of the month only before a month or another day ("ngày 2 lần" is not).
_DAY = re.compile(
    r"\b(?P<lead>ngày|mồng|mùng)\s+(?P<d>[0-9]{1,2})"
    r"(?=\s*(?:tháng\b|đến\b|tới\b|và\b|hoặc\b|,|[-–]))",
    re.IGNORECASE,
)
_ORDINAL = re.compile(rf"\b(?P<lead>thứ)\s+(?P<n>[0-9]{{1,3}}){_NOT_BEFORE}", re.IGNORECASE)
_RATIO = re.compile(rf"{_NOT_AFTER}(?P<a>[0-9]+)/(?P<b>[0-9]+){_NOT_BEFORE}")
_ANY_NUMBER = re.compile(rf"(?P<neg>(?:(?<=[\s(])|^)[-−])?(?<![0-9])(?P<n>{_NUMBER})(?![0-9])")


def _dotted_date(match: re.Match[str]) -> str | None:
    return _lead_date(match, int(match["y"]))


def _slash_date(match: re.Match[str]) -> str | None:
    return _lead_date(match, int(match["y"]) if match["y"] else None)


def _lead_date(match: re.Match[str], year: int | None) -> str | None:
    words = _date(int(match["d"]), int(match["m"]), year)
    return None if words is None else _with_lead(match["lead"], words, "ngày")


def _month_year(match: re.Match[str]) -> str | None:
    month, year = int(match["m"]), int(match["y"])
    if not 1 <= month <= 12:
        return None
    return _with_lead(match["lead"], f"{month_words(month)} năm {number_words(year)}", "tháng")


def _range(match: re.Match[str]) -> str:
    return match["first"] + " đến "


def _clock(match: re.Match[str]) -> str | None:
    return _time(match.group())


def _percent(match: re.Match[str]) -> str:
    return _number(match["n"]) + " phần trăm"


def _month(match: re.Match[str]) -> str | None:
    month = int(match["m"])
    return _with_lead(match["lead"], month_words(month), "tháng") if 1 <= month <= 12 else None


def _day(match: re.Match[str]) -> str | None:
    day = int(match["d"])
    return _with_lead(match["lead"], day_words(day), "ngày") if 1 <= day <= _LAST_DAY else None


def _ordinal(match: re.Match[str]) -> str | None:
    n = int(match["n"])
    return _with_lead(match["lead"], ordinal_words(n), "thứ") if n >= 1 else None


def _ratio(match: re.Match[str]) -> str:
    return f"{_integer(match['a'])} trên {_integer(match['b'])}"


def _any_number(match: re.Match[str]) -> str:
    return ("âm " if match["neg"] else "") + _number(match["n"])


_RULES: tuple[tuple[re.Pattern[str], Handler], ...] = (
    (_USSD, _ussd),
    (_PHONE, _phone),
    (_CUED_PHONE, _cued_phone),
    (_DOTTED_DATE, _dotted_date),
    (_RANGE, _range),
    (_MONTH_YEAR, _month_year),
    (_SLASH_DATE_RE, _slash_date),
    (_CLOCK, _clock),
    (_PERCENT, _percent),
    (_MONTH, _month),
    (_DAY, _day),
    (_ORDINAL, _ordinal),
    (_RATIO, _ratio),
    (_ANY_NUMBER, _any_number),
)
