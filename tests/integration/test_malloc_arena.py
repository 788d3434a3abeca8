"""One malloc arena for a command that opens the database, checked on the real C library (glibc).

Each case runs in a fresh interpreter: an arena is chosen by a thread's first allocation, and a
thread that has ended hands its arena to the next one, so the setting must come before any
thread: first thing when the database is opened.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

_PROGRAM = textwrap.dedent(
    """
    import ctypes, os, pathlib, re, sys, tempfile, threading
    from dispatcher.core.malloc import share_one_arena

    libc = ctypes.CDLL(None)
    libc.malloc.restype = ctypes.c_void_p
    libc.free.argtypes = [ctypes.c_void_p]

    def allocate():  # what SQLite's page cache does on the database thread
        blocks = [libc.malloc(4096) for _ in range(256)]
        for block in blocks:
            libc.free(block)

    def in_a_thread():
        thread = threading.Thread(target=allocate)
        thread.start()
        thread.join()

    if sys.argv[1] == "late":  # a thread ran first (a process pool's helpers, say)
        in_a_thread()
    if sys.argv[1] in ("share", "late"):
        print("agreed" if share_one_arena(os.environ) else "refused")
    if sys.argv[1] == "runtime":
        from dispatcher.bootstrap import runtime
        from dispatcher.settings.config import load_settings

        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite:///{folder}/dispatcher.db"
            settings = load_settings({"DISPATCHER_DB_URL": url}, cwd=pathlib.Path(folder))
            with runtime(settings):
                in_a_thread()
    else:
        in_a_thread()
    libc.fopen.restype = ctypes.c_void_p
    libc.fopen.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    libc.fclose.argtypes = [ctypes.c_void_p]
    libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "malloc.xml")
        stream = libc.fopen(path.encode(), b"w")
        libc.malloc_info(0, stream)
        libc.fclose(stream)
        heaps = re.findall(r'<heap nr="[0-9]+">', open(path).read())
    print(f"heaps {len(heaps)}")
    """
)


def _run(mode: str, **environ: str) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"} | environ
    done = subprocess.run(
        [sys.executable, "-c", _PROGRAM, mode], env=env, capture_output=True, text=True,
        check=True, timeout=60,
    )  # fmt: skip
    return done.stdout.split("\n")[:-1]


def test_a_thread_started_after_it_allocates_in_the_main_arena() -> None:
    assert _run("share") == ["agreed", "heaps 1"]


def test_opening_the_database_asks_for_it_first() -> None:
    assert _run("runtime") == ["heaps 1"]


def test_too_late_once_a_thread_has_run() -> None:  # why it is the first thing runtime() does
    assert _run("late") == ["agreed", "heaps 2"]


def test_without_it_the_thread_has_an_arena_of_its_own() -> None:
    assert _run("leave") == ["heaps 2"]  # what the setting changes: glibc's default


def test_the_operators_setting_is_kept() -> None:
    assert _run("share", MALLOC_ARENA_MAX="2") == ["refused", "heaps 2"]
