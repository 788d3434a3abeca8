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
    """Let ``write`` fill a temporary file beside ``path``, then rename it over ``path``.

    Beside, so the rename stays on one file system and is atomic. Created with the mode any
    new file gets (0666 less the umask: a report is for sharing, unlike a tempfile's 0600).
    :class:`BadInput` naming the file when it cannot be written (no such folder, no
    permission, a full disk); whatever fails, nothing is left behind and ``path`` is as it was.
    """
    folder = path.parent if str(path.parent) else Path(".")
    temporary = folder / f".{path.name}.{secrets.token_hex(6)}.tmp"
    try:
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as exc:
        raise _cannot(path, what, exc) from exc
    try:
        with os.fdopen(descriptor, "wb") as out:
            write(out)
        os.replace(temporary, path)
    except BaseException as exc:
        with suppress(OSError):
            os.unlink(temporary)
        if isinstance(exc, OSError) and exc.errno in _FILE_ERRORS:
            raise _cannot(path, what, exc) from exc
        raise
    return path


def _cannot(path: Path, what: str, exc: OSError) -> BadInput:
    return BadInput(Problem(f"cannot write {what}: {exc.strerror}", file=str(path)))
