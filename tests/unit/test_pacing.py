"""Pacing on a controllable clock: no real sleeping."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dispatcher.core.outbox import NewDelivery
from dispatcher.sending.pacing import Pacer, TokenBucket, assign_senders, duration_s
from dispatcher.sending.send import pacing_for
from dispatcher.settings.config import Settings


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def _send_times(rate: float, burst: float, sizes: list[int]) -> list[tuple[float, int]]:
    """When each message actually goes out if every send waits for its reservation."""
    clock = Clock()
    bucket = TokenBucket(rate, burst, clock)
    out = []
    for size in sizes:
        delay = bucket.reserve(size)
        clock.t += delay  # the sender sleeps this long, then sends
        out.append((clock.t, size))
    return out


@given(
    rate=st.floats(1, 100),
    burst=st.integers(1, 50),
    sizes=st.lists(st.integers(1, 3), min_size=1, max_size=300),
)
@settings(max_examples=200)
def test_no_window_exceeds_rate_times_length_plus_burst(
    rate: float, burst: int, sizes: list[int]
) -> None:
    sent = _send_times(rate, burst, sizes)
    # A message goes out whole: one larger than the burst is the burst for its window.
    allowance = max(burst, *sizes)
    for i, (start, _) in enumerate(sent):
        for window in (1.0, 10.0):
            in_window = sum(n for t, n in sent[i:] if t < start + window)
            assert in_window <= allowance + rate * window + 1e-6


def test_a_waiting_queue_goes_at_the_full_rate() -> None:
    sent = _send_times(rate=10, burst=10, sizes=[1] * 1010)
    last = sent[-1][0]
    # 10 at once (the burst), then 10 per second: 1,000 more take 100 seconds
    assert last == pytest.approx(100.0)
    achieved = sum(n for _, n in sent) / last
    assert achieved >= 0.95 * 10


def test_idle_time_refills_only_up_to_the_burst() -> None:
    clock = Clock()
    bucket = TokenBucket(rate=10, burst=5, now=clock)
    clock.t = 1000.0
    assert [bucket.reserve(1) for _ in range(5)] == [0, 0, 0, 0, 0]
    assert bucket.reserve(1) == pytest.approx(0.1)


def test_each_sender_has_its_own_bucket() -> None:
    clock = Clock()
    pacer = Pacer(default_rate=10, burst=1, rates={"FAST": 100}, now=clock)
    assert pacer.delay("FAST", 1) == 0 and pacer.delay("FAST", 1) == pytest.approx(0.01)
    assert pacer.delay("SLOW", 1) == 0 and pacer.delay("SLOW", 1) == pytest.approx(0.1)
    assert pacer.delay(None, 1) == 0  # the gateway's default sender is a sender too


def test_multi_segment_messages_cost_their_segments() -> None:
    clock = Clock()
    pacer = Pacer(default_rate=10, burst=3, now=clock)
    assert pacer.delay("S", 3) == 0
    assert pacer.delay("S", 3) == pytest.approx(0.3)


def _deliveries(n: int, segments: int = 1) -> list[NewDelivery]:
    return [NewDelivery(f"+8491{i:07d}", "l:1", "x", "GSM-7", segments, None) for i in range(n)]


def test_a_pool_is_shared_in_proportion_to_rates() -> None:
    rates = {"A": 10.0, "B": 5.0}
    assigned = list(assign_senders(_deliveries(300), ["A", "B"], lambda s: rates[s or ""]))
    shares = {s: sum(1 for d in assigned if d.sender == s) for s in rates}
    assert shares == {"A": 200, "B": 100}


def test_a_single_sender_takes_everything() -> None:
    assigned = list(assign_senders(_deliveries(3), [None], lambda _s: 10))
    assert [d.sender for d in assigned] == [None, None, None]


def test_duration_at_the_combined_rate() -> None:
    assert duration_s(3600, ["A", "B"], lambda s: {"A": 10, "B": 20}[s or ""]) == 120


def test_the_built_in_simulator_is_not_paced_any_real_gateway_is() -> None:
    """The demo's send through the built-in simulator does not wait out Twilio's per-sender
    rate; `gateway: twilio` (Twilio, or a standalone simulator standing in for it) keeps the
    pacing exactly as configured."""
    pacer = Pacer(1.0, 1, {})
    assert pacing_for(Settings(gateway="simulator"), pacer) is None
    assert pacing_for(Settings(gateway="twilio"), pacer) is pacer
