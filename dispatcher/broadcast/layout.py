"""How a script reads on the page: Vietnamese wording helpers, paragraphs and line wrapping."""

from __future__ import annotations

import re
import textwrap
import unicodedata
from collections.abc import Iterable

# Characters per line: fits a printed A4 page at a size an announcer reads without glasses.
WRAP_WIDTH = 72

_ORDINALS_VI = {1: "thứ nhất", 2: "thứ hai", 3: "thứ ba", 4: "thứ tư", 5: "thứ năm"}
# Inside a sentence the kind of unit is lower case: "Đài truyền thanh xã Tân Đoàn".
_UNIT_KIND = re.compile(r"(Xã|Phường|Thị trấn|Thị xã|Thành phố|Huyện|Tỉnh)\b", re.IGNORECASE)
_BULLET = re.compile(r"\s*(?:[-+*•]|\d{1,2}[.)])\s+")
_SENTENCE_END = (".", "!", "?", ":", ";")


def in_sentence(name: object) -> str:
    """``"Xã Tân Đoàn"`` → ``"xã Tân Đoàn"``; names without a unit kind are left alone."""
    text = unicodedata.normalize("NFC", str(name)).strip()
    kind = _UNIT_KIND.match(text)
    return kind.group().lower() + text[kind.end() :] if kind else text


def ordinal_vi(number: int) -> str:
    """``2`` → ``"thứ hai"``, as in "đọc lại lần thứ hai"."""
    return _ORDINALS_VI.get(number, f"thứ {number}")


def duration_vi(seconds: float) -> str:
    """``85`` → ``"1 phút 25 giây"``: a length of time as the script header says it."""
    total = max(0, round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [(hours, "giờ"), (minutes, "phút"), (secs, "giây")]
    words = [f"{n} {unit}" for n, unit in parts if n]
    return " ".join(words) or "0 giây"


def tidy(pieces: Iterable[str], width: int | None = WRAP_WIDTH) -> str:
    """Join script pieces with blank lines, NFC-normalized, wrapped, ending in one newline.

    Inside a paragraph a line is joined to the next unless it ends a sentence or the next one
    is a list item: template authors wrap long sentences in their editor, and a break in the
    middle of a sentence would make the announcer pause there.
    """
    text = "\n\n".join(piece.strip() for piece in pieces if piece.strip())
    text = unicodedata.normalize("NFC", text.replace("\ufeff", "").replace("\r\n", "\n"))
    paragraphs = re.split(r"\n[ \t]*\n", text)
    out = ["\n".join(_reflow(p.splitlines(), width)) for p in paragraphs if p.strip()]
    return "\n\n".join(out) + "\n"


def _reflow(lines: list[str], width: int | None) -> list[str]:
    joined: list[str] = []
    for line in (raw.rstrip() for raw in lines):
        previous = joined[-1] if joined else None
        if (
            previous is not None
            and not previous.endswith(_SENTENCE_END)
            and not _BULLET.match(line)
        ):
            joined[-1] = f"{previous} {line.strip()}"
        else:
            joined.append(line)
    return [wrapped for line in joined for wrapped in _wrap(line, width)]


def _wrap(line: str, width: int | None) -> list[str]:
    if width is None or len(line) <= width:
        return [line]
    bullet = _BULLET.match(line)
    hanging = " " * (bullet.end() if bullet else len(line) - len(line.lstrip()))
    return textwrap.wrap(
        line,
        width=width,
        subsequent_indent=hanging,
        break_long_words=False,  # a hotline number split over two lines gets misread
        break_on_hyphens=False,
    )
