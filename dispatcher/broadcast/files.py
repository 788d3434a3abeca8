"""Script files on disk: one folder per commune, one stem per airing, replaced atomically."""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from dispatcher.broadcast.calendar import Airing
from dispatcher.broadcast.document import content_fingerprint, docx_fingerprint, script_docx
from dispatcher.broadcast.layout import WRAP_WIDTH, duration_vi, tidy
from dispatcher.core.errors import BadInput, DispatcherError
from dispatcher.core.files import write_whole
from dispatcher.core.schedule import format_datetime_vi, weekday_vi
from dispatcher.sms.encoding import fold_vietnamese

log = logging.getLogger(__name__)

_SAFE_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_LANGUAGE = re.compile(r"[a-z]{2,8}")
TEXT_SUFFIX = ".txt"  # the announcer's text, with its header
SPOKEN_SUFFIX = ".spoken.txt"  # what the voice reads: dates, numbers, abbreviations in words
DOCX_SUFFIX = ".docx"  # the printable script
FORMATS = ("txt", "spoken", "docx")


def commune_slug(name: str) -> str:
    """A folder name for the commune: ``"Xã Tân Đoàn"`` → ``"xa-tan-doan"``."""
    slug = re.sub(r"[^a-z0-9]+", "-", fold_vietnamese(name).lower()).strip("-")
    if not slug:
        raise BadInput(f"commune name {name!r} has no letter or digit to name a folder after")
    return slug


@dataclass(frozen=True)
class ScriptText:
    """One airing's script, ready to write: the announcer's text and what the voice reads."""

    airing: Airing
    text: str  # the announcer's written text, wrapped for the page
    # What the TTS voice reads (dispatcher.broadcast.speech); None: not written.
    spoken: str | None = None
    reading_seconds: float | None = None  # estimated, for the header; None: not shown
    language: str | None = None  # None: Vietnamese; else the variant's code, like "tay"
    language_name: str | None = None  # "Tày", for the header


def airing_stem(
    out_dir: Path, campaign_id: str, airing: Airing, language: str | None = None
) -> Path:
    """``out_dir/<campaign>/<commune-slug>/<YYYY-MM-DD>_<HHMM>``, in the airing's local time.

    Every file of the airing is the stem plus a suffix (``.txt``, ``.spoken.txt``, ``.docx``,
    ``.wav``, ``.mp3``); a language variant's stem ends in its code (``…_0600.tay``).
    """
    if not _SAFE_SEGMENT.fullmatch(campaign_id):
        raise ValueError(f"campaign id {campaign_id!r} cannot be a folder name")
    if language is not None and not _LANGUAGE.fullmatch(language):
        raise ValueError(f"language code {language!r} cannot be part of a file name")
    name = airing.at.strftime("%Y-%m-%d_%H%M") + (f".{language}" if language else "")
    return out_dir / campaign_id / commune_slug(airing.commune) / name


def with_suffix(stem: Path, suffix: str) -> Path:
    """``stem`` + ``suffix`` (not ``Path.with_suffix``, which would eat a language code)."""
    return stem.with_name(stem.name + suffix)


def script_path(
    out_dir: Path, campaign_id: str, airing: Airing, language: str | None = None
) -> Path:
    """The announcer's text: :func:`airing_stem` + ``.txt``."""
    return with_suffix(airing_stem(out_dir, campaign_id, airing, language), TEXT_SUFFIX)


