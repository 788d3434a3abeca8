"""The pump's wake-up: outcomes gather until as many as it asked for are back, or time is up."""

from __future__ import annotations

import asyncio

from dispatcher.core.outbox import Outcome
from dispatcher.core.status import Status
from dispatcher.gateways.base import SendResult
from dispatcher.sending.turns import Outcomes, gather_outcomes


def _result(delivery_id: int) -> SendResult:
    return SendResult(delivery_id, Outcome(delivery_id, Status.ACCEPTED, f"SM{delivery_id}"))


def test_the_pump_wakes_once_as_many_as_it_asked_for_are_back() -> None:
    async def scenario() -> list[int]:
        outcomes = Outcomes()
        woken_with = []

        async def pump() -> None:
            await outcomes.wait(3, timeout_s=5)
            woken_with.append(len(outcomes.take()))

        waiting = asyncio.create_task(pump())
        for delivery_id in range(1, 5):
            await asyncio.sleep(0)  # the pump runs between results: it must keep waiting
            assert woken_with == [] or delivery_id > 3
            outcomes.add(_result(delivery_id))
        await waiting
        return woken_with

    assert asyncio.run(scenario()) == [3]


def test_a_wait_ends_at_its_timeout_with_what_came_back() -> None:
    async def scenario() -> tuple[int, float]:
        outcomes = Outcomes()
        outcomes.add(_result(1))
        loop = asyncio.get_running_loop()
        started = loop.time()
        await outcomes.wait(2, timeout_s=0.05)
        return len(outcomes.take()), loop.time() - started

    taken, took = asyncio.run(scenario())
    assert taken == 1 and took >= 0.05


def test_enough_waiting_or_no_time_left_returns_at_once() -> None:
    async def scenario() -> list[int]:
        outcomes = Outcomes()
        outcomes.add(_result(1))
        outcomes.add(_result(2))
        await outcomes.wait(2, timeout_s=60)  # already there
        await outcomes.wait(5, timeout_s=0)  # no time left
        loop = asyncio.get_running_loop()
        await gather_outcomes(outcomes, loop.time() - 1, enough=5)  # the group's time is up
        return [r.delivery_id for r in outcomes.take()]

    assert asyncio.run(asyncio.wait_for(scenario(), timeout=5)) == [1, 2]


def test_after_a_wait_the_next_single_result_wakes_the_pump_again() -> None:
    async def scenario() -> int:
        outcomes = Outcomes()
        await outcomes.wait(10, timeout_s=0.01)  # gave up waiting for 10
        waiting = asyncio.create_task(outcomes.wait(1, timeout_s=5))
        await asyncio.sleep(0)
        outcomes.add(_result(1))
        await asyncio.wait_for(waiting, timeout=1)
        return len(outcomes.take())

    assert asyncio.run(scenario()) == 1
