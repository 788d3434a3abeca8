"""Which recording an airing uses: the most specific fitting one (airing > commune > campaign)."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from dispatcher.broadcast.audio import RecordingSpec, find_recording
from dispatcher.core.errors import BadInput

ICT = timezone(timedelta(hours=7))
MORNING = datetime(2024, 8, 5, 6, 0, tzinfo=ICT)
EVENING = datetime(2024, 8, 5, 17, 30, tzinfo=ICT)

CAMPAIGN = RecordingSpec(Path("campaign.mp3"))
TAN_DOAN = RecordingSpec(Path("tan-doan.mp3"), commune="Xã Tân Đoàn")
TAN_DOAN_MORNING = RecordingSpec(Path("tan-doan-0600.wav"), commune="Xã Tân Đoàn", at=MORNING)
ALL_MORNING = RecordingSpec(Path("all-0600.mp3"), at=MORNING)
TAY = RecordingSpec(Path("tay.mp3"), language="tay")
TAY_TAN_DOAN = RecordingSpec(Path("tay-tan-doan.mp3"), commune="Xã Tân Đoàn", language="tay")
ALL = [CAMPAIGN, TAN_DOAN, TAN_DOAN_MORNING, ALL_MORNING, TAY, TAY_TAN_DOAN]


@pytest.mark.parametrize(
    ("commune", "at", "language", "expected"),
    [
        ("Xã Tân Đoàn", MORNING, None, "tan-doan-0600.wav"),  # the airing's own
        ("Xã Tân Đoàn", EVENING, None, "tan-doan.mp3"),  # the commune's
        ("Xã Tràng Các", MORNING, None, "all-0600.mp3"),  # that time, every commune
        ("Xã Tràng Các", EVENING, None, "campaign.mp3"),  # the campaign's
        ("Xã Tân Đoàn", MORNING, "tay", "tay-tan-doan.mp3"),  # Tày: only Tày recordings
        ("Xã Tràng Các", EVENING, "tay", "tay.mp3"),
        ("Xã Tràng Các", EVENING, "nung", None),  # no Nùng recording: nothing, not Vietnamese
    ],
)
def test_the_most_specific_fitting_recording_wins(
    commune: str, at: datetime, language: str | None, expected: str | None
) -> None:
    found = find_recording(ALL, commune, at, language)
    assert found == (Path(expected) if expected else None)


def test_declaration_order_does_not_matter() -> None:
    for specs in (ALL, list(reversed(ALL))):
        assert find_recording(specs, "Xã Tân Đoàn", MORNING, None) == Path("tan-doan-0600.wav")


def test_without_recordings_there_is_none() -> None:
    assert find_recording([], "Xã Tân Đoàn", MORNING, None) is None
    assert find_recording([TAN_DOAN], "Xã Tràng Các", MORNING, None) is None


def test_vi_and_no_language_are_the_same_language() -> None:
    spec = RecordingSpec(Path("vi.mp3"), language="vi")
    assert find_recording([spec], "Xã Tân Đoàn", MORNING, None) == Path("vi.mp3")
    assert find_recording([CAMPAIGN], "Xã Tân Đoàn", MORNING, "VI") == Path("campaign.mp3")
    assert find_recording([CAMPAIGN], "Xã Tân Đoàn", MORNING, "tay") is None


def test_commune_names_match_ignoring_case_spacing_and_unicode_form() -> None:
    typed = unicodedata.normalize("NFD", "xã  tân   đoàn")  # decomposed, as some keyboards write
    assert typed != unicodedata.normalize("NFC", typed)
    assert find_recording([TAN_DOAN], typed, EVENING, None) == Path("tan-doan.mp3")


def test_the_airing_time_matches_as_an_instant_in_any_zone() -> None:
    utc_morning = MORNING.astimezone(UTC)  # 23:00 the day before, in UTC
    assert find_recording([ALL_MORNING], "Xã Tràng Các", utc_morning, None) == Path("all-0600.mp3")


def test_a_naive_time_against_an_aware_one_is_an_error_not_a_silent_miss() -> None:
    naive = RecordingSpec(Path("naive.mp3"), at=datetime(2024, 8, 5, 6, 0))
    with pytest.raises(ValueError, match="zone"):
        find_recording([naive], "Xã Tân Đoàn", MORNING, None)


def test_two_different_files_equally_specific_are_refused_naming_both() -> None:
    twin = RecordingSpec(Path("tan-doan-other.mp3"), commune="xã tân đoàn")
    with pytest.raises(BadInput, match=r"tan-doan\.mp3.*tan-doan-other\.mp3"):
        find_recording([TAN_DOAN, twin], "Xã Tân Đoàn", EVENING, None)


def test_the_same_file_declared_twice_is_not_ambiguous() -> None:
    again = RecordingSpec(Path("tan-doan.mp3"), commune="Xã Tân Đoàn")
    assert find_recording([TAN_DOAN, again], "Xã Tân Đoàn", EVENING, None) == Path("tan-doan.mp3")


def test_a_more_specific_recording_settles_a_tie_below_it() -> None:
    twin = RecordingSpec(Path("campaign-b.mp3"))
    specs = [CAMPAIGN, twin, TAN_DOAN]
    assert find_recording(specs, "Xã Tân Đoàn", EVENING, None) == Path("tan-doan.mp3")
    with pytest.raises(BadInput):
        find_recording(specs, "Xã Tràng Các", EVENING, None)


@pytest.mark.parametrize(
    ("spec", "rank"),
    [(CAMPAIGN, 0), (TAN_DOAN, 1), (ALL_MORNING, 2), (TAN_DOAN_MORNING, 3)],
)
def test_specificity_ranks_airing_over_commune_over_campaign(
    spec: RecordingSpec, rank: int
) -> None:
    assert spec.specificity == rank
