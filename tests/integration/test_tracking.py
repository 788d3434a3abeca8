"""Knowing what happened: status polling, signed status callbacks, expiry of unknown outcomes and
inbound opt-out keywords, on SQLite and PostgreSQL, with the simulator and the HTTP service on
loopback sockets."""

from __future__ import annotations

import asyncio
import secrets
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import Engine, select
from twilio.request_validator import RequestValidator

from dispatcher.bootstrap import Runtime
from dispatcher.core.clock import SystemClock
from dispatcher.core.outbox import NewDelivery, Outcome
from dispatcher.core.status import Status
from dispatcher.gateways.retry import RetryPolicy
from dispatcher.gateways.simulator import Simulator, SimulatorConfig
from dispatcher.gateways.twilio import TwilioConfig, TwilioGateway
from dispatcher.sending import tracking
from dispatcher.settings.config import Settings
from dispatcher.store.models import CampaignRow, DeliveryEventRow, DeliveryRow
from dispatcher.store.uow import unit_of_work_factory
from dispatcher.web.service import ServiceStats, build_app
from tests.fakes import FakeClock

# Made up per run: the simulator accepts whatever it is given; nothing here is a real secret.
ACCOUNT_SID = "AC" + secrets.token_hex(16)
AUTH_TOKEN = secrets.token_hex(16)
PHONES = [f"+8491234{i:04d}" for i in range(5)]
# One attempt, so no back-off ever applies (initial 1: tenacity 9.2 deprecates any other value).
NO_RETRY = RetryPolicy(max_attempts=1, initial_backoff_s=1, max_backoff_s=1, jitter_s=0)
# Wide windows between the statuses: the polls below must land in the `sent` one.
SLOW = SimulatorConfig(queued_at_s=0.0, sending_at_s=1.0, sent_at_s=1.0, final_at_s=3.0)
FAST = SimulatorConfig(queued_at_s=0.0, sending_at_s=0.05, sent_at_s=0.1, final_at_s=0.3)


# -- set-up ------------------------------------------------------------------------------------
@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A bound loopback socket on a free port, so the public URL is known before serving."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    yield sock
    sock.close()


def _base_url(sock: socket.socket) -> str:
    return f"http://127.0.0.1:{sock.getsockname()[1]}"


def _runtime(
    engine: Engine, db_url: str, public_base_url: str | None = None, clock: Any = None, **extra: Any
) -> Runtime:
    settings = Settings.model_validate(
        {
            "database_url": db_url,
            "gateway": "twilio",
            "http": {"public_base_url": public_base_url},
            "status": {"poll_batch": 2},
            **extra,
        }
    )
    return Runtime(settings, engine, unit_of_work_factory(engine), clock or SystemClock(), {})


def _occurrence(rt: Runtime, phones: list[str] = PHONES) -> int:
    now = rt.clock.now()
    with rt.uow() as uow:
        row = CampaignRow(
            id="c", title="t", unit="u", timezone="UTC", source_path="c.yaml", fingerprint="f"
        )
        uow.repo.save_campaign(row, now)
        occurrence = uow.repo.add_occurrence("c", "once", now, "open", now)
        rows = [NewDelivery(p, "l.csv:1", f"hello {p}", "GSM-7", 1, "VANQUAN") for p in phones]
        uow.repo.add_deliveries(occurrence, rows, now)
        uow.commit()
        return occurrence.id


def _gateway(
    sim: Simulator, callback_base: str | None = None, timeout_s: float = 5
) -> TwilioGateway:
    config = TwilioConfig(ACCOUNT_SID, AUTH_TOKEN, api_base_url=sim.base_url)
    return TwilioGateway(config, NO_RETRY, timeout_s, callback_base)


async def _send_all(rt: Runtime, gw: TwilioGateway, occurrence_id: int) -> list[int]:
    """What the sender does, without it: claim, send, record. Returns the delivery ids."""
    now = rt.clock.now()
    with rt.uow() as uow:
        claimed = uow.repo.claim(occurrence_id, 100, now, now).messages
        uow.commit()
    results = await asyncio.gather(*(gw.send(m) for m in claimed))
    with rt.uow() as uow:
        uow.repo.apply([r.outcome for r in results if r.outcome is not None], rt.clock.now())
        uow.commit()
    return [m.delivery_id for m in claimed]


