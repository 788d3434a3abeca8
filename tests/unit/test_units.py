"""The units registry and the calendar of communes that merge: lookups by name, code and date."""

from __future__ import annotations

from datetime import date, time
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dispatcher.audience.units import Unit, UnitsRegistry, name_key
from dispatcher.broadcast import Commune, airings

VN = ZoneInfo("Asia/Ho_Chi_Minh")
MERGER = date(2024, 12, 1)  # Đồng Giáp and Tràng Các into Khánh Khê
ABOLITION = date(2025, 7, 1)  # districts abolished, communes merged again
UNITS = [
    Unit("20", "Tỉnh Lạng Sơn", "tinh"),
    Unit("184", "Huyện Văn Quan", "huyen", "20", valid_to=date(2025, 6, 30)),
    Unit("06253", "Thị trấn Văn Quan", "thi_tran", "184", None, date(2025, 6, 30), "06253"),
    Unit("06286", "Xã Khánh Khê", "xa", "184", valid_to=date(2025, 6, 30)),
    Unit("06301", "Xã Tràng Các", "xa", "184", None, date(2024, 11, 30), "06286"),
    Unit("06307", "Xã Tân Đoàn", "xa", "184", valid_to=date(2025, 6, 30)),
    Unit("06253", "Xã Văn Quan", "xa", "20", valid_from=ABOLITION),
    Unit("06307", "Xã Tân Đoàn", "xa", "20", valid_from=ABOLITION),
    Unit("99001", "Xã Tân Thành", "xa", "184"),
    Unit("99002", "Phường Tân Thành", "phuong", "184"),
]
REGISTRY = UnitsRegistry(UNITS, "units.yaml")


def codes(found: tuple[Unit, ...]) -> list[tuple[str, str]]:
    return [(u.code, u.name) for u in found]


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("Xã Tràng Các", [("06301", "Xã Tràng Các")]),
        ("  xã   TRÀNG các ", [("06301", "Xã Tràng Các")]),  # any case and spacing
        ("Tràng Các", [("06301", "Xã Tràng Các")]),  # without its kind: only one is called that
        ("06301", [("06301", "Xã Tràng Các")]),
        ("Xa\u0303 Tra\u0300ng Ca\u0301c", [("06301", "Xã Tràng Các")]),  # decomposed (NFD)
        # A name kept through the 2025 merger: both periods, oldest first.
        ("Xã Tân Đoàn", [("06307", "Xã Tân Đoàn"), ("06307", "Xã Tân Đoàn")]),
        # A code kept with a new name.
        ("06253", [("06253", "Thị trấn Văn Quan"), ("06253", "Xã Văn Quan")]),
    ],
)
def test_find_by_name_or_code(written: str, expected: list[tuple[str, str]]) -> None:
    assert codes(REGISTRY.find(written)) == expected


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ("Xã Tân Doàn", "'Xã Tân Doàn' is not a commune in the units registry units.yaml "
                        "(did you mean Xã Tân Đoàn?)"),
        ("Xã Không Có", "'Xã Không Có' is not a commune in the units registry units.yaml"),
        ("Huyện Văn Quan", "'Huyện Văn Quan' is a district, not a commune"),
        ("184", "'184' is a district, not a commune"),
        ("Văn Quan", "'Văn Quan' could be Thị trấn Văn Quan, Xã Văn Quan: write the full name "
                     "or the code"),
        ("Tân Thành", "'Tân Thành' could be Phường Tân Thành, Xã Tân Thành"),
        ("Xã Văn", "'Xã Văn' is not a commune"),  # a kind written is not matched without it
    ],
)  # fmt: skip
def test_what_cannot_be_found_says_why(written: str, message: str) -> None:
    with pytest.raises(LookupError) as caught:
        REGISTRY.find(written)
    assert str(caught.value.args[0]).startswith(message)


def test_validity_is_inclusive_and_open_ended() -> None:
    trang_cac = REGISTRY.find("06301")[0]
    assert trang_cac.valid_on(date(2024, 11, 30)) and not trang_cac.valid_on(MERGER)
    assert trang_cac.valid_on(date(1990, 1, 1))  # no valid_from: since before any campaign
    assert (trang_cac.period, UNITS[6].period) == ("until 30/11/2024", "from 01/07/2025")
    assert UNITS[0].period == "always"
    assert UNITS[1].overlaps(UNITS[0]) and not UNITS[5].overlaps(UNITS[7])


