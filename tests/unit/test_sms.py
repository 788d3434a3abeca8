"""SMS encoding, segment counting and Vietnamese folding (dispatcher.sms.encoding)."""

from __future__ import annotations

import string
import unicodedata
from typing import Literal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dispatcher.core.errors import EXIT_BAD_INPUT, BadInput
from dispatcher.sms.encoding import (
    GSM7_BASIC,
    GSM7_EXTENSION,
    MAX_BODY_CHARACTERS,
    NotGsm7,
    PreparedSms,
    SmsInfo,
    analyze,
    fold_vietnamese,
    non_gsm7,
    prepare,
)

# Each row: a vowel without tone, then sắc, huyền, hỏi, ngã, nặng; and the letter it folds to.
VOWEL_ROWS = [
    ("aáàảãạ", "a"),
    ("ăắằẳẵặ", "a"),
    ("âấầẩẫậ", "a"),
    ("eéèẻẽẹ", "e"),
    ("êếềểễệ", "e"),
    ("iíìỉĩị", "i"),
    ("oóòỏõọ", "o"),
    ("ôốồổỗộ", "o"),
    ("ơớờởỡợ", "o"),
    ("uúùủũụ", "u"),
    ("ưứừửữự", "u"),
    ("yýỳỷỹỵ", "y"),
]
ROWS = VOWEL_ROWS + [(row.upper(), base.upper()) for row, base in VOWEL_ROWS]
TONE_MARKS = "\u0301\u0300\u0309\u0303\u0323"  # sắc, huyền, hỏi, ngã, nặng
VIETNAMESE_LETTERS = "".join(row for row, _ in ROWS) + "đĐ" + string.ascii_letters
ASCII_PUNCTUATION = string.punctuation.replace("`", "")  # backtick is not GSM-7
VIETNAMESE_TEXT = st.text(
    alphabet=VIETNAMESE_LETTERS + ASCII_PUNCTUATION + string.digits + " \n“”‘’–—…\u00a0"
)

NOTICE = (
    "UBND huyện Văn Quan: từ ngày 16/10/2024, điện thoại chỉ dùng 2G bị khóa 2 chiều. "
    "Hãy đổi sang máy 4G để giữ liên lạc. Hỗ trợ đổi máy tại bưu điện hoặc UBND xã."
)


def test_basic_table_is_the_gsm_03_38_default_alphabet() -> None:
    assert len(GSM7_BASIC) == 127  # 128 code points minus ESC
    assert set("@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ¤¡ÄÖÑÜ§¿äöñüà\n\r ") <= GSM7_BASIC
    assert set(string.ascii_letters + string.digits + ASCII_PUNCTUATION) - GSM7_BASIC == set(
        "^{}\\[~]|"
    )
    assert "\x1b" not in GSM7_BASIC


def test_extension_table() -> None:
    assert frozenset("^{}\\[~]|€\f") == GSM7_EXTENSION
    assert not GSM7_BASIC & GSM7_EXTENSION


def test_backtick_is_not_gsm7() -> None:
    assert "`" not in GSM7_BASIC | GSM7_EXTENSION


def test_only_seven_vietnamese_letters_are_gsm7() -> None:
    marked = "".join(row[1:] for row, _ in ROWS) + "ăâêôơưĂÂÊÔƠƯđĐ"
    assert {ch for ch in marked if ch in GSM7_BASIC} == set("àèéìòùÉ")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", SmsInfo("GSM-7", 0, 0, 0)),
        ("a" * 160, SmsInfo("GSM-7", 160, 160, 1)),
        ("a" * 161, SmsInfo("GSM-7", 161, 161, 2)),
        ("a" * 306, SmsInfo("GSM-7", 306, 306, 2)),
        ("a" * 307, SmsInfo("GSM-7", 307, 307, 3)),
        ("ơ" * 70, SmsInfo("UCS-2", 70, 70, 1)),
        ("ơ" * 71, SmsInfo("UCS-2", 71, 71, 2)),
        ("ơ" * 134, SmsInfo("UCS-2", 134, 134, 2)),
        ("ơ" * 135, SmsInfo("UCS-2", 135, 135, 3)),
        # One non-GSM character makes the whole message UCS-2.
        ("a" * 69 + "ư", SmsInfo("UCS-2", 70, 70, 1)),
        ("a" * 70 + "ư", SmsInfo("UCS-2", 71, 71, 2)),
        ("a" * 159 + "`", SmsInfo("UCS-2", 160, 160, 3)),
    ],
    ids=lambda v: repr(v)[:20] if isinstance(v, str) else None,
)
def test_boundaries(text: str, expected: SmsInfo) -> None:
    assert analyze(text) == expected


