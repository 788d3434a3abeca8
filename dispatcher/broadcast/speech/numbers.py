"""Numbers, digits, dates and times as Northern Vietnamese words (the Lạng Sơn reading).

Pure functions. The forms are the ones a commune announcer in the North reads aloud:

* ``mười`` is ten on its own or as the tens of 10–19; ``mươi`` is the tens from 20 up
  ("hai mươi").
* After ``mươi`` (tens digit 2–9) a final 1 is ``mốt`` ("hai mươi mốt"), but after ``mười`` it
  stays ``một`` ("mười một"), as it does alone or after ``linh``.
* After ``mười`` or ``mươi`` a final 5 is ``lăm`` ("mười lăm", "hai mươi lăm"); alone or after
  ``linh`` it is ``năm`` ("năm", "một trăm linh năm").
* After ``mươi`` a final 4 is ``tư`` ("hai mươi tư", the Northern form; "bốn" is also heard in
  the South); alone, after ``mười`` and after ``linh`` it is ``bốn``.
* A zero tens digit inside a hundred is ``linh`` ("một trăm linh năm"; ``lẻ`` is Southern).
* Groups of three digits take ``nghìn`` (not the Southern ``ngàn``), ``triệu``, ``tỷ``. A group
  after the first that is below 100 is read with ``không trăm`` so that the listener hears the
  missing hundreds ("một nghìn không trăm linh năm" is 1005, not 1,5); an all-zero group is
  skipped ("một triệu không trăm linh năm" is 1,000,005).
"""

from __future__ import annotations

import datetime as dt

DIGITS: tuple[str, ...] = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")
# Scale words for each group of three digits, lowest first.
SCALES: tuple[str, ...] = ("", "nghìn", "triệu", "tỷ")
MAX_NUMBER = 999_999_999_999  # "chín trăm chín mươi chín tỷ ..."; a thousand tỷ needs "nghìn tỷ"

_ORDINAL_SPECIAL = {1: "nhất", 4: "tư"}  # thứ nhất, thứ tư; the rest are cardinals
# "phẩy" is the decimal comma. A fraction longer than this, or with a leading zero, is read
# digit by digit ("ba phẩy không năm"); a short one as a number ("ba phẩy hai mươi lăm").
_FRACTION_AS_NUMBER_DIGITS = 3
# Days 1–10 are "mồng một" … "mồng mười" in the North. Without it "ngày năm tháng mười năm …"
# has three "năm" in a row (five, year) and is hard to follow over a loudspeaker.
_MONG_LAST_DAY = 10


def number_words(n: int) -> str:
    """``n`` as Northern Vietnamese words: ``2024`` → ``"hai nghìn không trăm hai mươi tư"``.

    Defined for ``-MAX_NUMBER`` … ``MAX_NUMBER``; negatives are read ``"âm …"``.
    """
    if abs(n) > MAX_NUMBER:
        raise ValueError(f"{n} is outside ±{MAX_NUMBER:,}")
    if n < 0:
        return "âm " + number_words(-n)
    if n == 0:
        return DIGITS[0]
    groups = _groups_of_three(n)
    words: list[str] = []
    for scale in range(len(groups) - 1, -1, -1):
        if groups[scale] == 0:
            continue
        words += _hundreds(groups[scale], inner=bool(words))
        if SCALES[scale]:
            words.append(SCALES[scale])
    return " ".join(words)


def digits_words(digits: str) -> str:
    """Each digit on its own: ``"0912"`` → ``"không chín một hai"`` (phone numbers, codes)."""
    if not digits or not digits.isascii() or not digits.isdigit():
        raise ValueError(f"expected ASCII digits, got {digits!r}")
    return " ".join(DIGITS[int(d)] for d in digits)


def decimal_words(written: str) -> str:
    """A number with a decimal comma: ``"3,5"`` → ``"ba phẩy năm"``; ``"1.234,5"`` too.

    Dots are thousands separators. The fraction is read as a number when it has at most three
    digits and no leading zero (``"3,25"`` → ``"ba phẩy hai mươi lăm"``), as announcers do, and
    digit by digit otherwise (``"0,05"`` → ``"không phẩy không năm"``).
    """
    whole, sep, fraction = written.partition(",")
    integer = whole.replace(".", "")
    if not (sep and integer.isascii() and integer.isdigit()):
        raise ValueError(f"expected a decimal number like 3,5, got {written!r}")
    return f"{number_words(int(integer))} phẩy {fraction_words(fraction)}"