def test_successor_is_the_unit_that_took_it_over() -> None:
    trang_cac, thi_tran = REGISTRY.find("Tràng Các")[0], REGISTRY.find("Thị trấn Văn Quan")[0]
    assert REGISTRY.successor(trang_cac) == UNITS[3]  # Khánh Khê, on 01/12/2024
    assert REGISTRY.successor(thi_tran) == UNITS[6]  # its own code, renamed Xã Văn Quan
    assert REGISTRY.successor(UNITS[3]) is None  # ended without a merged_into


def test_name_key() -> None:
    assert name_key(" Xã  TÂN Đoàn ") == name_key("xã tân đoàn") == "xã tân đoàn"


# -- the calendar: a commune airs only on the days it exists, under that day's name ------------


def test_a_commune_merged_mid_campaign_stops_airing() -> None:
    communes = [Commune(w, REGISTRY.find(w)) for w in ("Xã Tràng Các", "Xã Khánh Khê")]
    found = airings(communes, date(2024, 11, 29), date(2024, 12, 2), [time(6)], None, VN)
    assert [(a.at.day, a.commune) for a in found] == [
        (29, "Xã Tràng Các"), (29, "Xã Khánh Khê"),
        (30, "Xã Tràng Các"), (30, "Xã Khánh Khê"),
        (1, "Xã Khánh Khê"), (2, "Xã Khánh Khê"),
    ]  # fmt: skip


def test_a_code_keeps_airing_under_its_new_name() -> None:
    by_code = Commune("06253", REGISTRY.find("06253"))
    by_old_name = Commune("Thị trấn Văn Quan", REGISTRY.find("Thị trấn Văn Quan"))
    found = airings(
        [by_code, by_old_name], date(2025, 6, 30), date(2025, 7, 1), [time(6)], None, VN
    )
    assert [(a.at.day, a.commune) for a in found] == [(30, "Thị trấn Văn Quan"), (1, "Xã Văn Quan")]


def test_first_and_last_day_of_a_commune_in_a_window() -> None:
    trang_cac = Commune("Xã Tràng Các", REGISTRY.find("Xã Tràng Các"))
    assert trang_cac.first_and_last(date(2024, 11, 1), date(2025, 1, 31)) == (
        date(2024, 11, 1), date(2024, 11, 30),
    )  # fmt: skip
    assert trang_cac.first_and_last(MERGER, date(2025, 1, 31)) is None
    new_van_quan = Commune("Xã Văn Quan", REGISTRY.find("Xã Văn Quan"))
    assert new_van_quan.first_and_last(date(2025, 6, 1), date(2025, 7, 31)) == (
        ABOLITION, date(2025, 7, 31),
    )  # fmt: skip
    assert trang_cac.last_unit_before(MERGER) == UNITS[4]


def test_without_a_registry_a_name_is_taken_as_written_and_always_exists() -> None:
    anywhere = Commune("  Xã  Mới ")
    assert anywhere.name_on(date(2099, 1, 1)) == "Xã Mới"
    assert anywhere.first_and_last(date(2024, 1, 1), date(2024, 1, 2)) == (
        date(2024, 1, 1), date(2024, 1, 2),
    )  # fmt: skip


@given(
    start=st.dates(date(2024, 1, 1), date(2026, 12, 31)),
    length=st.integers(0, 60),
    picked=st.lists(st.sampled_from(["06253", "Xã Tràng Các", "Khánh Khê", "Xã Tân Đoàn"]),
                    min_size=1, max_size=4),
)  # fmt: skip
def test_airings_go_only_to_communes_that_exist_that_day(
    start: date, length: int, picked: list[str]
) -> None:
    communes = [Commune(w, REGISTRY.find(w)) for w in picked]
    end = date.fromordinal(start.toordinal() + length)
    found = airings(communes, start, end, [time(6)], None, VN)
    for airing in found:
        day = airing.at.date()
        assert any(u.name == airing.commune and u.valid_on(day) for u in REGISTRY.units)
    expected = sum(
        len({n for c in communes if (n := c.name_on(date.fromordinal(d))) is not None})
        for d in range(start.toordinal(), end.toordinal() + 1)
    )
    assert len(found) == expected  # and every commune that exists airs, once