def _accepted(rt: Runtime, sids: list[str]) -> list[int]:
    """Deliveries the provider took (status accepted with these SIDs), without a provider."""
    ids = _claimed(rt, len(sids))
    with rt.uow() as uow:
        outcomes = [Outcome(i, Status.ACCEPTED, sid) for i, sid in zip(ids, sids, strict=True)]
        uow.repo.apply(outcomes, rt.clock.now())
        uow.commit()
    return ids


def _claimed(rt: Runtime, count: int) -> list[int]:
    occurrence_id = _occurrence(rt, PHONES[:count])
    now = rt.clock.now()
    with rt.uow() as uow:
        ids = [m.delivery_id for m in uow.repo.claim(occurrence_id, count, now, now).messages]
        uow.commit()
    return ids


def _delivery(rt: Runtime, delivery_id: int) -> DeliveryRow:
    with rt.uow() as uow:
        row = uow.repo.session.get(DeliveryRow, delivery_id)
        assert row is not None
        uow.repo.session.expunge(row)
        return row


def _log(rt: Runtime, delivery_id: int) -> list[tuple[str, str | None]]:
    """(status, detail) of the delivery's log events, oldest first."""
    query = (
        select(DeliveryEventRow.status, DeliveryEventRow.detail)
        .where(DeliveryEventRow.delivery_id == delivery_id)
        .order_by(DeliveryEventRow.id)
    )
    with rt.uow() as uow:
        return [(s, d) for s, d in uow.repo.session.execute(query)]


@asynccontextmanager
async def _serving(rt: Runtime, sock: socket.socket) -> AsyncIterator[ServiceStats]:
    """The HTTP service of `dispatcher serve` (without the poll loop) on ``sock``."""
    stats = ServiceStats()
    runner = web.AppRunner(build_app(rt, AUTH_TOKEN, stats))
    await runner.setup()
    await web.SockSite(runner, sock).start()
    try:
        yield stats
    finally:
        await runner.cleanup()


async def _post(
    url: str,
    params: dict[str, str],
    token: str | None = AUTH_TOKEN,
    signed_url: str | None = None,
    body: bytes | None = None,
) -> tuple[int, str]:
    """POST a form the way Twilio does, signed with ``token`` (None: no signature at all)."""
    headers = {}
    if token is not None:
        validator = RequestValidator(token)
        headers["X-Twilio-Signature"] = validator.compute_signature(signed_url or url, params)
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=body if body is not None else params, headers=headers) as resp,
    ):
        return resp.status, await resp.text()


def _callback(sid: str, status: str, **extra: str) -> dict[str, str]:
    return {
        "AccountSid": ACCOUNT_SID,
        "MessageSid": sid,
        "SmsSid": sid,
        "MessageStatus": status,
        "SmsStatus": status,
        "To": PHONES[0],
        "From": "VANQUAN",
        "ApiVersion": "2010-04-01",
        **extra,
    }


@contextmanager
def _simulator(config: SimulatorConfig) -> Iterator[Simulator]:
    with Simulator(ACCOUNT_SID, AUTH_TOKEN, config) as sim:
        yield sim