def fraction_words(fraction: str) -> str:
    """The digits after a decimal comma or point (see :func:`decimal_words`)."""
    digits = digits_words(fraction)  # also rejects anything but digits
    if len(fraction) <= _FRACTION_AS_NUMBER_DIGITS and not fraction.startswith("0"):
        return number_words(int(fraction))
    return digits


def ordinal_words(n: int) -> str:
    """``1`` → ``"thứ nhất"``, ``4`` → ``"thứ tư"``, ``21`` → ``"thứ hai mươi mốt"``."""
    if n < 1:
        raise ValueError(f"ordinals start at 1, got {n}")
    return "thứ " + (_ORDINAL_SPECIAL.get(n) or number_words(n))


def month_words(month: int) -> str:
    """``4`` → ``"tháng tư"``, ``1`` → ``"tháng một"``, ``12`` → ``"tháng mười hai"``.

    Months of the solar calendar: ``tháng giêng`` and ``tháng chạp`` belong to the lunar one,
    so January is ``tháng một``. April is ``tháng tư`` everywhere (never ``tháng bốn``).
    """
    if not 1 <= month <= 12:
        raise ValueError(f"months are 1 to 12, got {month}")
    return "tháng " + ("tư" if month == 4 else number_words(month))


def day_words(day: int) -> str:
    """``16`` → ``"ngày mười sáu"``; days 1–10 take ``mồng``: ``5`` → ``"ngày mồng năm"``."""
    if not 1 <= day <= 31:
        raise ValueError(f"days are 1 to 31, got {day}")
    mong = "mồng " if day <= _MONG_LAST_DAY else ""
    return f"ngày {mong}{number_words(day)}"


def year_words(year: int) -> str:
    """``2024`` → ``"năm hai nghìn không trăm hai mươi tư"``."""
    return "năm " + number_words(year)


def date_words(date: dt.date) -> str:
    """``16/10/2024`` → ``"ngày mười sáu tháng mười năm hai nghìn không trăm hai mươi tư"``."""
    return f"{day_words(date.day)} {month_words(date.month)} {year_words(date.year)}"


def time_words(hour: int, minute: int = 0) -> str:
    """``(7, 30)`` → ``"bảy giờ ba mươi phút"``; ``(17, 0)`` → ``"mười bảy giờ"``.

    The 24-hour reading as written ("17h" is "mười bảy giờ", not "năm giờ chiều"), since the
    text usually says "sáng"/"chiều" itself when it means it. Minutes keep ``phút``, as in
    official writing ("7 giờ 30 phút"); ``0`` minutes are not read. Hours go up to 99 so that
    durations ("trong 48h") read too.
    """
    if not (0 <= hour <= 99 and 0 <= minute <= 59):
        raise ValueError(f"not a time: {hour}h{minute:02d}")
    spoken = f"{number_words(hour)} giờ"
    return f"{spoken} {number_words(minute)} phút" if minute else spoken


def _groups_of_three(n: int) -> list[int]:
    """Groups of three digits, lowest first: ``1_234_567`` → ``[567, 234, 1]``."""
    groups: list[int] = []
    while n:
        n, group = divmod(n, 1000)
        groups.append(group)
    return groups


def _hundreds(n: int, *, inner: bool) -> list[str]:
    """Words for a group 1–999; an ``inner`` group always says its hundreds, even ``không``."""
    hundreds, rest = divmod(n, 100)
    words = [DIGITS[hundreds], "trăm"] if hundreds or inner else []
    if rest == 0:
        return words
    if rest < 10 and words:
        return [*words, "linh", DIGITS[rest]]
    return words + _tens(rest)


def _tens(n: int) -> list[str]:
    """Words for 1–99."""
    tens, units = divmod(n, 10)
    if tens == 0:
        return [DIGITS[units]]
    words = ["mười"] if tens == 1 else [DIGITS[tens], "mươi"]
    if units == 0:
        return words
    if units == 5:
        return [*words, "lăm"]
    if tens >= 2 and units in (1, 4):
        return [*words, "mốt" if units == 1 else "tư"]
    return [*words, DIGITS[units]]
