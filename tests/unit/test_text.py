"""Control characters: what a list cell or a campaign text may not carry."""

from __future__ import annotations

import pytest

from dispatcher.core.text import control_character, refuse_control_characters


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
