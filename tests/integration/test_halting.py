"""The global halt on SQLite and PostgreSQL: `halt` / `unhalt` with who and why in the activity
log, idempotent; every sender obeys the switch (before it starts and while it sends); a gateway
refusing the account sets it by itself; the health check reports it first."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select

from dispatcher.bootstrap import Runtime
from dispatcher.core.outbox import NewDelivery, OutboundMessage
from dispatcher.core.status import Status
from dispatcher.gateways.base import SendResult
from dispatcher.ops import health
from dispatcher.safety import halting
from dispatcher.sending.sender import GATE_EVERY_S, RunResult, Sender
from dispatcher.settings.config import Settings
from dispatcher.store.models import ActivityRow, CampaignRow, DeliveryRow
from dispatcher.store.uow import unit_of_work_factory
from tests.fakes import FakeClock, FakeGateway

T0 = datetime(2024, 10, 16, 1, 0, tzinfo=UTC)
PHONES = [f"+8491234{i:04d}" for i in range(30)]
AUTH = (
    "automatic: Twilio 20003 authentication failed: check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN"
)


@pytest.fixture
def rt(engine: Engine, db_url: str) -> Runtime:
    settings = Settings.model_validate({"database_url": db_url})
    environ = {"LOGNAME": "lan"}  # no $DISPATCHER_OPERATOR: the login name is the operator
    return Runtime(settings, engine, unit_of_work_factory(engine), FakeClock(T0), environ)


def _occurrence(rt: Runtime, key: str, phones: list[str] = PHONES) -> int:
    now = rt.clock.now()
    with rt.uow() as uow:
        if uow.repo.session.get(CampaignRow, "2g") is None:
            row = CampaignRow(id="2g", title="t", unit="u", timezone="Asia/Ho_Chi_Minh",
                              source_path="2g.yaml", fingerprint="0" * 64)  # fmt: skip
            uow.repo.save_campaign(row, now)
        occurrence = uow.repo.add_occurrence("2g", key, now, "open", now)
        new = [NewDelivery(p, f"l.csv:{i}", "Xin chào", "UCS-2", 1, None) for i, p in
               enumerate(phones)]  # fmt: skip
        uow.repo.add_deliveries(occurrence, new, now)
        uow.commit()
        return occurrence.id


def _run(rt: Runtime, gateway: FakeGateway, occurrence_id: int) -> RunResult:
    sender = Sender(rt.uow, gateway, rt.clock, batch_size=10, concurrency=4)
    return asyncio.run(sender.run(occurrence_id))


def _global_activity(rt: Runtime) -> list[tuple[str, str | None]]:
    with rt.uow() as uow:
        query = select(ActivityRow).where(ActivityRow.campaign_id.is_(None))
        rows = uow.repo.session.scalars(query.order_by(ActivityRow.id))
        return [(r.kind, r.detail) for r in rows if r.kind in ("halt", "unhalt")]


def _statuses(rt: Runtime, occurrence_id: int) -> dict[Status, int]:
    with rt.uow() as uow:
        return {s: n for s, n in uow.repo.status_counts(occurrence_id).items() if n}


# -- halt and unhalt -----------------------------------------------------------------------------
def test_halt_and_unhalt_are_logged_with_who_and_why(rt: Runtime) -> None:
    halted = halting.halt(rt, "sai số hotline")
    assert (halted.halted, halted.changed, halted.by) == (True, True, "lan")
    assert halted.state is not None
    assert (halted.state.reason, halted.state.by, halted.state.since) == (
        "sai số hotline",
        "lan",
        T0,
    )
    assert halting.current(rt) == halted.state

    rt.clock.advance(timedelta(minutes=5))  # type: ignore[attr-defined]
    lifted = halting.unhalt(rt, "đã sửa")
    assert (lifted.halted, lifted.changed, lifted.lifted) == (False, True, halted.state)
    assert halting.current(rt) is None
    assert _global_activity(rt) == [
        ("halt", "by lan: sai số hotline"),
        ("unhalt", "by lan: đã sửa"),
    ]


def test_halting_twice_keeps_the_first_halt_and_logs_it_once(rt: Runtime) -> None:
    first = halting.halt(rt, "first reason")
    rt.clock.advance(timedelta(minutes=3))  # type: ignore[attr-defined]
    again = halting.halt(rt, "second reason")
    assert (again.halted, again.changed) == (True, False)
    assert again.state == first.state  # says since when and by whom
    assert again.state is not None and again.state.since == T0
    assert halting.unhalt(rt).changed  # lifts it
    assert not halting.unhalt(rt).changed  # nothing left to lift
    assert _global_activity(rt) == [("halt", "by lan: first reason"), ("unhalt", "by lan")]
    assert halting.halt(rt).changed  # a new halt after the unhalt is a change again


def test_of_two_halting_at_once_exactly_one_changes_the_switch(rt: Runtime) -> None:
    """The conditional UPDATE: the second waits for the first's lock (PostgreSQL) or its write
    (SQLite), then finds the switch on, and records nothing."""
    results: list[bool] = []
    with rt.uow() as first:
        results.append(halting.engage(first, "worker A", halting.AUTOMATIC, rt.clock.now()))

        def second() -> None:
            with rt.uow() as uow:
                results.append(halting.engage(uow, "worker B", halting.AUTOMATIC, rt.clock.now()))
                uow.commit()

        racer = threading.Thread(target=second)
        if rt.engine.dialect.name == "postgresql":
            racer.start()
            racer.join(timeout=0.5)
            assert racer.is_alive()  # blocked on the first one's row lock
            first.commit()
            racer.join(timeout=10)
        else:  # SQLite has one writer at a time: the second runs after the first commits
            first.commit()
            racer.start()
            racer.join(timeout=10)
    assert results == [True, False]
    assert _global_activity(rt) == [("halt", "by dispatcher: worker A")]
    state = halting.current(rt)
    assert state is not None and state.reason == "worker A"


# -- senders obey the switch ---------------------------------------------------------------------
def test_a_halted_sender_sends_nothing_and_says_why(rt: Runtime) -> None:
    occurrence = _occurrence(rt, "once")
    halting.halt(rt, "sai số hotline")
    gateway = FakeGateway()
    result = _run(rt, gateway, occurrence)
    assert gateway.sent == []
    assert result.halted == "sending is halted by lan: sai số hotline; `dispatcher unhalt` resumes"
    assert _statuses(rt, occurrence) == {Status.PENDING: len(PHONES)}

    halting.unhalt(rt)
    assert _run(rt, gateway, occurrence).complete
    assert sorted(m.to for m in gateway.sent) == PHONES


def test_a_halt_during_a_run_stops_it_and_parks_what_was_claimed(rt: Runtime) -> None:
    occurrence = _occurrence(rt, "once")
    gateway = _HaltingAfter(rt, sent_before_halt=5)
    result = _run(rt, gateway, occurrence)
    assert result.halted is not None and "sending is halted by lan" in result.halted
    counts = _statuses(rt, occurrence)
    # Requests already on their way finish; the rest of the claimed batch goes back to pending.
    assert counts.get(Status.ACCEPTED, 0) == len(gateway.sent) < len(PHONES)
    assert counts == {
        Status.ACCEPTED: len(gateway.sent),
        Status.PENDING: len(PHONES) - len(gateway.sent),
    }
    with rt.uow() as uow:
        assert (
            uow.repo.session.scalar(select(DeliveryRow.id).where(DeliveryRow.status == "sending"))
            is None
        )


class _HaltingAfter(FakeGateway):
    """Accepts messages, and after ``sent_before_halt`` of them an operator halts everything."""

    def __init__(self, rt: Runtime, sent_before_halt: int) -> None:
        super().__init__()
        self._rt, self._limit = rt, sent_before_halt

    async def send(self, message: OutboundMessage) -> SendResult:
        if len(self.sent) == self._limit:
            await asyncio.to_thread(halting.halt, self._rt, "dừng ngay")
            clock = self._rt.clock
            assert isinstance(clock, FakeClock)
            clock.advance(timedelta(seconds=GATE_EVERY_S))  # time for the gate's next look
        await asyncio.sleep(0.02)  # on the network: the rest of the batch waits in the queue
        return await super().send(message)


def test_an_account_refusal_halts_every_worker_automatically(rt: Runtime) -> None:
    first, second = _occurrence(rt, "first"), _occurrence(rt, "second", PHONES[:5])
    refused = _refusal(halt_all=AUTH)
    result = _run(rt, FakeGateway(script={p: refused for p in PHONES}), first)
    assert result.halted == "authentication failed [20003]"
    assert _statuses(rt, first) == {Status.PENDING: len(PHONES)}  # claimed rows went back
    state = halting.current(rt)
    assert state is not None and (state.by, state.reason) == ("dispatcher", AUTH)
    assert _global_activity(rt) == [("halt", f"by dispatcher: {AUTH}")]

    other = FakeGateway()  # another worker, with good credentials or not: it sends nothing
    assert _run(rt, other, second).halted is not None and other.sent == []
    halting.unhalt(rt, "token rotated")
    assert _run(rt, other, second).complete and len(other.sent) == 5


def test_a_sender_refusal_stops_only_its_run(rt: Runtime) -> None:
    occurrence = _occurrence(rt, "once")
    refused = _refusal(halt_all=None)  # e.g. 21606: this campaign's sender is not ours
    result = _run(rt, FakeGateway(script={p: refused for p in PHONES}), occurrence)
    assert result.halted is not None
    assert halting.current(rt) is None and _global_activity(rt) == []


def _refusal(halt_all: str | None):  # type: ignore[no-untyped-def]
    def answer(m: OutboundMessage) -> SendResult:
        reason = "authentication failed"
        return SendResult(m.delivery_id, None, reason, halt=f"{reason} [20003]", halt_all=halt_all)

    return answer


# -- health --------------------------------------------------------------------------------------
def test_health_reports_the_halt_first_and_in_every_campaigns_status(rt: Runtime) -> None:
    _occurrence(rt, "once")
    rt.clock.advance(timedelta(hours=2))  # type: ignore[attr-defined]
    before = health.check(rt)
    assert [f.rule for f in before.findings] == [health.NO_PROGRESS]

    halting.halt(rt, "sai số hotline")
    rt.clock.advance(timedelta(minutes=45))  # type: ignore[attr-defined]
    report = health.check(rt)
    assert not report.healthy
    # The halt explains why nothing moves: no-progress is not judged meanwhile.
    (found,) = report.findings
    assert (found.rule, found.campaign_id) == (health.HALTED, None)
    assert "halted, for 45 min, by lan: sai số hotline" in found.message
    assert "dispatcher unhalt" in found.message
    assert found.numbers == {"by": "lan", "since": (T0 + timedelta(hours=2)).isoformat(),
                             "minutes": 45}  # fmt: skip
    assert report.as_json()["status"] == "unhealthy"
    assert [f.rule for f in health.check(rt, "2g").findings] == [health.HALTED]

    halting.unhalt(rt)
    assert [f.rule for f in health.check(rt).findings] == [health.NO_PROGRESS]
