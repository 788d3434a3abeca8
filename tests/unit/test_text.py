"""Control characters: what a list cell or a campaign text may not carry."""

from __future__ import annotations

import pytest

from dispatcher.core.text import control_character, refuse_control_characters, spreadsheet_safe


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Nguyễn Văn An", None),
        ("dòng một\ndòng hai\r\n\tthụt", None),  # line breaks and tabs are text
        ("An\x00", "U+0000"),
        ("\x1bAn", "U+001B"),
        ("An\x7f", "U+007F"),
        ("Nguy\x85n", "U+0085"),  # a C1 control: text decoded in the wrong encoding
    ],
)
def test_control_characters_are_found_and_named(text: str, found: str | None) -> None:
    assert control_character(text) == found


def test_the_validator_names_the_character() -> None:
    assert refuse_control_characters("Xin chào") == "Xin chào"
    with pytest.raises(ValueError, match="control character U\\+0000"):
        refuse_control_characters("Xin\x00 chào")


@pytest.mark.parametrize(
    ("cell", "safe"),
    [
        ("=1+1", "'=1+1"),
        ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\t=1", "'\t=1"),
        ("+84912345678", "+84912345678"),  # a phone number is a number, not a formula
        ("+84 91 234 5678", "+84 91 234 5678"),
        ("-12", "-12"),
        ("Xã Tân Đoàn", "Xã Tân Đoàn"),
        ("", ""),
    ],
)
def test_a_cell_a_spreadsheet_would_run_is_neutralised(cell: str, safe: str) -> None:
    assert spreadsheet_safe(cell) == safe
