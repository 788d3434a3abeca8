"""Script files on disk: one folder per commune, one file per airing, replaced atomically."""

from __future__ import annotations

import logging
import os
import re
import secrets
import unicodedata
from collections.abc import Iterable
from contextlib import suppress
from pathlib import Path

from dispatcher.broadcast.calendar import Airing
from dispatcher.broadcast.layout import WRAP_WIDTH
from dispatcher.errors import BadInput, DispatcherError
from dispatcher.schedule import format_datetime_vi, weekday_vi
from dispatcher.sms import fold_vietnamese

log = logging.getLogger(__name__)

_SAFE_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def commune_slug(name: str) -> str:
    """A folder name for the commune: ``"Xã Tân Đoàn"`` → ``"xa-tan-doan"``."""
    slug = re.sub(r"[^a-z0-9]+", "-", fold_vietnamese(name).lower()).strip("-")
    if not slug:
        raise BadInput(f"commune name {name!r} has no letter or digit to name a folder after")
    return slug


def script_path(out_dir: Path, campaign_id: str, airing: Airing) -> Path:
    """``out_dir/<campaign>/<commune-slug>/<YYYY-MM-DD>_<HHMM>.txt``, in the airing's local time."""
    if not _SAFE_SEGMENT.fullmatch(campaign_id):
        raise ValueError(f"campaign id {campaign_id!r} cannot be a folder name")
    name = airing.at.strftime("%Y-%m-%d_%H%M") + ".txt"
    return out_dir / campaign_id / commune_slug(airing.commune) / name


def write_scripts(
    scripts: Iterable[tuple[Airing, str]],
    out_dir: Path,
    campaign_id: str,
    *,
    title: str | None = None,
) -> list[Path]:
    """Write each airing's script to its :func:`script_path`, under a header for the announcer.

    Each file is replaced atomically (a crash leaves the old file or the new one, never half of
    one) and left untouched when its content is unchanged, so a rerun is harmless. Raises
    :class:`BadInput`, before writing anything, when two airings would share a file.
    """
    planned: dict[Path, tuple[Airing, str]] = {}
    for airing, script in scripts:
        path = script_path(out_dir, campaign_id, airing)
        if path in planned:
            other = planned[path][0].commune
            raise BadInput(
                f"{other!r} and {airing.commune!r} at {airing.key} share the file {path}"
            )
        planned[path] = (airing, script)
    changed = sum(
        _write_atomic(path, _file_text(airing, script, campaign_id, title or campaign_id))
        for path, (airing, script) in planned.items()
    )
    log.info("%s: %d broadcast scripts, %d rewritten", campaign_id, len(planned), changed)
    return list(planned)


def _file_text(airing: Airing, script: str, campaign_id: str, title: str) -> str:
    header = [
        f"Chiến dịch: {title} ({campaign_id})",
        f"Đài truyền thanh: {airing.commune}",
        f"Thời gian phát: {format_datetime_vi(airing.at)}",
        f"Ngày trong tuần: {weekday_vi(airing.at.date())}",
        f"Mã buổi phát: {airing.key}",
        "=" * WRAP_WIDTH,
    ]
    text = "\n".join(header) + "\n\n" + script
    return unicodedata.normalize("NFC", text if text.endswith("\n") else text + "\n")


def _write_atomic(path: Path, text: str) -> bool:
    """Replace ``path`` with ``text`` unless it already holds it; True when written."""
    data = text.encode("utf-8")
    try:
        if path.is_file() and path.read_bytes() == data:
            return False  # unchanged: keep the mtime, so folder-sync tools see no change
        path.parent.mkdir(parents=True, exist_ok=True)
        # Same folder, so os.replace is a rename on one file system; O_EXCL with a random name
        # so two writers never share a temporary file; 0o666 so the umask decides, as for any file.
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())  # the data is on disk before the name points at it
            os.replace(temporary, path)
        except BaseException:
            with suppress(FileNotFoundError):
                temporary.unlink()
            raise
    except OSError as exc:
        raise DispatcherError(f"cannot write {path}: {exc.strerror or exc}") from exc
    return True
