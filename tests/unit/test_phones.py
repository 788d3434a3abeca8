"""Phone normalization: every form people write, every old prefix, and what must be refused."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dispatcher.audience.phones import (
    OLD_MOBILE_PREFIXES,
    InvalidPhone,
    mask,
    mask_digits,
    mask_in_text,
    normalize,
)

MOBILE = "+84912345678"


@pytest.mark.parametrize(
    "raw",
    [
        "0912 345 678",
        "091.234.5678",
        "0912-345-678",
        "+84912345678",
        "84912345678",
        "(+84) 91 234 5678",
        "+84 91 234 56 78",
        "912345678",
        "0912345678",
        "  0912345678\t",
        "'0912345678",  # Excel's "treat as text" apostrophe
        "0912\u00a0345\u00a0678",  # NBSP from a web page
        "０９１２３４５６７８",  # full-width digits
        "＋８４９１２３４５６７８",
        "\u202a0912345678\u202c",  # bidi marks added when copying from a phone or Windows
        "0912–345–678",  # en dash
        "912345678.0",  # a number column that Excel or pandas wrote back as float
        "84912345678.0",
        "8.4912345678E10",
        "9.12345678e8",
        "+84 (0) 912 345 678",
        "0084912345678",
    ],
)
def test_accepts_every_written_form(raw: str) -> None:
    assert normalize(raw) == MOBILE


# Written out here rather than taken from the module, so a typo in its table fails a test.
OLD_TO_NEW = [
    ("0120", "070"), ("0121", "079"), ("0122", "077"), ("0126", "076"), ("0128", "078"),
    ("0123", "083"), ("0124", "084"), ("0125", "085"), ("0127", "081"), ("0129", "082"),
    ("0162", "032"), ("0163", "033"), ("0164", "034"), ("0165", "035"), ("0166", "036"),
    ("0167", "037"), ("0168", "038"), ("0169", "039"),
    ("0186", "056"), ("0188", "058"),
    ("0199", "059"),
]  # fmt: skip


def test_old_prefix_table_is_complete() -> None:
    assert dict(OLD_TO_NEW) == OLD_MOBILE_PREFIXES


@pytest.mark.parametrize(("old", "new"), OLD_TO_NEW)
@pytest.mark.parametrize(
    "template",
    ["{old}1234567", "{old} 123 4567", "{old}.123.4567", "+84{bare}1234567", "84{bare}1234567",
     "+84 {bare} 123 4567", "{bare}1234567"],
)  # fmt: skip
def test_maps_old_11_digit_numbers(old: str, new: str, template: str) -> None:
    raw = template.format(old=old, bare=old[1:])
    assert normalize(raw) == "+84" + new[1:] + "1234567"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("\u00a0", "empty"),
        ("-", "empty"),
        ("'", "empty"),
        ("abc", "not a phone number"),
        ("không có", "not a phone number"),
        ("09l2 345 678", "not a phone number"),
        ("0912345678 / 0987654321", "not a phone number"),
        ("0912,345,678", "not a phone number"),
        ("0912 345 678 ext 12", "not a phone number"),
        ("0521234567", "not a valid Vietnamese number"),
        ("0891234567", "not a valid Vietnamese number"),
        ("091234567", "not a valid Vietnamese number"),
        ("09123456789", "not a valid Vietnamese number"),
        ("0000000000", "not a valid Vietnamese number"),
        ("1", "not a valid Vietnamese number"),
        ("+84", "not a valid Vietnamese number"),
        ("01301234567", "not a valid Vietnamese number"),  # 0130 was never a mobile prefix
        ("0205 3830 018", "landline: cannot receive SMS"),
        ("02053830018", "landline: cannot receive SMS"),
        ("(0205) 3830018", "landline: cannot receive SMS"),
        ("+84 205 3830 018", "landline: cannot receive SMS"),
        ("024 3825 1234", "landline: cannot receive SMS"),
        ("028 3829 5555", "landline: cannot receive SMS"),
        ("+1 415 555 2671", "not a Vietnamese number"),
        ("+86 138 0013 8000", "not a Vietnamese number"),
        ("+855 12 345 678", "not a Vietnamese number"),
        ("0086 138 0013 8000", "not a Vietnamese number"),
        ("1900 1234", "not a mobile number (premium rate)"),
        ("1800 1234", "not a mobile number (toll free)"),
    ],
)
def test_refuses_with_a_reason(raw: str, reason: str) -> None:
    with pytest.raises(InvalidPhone) as caught:
        normalize(raw)
    assert caught.value.reason == reason
    assert isinstance(caught.value, ValueError)
    assert str(caught.value) == reason


@pytest.mark.parametrize(
    ("e164", "shown"),
    [
        ("+84912345678", "+84 91x xxx 678"),
        ("+84381234567", "+84 38x xxx 567"),
        ("+842053830018", "+84 20x xxxx 018"),
        ("+14155552671", "xxxxxxxxxxxx"),
        ("+8412", "xxxxx"),
    ],
)
def test_mask(e164: str, shown: str) -> None:
    assert mask(e164) == shown


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("0205 3206 606", "020x xxxx 606"),  # a landline, as written in the list
        ("(0205) 3698033", "(020x) xxxx033"),
        ("09l2 345 678", "09l2 xxx 678"),
        ("088118190", "088xxx190"),
        ("0912 34", "0912 34"),  # too short to identify anyone
        ("không có", "không có"),
        ("", ""),
    ],
)
def test_mask_digits_hides_the_middle_of_a_raw_value(raw: str, shown: str) -> None:
    assert mask_digits(raw) == shown


def test_mask_in_text_masks_every_number_in_a_message() -> None:
    text = "The 'To' number +84912345678 is not valid; From +15005550006"
    assert mask_in_text(text) == "The 'To' number +84 91x xxx 678 is not valid; From xxxxxxxxxxxx"


phoneish = st.text(alphabet="0123456789+ .-()'\u00a0１", max_size=20)


@given(st.one_of(phoneish, st.text(max_size=20)))
def test_normalize_is_idempotent(raw: str) -> None:
    try:
        once = normalize(raw)
    except InvalidPhone:
        return
    assert normalize(once) == once
    assert once.startswith("+84")
    assert len(once) == 12


def _written_forms(national: str) -> list[str]:
    """Every way the 9-digit national number ``national`` is seen written in lists."""
    n = national
    return [
        "0" + n, f"0{n[:3]} {n[3:6]} {n[6:]}", f"0{n[:2]}.{n[2:5]}.{n[5:]}",
        f"0{n[:3]}-{n[3:6]}-{n[6:]}", "+84" + n, "84" + n, f"(+84) {n[:2]} {n[2:5]} {n[5:]}",
        n, n + ".0", "'0" + n, f"0{n[:3]}\u00a0{n[3:6]}\u00a0{n[6:]}",
        "".join(chr(ord(c) + 0xFEE0) for c in "0" + n),  # full-width
    ]  # fmt: skip


@given(st.from_regex(r"3[2-9][0-9]{7}", fullmatch=True))
def test_viettel_numbers_round_trip_through_every_form(national: str) -> None:
    old = "16" + national[1:]  # 032…039 were 0162…0169, last 7 digits kept
    forms = [*_written_forms(national), "0" + old, "+84" + old, "84" + old, old]
    assert {normalize(form) for form in forms} == {"+84" + national}


def _phonenumbers_verdict(text: str) -> str | None:
    """What phonenumbers itself says, for comparing against normalize."""
    number = phonenumbers.parse(text, "VN")
    kinds = {phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}
    if number.country_code == 84 and phonenumbers.number_type(number) in kinds:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return None


@given(
    st.sampled_from(["", "0", "84", "+84"]),
    st.from_regex(r"[1-9][0-9]{8}", fullmatch=True) | st.from_regex(r"84[0-9]{7}", fullmatch=True),
)
def test_agrees_with_phonenumbers_on_plain_digits(prefix: str, national: str) -> None:
    expected = _phonenumbers_verdict(prefix + national)
    try:
        assert normalize(prefix + national) == expected
    except InvalidPhone:
        assert expected is None


@given(st.sampled_from(sorted(OLD_MOBILE_PREFIXES)), st.from_regex(r"[0-9]{7}", fullmatch=True))
def test_old_prefix_map_never_shadows_a_number_phonenumbers_accepts(old: str, rest: str) -> None:
    for text in (old + rest, "+84" + old[1:] + rest, "84" + old[1:] + rest, old[1:] + rest):
        assert _phonenumbers_verdict(text) is None


@pytest.mark.parametrize("suffix", ["00000", "12345", "99999"])
def test_agrees_with_phonenumbers_on_every_leading_prefix(suffix: str) -> None:
    # The patterns phonenumbers uses are prefix based, so every 4-digit lead covers every branch.
    for lead in range(1000, 10_000):
        text = f"0{lead}{suffix}"
        expected = _phonenumbers_verdict(text)
        try:
            assert normalize(text) == expected, text
        except InvalidPhone:
            assert expected is None, text


@given(
    st.sampled_from(["", "0", "00", "84", "084", "0084", "01", "1"])
    | st.from_regex(r"[0-9]{0,4}", fullmatch=True),
    st.from_regex(r"[0-9]{6,11}", fullmatch=True),
    st.lists(st.tuples(st.integers(0, 15), st.sampled_from(" -()+")), max_size=4),
)
def test_digits_and_grouping_keep_their_last_six_digits(
    prefix: str, digits: str, grouping: list[tuple[int, str]]
) -> None:
    # The audience scan relies on it to find a duplicate's first row without normalizing
    # every cell again (dispatcher.audience.scan._first_rows).
    cell = prefix + digits
    for at, mark in grouping:
        cell = cell[:at] + mark + cell[at:]
    try:
        number = normalize(cell)
    except InvalidPhone:
        return
    assert number[-6:] == "".join(c for c in cell if c.isdigit())[-6:]


@given(st.sampled_from(sorted(OLD_MOBILE_PREFIXES)), st.from_regex(r"[0-9]{7}", fullmatch=True))
def test_old_numbers_keep_their_last_six_digits(old: str, rest: str) -> None:
    for cell in (old + rest, "84" + old[1:] + rest, old[1:] + rest):
        assert normalize(cell)[-6:] == cell[-6:]
