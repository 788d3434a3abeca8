"""Status polling asks only the gateway that took a message (issue 15), on SQLite and PostgreSQL.

Deliveries sent through the built-in simulator of a command that has ended, or through another
Twilio account, are never asked about and fail after ``sending.unknown_max_age_minutes`` saying
why; legacy rows are polled as before; what a poll cannot learn is one log line per pass.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import Engine, select, text

from dispatcher.bootstrap import Runtime, gateway
from dispatcher.core.outbox import NewDelivery, OutboundMessage, Outcome
from dispatcher.core.status import Status
from dispatcher.gateways.base import LEGACY, Gateway, twilio_identity
from dispatcher.gateways.retry import RetryPolicy
from dispatcher.gateways.simulator import Simulator, SimulatorConfig
from dispatcher.gateways.twilio import TwilioConfig, TwilioGateway
from dispatcher.sending import tracking
from dispatcher.settings.config import Settings
from dispatcher.store.db import _alembic_config, make_engine
from dispatcher.store.models import CampaignRow, DeliveryEventRow, DeliveryRow
from dispatcher.store.uow import unit_of_work_factory
from tests.fakes import FakeClock

# Made up per test run: the simulator accepts whatever it is given; nothing here is a secret.
ACCOUNT_SID = "AC" + secrets.token_hex(16)
AUTH_TOKEN = secrets.token_hex(16)
NO_RETRY = RetryPolicy(max_attempts=1, initial_backoff_s=1, max_backoff_s=1, jitter_s=0)
STILL_QUEUED = SimulatorConfig(queued_at_s=0.0, sending_at_s=60, sent_at_s=60, final_at_s=60)
T0 = datetime(2030, 8, 1, 3, 0, tzinfo=UTC)
MAX_AGE_MINUTES = 60


def _runtime(engine: Engine, db_url: str, clock: FakeClock, gateway_kind: str) -> Runtime:
    settings = Settings.model_validate(
        {
            "database_url": db_url,
            "gateway": gateway_kind,
            "status": {"poll_batch": 2},  # several pages per pass: still one summary line
            "sending": {"unknown_max_age_minutes": MAX_AGE_MINUTES},
            "simulator": {"latency_ms": 0},
        }
    )
    return Runtime(settings, engine, unit_of_work_factory(engine), clock, {})


def _claim(rt: Runtime, key: str, phones: list[str]) -> list[OutboundMessage]:
    """Claimed outbox rows (attempt 1) for ``phones``, in a campaign's occurrence ``key``."""
    now = rt.clock.now()
    with rt.uow() as uow:
        if uow.repo.session.get(CampaignRow, "c") is None:
            campaign = CampaignRow(id="c", title="t", unit="u", timezone="UTC",
                                   source_path="c.yaml", fingerprint="f")  # fmt: skip
            uow.repo.save_campaign(campaign, now)
        occurrence = uow.repo.add_occurrence("c", key, now, "open", now)
        rows = [NewDelivery(p, "l.csv:1", f"Xin chào {p}", "UCS-2", 1, "VANQUAN") for p in phones]
        uow.repo.add_deliveries(occurrence, rows, now)
        claimed = uow.repo.claim(occurrence.id, len(phones), now, now).messages
        uow.commit()
    return claimed


async def _send(rt: Runtime, gw: Gateway, messages: list[OutboundMessage]) -> list[int]:
    """What the sender does with claimed rows: send each, record the outcomes."""
    results = await asyncio.gather(*(gw.send(m) for m in messages))
    with rt.uow() as uow:
        uow.repo.apply([r.outcome for r in results if r.outcome is not None], rt.clock.now())
        uow.commit()
    return [m.delivery_id for m in messages]


def _through_builtin_simulator(rt: Runtime, key: str, phones: list[str]) -> list[int]:
    """Sent the way `dispatcher send` does with gateway: simulator; the run ends on return."""

    async def run() -> list[int]:
        with gateway(rt) as gw:
            try:
                return await _send(rt, gw, _claim(rt, key, phones))
            finally:
                await gw.aclose()

    return asyncio.run(run())


def _phones(first: int, count: int) -> list[str]:
    return [f"+8491234{i:04d}" for i in range(first, first + count)]


def _row(rt: Runtime, delivery_id: int) -> DeliveryRow:
    with rt.uow() as uow:
        row = uow.repo.session.get(DeliveryRow, delivery_id)
        assert row is not None
        uow.repo.session.expunge(row)
        return row


def _last_detail(rt: Runtime, delivery_id: int) -> str | None:
    query = (
        select(DeliveryEventRow.detail)
        .where(DeliveryEventRow.delivery_id == delivery_id)
        .order_by(DeliveryEventRow.id.desc())
        .limit(1)
    )
    with rt.uow() as uow:
        return uow.repo.session.scalar(query)


