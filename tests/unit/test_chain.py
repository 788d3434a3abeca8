"""The audit chain's arithmetic (no I/O)."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dispatcher.core import chain
from dispatcher.core.chain import GENESIS, canonical, link
from dispatcher.reports.log_verify import Segment, split
from dispatcher.store.chain import CHAINED
from dispatcher.store.models import APPEND_ONLY_TABLES


def test_canonical_bytes_are_compact_utf8_json_with_iso_times() -> None:
    values = [7, datetime(2024, 10, 2, 6, 0, 0, 250000, tzinfo=UTC), date(2024, 10, 1), None,
              "Xã Tân Đoàn"]  # fmt: skip
    assert (
        canonical("activity_log", values)
        == (
            '["activity_log",7,"2024-10-02T06:00:00.250000+00:00","2024-10-01",null,"Xã Tân Đoàn"]'
        ).encode()
    )


_ZONES = st.sampled_from([UTC, timezone(timedelta(hours=7)), timezone(timedelta(hours=-3))])
_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(st.characters(blacklist_categories=["Cs"])),  # anything UTF-8 can hold
    st.dates(),
    st.datetimes(timezones=_ZONES),
)


@given(st.text(), st.lists(_VALUES, max_size=14))
def test_canonical_bytes_are_what_json_dumps_writes(table: str, values: list[object]) -> None:
    """The direct builder (fast path) and json.dumps agree byte for byte, on every type a log
    could hold: control characters, quotes, tone marks, bools, floats, times in any zone."""
    expected = json.dumps(
        [table, *(v.isoformat() if isinstance(v, date) else v for v in values)],
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()
    assert canonical(table, values) == expected
    pure_python = "".join(chain._encoder(None)([table, *values], 0)).encode()
    assert pure_python == expected  # where CPython's C encoder is missing


def test_a_link_is_sha256_of_the_previous_hash_and_the_record() -> None:
    expected = hashlib.sha256(bytes(32) + b'["approvals",1]').hexdigest()
    assert link(GENESIS, "approvals", [1]) == expected
    assert link(expected, "approvals", [1]) != expected  # the same record later: another hash


def test_a_time_without_its_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="zone"):
        canonical("activity_log", [datetime(2024, 10, 2, 6, 0)])


def test_every_log_is_chained_with_every_column() -> None:
    """A column added to a log must be added to its canonical form on purpose."""
    assert set(CHAINED) == set(APPEND_ONLY_TABLES)
    for table, (model, names) in CHAINED.items():
        assert model.__tablename__ == table
        assert list(names) == [c.name for c in model.__table__.columns], table


def test_a_long_chain_is_split_in_even_segments_that_cover_it() -> None:
    assert split(10, jobs=3, smallest=1) == [Segment(0, 3), Segment(3, 6), Segment(6, 10)]
    assert split(10, jobs=3, smallest=5) == [Segment(0, 5), Segment(5, 10)]
    assert split(10, jobs=3, smallest=11) == [Segment(0, 10)]  # too short to be worth it
    assert split(0, jobs=4) == [Segment(0, 0)]