@pytest.mark.parametrize(
    ("text", "septets", "segments"),
    [
        ("€" * 80, 160, 1),
        ("€" * 80 + "a", 161, 2),
        ("a" * 158 + "^", 160, 1),
        ("a" * 159 + "^", 161, 2),
        # ESC + char cannot straddle two parts: the pair moves to part 2, pushing one septet
        # into part 3 although ceil(306 / 153) is 2.
        ("a" * 152 + "€" + "a" * 152, 306, 3),
        ("a" * 153 + "€" + "a" * 151, 306, 2),
        # Only pairs: a part holds 76 of them (152 septets), so 610 septets need 5 parts.
        ("{[|]}" * 61, 610, 5),
    ],
    ids=["80-euro", "80-euro+1", "158+ext", "159+ext", "ext-at-boundary", "ext-after", "brackets"],
)
def test_extension_characters_cost_two_septets(text: str, septets: int, segments: int) -> None:
    info = analyze(text)
    assert (info.encoding, info.characters, info.units, info.segments) == (
        "GSM-7",
        len(text),
        septets,
        segments,
    )


@pytest.mark.parametrize(
    ("text", "units", "segments"),
    [
        ("😀", 2, 1),
        ("😀" * 35, 70, 1),
        ("😀" * 35 + "a", 71, 2),
        # A surrogate pair cannot straddle two parts either.
        ("ơ" * 66 + "😀" + "ơ" * 66, 134, 3),
        ("ơ" * 67 + "😀" + "ơ" * 65, 134, 2),
    ],
    ids=["one", "35", "35+1", "pair-at-boundary", "pair-after"],
)
def test_emoji_cost_two_utf16_units(text: str, units: int, segments: int) -> None:
    info = analyze(text)
    assert (info.encoding, info.characters, info.units, info.segments) == (
        "UCS-2",
        len(text),
        units,
        segments,
    )


def test_vietnamese_notice_is_three_segments_with_accents_and_one_without() -> None:
    folded = fold_vietnamese(NOTICE)
    assert len(NOTICE) == 159
    assert analyze(NOTICE) == SmsInfo("UCS-2", 159, 159, 3)
    assert analyze(folded) == SmsInfo("GSM-7", 159, 159, 1)
    assert folded.startswith("UBND huyen Van Quan: tu ngay 16/10/2024, dien thoai chi dung 2G")


def test_decomposed_input_counts_like_composed() -> None:
    decomposed = unicodedata.normalize("NFD", NOTICE)
    assert len(decomposed) > len(NOTICE)
    assert analyze(decomposed) == analyze(NOTICE)
    assert prepare(decomposed).body == NOTICE
    assert fold_vietnamese(decomposed) == fold_vietnamese(NOTICE)
    assert analyze("Vie\u0302\u0323t") == SmsInfo("UCS-2", 4, 4, 1)


@pytest.mark.parametrize(("row", "base"), ROWS, ids=[row for row, _ in ROWS])
def test_table_rows_are_the_five_tones_of_each_vowel(row: str, base: str) -> None:
    plain = row[0]
    assert [unicodedata.normalize("NFC", plain + mark) for mark in TONE_MARKS] == list(row[1:])


@pytest.mark.parametrize(
    ("letter", "base"),
    [(letter, base) for row, base in ROWS for letter in row],
    ids=[letter for row, _ in ROWS for letter in row],
)
def test_every_vowel_with_every_tone_folds_to_its_base(letter: str, base: str) -> None:
    assert fold_vietnamese(letter) == base
    assert fold_vietnamese(unicodedata.normalize("NFD", letter)) == base


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Ưu đãi ĐẶC BIỆT, Điềm He, Hữu Lễ", "Uu dai DAC BIET, Diem He, Huu Le"),
        ("đ Đ \u00d0", "d D D"),
        ("Lạng Sơn, Văn Quan", "Lang Son, Van Quan"),
        ("café Ça Ñ", "cafe Ca N"),  # GSM-7 accents are folded too, by choice
        ("“trích” „dẫn‟ «x» ‹y›", '"trich" "dan" "x" \'y\''),
        ("‘a’ ‚b‛ 5′ 6″", "'a' 'b' 5' 6\""),
        ("a–b—c‒d―e−f‐g‑h", "a-b-c-d-e-f-g-h"),
        ("Chờ…", "Cho..."),
        ("• một", "- mot"),
        ("a\u00a0b\u202fc\u2003d\u3000e\u2009f\tg", "a b c d e f g"),
        ("zero\u200bwidth\u200c\u200d\u2060\ufeff soft\u00adhyphen", "zerowidth softhyphen"),
        ("Øø Æ ß Δ @ £ € ¤\r\n", "Øø Æ ß Δ @ £ € ¤\r\n"),
    ],
)
def test_fold(text: str, folded: str) -> None:
    assert fold_vietnamese(text) == folded


@pytest.mark.parametrize(
    "text",
    ["你好", "😀", "❤️", "`", "กิน", "ð", "ı", "½"],
    ids=["chinese", "emoji", "emoji-vs16", "backtick", "thai", "eth", "dotless-i", "half"],
)
def test_fold_keeps_what_it_does_not_know(text: str) -> None:
    assert fold_vietnamese(text) == text