def write_scripts(
    scripts: Iterable[ScriptText | tuple[Airing, str]],
    out_dir: Path,
    campaign_id: str,
    *,
    title: str | None = None,
    formats: Collection[str] = FORMATS,
) -> list[Path]:
    """Write each airing's files next to its :func:`airing_stem`; returns the ``.txt`` paths.

    ``txt``: the header for the announcer then the script; ``spoken``: what the voice reads
    (only for scripts that have one); ``docx``: the printable script with the same header.
    Each file is replaced atomically (a crash leaves the old file or the new one, never half of
    one) and left untouched when its content is unchanged, so a rerun is harmless. Raises
    :class:`BadInput`, before writing anything, when two airings would share a file.
    """
    unknown = set(formats) - set(FORMATS)
    if unknown:
        raise ValueError(f"unknown formats: {', '.join(sorted(unknown))}")
    planned: dict[Path, ScriptText] = {}
    for item in scripts:
        script = item if isinstance(item, ScriptText) else ScriptText(*item)
        stem = airing_stem(out_dir, campaign_id, script.airing, script.language)
        if stem in planned:
            other = planned[stem].airing.commune
            raise BadInput(
                f"{other!r} and {script.airing.commune!r} at {script.airing.key} share the "
                f"file {with_suffix(stem, TEXT_SUFFIX)}"
            )
        planned[stem] = script
    shown = title or campaign_id
    changed = sum(
        _write_atomic(path, data)
        for stem, script in planned.items()
        for path, data in _files(stem, script, campaign_id, shown, formats)
    )
    log.info("%s: %d broadcast scripts, %d files rewritten", campaign_id, len(planned), changed)
    return [with_suffix(stem, TEXT_SUFFIX) for stem in planned]


def _files(
    stem: Path, script: ScriptText, campaign_id: str, title: str, formats: Collection[str]
) -> Iterator[tuple[Path, bytes]]:
    header = header_fields(script, campaign_id, title)
    if "txt" in formats:
        lines = [f"{label}: {value}" for label, value in header] + ["=" * WRAP_WIDTH]
        yield with_suffix(stem, TEXT_SUFFIX), _utf8("\n".join(lines) + "\n\n" + script.text)
    if "spoken" in formats and script.spoken is not None:
        yield with_suffix(stem, SPOKEN_SUFFIX), _utf8(script.spoken)
    if "docx" in formats:
        heading = f"KỊCH BẢN PHÁT THANH: {title}"
        paragraphs = tidy([script.text], width=None).rstrip("\n").split("\n\n")
        at = script.airing.at
        page = f"{script.airing.commune} – {format_datetime_vi(at)}"
        path = with_suffix(stem, DOCX_SUFFIX)
        built = content_fingerprint(heading, header, paragraphs, at, page)
        if docx_fingerprint(path) != built:  # else it is this very document: skip the 50 ms
            yield path, script_docx(heading, header, paragraphs, at, page_header=page)


def header_fields(script: ScriptText, campaign_id: str, title: str) -> list[tuple[str, str]]:
    """The header of both the text file and the printable one: ``(label, value)`` pairs."""
    airing = script.airing
    fields = [
        ("Chiến dịch", f"{title} ({campaign_id})"),
        ("Đài truyền thanh", airing.commune),
        ("Thời gian phát", format_datetime_vi(airing.at)),
        ("Ngày trong tuần", weekday_vi(airing.at.date())),
        ("Mã buổi phát", airing.key),
    ]
    if script.reading_seconds is not None:
        fields.append(("Thời lượng ước tính", duration_vi(script.reading_seconds)))
    if script.language is not None:
        fields.append(("Ngôn ngữ", script.language_name or script.language))
    return fields


def _utf8(text: str) -> bytes:
    text = unicodedata.normalize("NFC", text)
    return (text if text.endswith("\n") else text + "\n").encode("utf-8")


def _write_atomic(path: Path, data: bytes) -> bool:
    """Replace ``path`` with ``data`` unless it already holds it; True when written."""
    try:
        if path.is_file() and path.read_bytes() == data:
            return False  # unchanged: keep the mtime, so folder-sync tools see no change
        path.parent.mkdir(parents=True, exist_ok=True)
        write_whole(path, lambda handle: handle.write(data))
    except OSError as exc:
        raise DispatcherError(f"cannot write {path}: {exc.strerror or exc}") from exc
    return True
