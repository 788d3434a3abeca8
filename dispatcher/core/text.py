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


# A spreadsheet reads a cell that starts with one of these as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?[\d\s().,]+")  # +84 91 234 5678, -12, 1.800.8098


def spreadsheet_safe(value: str) -> str:
    """``value`` as a cell no spreadsheet runs: one that would start a formula gets a leading
    apostrophe (the OWASP advice), except a plain number such as ``+84912345678`` or ``-3``,
    which a spreadsheet reads as a number, never as a formula."""
    if value.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value
