"""One run settles its own unknown outcomes, against real databases and a scripted provider:
what the provider has is taken with its SID, what it does not have is sent again, once, after the
settle delay; what is still in doubt after the rounds is reported with the reason."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from dispatcher.core.clock import SystemClock
from dispatcher.core.errors import GatewayHalt
from dispatcher.core.outbox import OutboundMessage, Outcome
from dispatcher.core.status import Status
from dispatcher.gateways.base import ProviderStatus, SendResult
from dispatcher.sending.sender import RunResult, Sender
from dispatcher.sending.settling import NO_ROUNDS, SettlePolicy
from dispatcher.store.uow import unit_of_work_factory
from tests.integration.test_sender import _events, _occurrence

PHONES = [f"+8491234{i:04d}" for i in range(6)]
OK = "ok"  # created, and the answer came back
AFTER = "500-after"  # created, then answered 500: the outcome is unknown
BEFORE = "500-before"  # not created, answered 500: the outcome is unknown too


@dataclass
class Provider:
    """A provider that creates (or not) a message per attempt as scripted for its number, and
    lists what it created; it remembers when each attempt was answered and each lookup made."""

    script: dict[str, list[str]] = field(default_factory=dict)  # number → fates of attempts
    created: list[tuple[str, str]] = field(default_factory=list)  # (number, sid)
    attempts: Counter[str] = field(default_factory=Counter)
    answered_at: dict[str, float] = field(default_factory=dict)  # number → last answer
    looked_up_at: dict[str, float] = field(default_factory=dict)
    unreachable: bool = False  # lookups fail: the provider cannot be asked

    async def send(self, message: OutboundMessage) -> SendResult:
        fates = self.script.get(message.to, [])
        fate = fates[self.attempts[message.to]] if self.attempts[message.to] < len(fates) else OK
        self.attempts[message.to] += 1
        self.answered_at[message.to] = time.monotonic()
        sid = None
        if fate in (OK, AFTER):
            sid = f"SM{len(self.created):032x}"
            self.created.append((message.to, sid))
        outcome = Outcome(message.delivery_id, Status.ACCEPTED, sid)
        if fate != OK:
            outcome = Outcome(message.delivery_id, Status.UNKNOWN, detail="HTTP 500: may be sent")
        return SendResult(message.delivery_id, outcome)

    async def lookup(self, message: OutboundMessage, taken: Collection[str] = ()) -> Outcome | None:
        self.looked_up_at[message.to] = time.monotonic()
        if self.unreachable:
            raise GatewayHalt("cannot ask the gateway about unknown outcomes: connection refused")
        sids = [sid for to, sid in self.created if to == message.to and sid not in taken]
        if not sids:
            return None
        return Outcome(message.delivery_id, Status.SENT, sids[-1], detail="reconciled")

    async def fetch(self, provider_id: str) -> ProviderStatus:
        raise AssertionError("not used by the sender")

    async def aclose(self) -> None:
        return None

    def messages_to(self) -> Counter[str]:
        return Counter(to for to, _ in self.created)


def _run(engine: Engine, provider: Provider, occurrence_id: int, settle: SettlePolicy) -> RunResult:
    sender = Sender(unit_of_work_factory(engine), provider, SystemClock(), batch_size=10,
                    concurrency=4, settle=settle)  # fmt: skip
    return asyncio.run(sender.run(occurrence_id))


def test_one_run_takes_what_the_provider_has_and_sends_the_rest_once(engine: Engine) -> None:
    occurrence_id = _occurrence(engine, PHONES)
    created, absent, twice_in_doubt = PHONES[:3]
    script = {created: [AFTER], absent: [BEFORE], twice_in_doubt: [BEFORE, AFTER]}
    provider = Provider(script=script)
    result = _run(engine, provider, occurrence_id, SettlePolicy(delay_s=0, rounds=3))

    assert provider.messages_to() == Counter(PHONES)  # everyone exactly once
    assert provider.attempts == Counter(PHONES) + Counter([absent, twice_in_doubt])
    assert result.counts == {Status.ACCEPTED: 4, Status.SENT: 2}
    assert result.complete and result.unknown_reason is None
    assert _events(engine, created) == ["pending", "sending", "unknown", "sent"]
    again = ["pending", "sending", "unknown", "pending", "sending"]
    assert _events(engine, absent) == [*again, "accepted"]
    assert _events(engine, twice_in_doubt) == [*again, "unknown", "sent"]


def test_what_is_still_in_doubt_after_the_rounds_is_reported_with_the_reason(
    engine: Engine,
) -> None:
    occurrence_id = _occurrence(engine, PHONES[:2])
    provider = Provider(script={PHONES[0]: [BEFORE] * 10})
    result = _run(engine, provider, occurrence_id, SettlePolicy(delay_s=0, rounds=2))

    assert provider.attempts[PHONES[0]] == 3  # the first try, then one per round it was absent
    assert provider.messages_to()[PHONES[0]] == 0
    assert result.counts == {Status.ACCEPTED: 1, Status.UNKNOWN: 1}
    assert not result.complete
    assert result.unknown_reason == (
        "still in doubt after 2 rounds of asking the provider and resending what it did not have"
    )


def test_a_provider_that_cannot_be_asked_leaves_them_unknown_never_resent(
    engine: Engine,
) -> None:
    occurrence_id = _occurrence(engine, PHONES[:3])
    provider = Provider(script={PHONES[0]: [BEFORE], PHONES[1]: [AFTER]}, unreachable=True)
    result = _run(engine, provider, occurrence_id, SettlePolicy(delay_s=0, rounds=3))

    assert provider.attempts == Counter(PHONES[:3])  # nothing sent again without an answer
    assert result.counts == {Status.ACCEPTED: 1, Status.UNKNOWN: 2}
    assert result.unknown_reason == (
        "the provider could not be asked: "
        "cannot ask the gateway about unknown outcomes: connection refused"
    )


def test_the_provider_is_asked_only_once_the_settle_delay_has_passed(engine: Engine) -> None:
    occurrence_id = _occurrence(engine, PHONES[:3])
    provider = Provider(script={PHONES[0]: [AFTER], PHONES[1]: [BEFORE]})
    result = _run(engine, provider, occurrence_id, SettlePolicy(delay_s=0.4, rounds=2))

    assert result.complete
    for phone in PHONES[:2]:  # the last answer of a resent one came after its lookup
        assert provider.looked_up_at[phone] - provider.answered_at[PHONES[0]] >= 0.4
    assert provider.messages_to() == Counter(PHONES[:3])


def test_without_rounds_the_run_leaves_its_unknowns_to_the_next_one(engine: Engine) -> None:
    occurrence_id = _occurrence(engine, PHONES[:2])
    provider = Provider(script={PHONES[0]: [BEFORE]})
    first = _run(engine, provider, occurrence_id, NO_ROUNDS)
    assert first.counts == {Status.ACCEPTED: 1, Status.UNKNOWN: 1}
    assert first.unknown_reason == (
        "not asked about in this run (sending.unknown_settle_rounds is 0)"
    )
    assert provider.looked_up_at == {}

    second = _run(engine, provider, occurrence_id, NO_ROUNDS)  # recovery: looked up, resent
    assert second.complete and provider.messages_to() == Counter(PHONES[:2])


def test_a_previous_runs_unknowns_are_asked_about_after_the_delay_before_anything_is_sent(
    engine: Engine,
) -> None:
    occurrence_id = _occurrence(engine, PHONES[:3])
    uow = unit_of_work_factory(engine)
    with uow() as u:  # a previous run claimed two rows and died before recording anything
        u.repo.claim(occurrence_id, 2, datetime.now(UTC), datetime.now(UTC))
        u.commit()
    provider = Provider()
    started = time.monotonic()
    result = _run(engine, provider, occurrence_id, SettlePolicy(delay_s=0.4, rounds=2))

    assert result.complete and provider.messages_to() == Counter(PHONES[:3])
    assert min(provider.looked_up_at.values()) - started >= 0.4
    assert min(provider.answered_at.values()) > max(provider.looked_up_at.values())


def test_a_stop_while_waiting_to_settle_ends_the_run_at_once(engine: Engine) -> None:
    occurrence_id = _occurrence(engine, PHONES[:2])
    provider = Provider(script={PHONES[0]: [BEFORE]})
    sender = Sender(unit_of_work_factory(engine), provider, SystemClock(), batch_size=10,
                    concurrency=4, settle=SettlePolicy(delay_s=30, rounds=2))  # fmt: skip

    async def run_then_stop() -> RunResult:
        running = asyncio.create_task(sender.run(occurrence_id))
        while not provider.attempts[PHONES[1]] or not provider.attempts[PHONES[0]]:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.3)  # recorded, now waiting
        sender.stop()
        return await running

    started = time.monotonic()
    result = asyncio.run(run_then_stop())
    assert time.monotonic() - started < 5
    assert result.stopped and result.counts == {Status.ACCEPTED: 1, Status.UNKNOWN: 1}
    assert result.unknown_reason == "the run stopped before the provider was asked about them"
    assert provider.looked_up_at == {}


def test_a_release_only_moves_the_attempt_the_provider_was_asked_about(engine: Engine) -> None:
    """Two processes settling the same occurrence: one asked about attempt 1 (absent), while
    the other released, resent (attempt 2, which may have been created) and got an unknown
    outcome again. The first one's late release must not send attempt 2's row once more."""
    occurrence_id = _occurrence(engine, PHONES[:1])
    now = datetime.now(UTC)

    def claim_and_lose(at: datetime) -> OutboundMessage:  # a run started at ``at``
        with unit_of_work_factory(engine)() as uow:
            (message,), _ = uow.repo.claim(occurrence_id, 1, at, at, "w")
            uow.repo.apply([Outcome(message.delivery_id, Status.UNKNOWN, detail="500")], now)
            (unknown,) = uow.repo.deliveries_in(occurrence_id, Status.UNKNOWN)
            uow.commit()
        return unknown

    asked = claim_and_lose(now)
    with unit_of_work_factory(engine)() as uow:  # the other process: absent, released...
        assert uow.repo.release([asked.delivery_id], "absent", now, Status.UNKNOWN, asked.attempt)
        uow.commit()
    again = claim_and_lose(now + timedelta(seconds=1))  # ...sent again: unknown once more
    assert (asked.attempt, again.attempt) == (1, 2)
    with unit_of_work_factory(engine)() as uow:
        late = uow.repo.release([asked.delivery_id], "absent", now, Status.UNKNOWN, asked.attempt)
        assert late == 0
        assert uow.repo.deliveries_in(occurrence_id, Status.UNKNOWN) == [again]
        assert uow.repo.release([again.delivery_id], "absent", now, Status.UNKNOWN, again.attempt)
        uow.commit()
