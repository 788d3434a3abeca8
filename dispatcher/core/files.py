"""Files written whole or not at all: a reader never sees half a report."""

from __future__ import annotations

import os
import tempfile
from contextlib import suppress
from pathlib import Path

from dispatcher.core.errors import BadInput, Problem


def replace_file(path: Path, data: bytes) -> Path:
    """Write ``data`` to a temporary file beside ``path``, then rename it over ``path``.

    Beside, so the rename stays on one file system and is atomic. :class:`BadInput` naming
    the file when it cannot be written (no such folder, no permission), nothing left behind.
    """
    folder = path.parent if str(path.parent) else Path(".")
    try:
        with tempfile.NamedTemporaryFile(
            dir=folder, prefix=f".{path.name}.", suffix=".tmp", delete=False
        ) as tmp:
            tmp.write(data)
        try:
            os.replace(tmp.name, path)
        except OSError:
            with suppress(OSError):
                os.unlink(tmp.name)
            raise
    except OSError as exc:
        raise BadInput(Problem(f"cannot write the report: {exc.strerror}", file=str(path))) from exc
    return path
