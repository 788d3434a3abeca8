"""A compact set of phone numbers (pure).

Deduplicating a million-row list needs every number seen so far. A Python ``set`` of a million
ints costs ~60 MiB (an int object per number plus the hash table). This table keeps the numbers
themselves in one array of 4-byte slots (open addressing, linear probing): sized for the rows
expected, ~6 bytes a number, so a million-row list costs ~6 MiB more than a short one. Where a
number was first seen (an 8-byte mark per slot, which triples that) is kept only when asked.
"""

from __future__ import annotations

from array import array

__all__ = ["NumberTable"]

_GOLDEN = 0x9E3779B97F4A7C15  # Fibonacci hashing: spreads runs of consecutive numbers
_MASK64 = (1 << 64) - 1
_MIN_SLOTS = 64
_MAX_LOAD = 0.7  # linear probing slows down sharply beyond this
_NARROW, _WIDE = "I", "Q"  # 4-byte slots hold every national number; 8 bytes for the others


class NumberTable:
    """A set of non-negative ints below 2**63, sized up front for ``expected`` of them; with
    ``marks``, each number keeps the mark (a non-negative int below 2**64) it was first added with.

    It grows when more arrive (a resize briefly holds the old and the new slots), so a good
    ``expected`` (an upper bound: the rows of the lists) keeps the peak at the table's size.
    """

    def __init__(self, expected: int = 0, *, marks: bool = False) -> None:
        self._count = 0
        self._slots = array(_NARROW)
        self._marks: array[int] | None = array(_WIDE) if marks else None
        self._rebuild(max(_MIN_SLOTS, int(expected / _MAX_LOAD) + 1), _NARROW)

    def __len__(self) -> int:
        return self._count

    def __contains__(self, number: object) -> bool:
        return isinstance(number, int) and number >= 0 and self.mark(number) >= 0

    def mark(self, number: int) -> int:
        """-1 when ``number`` is not here, else the mark it was added with (0 without marks)."""
        slots, size, key = self._slots, self._size, number + 1  # slots hold number + 1: 0 is free
        slot = (((number * _GOLDEN) & _MASK64) * size) >> 64
        while held := slots[slot]:
            if held == key:
                marks = self._marks
                return 0 if marks is None else marks[slot]
            slot += 1
            if slot == size:
                slot = 0
        return -1

    def add(self, number: int, mark: int = 0) -> int:
        """Add ``number`` with ``mark``; -1 when it is new, else the mark it was first added with
        (0 in a table without marks)."""
        key = number + 1
        if key > self._widest:
            self._rebuild(self._size, _WIDE)
        slots, size, marks = self._slots, self._size, self._marks
        slot = (((number * _GOLDEN) & _MASK64) * size) >> 64
        while held := slots[slot]:
            if held == key:
                return 0 if marks is None else marks[slot]
            slot += 1
            if slot == size:
                slot = 0
        slots[slot] = key
        if marks is not None:
            marks[slot] = mark
        self._count = count = self._count + 1
        if count > self._limit:
            self._rebuild(2 * size, slots.typecode)
        return -1

    @property
    def nbytes(self) -> int:
        """The memory the slots (and marks) take."""
        marks = 0 if self._marks is None else self._marks.itemsize
        return (self._slots.itemsize + marks) * self._size

    def _rebuild(self, size: int, typecode: str) -> None:
        """Move the numbers into ``size`` slots of ``typecode``."""
        old, old_marks = self._slots, self._marks
        slots = array(typecode, [0]) * size  # made at its size: no second copy
        marks = None if old_marks is None else array(_WIDE, [0]) * size
        for index, key in enumerate(old):
            if key:
                slot = ((((key - 1) * _GOLDEN) & _MASK64) * size) >> 64
                while slots[slot]:
                    slot = slot + 1 if slot + 1 < size else 0
                slots[slot] = key
                if marks is not None and old_marks is not None:
                    marks[slot] = old_marks[index]
        self._slots, self._marks, self._size = slots, marks, size
        self._limit = int(size * _MAX_LOAD)
        self._widest = (1 << (8 * slots.itemsize)) - 1
