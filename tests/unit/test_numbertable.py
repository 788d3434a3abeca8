"""The compact number table behaves like a dict of first sightings, through every resize."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from dispatcher.audience.numbertable import NumberTable

NUMBERS = st.one_of(
    st.integers(300_000_000, 999_999_999),  # 9-digit national numbers
    st.integers(0, 2_000),  # small and consecutive: many collide in the low bits
    st.integers(0, 2**63 - 1),
)


@given(st.lists(st.lists(NUMBERS, max_size=300), min_size=1, max_size=3), st.integers(0, 50))
def test_acts_like_a_dict_of_first_sightings(sources: list[list[int]], expected: int) -> None:
    table = NumberTable(expected)
    first: dict[int, tuple[int, int]] = {}
    order: list[int] = []
    for source, numbers in enumerate(sources):
        assert table.start_source() == source
        for line, number in enumerate(numbers, start=2):
            earlier = table.add(number, line)
            if number in first:
                assert earlier == order.index(number)
            else:
                assert earlier == -1
                first[number] = (source, line)
                order.append(number)
    assert len(table) == len(first)
    for index, number in enumerate(order):
        assert table.find(number) == index
        assert table.number(index) == number
        assert table.where(index) == first[number]
        assert number in table


def test_absent_numbers_are_not_found() -> None:
    table = NumberTable()
    for number in range(0, 10_000, 2):
        table.add(number, 1)
    assert all(table.find(number) == -1 for number in range(1, 10_000, 2))
    assert 3 not in table
    assert "4" not in table


def test_numbers_added_before_any_source_belong_to_the_first() -> None:
    table = NumberTable()
    table.add(912345678, 7)
    assert table.where(0) == (0, 7)
