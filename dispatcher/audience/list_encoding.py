"""Which encoding a text list is in, told from its bytes, and never guessed when it matters.

Offices send lists as Excel and LibreOffice on Windows save them:

* "CSV UTF-8" (with a byte-order mark) or UTF-8 from anywhere else;
* "Unicode text" (UTF-16 with a byte-order mark, tab-separated, usually a ``.txt``);
* "CSV" on Vietnamese Windows: Windows-1258, whose tone marks are separate combining bytes
  (``ế`` is ``ê`` + acute), or Windows-1252 from an English Windows.

A byte-order mark settles it; text that decodes as strict UTF-8 is UTF-8. Otherwise both
Windows code pages decode nearly any bytes, so each is tried and its text checked for
Vietnamese spelling (:func:`odd_word`): a lone tone mark (``B́nh``, Windows-1258 reading
Windows-1252's ``ì``), two tones on one word (``Trýõng``, the reverse), a letter Vietnamese does
not have (``Ðoàn``). When exactly one reads as Vietnamese, or both give the same text, that is the
encoding; otherwise the file is refused with what each would read, so a name is never mangled.

charset-normalizer was tried for this choice and does not fit: on list-sized text it scores both
code pages the same (chaos 0.0) and ranks Windows-1252 first for a Windows-1258 list of names.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import IO

from dispatcher.core.errors import BadInput, Problem

__all__ = ["LEGACY_ENCODINGS", "decode_problem", "detect_encoding", "odd_word", "open_bytes"]

LEGACY_ENCODINGS = ("cp1258", "cp1252")  # tried in this order; Vietnamese Windows first
NAMES = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8",
    "utf-16": "UTF-16",
    "cp1258": "Windows-1258",
    "cp1252": "Windows-1252",
}
SAMPLE_BYTES = 1_000_000  # of non-ASCII lines, to choose a legacy encoding: ~15,000 names
_CHUNK_BYTES = 1 << 16  # decoded a chunk at a time: the memory it takes stays small
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),  # the codec reads the BOM to know the byte order
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_SAVE_AS = "save it as 'CSV UTF-8'"

Line = tuple[int, bytes]  # a 1-based line number and the line's bytes


@contextmanager
def open_bytes(path: Path, display: str) -> Iterator[IO[bytes]]:
    """``path`` opened for reading bytes; failures become :class:`BadInput` naming ``display``."""
    try:
        stream = path.open("rb")
    except FileNotFoundError as exc:
        raise BadInput(Problem("file not found", file=display)) from exc
    except OSError as exc:
        raise BadInput(Problem(f"cannot read the file ({exc.strerror})", file=display)) from exc
    with stream:
        yield stream


def detect_encoding(path: Path, display: str) -> str:
    """The Python codec that reads ``path``: a BOM's, UTF-8, Windows-1258 or Windows-1252.

    Raises :class:`BadInput` when the bytes are damaged UTF-8, or when neither Windows code page
    reads as Vietnamese, or when both do but give different text; each names the line to look at.
    """
    with open_bytes(path, display) as stream:
        head = stream.read(4)
        codec = next((codec for bom, codec in _BOMS if head.startswith(bom)), None)
        if codec is not None:
            return codec
        stream.seek(0)
        if _is_utf8(stream):
            return "utf-8"
        stream.seek(0)
        sample = _non_ascii_lines(stream)
    if _looks_like_utf8(sample):
        raise decode_problem(path, display, "utf-8")
    return _legacy_encoding(sample, display)


def _is_utf8(stream: IO[bytes]) -> bool:
    # Chunks through an incremental decoder: C speed, and a sequence cut by a chunk is kept.
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        for chunk in iter(partial(stream.read, _CHUNK_BYTES), b""):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _non_ascii_lines(stream: IO[bytes]) -> list[Line]:
    # Only lines with non-ASCII bytes tell encodings apart; b"\n" ends a line in all of them.
    lines: list[Line] = []
    size = 0
    for number, data in enumerate(stream, start=1):
        if not data.isascii():
            lines.append((number, data))
            size += len(data)
            if size >= SAMPLE_BYTES:
                break
    return lines


def _looks_like_utf8(sample: list[Line]) -> bool:
    """More well-formed UTF-8 letters than stray bytes: UTF-8 damaged, not a Windows code page.

    Windows-1258 text hardly ever holds a valid UTF-8 sequence (a letter byte then 0x80-0xBF);
    UTF-8 with one bad byte (a cell pasted from elsewhere) holds mostly valid ones.
    """
    text = b"".join(data for _, data in sample).decode("utf-8", "surrogateescape")
    stray = sum(1 for c in text if "\udc80" <= c <= "\udcff")
    return sum(1 for c in text if c > "\x7f") - stray >= stray


def _legacy_encoding(sample: list[Line], display: str) -> str:
    readings = {codec: _reading(sample, codec) for codec in LEGACY_ENCODINGS}
    fits = [codec for codec, (text, odd) in readings.items() if text is not None and odd is None]
    if len({readings[codec][0] for codec in fits}) == 1:
        return fits[0]  # one fits, or all that fit read the same text
    if fits:
        raise BadInput(_ambiguous(sample, fits, display))
    raise BadInput(_unreadable(readings, display))


# (the sample as text, or None when it does not decode; the first line that is not Vietnamese
# and what is wrong with it, or None)
_Reading = tuple[str | None, tuple[int, str] | None]


def _reading(sample: list[Line], codec: str) -> _Reading:
    texts: list[str] = []
    odd: tuple[int, str] | None = None
    for number, data in sample:
        try:
            text = unicodedata.normalize("NFC", data.decode(codec))
        except UnicodeDecodeError:
            return None, (number, f"cannot read byte 0x{data[_bad_at(data, codec)]:02X}")
        texts.append(text)
        if odd is None and (word := odd_word(text)) is not None:
            odd = (number, f"reads {word!r}")
    return "".join(texts), odd


def _bad_at(data: bytes, codec: str) -> int:
    try:
        data.decode(codec)
    except UnicodeDecodeError as exc:
        return exc.start
    return 0


def _ambiguous(sample: list[Line], fits: list[str], display: str) -> Problem:
    """Where the encodings that fit part ways, and the word each makes of it."""
    first, second = fits[:2]
    for number, data in sample:
        one, other = (_WORD.findall(unicodedata.normalize("NFC", data.decode(c))) for c in fits[:2])
        if one != other:
            # The code pages differ only in letters and marks, never in what splits words.
            a, b = next((a, b) for a, b in zip(one, other, strict=True) if a != b)
            message = (
                f"the encoding cannot be told: {a!r} in {NAMES[first]} or {b!r} in "
                f"{NAMES[second]}, both Vietnamese: {_SAVE_AS}"
            )
            return Problem(message, display, number)
    raise AssertionError("called with encodings that read the sample differently")


def _unreadable(readings: dict[str, _Reading], display: str) -> Problem:
    found = [(odd, codec) for codec, (_, odd) in readings.items() if odd is not None]
    (line, _), _ = min(found)
    why = "; ".join(f"{NAMES[codec]} {what} at line {at}" for (at, what), codec in found)
    message = f"not UTF-8, and no Windows encoding reads it as Vietnamese ({why}): {_SAVE_AS}"
    return Problem(message, display, line)


# --- Vietnamese spelling -----------------------------------------------------------------------

_TONES = frozenset("\u0300\u0301\u0303\u0309\u0323")  # huyền, sắc, ngã, hỏi, nặng
_SHAPES = {"\u0302": "aeo", "\u0306": "a", "\u031b": "ou"}  # circumflex, breve, horn: on these
_VOWELS = "aeiouy"
# A run of anything but spaces, digits and ASCII punctuation: words, and symbols stuck to them.
_WORD = re.compile(r"[^\s0-9!-/:-@\[-`{-~]+")


def odd_word(text: str) -> str | None:
    """The first word of ``text`` (NFC) that Vietnamese could not spell, or None.

    Only words with a non-ASCII character are looked at. A word is odd if it holds a character
    that is not an ASCII or Vietnamese letter (a lone combining mark, ``ð``, a symbol inside it
    such as ``V¨n``), or more than one tone mark. Symbols around a word (quotes) are not part of it.
    """
    for match in _WORD.finditer(text):
        word = _trim_symbols(match.group())
        if word and not word.isascii() and not _vietnamese(word):
            return word
    return None


def _trim_symbols(word: str) -> str:
    start, end = 0, len(word)
    while start < end and not word[start].isalpha() and not unicodedata.combining(word[start]):
        start += 1
    while end > start and not word[end - 1].isalpha() and not unicodedata.combining(word[end - 1]):
        end -= 1
    return word[start:end]


def _vietnamese(word: str) -> bool:
    tones = 0
    for char in word:
        if char.isascii():
            if not char.isalpha():
                return False
            continue
        decomposed = unicodedata.normalize("NFD", char)
        base, marks = decomposed[0], decomposed[1:]
        if base not in "đĐ" and not (base.isascii() and base.isalpha()):
            return False  # a lone mark, a symbol, or a letter of another language
        for mark in marks:
            if mark in _TONES:
                tones += 1
                if base.lower() not in _VOWELS:
                    return False
            elif base.lower() not in _SHAPES.get(mark, ""):
                return False
    return tones <= 1


# --- where a file stops being text ---------------------------------------------------------------


def decode_problem(path: Path, display: str, codec: str) -> BadInput:
    """The first bytes of ``path`` that ``codec`` cannot read, by line, for people to act on.

    Reading goes through a buffered decoder, which cannot say where it failed; this second pass
    only runs on a bad file. For UTF-8 and the Windows code pages lines split safely on b"\\n";
    UTF-16 is decoded whole (an error path, and Excel stops at a million rows).
    """
    name = NAMES.get(codec, codec)
    with open_bytes(path, display) as stream:
        if codec == "utf-16":
            return _utf16_problem(stream.read(), display)
        offset = 0
        for number, data in enumerate(stream, start=1):
            try:
                data.decode(codec)
            except UnicodeDecodeError as exc:
                message = f"not {name} text (byte {offset + exc.start + 1} of the file): {_SAVE_AS}"
                return BadInput(Problem(message, file=display, line=number))
            offset += len(data)
    return BadInput(Problem(f"not {name} text: {_SAVE_AS}", file=display))


def _utf16_problem(data: bytes, display: str) -> BadInput:
    try:
        data.decode("utf-16")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].decode("utf-16", "replace").count("\n") + 1
        message = f"not UTF-16 text (byte {exc.start + 1} of the file): {_SAVE_AS}"
        return BadInput(Problem(message, file=display, line=line))
    return BadInput(Problem(f"not UTF-16 text: {_SAVE_AS}", file=display))
