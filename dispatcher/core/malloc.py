"""The C allocator of a command that opens the database: one glibc arena for all its threads.

glibc gives each thread that allocates an arena of its own. A sender's database thread then grew
its arena with SQLite's page cache while the pages the main thread had freed (the cache of the
connection that wrote the outbox) sat unused in the main arena: `send` grew by 4 to 10 MiB while
sending, more the longer it ran (bench/memory.py), and a `worker` or `serve` runs for weeks.
With one arena, what one thread frees the next reuses: the resident set stays flat while
sending. The threads that allocate are few and take turns on the GIL; bench/throughput.py and
bench/soak.py measured no cost (README, "Benchmarks").

It must be asked before the process starts any thread, not just before the sending ones: the
arena of a thread that has ended is handed to the next thread whatever the limit (the audience
scan's process pool runs two helper threads while a big list is read, and the database thread
then inherited one of their arenas). Hence :func:`dispatcher.bootstrap.runtime` asks, first.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

__all__ = ["M_ARENA_MAX", "share_one_arena"]

M_ARENA_MAX = -8  # mallopt's parameter number in glibc's <malloc.h>
OPERATOR_SETTING = "MALLOC_ARENA_MAX"  # glibc's own environment variable


def share_one_arena(environ: Mapping[str, str], libc: Any = None) -> bool:
    """Ask the C library for one malloc arena for the whole process; True when it agreed.

    Only threads started afterwards share it, and only if none ran before (see above). An
    operator's ``MALLOC_ARENA_MAX`` wins (glibc has read it already); a C library without
    ``mallopt`` (musl's refuses, macOS has none) is left as is.
    """
    if OPERATOR_SETTING in environ:
        return False
    if libc is None:
        libc = _c_library()
    mallopt = getattr(libc, "mallopt", None)
    if mallopt is None:
        return False
    return bool(mallopt(M_ARENA_MAX, 1))


def _c_library() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    import ctypes  # ~2 ms, for a command that opens the database

    return ctypes.CDLL(None)  # the process's own symbols: the C library it runs on
