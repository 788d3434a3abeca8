"""Asking the C library for one malloc arena: who decides, and what a refusal means."""

from __future__ import annotations

from dispatcher.core.malloc import M_ARENA_MAX, share_one_arena


class _Libc:
    """A C library's ``mallopt`` that records its calls and answers ``answer``."""

    def __init__(self, answer: int) -> None:
        self.calls: list[tuple[int, int]] = []
        self._answer = answer

    def mallopt(self, parameter: int, value: int) -> int:
        self.calls.append((parameter, value))
        return self._answer


def test_asks_glibc_for_one_arena() -> None:
    libc = _Libc(answer=1)
    assert share_one_arena({}, libc) is True
    assert libc.calls == [(M_ARENA_MAX, 1)]


def test_the_operators_malloc_arena_max_wins() -> None:
    libc = _Libc(answer=1)
    assert share_one_arena({"MALLOC_ARENA_MAX": "4"}, libc) is False
    assert libc.calls == []


def test_a_refusal_is_reported() -> None:  # musl's mallopt does nothing and answers 0
    assert share_one_arena({}, _Libc(answer=0)) is False


def test_a_c_library_without_mallopt_is_left_alone() -> None:
    assert share_one_arena({}, object()) is False
