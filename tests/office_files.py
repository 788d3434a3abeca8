"""Lists written as Excel and LibreOffice on Windows write them, for tests: the real codecs, and
Windows-1258's way with tone marks (a letter it has, then the mark as a byte of its own)."""

from __future__ import annotations

import codecs
import unicodedata

_TONES = "\u0300\u0301\u0303\u0309\u0323"

# What "Save as" gives: the encoding's name in tests, and how to make its bytes from text.
ENCODINGS = ("utf-8", "utf-8-bom", "utf-16-le-bom", "utf-16-be-bom", "cp1258", "cp1252")


def encode(text: str, encoding: str) -> bytes:
    """``text`` as a Windows program saves it in ``encoding`` (one of :data:`ENCODINGS`)."""
    if encoding == "utf-8-bom":
        return codecs.BOM_UTF8 + text.encode("utf-8")
    if encoding == "utf-16-le-bom":
        return codecs.BOM_UTF16_LE + text.encode("utf-16-le")
    if encoding == "utf-16-be-bom":
        return codecs.BOM_UTF16_BE + text.encode("utf-16-be")
    if encoding == "cp1258":
        return cp1258(text)
    return text.encode(encoding)


def cp1258(text: str) -> bytes:
    """Windows-1258 bytes: a precomposed letter where the code page has one (``à``), else the
    letter without its tone (``ê``) and the tone as a combining byte, as Windows converts ``ế``."""
    out = bytearray()
    for char in unicodedata.normalize("NFC", text):
        try:
            out += char.encode("cp1258")
        except UnicodeEncodeError:
            decomposed = unicodedata.normalize("NFD", char)
            base = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in _TONES))
            out += (base + "".join(c for c in decomposed if c in _TONES)).encode("cp1258")
    return bytes(out)