@pytest.mark.parametrize(
    ("text", "encoding", "units"),
    [("Xin chao", "GSM-7", 8), ("Xin chào", "GSM-7", 8), ("Xin chào ơi", "UCS-2", 11)],
)
def test_prepare_auto_keeps_text_and_detects_encoding(text: str, encoding: str, units: int) -> None:
    prepared = prepare(text, "auto")
    assert prepared.body == text
    assert (prepared.info.encoding, prepared.info.units) == (encoding, units)


def test_prepare_defaults_to_auto() -> None:
    assert prepare("Xin chào ơi") == prepare("Xin chào ơi", "auto")


def test_prepare_unicode_counts_gsm7_text_as_ucs2() -> None:
    prepared = prepare("a" * 71 + "€", "unicode")
    assert prepared == PreparedSms("a" * 71 + "€", SmsInfo("UCS-2", 72, 72, 2))


def test_prepare_ascii_folds_to_gsm7() -> None:
    prepared = prepare(unicodedata.normalize("NFD", NOTICE), "ascii")
    assert prepared.body == fold_vietnamese(NOTICE)
    assert prepared.info == SmsInfo("GSM-7", 159, 159, 1)


def test_prepare_ascii_counts_extension_characters() -> None:
    assert prepare("Giá: 5€ [mới]", "ascii") == PreparedSms(
        "Gia: 5€ [moi]", SmsInfo("GSM-7", 13, 16, 1)
    )


@pytest.mark.parametrize(
    ("text", "offending"),
    [
        ("Chúc mừng năm mới 新年快乐", ["新", "年", "快", "乐"]),
        ("Xin chào 😀 bạn 😀", ["😀"]),
        ("dùng `code` ở đây", ["`"]),
        ("❤️ và 你好`你", ["❤", "\ufe0f", "你", "好", "`"]),
    ],
    ids=["chinese", "emoji", "backtick", "mixed"],
)
def test_prepare_ascii_refuses_what_cannot_be_gsm7(text: str, offending: list[str]) -> None:
    with pytest.raises(NotGsm7) as raised:
        prepare(text, "ascii")
    assert raised.value.characters == offending


def test_not_gsm7_names_characters_with_code_points() -> None:
    error = NotGsm7(["ơ", "😀"])
    assert "'ơ' (U+01A1)" in str(error)
    assert "'😀' (U+1F600)" in str(error)
    assert isinstance(error, ValueError)
    assert isinstance(error, BadInput)
    assert error.exit_code == EXIT_BAD_INPUT


def test_non_gsm7_lists_distinct_characters_in_order() -> None:
    assert non_gsm7("Ơi ơi, ưng ơi `") == ["Ơ", "ơ", "ư", "`"]
    assert non_gsm7(unicodedata.normalize("NFD", "ệ")) == ["ệ"]
    assert non_gsm7("Xin chào {€}") == []


def test_prepare_rejects_unknown_mode() -> None:
    with pytest.raises(ValueError, match="unknown SMS mode 'latin1'"):
        prepare("x", "latin1")  # type: ignore[arg-type]


def test_characters_count_code_points_for_the_body_limit() -> None:
    body = "😀" * MAX_BODY_CHARACTERS
    info = analyze(body)
    assert (info.characters, info.units) == (1600, 3200)


# Properties


@given(st.text())
def test_fold_is_idempotent(text: str) -> None:
    once = fold_vietnamese(text)
    assert fold_vietnamese(once) == once


@given(VIETNAMESE_TEXT, st.sampled_from(["NFC", "NFD"]))
def test_folded_vietnamese_is_gsm7(text: str, form: Literal["NFC", "NFD"]) -> None:
    folded = fold_vietnamese(unicodedata.normalize(form, text))
    assert non_gsm7(folded) == []
    assert analyze(folded).encoding == "GSM-7"


def _segments_of_prefixes(text: str) -> list[int]:
    return [analyze(text[:end]).segments for end in range(len(text) + 1)]


@given(st.text(alphabet=sorted(GSM7_BASIC | GSM7_EXTENSION), max_size=500))
def test_gsm7_segments_never_decrease_when_appending(text: str) -> None:
    counts = _segments_of_prefixes(text)
    assert counts == sorted(counts)


@given(st.text(alphabet=VIETNAMESE_LETTERS + "😀🇻🇳 .,€{", max_size=300))
def test_ucs2_segments_never_decrease_when_appending(text: str) -> None:
    counts = _segments_of_prefixes("ư" + text)
    assert counts[1:] == sorted(counts[1:])


@given(st.text(alphabet=sorted(GSM7_BASIC | GSM7_EXTENSION), min_size=150, max_size=700))
def test_gsm7_parts_hold_all_septets_and_are_no_more_than_needed(text: str) -> None:
    info = analyze(text)
    if info.segments > 1:
        assert info.segments * 153 >= info.units
        # Every closed part is at least 152 septets full (only an escape pair can leave a gap).
        assert (info.segments - 1) * 152 < info.units
    else:
        assert info.units <= 160