@contextmanager
def _current(config: SimulatorConfig = STILL_QUEUED) -> Iterator[tuple[Simulator, TwilioGateway]]:
    """The configured gateway of `serve` / `reconcile`: a Twilio account at a simulator."""
    with Simulator(ACCOUNT_SID, AUTH_TOKEN, config) as sim:
        twilio = TwilioConfig(ACCOUNT_SID, AUTH_TOKEN, api_base_url=sim.base_url)
        yield sim, TwilioGateway(twilio, NO_RETRY, 5)


def _poll(rt: Runtime, gw: TwilioGateway, times: int = 1) -> list[tracking.PollResult]:
    """``times`` passes, then the gateway's connections closed (one event loop for all)."""

    async def passes() -> list[tracking.PollResult]:
        try:
            return [await tracking.poll_statuses(rt, gw) for _ in range(times)]
        finally:
            await gw.aclose()

    return asyncio.run(passes())


def _send_through(rt: Runtime, gw: TwilioGateway, key: str, phones: list[str]) -> list[int]:
    async def run() -> list[int]:
        try:
            return await _send(rt, gw, _claim(rt, key, phones))
        finally:
            await gw.aclose()

    return asyncio.run(run())


def _accept(rt: Runtime, ids: list[int], gateway_id: str | None) -> None:
    """The provider took them (status accepted, a made-up SID), through ``gateway_id``."""
    outcomes = [Outcome(i, Status.ACCEPTED, f"SM{i:032x}", gateway=gateway_id) for i in ids]
    with rt.uow() as uow:
        uow.repo.apply(outcomes, rt.clock.now())
        uow.commit()


def _poll_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "dispatcher.sending.tracking"]


# -- an ended run of the built-in simulator --------------------------------------------------
def test_an_ended_simulator_run_is_never_asked_and_fails_as_gateway_gone_after_the_age(
    engine: Engine, db_url: str
) -> None:
    clock = FakeClock(T0)
    demo = _through_builtin_simulator(
        _runtime(engine, db_url, clock, "simulator"), "demo", _phones(0, 4)
    )
    rt = _runtime(engine, db_url, clock, "twilio")
    gone = _row(rt, demo[0]).gateway
    assert gone is not None and gone.startswith("simulator-run:")
    assert {_row(rt, i).status for i in demo} == {"accepted"}
    with _current() as (sim, gw):
        ours = _send_through(rt, gw, "today", _phones(10, 3))
        (first,) = _poll(rt, gw)
        fetched = sim.counters().get("fetched", 0)
        not_found = sim.counters().get("not_found", 0)
    assert (first.checked, first.not_found, first.elsewhere) == (3, 0, 4)
    assert (fetched, not_found) == (3, 0)  # counted at the simulator: only its own messages
    assert {_row(rt, i).gateway for i in ours} == {twilio_identity(ACCOUNT_SID, sim.base_url)}

    clock.advance(timedelta(minutes=MAX_AGE_MINUTES - 1))
    assert tracking.expire_elsewhere(rt, gw.identity) == 0  # not old enough yet
    clock.advance(timedelta(minutes=2))
    assert tracking.expire_elsewhere(rt, gw.identity) == 4
    assert tracking.expire_elsewhere(rt, gw.identity) == 0  # and only once
    row = _row(rt, demo[0])
    assert (row.status, row.error_message) == ("failed", "gateway-gone")
    run = gone.removeprefix("simulator-run:")
    assert _last_detail(rt, demo[0]) == (
        f"gateway-gone: sent through the built-in simulator of run {run}, which has ended; no "
        f"delivery report can come (no final status for more than {MAX_AGE_MINUTES} minutes)"
    )
    # The configured gateway's own messages, as old, are still waiting for its reports.
    assert {_row(rt, i).status for i in ours} == {"accepted"}


def test_the_current_gateways_messages_are_polled_forward_as_before(
    engine: Engine, db_url: str
) -> None:
    clock = FakeClock(T0)
    demo = _through_builtin_simulator(
        _runtime(engine, db_url, clock, "simulator"), "demo", _phones(0, 2)
    )
    rt = _runtime(engine, db_url, clock, "twilio")
    fast = SimulatorConfig(queued_at_s=0.0, sending_at_s=0.0, sent_at_s=0.0, final_at_s=0.2)
    with _current(fast) as (sim, gw):
        ours = _send_through(rt, gw, "today", _phones(10, 3))
        time.sleep(0.5)  # every one is delivered at the simulator now
        (result,) = _poll(rt, gw)
        assert sim.counters().get("fetched") == 3
    assert (result.checked, result.moved, result.elsewhere) == (3, {Status.DELIVERED: 3}, 2)
    assert {_row(rt, i).status for i in ours} == {"delivered"}
    assert {_row(rt, i).status for i in demo} == {"accepted"}


