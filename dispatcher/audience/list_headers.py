"""A list's header row: the names templates use, and which column holds the phone numbers.

Offices name the phone column in Vietnamese (``Số điện thoại``, ``SĐT``, ``Điện thoại``, typed
with or without tone marks) as often as ``phone``. Whichever it is, the rest of the package sees
it as :data:`PHONE_COLUMN`; the other columns keep their own names, lower-case NFC, for templates.
"""

from __future__ import annotations

import unicodedata
from collections import Counter

from dispatcher.core.errors import BadInput, Problem
from dispatcher.core.text import control_character

__all__ = ["MAX_COLUMNS", "PHONE_COLUMN", "PHONE_HEADERS", "column_names", "fold_header"]

PHONE_COLUMN = "phone"
# The headers taken for the phone column, as people write them; compared folded (fold_header).
PHONE_HEADERS = ("phone", "Số điện thoại", "SĐT", "Điện thoại")
MAX_COLUMNS = 1_000  # an office's list has a few dozen; more is not a list of people


def fold_header(name: str) -> str:
    """``name`` without case, tone and vowel marks or spaces: ``Số Điện  thoại`` → ``sodienthoai``.

    Đ is a letter of its own, not D with a mark, so Unicode keeps it whole: it is folded by hand.
    """
    decomposed = unicodedata.normalize("NFD", name.casefold().replace("đ", "d"))
    return "".join(c for c in decomposed if not unicodedata.combining(c) and not c.isspace())


_PHONE_FOLDED = frozenset(fold_header(name) for name in PHONE_HEADERS)


def column_names(header: list[str], line: int, display: str) -> tuple[list[str], int]:
    """The columns' names (lower-case NFC, the phone column as ``phone``) and the phone's index.

    Raises :class:`BadInput` at ``display:line`` for a header that cannot be used: a control
    character, too many columns, a name repeated, no phone column, or two of them.
    """
    if (found := control_character("\t".join(header))) is not None:
        raise BadInput(Problem(f"the header has the control character {found}", display, line))
    if len(header) > MAX_COLUMNS:
        message = f"{len(header):,} columns: a list has at most {MAX_COLUMNS:,} (is it a list?)"
        raise BadInput(Problem(message, display, line))
    # Templates address columns as lower-case NFC names, whatever the spreadsheet used.
    names = [unicodedata.normalize("NFC", cell).lower() for cell in header]
    counts = Counter(names)  # linear: a 40,000-column header took 35 s with list.count
    repeated = sorted(name for name, n in counts.items() if name and n > 1)
    if repeated:
        raise BadInput(Problem(f"column {repeated[0]!r} appears more than once", display, line))
    phone_at = _phone_index(header, names, line, display)
    names[phone_at] = PHONE_COLUMN
    return names, phone_at


def _phone_index(header: list[str], names: list[str], line: int, display: str) -> int:
    found = [at for at, cell in enumerate(header) if fold_header(cell) in _PHONE_FOLDED]
    if len(found) == 1:
        return found[0]
    if found:
        # Two phone columns (say "SĐT" and "Điện thoại"): taking either could text the wrong one.
        candidates = " and ".join(repr(header[at]) for at in found)
        message = (
            f"{len(found)} columns could hold the phone numbers: {candidates}: "
            "keep one, or rename the others"
        )
        raise BadInput(Problem(message, display, line))
    columns = ", ".join(repr(name) for name in names if name) or "none"
    accepted = ", ".join(repr(name) for name in PHONE_HEADERS)
    message = f"no phone column: name it one of {accepted} (columns found: {columns})"
    raise BadInput(Problem(message, file=display, line=line))
