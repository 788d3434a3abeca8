"""Broadcast scripts built once per test process and copied into each test's own folder.

Building a campaign's printable .docx scripts takes seconds, and many tests need a database that
knows a campaign's airings, not a fresh build of the same documents. ``write_campaign_scripts``
leaves a document alone when its content fingerprint is unchanged, so with the files an earlier
test built for the same campaign text copied in first, it registers the airings (the part each
test needs on its own database) and rewrites nothing.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class ScriptCache:
    def __init__(self, root: Path) -> None:
        self.root = root

    @contextmanager
    def reused(self, out_dir: Path, campaign_file: Path) -> Iterator[None]:
        """Around a build into ``out_dir``: seed it from the cache, then keep what was built."""
        key = hashlib.sha256(campaign_file.read_bytes()).hexdigest()[:16]
        cached = self.root / key
        if cached.is_dir():
            shutil.copytree(cached, out_dir, dirs_exist_ok=True)
        yield
        if not cached.is_dir() and out_dir.is_dir():
            shutil.copytree(out_dir, cached)
