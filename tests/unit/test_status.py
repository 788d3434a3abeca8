"""The status vocabulary: order, finality, and the Twilio mapping."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dispatcher.core.status import FINAL, RANK, Status, can_move, can_release, from_twilio

statuses = st.sampled_from(list(Status))


@pytest.mark.parametrize(
    ("current", "new", "allowed"),
    [
        (Status.PENDING, Status.SENDING, True),
        (Status.SENDING, Status.ACCEPTED, True),
        (Status.SENDING, Status.FAILED, True),  # permanent error straight from sending
        (Status.SENDING, Status.UNKNOWN, True),
        (Status.UNKNOWN, Status.ACCEPTED, True),  # reconciled: the provider has it
        (Status.ACCEPTED, Status.SENT, True),
        (Status.SENT, Status.DELIVERED, True),
        (Status.DELIVERED, Status.SENT, False),  # a late `sent` never overwrites `delivered`
        (Status.DELIVERED, Status.DELIVERED, False),  # a repeated callback changes nothing
        (Status.SENT, Status.ACCEPTED, False),
        (Status.FAILED, Status.DELIVERED, False),
        (Status.UNDELIVERED, Status.DELIVERED, False),
        (Status.ACCEPTED, Status.PENDING, False),
    ],
)
def test_transitions(current: Status, new: Status, allowed: bool) -> None:
    assert can_move(current, new) is allowed


@given(statuses, statuses)
def test_moves_are_strictly_forward_and_finals_are_final(current: Status, new: Status) -> None:
    if can_move(current, new):
        assert RANK[new] > RANK[current]
        assert current not in FINAL


def test_only_claimed_or_unknown_rows_can_be_released() -> None:
    assert {s for s in Status if can_release(s)} == {Status.SENDING, Status.UNKNOWN}


@pytest.mark.parametrize(
    ("twilio", "ours"),
    [
        ("queued", Status.ACCEPTED),
        ("accepted", Status.ACCEPTED),
        ("scheduled", Status.ACCEPTED),
        ("sending", Status.SENT),
        ("sent", Status.SENT),
        ("delivered", Status.DELIVERED),
        ("undelivered", Status.UNDELIVERED),
        ("failed", Status.FAILED),
        ("canceled", Status.CANCELED),
        ("DELIVERED", Status.DELIVERED),
        ("some-new-status", Status.ACCEPTED),  # Twilio adds statuses without notice
    ],
)
def test_twilio_statuses_map_onto_ours(twilio: str, ours: Status) -> None:
    assert from_twilio(twilio) is ours
