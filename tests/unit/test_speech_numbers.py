"""Northern Vietnamese number words (dispatcher.broadcast.speech.numbers).

The table is the spec: each row was written from the reading rules, not from the code's output.
    mười (10–19) / mươi (20+);  mốt: a final 1 after mươi only (21–91, not 11);
    lăm: a final 5 after mười or mươi;  tư: a final 4 after mươi only (Northern);
    linh: a zero tens digit inside a hundred;  không trăm: an inner group below 100.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dispatcher.broadcast.speech.numbers import (
    MAX_NUMBER,
    date_words,
    day_words,
    decimal_words,
    digits_words,
    fraction_words,
    month_words,
    number_words,
    ordinal_words,
    time_words,
    year_words,
)

NUMBERS = [
    # units
    (0, "không"),
    (1, "một"),
    (2, "hai"),
    (3, "ba"),
    (4, "bốn"),
    (5, "năm"),
    (6, "sáu"),
    (7, "bảy"),
    (8, "tám"),
    (9, "chín"),
    # mười: 1 stays một, 4 stays bốn, 5 becomes lăm
    (10, "mười"),
    (11, "mười một"),
    (12, "mười hai"),
    (14, "mười bốn"),
    (15, "mười lăm"),
    (19, "mười chín"),
    # mươi: mốt, tư, lăm
    (20, "hai mươi"),
    (21, "hai mươi mốt"),
    (22, "hai mươi hai"),
    (24, "hai mươi tư"),
    (25, "hai mươi lăm"),
    (30, "ba mươi"),
    (31, "ba mươi mốt"),
    (34, "ba mươi tư"),
    (35, "ba mươi lăm"),
    (41, "bốn mươi mốt"),
    (44, "bốn mươi tư"),
    (45, "bốn mươi lăm"),
    (50, "năm mươi"),
    (51, "năm mươi mốt"),
    (54, "năm mươi tư"),
    (55, "năm mươi lăm"),
    (91, "chín mươi mốt"),
    (94, "chín mươi tư"),
    (99, "chín mươi chín"),
    # hundreds: linh keeps một, bốn, năm
    (100, "một trăm"),
    (101, "một trăm linh một"),
    (104, "một trăm linh bốn"),
    (105, "một trăm linh năm"),
    (110, "một trăm mười"),
    (111, "một trăm mười một"),
    (114, "một trăm mười bốn"),
    (115, "một trăm mười lăm"),
    (121, "một trăm hai mươi mốt"),
    (124, "một trăm hai mươi tư"),
    (125, "một trăm hai mươi lăm"),
    (200, "hai trăm"),
    (305, "ba trăm linh năm"),
    (999, "chín trăm chín mươi chín"),
    # thousands: an inner group below 100 says "không trăm"
    (1000, "một nghìn"),
    (1001, "một nghìn không trăm linh một"),
    (1005, "một nghìn không trăm linh năm"),
    (1010, "một nghìn không trăm mười"),
    (1015, "một nghìn không trăm mười lăm"),
    (1021, "một nghìn không trăm hai mươi mốt"),
    (1050, "một nghìn không trăm năm mươi"),
    (1100, "một nghìn một trăm"),
    (1200, "một nghìn hai trăm"),
    (1234, "một nghìn hai trăm ba mươi tư"),
    (2000, "hai nghìn"),
    (2024, "hai nghìn không trăm hai mươi tư"),
    (2025, "hai nghìn không trăm hai mươi lăm"),
    (2026, "hai nghìn không trăm hai mươi sáu"),
    (5656, "năm nghìn sáu trăm năm mươi sáu"),
    (10_000, "mười nghìn"),
    (15_000, "mười lăm nghìn"),
    (21_000, "hai mươi mốt nghìn"),
    (24_000, "hai mươi tư nghìn"),
    (50_000, "năm mươi nghìn"),
    (100_000, "một trăm nghìn"),
    (100_005, "một trăm nghìn không trăm linh năm"),
    (105_000, "một trăm linh năm nghìn"),
    (234_000, "hai trăm ba mươi tư nghìn"),
    (771_000, "bảy trăm bảy mươi mốt nghìn"),
    # millions, billions: an all-zero group is skipped
    (1_000_000, "một triệu"),
    (1_000_001, "một triệu không trăm linh một"),
    (1_000_100, "một triệu một trăm"),
    (1_001_000, "một triệu không trăm linh một nghìn"),
    (1_234_567, "một triệu hai trăm ba mươi tư nghìn năm trăm sáu mươi bảy"),
    (3_400_000, "ba triệu bốn trăm nghìn"),
    (18_200_000, "mười tám triệu hai trăm nghìn"),
    (21_000_000, "hai mươi mốt triệu"),
    (1_000_000_000, "một tỷ"),
    (1_000_000_005, "một tỷ không trăm linh năm"),
    (2_500_000_000, "hai tỷ năm trăm triệu"),
    (
        999_999_999_999,
        "chín trăm chín mươi chín tỷ chín trăm chín mươi chín triệu "
        "chín trăm chín mươi chín nghìn chín trăm chín mươi chín",
    ),
    # negatives
    (-5, "âm năm"),
    (-21, "âm hai mươi mốt"),
]

UNIT_VALUES = {
    "không": 0,
    "một": 1,
    "mốt": 1,
    "hai": 2,
    "ba": 3,
    "bốn": 4,
    "tư": 4,
    "năm": 5,
    "lăm": 5,
    "sáu": 6,
    "bảy": 7,
    "tám": 8,
    "chín": 9,
}
SCALE_VALUES = {"nghìn": 1_000, "triệu": 1_000_000, "tỷ": 1_000_000_000}
VOCABULARY = {*UNIT_VALUES, *SCALE_VALUES, "mười", "mươi", "trăm", "linh", "âm"}
IN_RANGE = st.integers(min_value=0, max_value=MAX_NUMBER)


def parse_group(words: list[str]) -> int:
    """1–999 from its words; strict about the shape so that malformed readings fail."""
    value = 0
    if len(words) >= 2 and words[1] == "trăm":
        value, words = 100 * UNIT_VALUES[words[0]], words[2:]
    if not words:
        return value
    if words[0] == "linh":
        assert len(words) == 2
        return value + UNIT_VALUES[words[1]]
    if words[0] == "mười":
        assert len(words) <= 2
        return value + 10 + (UNIT_VALUES[words[1]] if len(words) == 2 else 0)
    if len(words) >= 2 and words[1] == "mươi":
        assert len(words) <= 3
        units = UNIT_VALUES[words[2]] if len(words) == 3 else 0
        return value + 10 * UNIT_VALUES[words[0]] + units
    assert len(words) == 1
    return value + UNIT_VALUES[words[0]]


def parse(text: str) -> int:
    """An independent reader of number words, to check readings by their value."""
    words = text.split()
    sign = -1 if words[0] == "âm" else 1
    total, group = 0, list[str]()
    for word in words[1:] if sign < 0 else words:
        if word in SCALE_VALUES:
            total += parse_group(group) * SCALE_VALUES[word]
            group = []
        else:
            group.append(word)
    return sign * (total + (parse_group(group) if group else 0))


@pytest.mark.parametrize(("n", "words"), NUMBERS)
def test_number_words(n: int, words: str) -> None:
    assert number_words(n) == words


@pytest.mark.parametrize(("n", "words"), NUMBERS)
def test_the_table_itself_is_consistent(n: int, words: str) -> None:
    assert parse(words) == n


@pytest.mark.parametrize("n", [MAX_NUMBER + 1, -MAX_NUMBER - 1, 10**15])
def test_out_of_range(n: int) -> None:
    with pytest.raises(ValueError, match="outside"):
        number_words(n)


@given(IN_RANGE)
def test_reads_back_to_the_same_number(n: int) -> None:
    assert parse(number_words(n)) == n


@given(IN_RANGE)
def test_only_known_words(n: int) -> None:
    assert set(number_words(n).split()) <= VOCABULARY
    assert set(number_words(-n).split()) <= VOCABULARY


@given(IN_RANGE)
def test_special_forms_only_where_they_belong(n: int) -> None:
    words = number_words(n).split()
    for before, word in zip(["", *words], words, strict=False):
        if word in ("mốt", "tư"):
            assert before == "mươi", (n, words)
        if word == "lăm":
            assert before in ("mười", "mươi"), (n, words)
        if word == "linh":
            assert before == "trăm", (n, words)
        if word == "mươi":
            assert before in ("hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín"), (n, words)
        if before in ("mươi", "mười") and word in ("một", "bốn", "năm"):
            assert (before, word) in (("mười", "một"), ("mười", "bốn")), (n, words)


@given(st.integers(min_value=1, max_value=MAX_NUMBER // 1000))
def test_whole_thousands_end_in_nghin(n: int) -> None:
    if n % 1000:
        assert number_words(n * 1000).endswith("nghìn")
    else:
        assert number_words(n * 1000).endswith(("triệu", "tỷ"))


@given(st.integers(min_value=1, max_value=MAX_NUMBER // 1000), st.integers(1, 99))
def test_an_inner_group_below_a_hundred_says_khong_tram(high: int, low: int) -> None:
    tail = f"linh {number_words(low)}" if low < 10 else number_words(low)
    assert number_words(high * 1000 + low) == f"{number_words(high * 1000)} không trăm {tail}"


@given(st.integers(min_value=1, max_value=MAX_NUMBER))
def test_negatives(n: int) -> None:
    assert number_words(-n) == "âm " + number_words(n)


@pytest.mark.parametrize(
    ("digits", "words"),
    [
        ("0", "không"),
        ("0912", "không chín một hai"),
        ("5656", "năm sáu năm sáu"),
        ("1800", "một tám không không"),
        ("0205", "không hai không năm"),
        ("44", "bốn bốn"),  # a digit is always bốn, never tư
        ("15", "một năm"),  # ... and năm, never lăm
    ],
)
def test_digits_words(digits: str, words: str) -> None:
    assert digits_words(digits) == words


@pytest.mark.parametrize("bad", ["", "12a", "1 2", "-1", "١٢", "²"])
def test_digits_words_rejects_non_digits(bad: str) -> None:
    with pytest.raises(ValueError, match="digits"):
        digits_words(bad)


@given(st.text(alphabet="0123456789", min_size=1, max_size=20))
def test_digits_words_one_word_per_digit(digits: str) -> None:
    words = digits_words(digits).split()
    assert len(words) == len(digits)
    assert [parse(word) for word in words] == [int(d) for d in digits]


@pytest.mark.parametrize(
    ("written", "words"),
    [
        ("3,5", "ba phẩy năm"),
        ("0,5", "không phẩy năm"),
        ("12,5", "mười hai phẩy năm"),
        ("18,2", "mười tám phẩy hai"),
        ("3,25", "ba phẩy hai mươi lăm"),
        ("3,14", "ba phẩy mười bốn"),
        ("2,125", "hai phẩy một trăm hai mươi lăm"),
        ("0,05", "không phẩy không năm"),
        ("3,1416", "ba phẩy một bốn một sáu"),
        ("1.234,5", "một nghìn hai trăm ba mươi tư phẩy năm"),
    ],
)
def test_decimal_words(written: str, words: str) -> None:
    assert decimal_words(written) == words


@pytest.mark.parametrize("bad", ["3", "3,", "a,5", "3,5a", "3.5"])
def test_decimal_words_rejects(bad: str) -> None:
    with pytest.raises(ValueError, match=r"digits|decimal"):
        decimal_words(bad)


def test_fraction_words() -> None:
    assert fraction_words("0") == "không"
    assert fraction_words("50") == "năm mươi"
    assert fraction_words("007") == "không không bảy"


@pytest.mark.parametrize(
    ("n", "words"),
    [
        (1, "thứ nhất"),
        (2, "thứ hai"),
        (3, "thứ ba"),
        (4, "thứ tư"),
        (5, "thứ năm"),
        (7, "thứ bảy"),
        (10, "thứ mười"),
        (11, "thứ mười một"),
        (14, "thứ mười bốn"),
        (21, "thứ hai mươi mốt"),
        (24, "thứ hai mươi tư"),
    ],
)
def test_ordinal_words(n: int, words: str) -> None:
    assert ordinal_words(n) == words


MONTHS = [
    "tháng một",
    "tháng hai",
    "tháng ba",
    "tháng tư",
    "tháng năm",
    "tháng sáu",
    "tháng bảy",
    "tháng tám",
    "tháng chín",
    "tháng mười",
    "tháng mười một",
    "tháng mười hai",
]


@pytest.mark.parametrize(("month", "words"), list(enumerate(MONTHS, start=1)))
def test_month_words(month: int, words: str) -> None:
    assert month_words(month) == words


@pytest.mark.parametrize(
    ("day", "words"),
    [
        (1, "ngày mồng một"),
        (4, "ngày mồng bốn"),
        (5, "ngày mồng năm"),
        (10, "ngày mồng mười"),
        (11, "ngày mười một"),
        (15, "ngày mười lăm"),
        (16, "ngày mười sáu"),
        (21, "ngày hai mươi mốt"),
        (24, "ngày hai mươi tư"),
        (31, "ngày ba mươi mốt"),
    ],
)
def test_day_words(day: int, words: str) -> None:
    assert day_words(day) == words


@pytest.mark.parametrize(
    ("date", "words"),
    [
        (
            dt.date(2024, 10, 16),
            "ngày mười sáu tháng mười năm hai nghìn không trăm hai mươi tư",
        ),
        (dt.date(2024, 9, 16), "ngày mười sáu tháng chín năm hai nghìn không trăm hai mươi tư"),
        (dt.date(2026, 9, 15), "ngày mười lăm tháng chín năm hai nghìn không trăm hai mươi sáu"),
        (dt.date(2025, 3, 1), "ngày mồng một tháng ba năm hai nghìn không trăm hai mươi lăm"),
        (dt.date(2024, 4, 25), "ngày hai mươi lăm tháng tư năm hai nghìn không trăm hai mươi tư"),
        (dt.date(2018, 11, 16), "ngày mười sáu tháng mười một năm hai nghìn không trăm mười tám"),
        (dt.date(2000, 1, 1), "ngày mồng một tháng một năm hai nghìn"),
        (
            dt.date(1999, 12, 31),
            "ngày ba mươi mốt tháng mười hai năm một nghìn chín trăm chín mươi chín",
        ),
    ],
)
def test_date_words(date: dt.date, words: str) -> None:
    assert date_words(date) == words


def test_year_words() -> None:
    assert year_words(2024) == "năm hai nghìn không trăm hai mươi tư"


@pytest.mark.parametrize(
    ("hour", "minute", "words"),
    [
        (0, 0, "không giờ"),
        (7, 0, "bảy giờ"),
        (7, 5, "bảy giờ năm phút"),
        (7, 15, "bảy giờ mười lăm phút"),
        (7, 30, "bảy giờ ba mươi phút"),
        (11, 45, "mười một giờ bốn mươi lăm phút"),
        (13, 21, "mười ba giờ hai mươi mốt phút"),
        (17, 0, "mười bảy giờ"),
        (21, 24, "hai mươi mốt giờ hai mươi tư phút"),
        (24, 0, "hai mươi tư giờ"),  # a duration: "trong 24h"
        (48, 0, "bốn mươi tám giờ"),
    ],
)
def test_time_words(hour: int, minute: int, words: str) -> None:
    assert time_words(hour, minute) == words


@pytest.mark.parametrize(
    ("call", "args"),
    [
        (time_words, (7, 60)),
        (time_words, (-1, 0)),
        (time_words, (100, 0)),
        (month_words, (0,)),
        (month_words, (13,)),
        (day_words, (0,)),
        (day_words, (32,)),
        (ordinal_words, (0,)),
    ],
)
def test_out_of_range_parts(call: Callable[..., str], args: tuple[int, ...]) -> None:
    with pytest.raises(ValueError):
        call(*args)