async def _eventually(check: Any, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "timed out waiting"
        await asyncio.sleep(0.05)


# -- polling -----------------------------------------------------------------------------------
def test_polling_moves_accepted_to_sent_to_delivered(engine: Engine, db_url: str) -> None:
    rt = _runtime(engine, db_url)  # poll_batch 2: five deliveries take three batches

    async def scenario() -> None:
        with _simulator(SLOW) as sim:
            gw = _gateway(sim)
            try:
                sent_at = time.monotonic()
                ids = await _send_all(rt, gw, _occurrence(rt))
                assert {_delivery(rt, i).status for i in ids} == {"accepted"}
                early = await tracking.poll_statuses(rt, gw)  # still queued at the provider
                assert (early.checked, early.moved) == (5, {})
                await asyncio.sleep(max(0.0, sent_at + 1.3 - time.monotonic()))
                middle = await tracking.poll_statuses(rt, gw)
                assert middle.moved == {Status.SENT: 5}
                await asyncio.sleep(max(0.0, sent_at + 3.3 - time.monotonic()))
                late = await tracking.poll_statuses(rt, gw)
                assert late.moved == {Status.DELIVERED: 5}
                assert (await tracking.poll_statuses(rt, gw)).checked == 0  # all final now
            finally:
                await gw.aclose()
        sids = {m.to: m.sid for m in sim.accepted_messages()}
        for delivery_id in ids:
            row = _delivery(rt, delivery_id)
            assert (row.status, row.provider_id) == ("delivered", sids[row.phone])
            assert [s for s, _ in _log(rt, delivery_id)] == [
                "pending",
                "sending",
                "accepted",
                "sent",
                "delivered",
            ]
        assert _log(rt, ids[0])[-1][1] == "polled: delivered (segments=1)"

    asyncio.run(scenario())


def test_polling_leaves_messages_the_provider_does_not_know(engine: Engine, db_url: str) -> None:
    rt = _runtime(engine, db_url)

    async def scenario() -> None:
        with _simulator(FAST) as sim:
            (delivery_id,) = _accepted(rt, ["SM" + "0" * 32])
            gw = _gateway(sim)
            try:
                result = await tracking.poll_statuses(rt, gw)
            finally:
                await gw.aclose()
        assert (result.checked, result.not_found, result.moved) == (1, 1, {})
        assert _delivery(rt, delivery_id).status == "accepted"

    asyncio.run(scenario())


# -- callbacks ---------------------------------------------------------------------------------
def test_callbacks_tie_the_sid_when_the_create_response_was_lost(
    engine: Engine, db_url: str, listener: socket.socket
) -> None:
    base = _base_url(listener)
    rt = _runtime(engine, db_url, public_base_url=base)
    lost = SimulatorConfig(
        accept_then_hang_rate=1.0, hang_s=2.0, sending_at_s=0.8, sent_at_s=0.8, final_at_s=1.2
    )

    async def scenario() -> ServiceStats:
        async with _serving(rt, listener) as stats:
            with _simulator(lost) as sim:
                gw = _gateway(sim, callback_base=base, timeout_s=0.3)
                try:
                    (delivery_id,) = await _send_all(rt, gw, _occurrence(rt, PHONES[:1]))
                finally:
                    await gw.aclose()
                assert _delivery(rt, delivery_id).status == "unknown"
                assert _delivery(rt, delivery_id).provider_id is None
                await _eventually(lambda: _delivery(rt, delivery_id).status == "delivered")
                (accepted,) = sim.accepted_messages()
        row = _delivery(rt, delivery_id)
        assert row.provider_id == accepted.sid  # tied by the callback URL's delivery id
        assert _log(rt, delivery_id)[-2:] == [
            ("sent", "callback: sent"),
            ("delivered", "callback: delivered"),
        ]
        return stats

    stats = asyncio.run(scenario())
    assert (stats.callbacks, stats.changed, stats.refused) == (2, 2, 0)


def test_out_of_order_and_repeated_callbacks_change_nothing_more(
    engine: Engine, db_url: str, listener: socket.socket
) -> None:
    base = _base_url(listener)
    rt = _runtime(engine, db_url, public_base_url=base)
    sid = "SM" + secrets.token_hex(16)
    (delivery_id,) = _accepted(rt, [sid])
    url = f"{base}/twilio/status?d={delivery_id}"

    async def scenario() -> ServiceStats:
        async with _serving(rt, listener) as stats:
            assert await _post(url, _callback(sid, "delivered", RawDlrDoneDate="2410160801")) == (
                200,
                "",
            )
            events = _log(rt, delivery_id)
            assert (await _post(url, _callback(sid, "sent")))[0] == 200  # late
            assert (await _post(url, _callback(sid, "delivered")))[0] == 200  # repeated
            assert _log(rt, delivery_id) == events  # no new log row
        return stats

    stats = asyncio.run(scenario())
    assert _delivery(rt, delivery_id).status == "delivered"
    assert [s for s, _ in _log(rt, delivery_id)] == ["pending", "sending", "accepted", "delivered"]
    assert (stats.callbacks, stats.changed) == (3, 1)


def test_failed_callback_keeps_the_error_code(
    engine: Engine, db_url: str, listener: socket.socket
) -> None:
    base = _base_url(listener)
    rt = _runtime(engine, db_url, public_base_url=base)
    sid = "SM" + secrets.token_hex(16)
    (delivery_id,) = _accepted(rt, [sid])

    async def scenario() -> None:
        async with _serving(rt, listener):
            params = _callback(sid, "undelivered", ErrorCode="30003")
            assert (await _post(f"{base}/twilio/status?d={delivery_id}", params))[0] == 200

    asyncio.run(scenario())
    row = _delivery(rt, delivery_id)
    assert (row.status, row.error_code) == ("undelivered", 30003)


def test_unsigned_or_badly_signed_requests_get_403_and_change_nothing(
    engine: Engine, db_url: str, listener: socket.socket
) -> None:
    base = _base_url(listener)
    rt = _runtime(engine, db_url, public_base_url=base)
    sid = "SM" + secrets.token_hex(16)
    first, second = _accepted(rt, [sid, "SM" + secrets.token_hex(16)])
    url = f"{base}/twilio/status?d={first}"
    params = _callback(sid, "delivered")
    inbound = {"From": PHONES[0], "Body": "STOP", "To": "VANQUAN", "MessageSid": "SMx"}

    async def scenario() -> ServiceStats:
        async with _serving(rt, listener) as stats:
            assert (await _post(url, params, token=None))[0] == 403  # no signature
            assert (await _post(url, params, token="not-the-token"))[0] == 403
            other = f"{base}/twilio/status?d={second}"  # a valid signature, for another URL
            assert (await _post(url, params, signed_url=other))[0] == 403
            tampered = {**params, "ErrorCode": "30003"}
            headers_ok = RequestValidator(AUTH_TOKEN).compute_signature(url, params)
            async with (
                aiohttp.ClientSession() as session,
                session.post(url, data=tampered, headers={"X-Twilio-Signature": headers_ok}) as r,
            ):
                assert r.status == 403  # a field added after signing
            assert (await _post(f"{base}/twilio/inbound", inbound, token="wrong"))[0] == 403
        return stats

    stats = asyncio.run(scenario())
    assert stats.refused == 5 and stats.callbacks == 0
    assert _delivery(rt, first).status == "accepted"
    assert [s for s, _ in _log(rt, first)] == ["pending", "sending", "accepted"]
    with rt.uow() as uow:
        assert uow.optouts.contains([PHONES[0]]) == set()


def test_bad_requests_get_400_and_unknown_deliveries_200(
    engine: Engine, db_url: str, listener: socket.socket
) -> None:
    base = _base_url(listener)
    rt = _runtime(engine, db_url, public_base_url=base)
    sid = "SM" + secrets.token_hex(16)
    (delivery_id,) = _accepted(rt, [sid])

    async def scenario() -> None:
        async with _serving(rt, listener) as stats:
            url = f"{base}/twilio/status?d={delivery_id}"
            # Not UTF-8: the form cannot be read (signed over nothing: it is checked first).
            status, text = await _post(url, {}, body=b"MessageSid=\xff\xfe")
            assert status == 400 and "Traceback" not in text
            assert (await _post(f"{base}/twilio/status", _callback(sid, "sent")))[0] == 400
            assert (await _post(url, {"MessageSid": sid}))[0] == 400  # no MessageStatus
            missing = f"{base}/twilio/status?d=999999"
            assert (await _post(missing, _callback(sid, "delivered"))) == (200, "")
            assert stats.changed == 0
            async with aiohttp.ClientSession() as session, session.get(f"{base}/health") as r:
                assert r.status == 200
                assert await r.json() == {"status": "ok"}

    asyncio.run(scenario())
    assert _delivery(rt, delivery_id).status == "accepted"


def test_a_report_arriving_mid_update_waits_instead_of_overwriting(
    engine: Engine, db_url: str
) -> None:
    """A callback says delivered while a poll (another transaction) that read `accepted` says
    sent: the poll waits for the row, then sees `delivered` and changes nothing."""
    rt = _runtime(engine, db_url)
    (delivery_id,) = _accepted(rt, ["SM1"])
    locked, later = threading.Event(), threading.Event()

    def callback() -> None:
        with rt.uow() as uow:
            uow.repo.apply([Outcome(delivery_id, Status.DELIVERED, "SM1")], rt.clock.now())
            locked.set()
            later.wait(10)
            time.sleep(0.3)  # the poll is waiting for the row by now
            uow.commit()

    def poll() -> None:
        locked.wait(10)
        later.set()
        with rt.uow() as uow:
            uow.repo.apply([Outcome(delivery_id, Status.SENT, "SM1")], rt.clock.now())
            uow.commit()

    threads = [threading.Thread(target=callback), threading.Thread(target=poll)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert _delivery(rt, delivery_id).status == "delivered"
    assert [s for s, _ in _log(rt, delivery_id)] == ["pending", "sending", "accepted", "delivered"]


# -- unknown outcomes --------------------------------------------------------------------------
def test_an_old_unknown_fails_as_unknown_outcome_and_a_fresh_one_is_left(
    engine: Engine, db_url: str
) -> None:
    clock = FakeClock(datetime(2024, 10, 16, 1, 0, tzinfo=UTC))
    rt = _runtime(engine, db_url, clock=clock, sending={"unknown_max_age_minutes": 60})
    old, fresh, accepted = _claimed(rt, 3)
    with rt.uow() as uow:
        uow.repo.apply([Outcome(old, Status.UNKNOWN, detail="timed out")], clock.now())
        uow.repo.apply([Outcome(accepted, Status.ACCEPTED, "SM1")], clock.now())
        uow.commit()
    clock.advance(timedelta(minutes=45))
    with rt.uow() as uow:
        uow.repo.apply([Outcome(fresh, Status.UNKNOWN, detail="timed out")], clock.now())
        uow.commit()
    assert tracking.expire_unknown(rt) == 0  # nothing is an hour old yet
    clock.advance(timedelta(minutes=16))
    assert tracking.expire_unknown(rt) == 1
    assert tracking.expire_unknown(rt) == 0  # and only once
    row = _delivery(rt, old)
    assert (row.status, row.error_message) == ("failed", "unknown-outcome")
    assert _log(rt, old)[-1] == (
        "failed",
        "unknown-outcome: unresolved for more than 60 minutes; not resent",
    )
    assert _delivery(rt, fresh).status == "unknown"
    assert _delivery(rt, accepted).status == "accepted"


# -- inbound -----------------------------------------------------------------------------------
def test_inbound_opt_out_keywords_put_the_sender_on_the_list(
    engine: Engine, db_url: str, listener: socket.socket
) -> None:
    base = _base_url(listener)
    rt = _runtime(engine, db_url, public_base_url=base)
    url = f"{base}/twilio/inbound"
    messages = {
        PHONES[0]: "TC",
        PHONES[1]: " huy ",
        PHONES[2]: "Hủy!",
        PHONES[3]: "Huy đây",
        PHONES[4]: "cảm ơn",
    }

    async def scenario() -> ServiceStats:
        async with _serving(rt, listener) as stats:
            for phone, body in messages.items():
                params = {
                    "MessageSid": "SM" + secrets.token_hex(16),
                    "From": phone,
                    "To": "VANQUAN",
                    "Body": body,
                    "AccountSid": ACCOUNT_SID,
                }
                status, text = await _post(url, params)
                assert status == 200 and text.endswith("<Response></Response>")
            again = {"From": "0" + PHONES[0][3:], "Body": "tc", "To": "VANQUAN"}
            assert (await _post(url, again))[0] == 200  # already on the list: no change
        return stats

    stats = asyncio.run(scenario())
    assert stats.opted_out == 3
    with rt.uow() as uow:
        assert uow.optouts.contains(PHONES) == set(PHONES[:3])
        sources = {e.phone: (e.source, e.reason) for e in uow.optouts.all()}
    assert sources[PHONES[0]] == ("inbound:TC", "inbound keyword TC")
    assert sources[PHONES[1]] == ("inbound:HUY", "inbound keyword HUY")


@pytest.mark.parametrize(
    ("body", "keyword"),
    [
        ("STOP", "STOP"),
        ("stop.", "STOP"),
        ("Hủy", "HUY"),
        ("tc", "TC"),
        ("Huy đây", None),
        ("stop sending", None),
        ("", None),
    ],
)
def test_opt_out_keyword_is_the_whole_message(body: str, keyword: str | None) -> None:
    keywords = Settings().optout.keywords
    assert tracking.opt_out_keyword(body, keywords) == keyword
