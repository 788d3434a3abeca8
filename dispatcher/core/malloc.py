"""The C allocator of a process that sends: one glibc arena for all its threads.

glibc gives each thread that allocates its own arena. A sender's database thread then grew its
arena with SQLite's page cache while the pages the main thread had freed (the cache of the
connection that wrote the outbox) sat unused in the main arena: `send` grew by 4 to 10 MiB
while sending, more the longer it ran (bench/memory.py), and a `worker` or `serve` runs for
weeks. With one arena, what one thread frees the other reuses: the resident set stays flat while
sending. The threads that allocate are few and take turns on the GIL; bench/throughput.py and
bench/soak.py measured no cost (README, "Benchmarks").
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

    Only threads that allocate for the first time afterwards share it, so this is called before
    a sending command starts its threads. An operator's ``MALLOC_ARENA_MAX`` wins (glibc has read
    it already); a C library without ``mallopt`` (musl's refuses, macOS has none) is left as is.
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
    import ctypes  # only for a command that sends (~2 ms)

    return ctypes.CDLL(None)  # the process's own symbols: the C library it runs on