# -- another account ---------------------------------------------------------------------------
def test_another_accounts_messages_are_not_asked_and_fail_as_gateway_changed(
    engine: Engine, db_url: str
) -> None:
    clock = FakeClock(T0)
    rt = _runtime(engine, db_url, clock, "twilio")
    other = twilio_identity("AC" + "0" * 32, None)
    (theirs,) = _claim(rt, "before", _phones(0, 1))
    _accept(rt, [theirs.delivery_id], other)
    with _current() as (sim, gw):
        (result,) = _poll(rt, gw)
        assert "fetched" not in sim.counters()
    assert (result.checked, result.elsewhere) == (0, 1)
    clock.advance(timedelta(minutes=MAX_AGE_MINUTES + 1))
    assert tracking.expire_elsewhere(rt, gw.identity) == 1
    row = _row(rt, theirs.delivery_id)
    assert (row.status, row.error_message) == ("failed", "gateway-changed")
    assert _last_detail(rt, theirs.delivery_id) == (
        f"gateway-changed: sent through Twilio account AC{'0' * 32} at https://api.twilio.com, "
        "not the configured gateway; its delivery report cannot be asked for (no final status "
        f"for more than {MAX_AGE_MINUTES} minutes)"
    )


# -- legacy rows, and one line per pass --------------------------------------------------------
def test_legacy_rows_are_polled_and_what_is_not_found_is_one_line_per_pass(
    engine: Engine, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock(T0)
    rt = _runtime(engine, db_url, clock, "twilio")  # poll_batch 2: three pages of five
    messages = _claim(rt, "old", _phones(0, 5))
    ids = [m.delivery_id for m in messages]
    _accept(rt, ids[:3], LEGACY)  # sent before gateways were recorded (migration 0011)
    _accept(rt, ids[3:], None)  # through something that records none (NULL): as legacy
    caplog.set_level(logging.INFO, logger="dispatcher.sending.tracking")
    with _current() as (sim, gw):
        results = _poll(rt, gw, times=2)
        assert sim.counters().get("not_found") == 10  # asked, as before: twice five
    assert [(r.checked, r.not_found, r.elsewhere) for r in results] == [(5, 5, 0)] * 2
    records = _poll_records(caplog)
    assert len(records) == 2  # one per pass, not one per delivery
    line = records[0].getMessage()
    assert records[0].levelno == logging.WARNING
    assert line.startswith("status poll: the provider has no message for 5 of 5 asked")
    assert line.count("#") == tracking.EXAMPLES  # a few examples, not all five
    assert f"#{ids[0]} to +84 91x xxx 000 (SM{ids[0]:032x})" in line
    assert not any(m.to in line for m in messages)  # numbers masked
    assert {_row(rt, i).status for i in ids} == {"accepted"}  # left as they are
    clock.advance(timedelta(days=2))
    assert tracking.expire_elsewhere(rt, gw.identity) == 0  # legacy is never "elsewhere"


def test_migration_0011_marks_rows_already_tried_as_legacy(
    request: pytest.FixtureRequest, db_url: str
) -> None:
    fresh = str(request.getfixturevalue("sqlite_url" if "sqlite" in db_url else "empty_pg_url"))
    engine = make_engine(fresh)
    try:
        _migrate(engine, "0010")
        with engine.begin() as connection:
            for statement in SEED_0010:
                connection.execute(text(statement))
        _migrate(engine, "0011")
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT status, gateway FROM deliveries ORDER BY id"))
            assert [tuple(r) for r in rows] == [("pending", None), ("accepted", "legacy")]
    finally:
        engine.dispose()


def _migrate(engine: Engine, target: str) -> None:
    config = _alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, target)


SEED_0010 = [
    "INSERT INTO campaigns (id, title, unit, timezone, source_path, fingerprint, created_at, "
    "updated_at) VALUES ('c', 't', 'u', 'UTC', 'c.yaml', 'f', '2026-01-01', '2026-01-01')",
    "INSERT INTO occurrences (campaign_id, key, scheduled_at, state, recipients, created_at) "
    "VALUES ('c', 'once', '2026-01-01', 'open', 2, '2026-01-01')",
    "INSERT INTO deliveries (occurrence_id, campaign_id, phone, source, body, encoding, segments, "
    "status, attempts, updated_at) VALUES (1, 'c', '+84912345678', 'l.csv:2', 'Xin chào', "
    "'UCS-2', 1, 'pending', 0, '2026-01-01')",
    "INSERT INTO deliveries (occurrence_id, campaign_id, phone, source, body, encoding, segments, "
    "status, attempts, provider_id, updated_at) VALUES (1, 'c', '+84912345679', 'l.csv:3', "
    "'Xin chào', 'UCS-2', 1, 'accepted', 1, 'SM1', '2026-01-01')",
]
