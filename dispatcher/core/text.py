"""Text the service accepts from files: no control characters.

A NUL or another control character in a list or a campaign text is a damaged file or one in a
wrong encoding, never something to send: PostgreSQL refuses NUL in text (the send would stop
half-way) where SQLite stores it. So both refuse it first, naming the file and line. Tab, line
feed and carriage return are text.
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def control_character(text: str) -> str | None:
    """The first control character of ``text``, described (``U+0000``), or None."""
    found = _CONTROL.search(text)
    return None if found is None else f"U+{ord(found.group()):04X}"


def refuse_control_characters(text: str) -> str:
    """A pydantic validator: the text, or a ValueError naming the character."""
    found = control_character(text)
    if found is not None:
        raise ValueError(f"contains the control character {found}: retype the text")
    return text
