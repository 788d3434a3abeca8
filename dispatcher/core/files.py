"""Files written whole or not at all: a reader never sees half a report."""

from __future__ import annotations

import errno
import os
import secrets
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import BinaryIO

from dispatcher.core.errors import BadInput, Problem

# What writing a file can meet (a full disk, a quota...), as opposed to what the writer itself
# raises while it produces the data (a lost database connection is an OSError too).
_FILE_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO, errno.EROFS, errno.EACCES}


def replace_file(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` whole or not at all (see :func:`replace_with`)."""
    return replace_with(path, lambda out: out.write(data))


def replace_with(path: Path, write: Callable[[BinaryIO], object], what: str = "the report") -> Path:
    """:func:`write_whole`, with :class:`BadInput` naming the file when it cannot be written
    (no such folder, no permission, a full disk); a writer's own errors pass through."""
    try:
        write_whole(path, write)
    except OSError as exc:
        if not isinstance(exc, FileWriteError) and exc.errno not in _FILE_ERRORS:
            raise  # the writer's, not the file's (a lost database connection, say)
        raise BadInput(Problem(f"cannot write {what}: {exc.strerror}", file=str(path))) from exc
    return path


class FileWriteError(OSError):
    """Creating, syncing or renaming the file failed (not the writer producing its data)."""


def write_whole(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """Let ``write`` fill a temporary file beside ``path``, then rename it over ``path``.

    Beside, so the rename stays on one file system and is atomic; O_EXCL with a random name,
    so two writers never share a temporary file; created with the mode any new file gets
    (0666 less the umask, unlike a tempfile's 0600); on disk (fsync) before the name points at
    it. Whatever fails, nothing is left behind and ``path`` is as it was. The file's own
    failures are :class:`FileWriteError`; what ``write`` raises passes through as it is.
    """
    folder = path.parent if str(path.parent) else Path(".")
    temporary = folder / f".{path.name}.{secrets.token_hex(6)}.tmp"
    try:
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as exc:
        raise FileWriteError(exc.errno, exc.strerror, str(path)) from exc
    try:
        with os.fdopen(descriptor, "wb") as out:
            write(out)
            out.flush()
            _on_disk(out.fileno(), temporary)
        _renamed(temporary, path)
    except BaseException:
        with suppress(OSError):
            os.unlink(temporary)
        raise


def _on_disk(descriptor: int, path: Path) -> None:
    try:
        os.fsync(descriptor)
    except OSError as exc:
        raise FileWriteError(exc.errno, exc.strerror, str(path)) from exc


def _renamed(temporary: Path, path: Path) -> None:
    try:
        os.replace(temporary, path)
    except OSError as exc:
        raise FileWriteError(exc.errno, exc.strerror, str(path)) from exc
