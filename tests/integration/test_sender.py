"""The sender against real databases and a scripted fake gateway."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, select

from dispatcher.core.clock import SystemClock
from dispatcher.core.outbox import NewDelivery, OutboundMessage, Outcome
from dispatcher.core.status import Status
from dispatcher.gateways.base import OptOutNotice, SendResult
from dispatcher.safety.budgets import Room
from dispatcher.sending.sender import Sender
from dispatcher.store.models import CampaignRow, DeliveryEventRow
from dispatcher.store.uow import UnitOfWork, unit_of_work_factory
from dispatcher.store.workers import Identity
from tests.fakes import FakeGateway

PHONES = [f"+8491234{i:04d}" for i in range(25)]


def _occurrence(engine: Engine, phones: list[str] = PHONES) -> int:
    now = datetime.now(UTC)
    with unit_of_work_factory(engine)() as uow:
        row = CampaignRow(
            id="c", title="t", unit="u", timezone="UTC", source_path="c.yaml", fingerprint="f"
        )
        uow.repo.save_campaign(row, now)
        occurrence = uow.repo.add_occurrence("c", "once", now, "open", now)
        uow.repo.add_deliveries(
            occurrence, [NewDelivery(p, "l.csv:1", "hello", "GSM-7", 1, None) for p in phones], now
        )
        uow.commit()
        return occurrence.id


def _outcome(status: Status, **fields: object) -> Callable[[OutboundMessage], SendResult]:
    return lambda m: SendResult(m.delivery_id, Outcome(m.delivery_id, status, **fields))


def _not_processed(reason: str, halt: str | None = None) -> Callable[[OutboundMessage], SendResult]:
    return lambda m: SendResult(m.delivery_id, None, reason, halt=halt)


def _run(engine: Engine, gateway: FakeGateway, occurrence_id: int, batch: int = 10):
    sender = Sender(
        unit_of_work_factory(engine), gateway, SystemClock(), batch_size=batch, concurrency=4
    )
    return asyncio.run(sender.run(occurrence_id))


def _events(engine: Engine, phone: str) -> list[str]:
    with unit_of_work_factory(engine)() as uow:
        query = (
            select(DeliveryEventRow.status)
            .where(DeliveryEventRow.phone == phone)
            .order_by(DeliveryEventRow.id)
        )
        return list(uow.repo.session.scalars(query))


def test_every_recipient_is_sent_once_and_logged(engine: Engine) -> None:
    occurrence_id = _occurrence(engine)
    gateway = FakeGateway()
    result = _run(engine, gateway, occurrence_id)
    assert sorted(m.to for m in gateway.sent) == sorted(PHONES)
    assert result.counts == {Status.ACCEPTED: 25}
    assert result.complete and result.halted is None
    assert _events(engine, PHONES[0]) == ["pending", "sending", "accepted"]
    again = FakeGateway()
    assert _run(engine, again, occurrence_id).counts == {Status.ACCEPTED: 25}
    assert again.sent == []  # running again sends nothing new


def test_permanent_failure_is_recorded_with_its_code(engine: Engine) -> None:
    occurrence_id = _occurrence(engine)
    bad = PHONES[3]
    failed = _outcome(Status.FAILED, error_code=21614, error_message="not a mobile number")
    gateway = FakeGateway(script={bad: failed})
    result = _run(engine, gateway, occurrence_id)
    assert result.counts == {Status.ACCEPTED: 24, Status.FAILED: 1}
    assert not result.complete
    assert _events(engine, bad) == ["pending", "sending", "failed"]


def test_halt_stops_the_run_and_returns_unsent_rows_to_pending(engine: Engine) -> None:
    occurrence_id = _occurrence(engine)
    halt = _not_processed("auth", halt="authentication failed")
    gateway = FakeGateway(script={p: halt for p in PHONES})
    result = _run(engine, gateway, occurrence_id, batch=10)
    assert result.halted == "authentication failed"
    # the first refusal stops the run: what was claimed but not yet sent is parked, not sent
    assert 1 <= len(gateway.sent) <= 10
    assert result.counts == {Status.PENDING: 25}
    assert _events(engine, PHONES[0]) == ["pending", "sending", "pending"]


def test_not_processed_rows_wait_for_the_next_run_instead_of_looping(engine: Engine) -> None:
    occurrence_id = _occurrence(engine, PHONES[:3])
    busy = _not_processed("gave up after retries: HTTP 429")
    gateway = FakeGateway(script={PHONES[0]: busy})
    result = _run(engine, gateway, occurrence_id)
    assert [m.to for m in gateway.sent].count(PHONES[0]) == 1
    assert result.counts == {Status.ACCEPTED: 2, Status.PENDING: 1}
    later = _run(engine, FakeGateway(), occurrence_id)
    assert later.counts == {Status.ACCEPTED: 3}


def test_interrupted_attempts_are_reconciled_before_any_resend(engine: Engine) -> None:
    occurrence_id = _occurrence(engine, PHONES[:4])
    uow = unit_of_work_factory(engine)
    with uow() as u:  # a previous run claimed 3 rows and died before recording anything
        claimed = u.repo.claim(occurrence_id, 3, datetime.now(UTC), datetime.now(UTC)).messages
        u.commit()
    reached, lost, _third = (m.to for m in claimed)
    gateway = FakeGateway(known={reached: Outcome(0, Status.SENT, "SMknown")})
    result = _run(engine, gateway, occurrence_id)
    resent = sorted(m.to for m in gateway.sent)
    assert reached not in resent  # the provider had it: never sent twice
    assert lost in resent and PHONES[3] in resent
    assert result.counts == {Status.ACCEPTED: 3, Status.SENT: 1}
    assert _events(engine, reached) == ["pending", "sending", "unknown", "sent"]
    assert _events(engine, lost) == [
        "pending",
        "sending",
        "unknown",
        "pending",
        "sending",
        "accepted",
    ]


def test_an_unknown_outcome_is_not_resent_blindly(engine: Engine) -> None:
    occurrence_id = _occurrence(engine, PHONES[:2])
    timeout = _outcome(Status.UNKNOWN, detail="timed out")
    gateway = FakeGateway(script={PHONES[0]: timeout})
    result = _run(engine, gateway, occurrence_id)
    assert result.counts == {Status.UNKNOWN: 1, Status.ACCEPTED: 1}
    assert not result.complete
    assert [m.to for m in gateway.sent].count(PHONES[0]) == 1


def test_a_pool_of_senders_shares_an_occurrence_by_rate(tmp_path: Path) -> None:
    from dispatcher.campaigns.spec import load_campaign
    from dispatcher.sending.pacing import assign_senders
    from dispatcher.sending.send import campaign_pacer
    from dispatcher.settings.config import Settings

    lists = tmp_path / "l.csv"
    lists.write_text("phone\n" + "".join(f"091234{i:04d}\n" for i in range(30)), encoding="utf-8")
    path = tmp_path / "c.yaml"
    path.write_text(
        "id: pool\ntitle: t\nunit: u\nsms:\n  text: hi\n  recipients: [l.csv]\n  senders: [A, B]\n",
        encoding="utf-8",
    )
    campaign = load_campaign(path)
    settings = Settings(sending={"sender_rates": {"A": 20, "B": 10}})
    pacer = campaign_pacer(settings, campaign)
    new = [NewDelivery(f"+8491{i:07d}", "l:1", "hi", "GSM-7", 1, None) for i in range(30)]
    assigned = [d.sender for d in assign_senders(new, ["A", "B"], pacer.rate_of)]
    assert (assigned.count("A"), assigned.count("B")) == (20, 10)


def test_a_number_that_opted_out_after_the_occurrence_started_is_skipped(engine: Engine) -> None:
    occurrence_id = _occurrence(engine, PHONES[:3])
    with unit_of_work_factory(engine)() as uow:
        uow.optouts.add(PHONES[1], "called the commune", "cli", datetime.now(UTC))
        uow.commit()
    gateway = FakeGateway()
    result = _run(engine, gateway, occurrence_id)
    assert sorted(m.to for m in gateway.sent) == [PHONES[0], PHONES[2]]
    assert result.counts == {Status.ACCEPTED: 2, Status.SKIPPED: 1}
    assert _events(engine, PHONES[1]) == ["pending", "sending", "skipped"]


class _SlowGateway(FakeGateway):
    """Takes its time per message, so claimed messages wait in the queue when a claim finds
    the budget spent (what a loaded machine or a slow provider does)."""

    async def send(self, message: OutboundMessage) -> SendResult:
        await asyncio.sleep(0.002)
        return await super().send(message)


def test_messages_claimed_within_the_budget_are_sent_when_the_budget_is_reached(
    engine: Engine,
) -> None:
    phones = [f"+8491235{i:04d}" for i in range(60)]
    occurrence_id = _occurrence(engine, phones)

    def forty_segments(uow: UnitOfWork, _now: datetime) -> Room:
        spent = uow.budgets.campaign_segments("c")
        return Room(max(0, 40 - spent), "campaign budget 0.40 USD", spent / 100)

    gateway = _SlowGateway()
    sender = Sender(
        unit_of_work_factory(engine), gateway, SystemClock(), batch_size=16, concurrency=1,
        budget=forty_segments,
    )  # fmt: skip
    result = asyncio.run(sender.run(occurrence_id))
    # Every claimed message was within the budget: all 40 go, none is parked back.
    assert result.counts == {Status.ACCEPTED: 40, Status.PENDING: 20}
    assert len(gateway.sent) == 40
    assert result.over_budget == "campaign budget 0.40 USD reached (0.40 spent)"


def test_a_recipient_the_provider_says_unsubscribed_joins_the_opt_out_list(engine: Engine) -> None:
    occurrence_id = _occurrence(engine)
    stopped = PHONES[2]
    notice = OptOutNotice("Provider: unsubscribed", "provider-stop")
    refused = Outcome(0, Status.FAILED, error_code=1, error_message="unsubscribed")

    def unsubscribed(m: OutboundMessage) -> SendResult:
        outcome = replace(refused, delivery_id=m.delivery_id)
        return SendResult(m.delivery_id, outcome, opted_out=notice)

    result = _run(engine, FakeGateway(script={stopped: unsubscribed}), occurrence_id)
    assert result.counts == {Status.ACCEPTED: 24, Status.FAILED: 1}
    with unit_of_work_factory(engine)() as uow:
        assert uow.optouts.contains(PHONES) == {stopped}


def _held_by_a_live_worker(engine: Engine, occurrence_id: int, rows: int) -> list[OutboundMessage]:
    """Another worker (a running `serve`), alive, has claimed ``rows`` of the occurrence."""
    now = datetime.now(UTC)
    other = Identity("serve-on-another-host", host="another-host")
    with unit_of_work_factory(engine)() as uow:
        uow.workers.register(other, "serve", now)
        claimed = uow.repo.claim(occurrence_id, rows, now, now, claimant=other.id).messages
        uow.commit()
    return claimed


def test_send_waits_for_the_rows_a_live_worker_holds_to_settle(engine: Engine) -> None:
    occurrence_id = _occurrence(engine, PHONES[:4])
    held = _held_by_a_live_worker(engine, occurrence_id, 2)

    def the_other_worker_records_them() -> None:
        time.sleep(1.5)
        with unit_of_work_factory(engine)() as uow:
            outcomes = [Outcome(m.delivery_id, Status.ACCEPTED, f"SM{m.delivery_id}") for m in held]
            uow.repo.apply(outcomes, datetime.now(UTC))
            uow.commit()

    other = threading.Thread(target=the_other_worker_records_them)
    other.start()
    gateway = FakeGateway()
    sender = Sender(unit_of_work_factory(engine), gateway, SystemClock(), batch_size=10,
                    concurrency=4, wait_for_others=True)  # fmt: skip
    result = asyncio.run(sender.run(occurrence_id))
    other.join()
    assert len(gateway.sent) == 2  # its own two; the other worker's two are never sent again
    assert result.counts == {Status.ACCEPTED: 4}  # one `send` reports the occurrence settled


def test_a_worker_does_not_wait_for_the_others(engine: Engine) -> None:
    occurrence_id = _occurrence(engine, PHONES[:4])
    _held_by_a_live_worker(engine, occurrence_id, 2)
    result = _run(engine, FakeGateway(), occurrence_id)  # as `worker` and `serve` run it
    assert result.counts == {Status.ACCEPTED: 2, Status.SENDING: 2}
