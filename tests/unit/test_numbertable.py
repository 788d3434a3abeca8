"""The compact number table behaves like a set (with marks: a dict of first marks), through every
resize and widening."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from dispatcher.audience.numbertable import NumberTable

NUMBERS = st.one_of(
    st.integers(300_000_000, 999_999_999),  # 9-digit national numbers
    st.integers(0, 2_000),  # small and consecutive: many collide
    st.integers(0, 2**63 - 1),  # beyond 4-byte slots: the table widens
)


@given(st.lists(NUMBERS, max_size=600), st.integers(0, 50))
def test_acts_like_a_set(numbers: list[int], expected: int) -> None:
    table, seen = NumberTable(expected), set()
    for number in numbers:
        assert table.add(number) == (-1 if number not in seen else 0)
        seen.add(number)
    assert len(table) == len(seen)
    assert all(number in table for number in seen)


@given(st.lists(st.tuples(NUMBERS, st.integers(0, 2**64 - 1)), max_size=600), st.integers(0, 50))
def test_with_marks_acts_like_a_dict_of_first_marks(
    added: list[tuple[int, int]], expected: int
) -> None:
    table, first = NumberTable(expected, marks=True), dict[int, int]()
    for number, mark in added:
        assert table.add(number, mark) == first.get(number, -1)
        first.setdefault(number, mark)
    assert len(table) == len(first)


def test_absent_numbers_are_not_found() -> None:
    table = NumberTable()
    for number in range(0, 10_000, 2):
        table.add(number)
    assert not any(number in table for number in range(1, 10_000, 2))
    assert "4" not in table
    assert -2 not in table


def test_sized_for_the_expected_rows_it_holds_them_without_growing() -> None:
    table = NumberTable(100_000)
    size = table.nbytes
    for number in range(900_000_000, 900_100_000):
        table.add(number)
    assert table.nbytes == size
    assert size < 100_000 * 6  # 4-byte slots at a load of 0.7


def test_a_wide_number_keeps_the_narrow_ones() -> None:
    table = NumberTable(10)
    table.add(912_345_678)
    narrow = table.nbytes
    table.add(2**40)
    assert table.nbytes == 2 * narrow  # the same slots, 8 bytes each instead of 4
    assert 912_345_678 in table and 2**40 in table and not table.add(912_345_678)
