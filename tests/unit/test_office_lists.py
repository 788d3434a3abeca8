"""Lists as Vietnamese offices save them, the pure parts: the phone column's names, Vietnamese
spelling (which tells Windows-1258 from Windows-1252), and numbers Excel wrote as floats."""

from __future__ import annotations

import unicodedata

import pytest

from dispatcher.audience.list_encoding import odd_word
from dispatcher.audience.list_headers import PHONE_COLUMN, column_names, fold_header
from dispatcher.audience.phones import (
    REASON_FRACTION,
    REASON_NOT_A_NUMBER,
    REASON_ROUNDED,
    InvalidPhone,
    normalize,
)
from dispatcher.core.errors import BadInput

# --- the phone column ---------------------------------------------------------------------------

PHONE_HEADERS = [
    "phone", "Phone", " PHONE ", "Số điện thoại", "SỐ ĐIỆN THOẠI", "số  điện thoại",
    "So dien thoai", "sodienthoai", "SĐT", "sđt", "Sdt", "S Đ T", "Điện thoại", "ĐIỆN THOẠI",
    "dien thoai",
    unicodedata.normalize("NFD", "Số điện thoại"),  # as a Mac or Windows-1258 writes it
]  # fmt: skip


@pytest.mark.parametrize("header", PHONE_HEADERS)
def test_every_way_of_naming_the_phone_column_is_the_phone(header: str) -> None:
    names, phone_at = column_names(["Tên", header, "Xã"], 1, "a.csv")
    assert (names, phone_at) == (["tên", PHONE_COLUMN, "xã"], 1)


@pytest.mark.parametrize(
    "header", ["Số điện thoại cố định", "Số máy", "phones", "telephone", "SĐT2", "Điện"]
)
def test_other_names_are_not_the_phone_column(header: str) -> None:
    with pytest.raises(BadInput, match="no phone column"):
        column_names(["Tên", header], 1, "a.csv")


def test_folding_drops_case_marks_and_spaces_and_folds_d_bar() -> None:
    assert fold_header(" Số Điện  thoại ") == "sodienthoai"
    assert fold_header("SĐT") == fold_header("sđt") == "sdt"


def test_two_phone_columns_name_both_and_the_line() -> None:
    with pytest.raises(BadInput) as caught:
        column_names(["SĐT", "Tên", "Điện thoại"], 3, "lists/xa.csv")
    assert str(caught.value) == (
        "lists/xa.csv:3: 2 columns could hold the phone numbers: 'SĐT' and 'Điện thoại': keep "
        "one, or rename the others"
    )


def test_phone_and_a_vietnamese_phone_header_are_two_candidates() -> None:
    with pytest.raises(BadInput, match="'phone' and 'Số điện thoại'"):
        column_names(["phone", "Số điện thoại"], 1, "a.csv")


def test_the_same_name_twice_is_a_repeat_not_two_candidates() -> None:
    with pytest.raises(BadInput, match="column 'sđt' appears more than once"):
        column_names(["SĐT", "sđt"], 1, "a.csv")


def test_other_columns_keep_their_names_for_templates() -> None:
    names, _ = column_names(["SĐT", "Họ và tên", "Xã"], 1, "a.csv")
    assert names == ["phone", "họ và tên", "xã"]


# --- Vietnamese spelling ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Nguyễn Văn Hùng, Hữu Lễ",
        "Trương Thị Đào; Tân Đoàn",
        "Lê Bình\tHòa",
        "“Hùng” – 50.000₫ …",  # typographic quotes, dash and symbols around words
        "ĐOÀN THỊ NGỌC ÁNH",
        "0912345678,An",
        "Võ",
        "Vơ",
    ],
)
def test_vietnamese_text_has_no_odd_word(text: str) -> None:
    assert odd_word(text) is None


@pytest.mark.parametrize(
    ("text", "odd"),
    [
        ("Lê B\u0301nh", "B\u0301nh"),  # Windows-1258 reading Windows-1252's ì: a tone on a B
        ("H\u0323a", "H\u0323a"),  # its ò: a dot below an H
        ("Trýõng", "Trýõng"),  # Windows-1252 reading Windows-1258's ư ơ: two tones
        ("Ðoàn", "Ðoàn"),  # its Đ: Icelandic Eth
        ("NguyêÞn", "NguyêÞn"),  # its combining tilde: Thorn
        ("NguyÖn V¨n", "NguyÖn"),  # a TCVN3 (ABC font) file read as Windows-1252
        ("V¨n", "V¨n"),  # a symbol inside a word
        ("Привет", "Привет"),
        ("Jürgen", "Jürgen"),  # not Vietnamese either: refused rather than guessed
    ],
)
def test_odd_words(text: str, odd: str) -> None:
    assert odd_word(text) == odd


# --- numbers Excel wrote as floats ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("912345678", "+84912345678"),  # a number column: the leading 0 is gone
        ("9.12345678E8", "+84912345678"),
        ("9.12345678E+08", "+84912345678"),
        ("9,12345678E+08", "+84912345678"),  # Vietnamese Windows' decimal comma
        ("84912345678.0", "+84912345678"),
        ("8.4912345678E10", "+84912345678"),
        ("912.345678", "+84912345678"),  # "0912.345678" typed into a number cell: groups
        ("0912.345.678", "+84912345678"),
    ],
)
def test_excel_numbers_become_the_right_number(raw: str, e164: str) -> None:
    assert normalize(raw) == e164


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("91234567.8", REASON_FRACTION),
        ("912345678.5", REASON_FRACTION),
        ("9.123456785E8", REASON_FRACTION),
        ("8.49123E+10", REASON_ROUNDED),  # Excel rounded it to fit the column: digits lost
        ("9.1234567E8", REASON_ROUNDED),  # 912345670, or a rounded 91234567x: cannot be told
        ("9,12345678E+08,5", REASON_NOT_A_NUMBER),
    ],
)
def test_a_number_that_is_not_whole_never_becomes_a_phone(raw: str, reason: str) -> None:
    with pytest.raises(InvalidPhone) as caught:
        normalize(raw)
    assert caught.value.reason == reason
