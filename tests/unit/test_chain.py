"""The audit chain's arithmetic (no I/O)."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime

import pytest

from dispatcher.core.chain import GENESIS, canonical, link
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
