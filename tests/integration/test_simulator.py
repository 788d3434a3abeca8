"""The Twilio simulator, driven by the real twilio client over real HTTP on loopback."""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from aiohttp import web
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from dispatcher.gateways.simulator import (
    Simulator,
    SimulatorConfig,
    build_parser,
    config_from_args,
    read_record,
)
from dispatcher.gateways.simulator_app import SimulatorServer

# twilio's AsyncTwilioHttpClient passes aiohttp.BasicAuth as ``auth=``, both deprecated since
# aiohttp 3.14: not ours to fix, and only these two warnings are let through.
# Made up per run: the simulator accepts whatever it is given, nothing here is a real secret.
ACCOUNT_SID = "AC" + secrets.token_hex(16)
AUTH_TOKEN = secrets.token_hex(16)
SERVICE_SID = "MG" + secrets.token_hex(16)
SENDER = "+15005550006"
MOBILE = "+84912345678"
LANDLINE = "+842438123456"  # Hà Nội fixed line
FAST = SimulatorConfig(queued_at_s=0.02, sending_at_s=0.05, sent_at_s=0.1, final_at_s=0.2)


def mobile(n: int) -> str:
    return f"+8491{n:07d}"


@pytest.fixture
def record_path(tmp_path: Path) -> Path:
    return tmp_path / "accepted.jsonl"


@pytest.fixture
def sim(record_path: Path) -> Iterator[Simulator]:
    with Simulator(ACCOUNT_SID, AUTH_TOKEN, FAST, record_path=record_path) as simulator:
        yield simulator


def sync_client(
    base_url: str, username: str = ACCOUNT_SID, password: str = AUTH_TOKEN, **kw: Any
) -> Client:
    client = Client(username, password, **kw)
    client.api.base_url = base_url
    return client


@pytest.fixture
def client(sim: Simulator) -> Iterator[Client]:
    twilio = sync_client(sim.base_url)
    yield twilio
    twilio.http_client.session.close()  # type: ignore[attr-defined]


@asynccontextmanager
async def async_client(base_url: str) -> AsyncIterator[Client]:
    async with AsyncTwilioHttpClient() as http:
        twilio = Client(ACCOUNT_SID, AUTH_TOKEN, http_client=http)
        twilio.api.base_url = base_url
        yield twilio


def wait_until(condition: Any, timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


# --- create -------------------------------------------------------------------------------------


def test_create_answers_a_queued_message_resource(client: Client, sim: Simulator) -> None:
    body = "Thông báo: tiêm chủng mở rộng cho trẻ dưới 5 tuổi tại trạm y tế xã, sáng thứ Bảy."
    message = client.messages.create(to=MOBILE, from_=SENDER, body=body)

    assert re.fullmatch(r"SM[0-9a-f]{32}", message.sid or "")
    assert message.status == "queued"
    assert message.num_segments == "2"  # UCS-2, 82 characters
    assert (message.to, message.from_, message.body) == (MOBILE, SENDER, body)
    assert message.account_sid == ACCOUNT_SID
    assert message.direction == "outbound-api"
    assert message.date_sent is None and message.price is None and message.error_code is None
    assert message.date_created is not None
    assert message.uri == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{message.sid}.json"
    [accepted] = sim.accepted_messages()
    assert (accepted.sid, accepted.to, accepted.body, accepted.segments) == (
        message.sid,
        MOBILE,
        body,
        2,
    )


def test_create_through_a_messaging_service_is_accepted_without_a_sender(client: Client) -> None:
    message = client.messages.create(to=MOBILE, messaging_service_sid=SERVICE_SID, body="Hello")

    assert message.status == "accepted"
    assert message.from_ is None
    assert message.messaging_service_sid == SERVICE_SID
    assert message.num_segments == "0"  # as Twilio: no sender chosen yet


def test_async_client_creates(sim: Simulator) -> None:
    async def create() -> Any:
        async with async_client(sim.base_url) as twilio:
            return await twilio.messages.create_async(to=MOBILE, from_=SENDER, body="Hello")

    message = asyncio.run(create())

    assert message.status == "queued" and message.num_segments == "1"
    assert [m.sid for m in sim.accepted_messages()] == [message.sid]


def test_a_late_create_answer_still_says_queued() -> None:
    """A create is answered with the message as created, however long the answer takes (on a
    loaded machine it took over ``sent_at_s``, and the answer said `sent`)."""
    ticks = iter(range(1_800_000_000, 1_900_000_000, 10))  # every look at the clock: 10 s later
    server = SimulatorServer(ACCOUNT_SID, AUTH_TOKEN, FAST, clock=lambda: float(next(ticks)))

    async def create() -> Any:
        base_url = await server.start()
        try:
            async with async_client(base_url) as twilio:
                return await twilio.messages.create_async(to=MOBILE, from_=SENDER, body="Hi")
        finally:
            await server.close()

    message = asyncio.run(create())
    assert message.status == "queued" and message.date_sent is None


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"to": "", "from_": SENDER, "body": "x"}, 21604),
        ({"to": "0912345678", "from_": SENDER, "body": "x"}, 21211),
        ({"to": "+84123", "from_": SENDER, "body": "x"}, 21211),
        ({"to": MOBILE, "body": "x"}, 21603),
        ({"to": MOBILE, "from_": SENDER, "body": ""}, 21602),
        ({"to": MOBILE, "from_": SENDER, "body": "a" * 1601}, 21617),
        ({"to": LANDLINE, "from_": SENDER, "body": "x"}, 21614),
        # Twilio's order: To before From, landline only once the rest is valid.
        ({"to": "+84123", "body": "x"}, 21211),
        ({"to": LANDLINE, "from_": SENDER, "body": ""}, 21602),
    ],
)
def test_invalid_create_is_refused_with_twilios_code(
    client: Client, sim: Simulator, params: dict[str, str], code: int
) -> None:
    with pytest.raises(TwilioRestException) as caught:
        client.messages.create(**params)

    assert (caught.value.status, caught.value.code) == (400, code)
    assert sim.accepted_messages() == []
    assert sim.counters()[f"rejected_{code}"] == 1


def test_a_body_of_exactly_1600_characters_is_accepted(client: Client) -> None:
    assert client.messages.create(to=MOBILE, from_=SENDER, body="a" * 1600).num_segments == "11"


def test_fail_to_refuses_one_number_permanently(client: Client, sim: Simulator) -> None:
    sim.set_faults(fail_to={mobile(1): 21610})

    with pytest.raises(TwilioRestException) as caught:
        client.messages.create(to=mobile(1), from_=SENDER, body="x")
    client.messages.create(to=mobile(2), from_=SENDER, body="x")

    assert (caught.value.status, caught.value.code) == (400, 21610)
    assert [m.to for m in sim.accepted_messages()] == [mobile(2)]


@pytest.mark.parametrize(
    ("username", "password", "account_sid"),
    [
        (ACCOUNT_SID, "wrong-token", None),
        ("AC" + "0" * 32, AUTH_TOKEN, None),
        (ACCOUNT_SID, AUTH_TOKEN, "AC" + "1" * 32),  # good credentials, someone else's account
    ],
    ids=["wrong-token", "unknown-account", "someone-elses-account"],  # the same in every worker
)
def test_bad_credentials_are_refused_with_20003(
    sim: Simulator, username: str, password: str, account_sid: str | None
) -> None:
    twilio = sync_client(sim.base_url, username, password, account_sid=account_sid)
    try:
        with pytest.raises(TwilioRestException) as caught:
            twilio.messages.create(to=MOBILE, from_=SENDER, body="x")
        with pytest.raises(TwilioRestException) as fetching:
            twilio.messages("SM" + "0" * 32).fetch()
        # A list page that is not a 200 raises a bare TwilioException carrying the response.
        with pytest.raises(TwilioException) as listing:
            twilio.messages.list(limit=1)
    finally:
        twilio.http_client.session.close()  # type: ignore[attr-defined]

    assert (caught.value.status, caught.value.code) == (401, 20003)
    assert (fetching.value.status, fetching.value.code) == (401, 20003)
    assert listing.value.args[1].status_code == 401
    assert '"code": 20003' in listing.value.args[1].text
    assert sim.accepted_messages() == []


# --- list and fetch -----------------------------------------------------------------------------


def test_list_pages_through_every_message_once_newest_first(client: Client) -> None:
    created = [
        client.messages.create(to=mobile(i % 3), from_=SENDER, body=f"#{i}").sid for i in range(120)
    ]

    first = client.messages.page(page_size=50)
    second = first.next_page()
    third = second.next_page() if second else None
    listed = client.messages.list(page_size=50)
    streamed = [m.sid for m in client.messages.stream(page_size=50)]

    assert second is not None and third is not None and third.next_page() is None
    assert [len(list(page)) for page in (first, second, third)] == [50, 50, 20]
    exact = client.messages.page(page_size=60).next_page()
    assert exact is not None and exact.next_page_url is None  # no empty page after the last
    assert [m.sid for m in listed] == created[::-1] == streamed
    assert [m.sid for m in client.messages.list(to=mobile(1), page_size=7)] == created[1::3][::-1]
    assert len(client.messages.list(from_=SENDER, limit=10)) == 10
    assert client.messages.list(from_="+15005550001") == []


def test_list_filters_by_the_gmt_day_sent(client: Client, sim: Simulator) -> None:
    sim.set_faults(queued_at_s=0, sending_at_s=0, sent_at_s=0, final_at_s=0)
    sent = [client.messages.create(to=mobile(i), from_=SENDER, body="x").sid for i in range(3)]
    sim.set_faults(sent_at_s=60, final_at_s=60)
    client.messages.create(to=mobile(9), from_=SENDER, body="not yet sent")
    day = client.messages(sent[0]).fetch().date_sent
    assert day is not None
    today, after = day.date(), day.date() + timedelta(days=1)
    now = datetime.combine(today, datetime.max.time(), UTC)  # a time of day is ignored

    def sids(**filters: Any) -> list[str]:
        return sorted(m.sid for m in client.messages.list(page_size=2, **filters))

    assert sids(date_sent=today) == sorted(sent)
    assert sids(date_sent_after=now) == sorted(sent) == sids(date_sent_before=today)
    assert sids(date_sent_after=after) == [] == sids(date_sent_before=today - timedelta(days=1))
    assert sids(date_sent=today, to=mobile(1)) == [sent[1]]


def test_async_list_follows_pages(sim: Simulator) -> None:
    async def scenario() -> tuple[list[str], list[str]]:
        async with async_client(sim.base_url) as twilio:
            created = [
                (await twilio.messages.create_async(to=mobile(i), from_=SENDER, body="x")).sid
                for i in range(12)
            ]
            listed = await twilio.messages.list_async(page_size=5)
            return created, [m.sid for m in listed]

    created, listed = asyncio.run(scenario())

    assert listed == created[::-1]


def test_fetch_returns_the_message_and_404s_an_unknown_sid(client: Client) -> None:
    created = client.messages.create(to=MOBILE, from_=SENDER, body="x")

    fetched = client.messages(created.sid).fetch()
    with pytest.raises(TwilioRestException) as caught:
        client.messages("SM" + "0" * 32).fetch()

    assert (fetched.sid, fetched.body, fetched.to) == (created.sid, "x", MOBILE)
    assert (caught.value.status, caught.value.code) == (404, 20404)


def test_a_bad_page_token_is_a_400(client: Client, sim: Simulator) -> None:
    with pytest.raises(TwilioException) as caught:
        client.messages.page(page_token="PASM" + "0" * 32)

    assert caught.value.args[1].status_code == 400


# --- lifecycle ----------------------------------------------------------------------------------


def test_status_advances_to_delivered_and_date_sent_is_set(client: Client, sim: Simulator) -> None:
    # Phases of 0.15 s: wide enough for a busy machine's polling to see each one.
    sim.set_faults(queued_at_s=0, sending_at_s=0.15, sent_at_s=0.3, final_at_s=0.45)
    sid = client.messages.create(to=MOBILE, from_=SENDER, body="x").sid
    seen = []
    deadline = time.monotonic() + 2
    while not seen or seen[-1] != "delivered":
        assert time.monotonic() < deadline, seen
        seen.append(client.messages(sid).fetch().status)
        time.sleep(0.005)
    message = client.messages(sid).fetch()

    assert [s for i, s in enumerate(seen) if i == 0 or seen[i - 1] != s] == [
        "queued",
        "sending",
        "sent",
        "delivered",
    ]
    assert message.date_sent is not None and message.date_updated is not None
    assert message.date_created <= message.date_sent <= message.date_updated  # type: ignore[operator]


@pytest.mark.parametrize(
    ("faults", "status", "code", "sent"),
    [
        ({"undelivered_rate": 1.0}, "undelivered", 30003, True),
        ({"failed_rate": 1.0}, "failed", 30008, False),
    ],
)
def test_unlucky_messages_end_undelivered_or_failed(
    client: Client, sim: Simulator, faults: dict[str, float], status: str, code: int, sent: bool
) -> None:
    sim.set_faults(**faults)
    sid = client.messages.create(to=MOBILE, from_=SENDER, body="x").sid
    time.sleep(FAST.final_at_s + 0.05)

    message = client.messages(sid).fetch()

    assert (message.status, message.error_code) == (status, code)
    assert message.error_message
    assert (message.date_sent is not None) is sent


def test_outcomes_are_deterministic_per_seed_and_message() -> None:
    config = SimulatorConfig(undelivered_rate=0.3, failed_rate=0.2, seed=42)
    fates = [config.fate(mobile(i), "x") for i in range(200)]

    assert fates == [
        SimulatorConfig(undelivered_rate=0.3, failed_rate=0.2, seed=42).fate(mobile(i), "x")
        for i in range(200)
    ]
    assert 30 < fates.count("undelivered") < 90 and 15 < fates.count("failed") < 65
    assert fates != [
        SimulatorConfig(undelivered_rate=0.3, failed_rate=0.2, seed=7).fate(mobile(i), "x")
        for i in range(200)
    ]


# --- faults -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("faults", "status", "code"), [({"rate_429": 1.0}, 429, 20429), ({"rate_503": 1.0}, 503, 20503)]
)
def test_refusing_faults_raise_and_accept_nothing(
    client: Client, sim: Simulator, faults: dict[str, float], status: int, code: int
) -> None:
    sim.set_faults(**faults)

    with pytest.raises(TwilioRestException) as caught:
        client.messages.create(to=MOBILE, from_=SENDER, body="x")

    assert (caught.value.status, caught.value.code) == (status, code)
    assert sim.accepted_messages() == []


def test_429_carries_retry_after(sim: Simulator) -> None:
    sim.set_faults(rate_429=1.0)
    url = f"{sim.base_url}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"

    with requests.Session() as http:
        answer = http.post(
            url, data={"To": MOBILE, "From": SENDER, "Body": "x"}, auth=(ACCOUNT_SID, AUTH_TOKEN)
        )

    assert answer.status_code == 429 and answer.headers["Retry-After"] == "1"
    assert answer.json() == {
        "code": 20429,
        "message": "Too Many Requests",
        "more_info": "https://www.twilio.com/docs/errors/20429",
        "status": 429,
    }


@pytest.mark.parametrize("after_accept", [True, False])
def test_a_500_accepts_the_message_only_when_configured(
    client: Client, sim: Simulator, after_accept: bool
) -> None:
    sim.set_faults(rate_500=1.0, error_500_after_accept=after_accept)

    with pytest.raises(TwilioRestException) as caught:
        client.messages.create(to=MOBILE, from_=SENDER, body="x")

    assert (caught.value.status, caught.value.code) == (500, 20500)
    assert len(sim.accepted_messages()) == (1 if after_accept else 0)


def test_a_dropped_connection_accepts_nothing(client: Client, sim: Simulator) -> None:
    sim.set_faults(drop_rate=1.0)

    with pytest.raises(requests.exceptions.ConnectionError):
        client.messages.create(to=MOBILE, from_=SENDER, body="x")

    assert sim.accepted_messages() == [] and sim.counters()["dropped"] == 1


def test_fault_draws_repeat_for_a_seed(client: Client, sim: Simulator) -> None:
    def outcomes() -> list[int]:
        sim.set_faults(rate_429=0.5, seed=3)
        codes = []
        for i in range(16):
            try:
                client.messages.create(to=mobile(i), from_=SENDER, body="x")
                codes.append(201)
            except TwilioRestException as exc:
                codes.append(exc.status)
        return codes

    first = outcomes()

    assert first == outcomes()
    assert set(first) == {201, 429}


def test_accept_then_hang_records_the_message_but_never_answers(sim: Simulator) -> None:
    sim.set_faults(accept_then_hang_rate=1.0)

    async def create() -> None:
        async with async_client(sim.base_url) as twilio:
            send = twilio.messages.create_async(to=MOBILE, from_=SENDER, body="x")
            await asyncio.wait_for(send, timeout=0.3)

    with pytest.raises(TimeoutError):
        asyncio.run(create())

    assert [m.to for m in sim.accepted_messages()] == [MOBILE]
    assert sim.counters()["hung"] == 1


def test_latency_is_added_to_every_answer(client: Client, sim: Simulator) -> None:
    sim.set_faults(latency_ms=150)
    started = time.monotonic()

    client.messages.list(limit=1)

    assert time.monotonic() - started >= 0.15


def test_inconsistent_configs_are_rejected() -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        SimulatorConfig(rate_429=1.5)
    with pytest.raises(ValueError, match="more than 1"):
        SimulatorConfig(rate_429=0.6, rate_503=0.6)
    with pytest.raises(ValueError, match="sent_at_s"):
        SimulatorConfig(sent_at_s=3, final_at_s=1)


# --- record -------------------------------------------------------------------------------------


def test_jsonl_record_matches_what_was_accepted(
    client: Client, sim: Simulator, record_path: Path
) -> None:
    for i in range(5):
        client.messages.create(to=mobile(i), from_=SENDER, body=f"Xin chào {i} 👋")
    client.messages.create(to=mobile(9), messaging_service_sid=SERVICE_SID, body="svc")

    recorded = read_record(record_path)

    assert recorded == sim.accepted_messages()
    assert [m.to for m in recorded] == [mobile(i) for i in (0, 1, 2, 3, 4, 9)]
    assert recorded[-1].from_ is None and recorded[-1].messaging_service_sid == SERVICE_SID


def test_record_ignores_a_torn_last_line(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    with Simulator(ACCOUNT_SID, AUTH_TOKEN, record_path=path) as sim:
        twilio = sync_client(sim.base_url)
        twilio.messages.create(to=MOBILE, from_=SENDER, body="x")
        twilio.http_client.session.close()  # type: ignore[attr-defined]
    with path.open("a", encoding="utf-8") as file:
        file.write('{"sid": "SM')

    assert [m.to for m in read_record(path)] == [MOBILE]


# --- status callbacks ---------------------------------------------------------------------------


class CallbackReceiver:
    """A tiny webhook endpoint that keeps every callback it receives."""

    def __init__(self) -> None:
        self.received: list[tuple[str, dict[str, str], str]] = []  # (url, params, signature)
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def __aenter__(self) -> CallbackReceiver:
        app = web.Application()
        app.router.add_post("/status", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}/status"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        form = {k: str(v) for k, v in (await request.post()).items()}
        self.received.append((str(request.url), form, request.headers["X-Twilio-Signature"]))
        return web.Response(status=204)

    async def wait_for(self, count: int, timeout: float = 3.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.received) < count:
            assert time.monotonic() < deadline, self.received
            await asyncio.sleep(0.01)


def test_status_callbacks_arrive_signed(sim: Simulator) -> None:
    sim.set_faults(undelivered_rate=0.5, seed=1)

    async def scenario() -> tuple[CallbackReceiver, list[str]]:
        async with CallbackReceiver() as receiver, async_client(sim.base_url) as twilio:
            sids = [
                (
                    await twilio.messages.create_async(
                        to=mobile(i),
                        from_=SENDER,
                        body="x",
                        status_callback=receiver.url + f"?key={i}",
                    )
                ).sid
                for i in range(6)
            ]
            await receiver.wait_for(12)
            await asyncio.sleep(0.1)  # nothing more should come
            return receiver, sids

    receiver, sids = asyncio.run(scenario())

    validator = RequestValidator(AUTH_TOKEN)
    assert len(receiver.received) == 12
    for url, params, signature in receiver.received:
        assert validator.validate(url, params, signature)
        assert not validator.validate(url, {**params, "MessageStatus": "delivered!"}, signature)
        assert not validator.validate(url.replace("key=", "key=9"), params, signature)
        assert params["AccountSid"] == ACCOUNT_SID and params["ApiVersion"] == "2010-04-01"
        assert (
            params["SmsSid"] == params["MessageSid"]
            and params["SmsStatus"] == params["MessageStatus"]
        )
        assert params["From"] == SENDER and params["To"] == mobile(int(url.rsplit("=", 1)[1]))
        assert ("ErrorCode" in params) is (params["MessageStatus"] == "undelivered")
    by_sid: dict[str, list[str]] = {}
    for _, params, _ in receiver.received:
        by_sid.setdefault(params["MessageSid"], []).append(params["MessageStatus"])
    assert sorted(by_sid) == sorted(sids)
    assert all(len(statuses) == 2 and "sent" in statuses for statuses in by_sid.values())
    finals = [s for statuses in by_sid.values() for s in statuses if s != "sent"]
    assert set(finals) == {"delivered", "undelivered"}
    assert sim.counters()["callbacks_delivered"] == 12


def test_status_callbacks_can_be_turned_off(sim: Simulator) -> None:
    sim.set_faults(callbacks=False)

    async def scenario() -> CallbackReceiver:
        async with CallbackReceiver() as receiver, async_client(sim.base_url) as twilio:
            await twilio.messages.create_async(
                to=MOBILE, from_=SENDER, body="x", status_callback=receiver.url
            )
            await asyncio.sleep(FAST.final_at_s + 0.1)
            return receiver

    assert asyncio.run(scenario()).received == []


def test_an_unreachable_callback_url_is_logged_not_raised(
    client: Client, sim: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    client.messages.create(
        to=MOBILE, from_=SENDER, body="x", status_callback="http://127.0.0.1:9/nowhere"
    )

    wait_until(lambda: sim.counters()["callbacks_failed"] == 2)

    assert "status callback sent" in caplog.text
    assert client.messages.list() != []  # the simulator still answers


# --- standalone process -------------------------------------------------------------------------


def read_line(stream: Any, timeout: float) -> str:
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.append(stream.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    assert lines, "no line in time"
    return lines[0]


def test_standalone_process_serves_until_sigterm(record_path: Path) -> None:
    env = {**os.environ, "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN}
    command = [
        sys.executable,
        "-m",
        "dispatcher.gateways.simulator",
        "--port",
        "0",
        "--record",
        str(record_path),
    ]
    with subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as proc:
        try:
            url = read_line(proc.stdout, timeout=10).strip()
            assert re.fullmatch(r"http://127\.0\.0\.1:\d+", url)
            twilio = sync_client(url)
            sid = twilio.messages.create(to=MOBILE, from_=SENDER, body="x").sid
            twilio.http_client.session.close()  # type: ignore[attr-defined]
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=10) == 0, proc.stderr.read() if proc.stderr else ""
        finally:
            if proc.poll() is None:
                proc.kill()

    assert [m.sid for m in read_record(record_path)] == [sid]


def test_standalone_process_needs_credentials() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TWILIO_")}
    command = [sys.executable, "-m", "dispatcher.gateways.simulator", "--port", "0"]

    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=30)

    assert done.returncode == 2 and "TWILIO_AUTH_TOKEN" in done.stderr


def test_command_line_options_make_the_config() -> None:
    args = build_parser().parse_args(
        [
            "--rate-429",
            "0.1",
            "--latency-ms",
            "5",
            "--fail-to",
            "+84912000001=21610",
            "--no-error-500-after-accept",
            "--sent-at",
            "1",
            "--final-at",
            "2",
            "--no-callbacks",
            "--seed",
            "9",
        ]
    )

    config = config_from_args(args)

    assert (config.rate_429, config.latency_ms, config.seed) == (0.1, 5.0, 9)
    assert config.fail_to == {"+84912000001": 21610}
    assert (config.error_500_after_accept, config.callbacks) == (False, False)
    assert (config.sent_at_s, config.final_at_s) == (1.0, 2.0)
    with pytest.raises(ValueError, match="NUMBER=CODE"):
        config_from_args(build_parser().parse_args(["--fail-to", "+8491"]))
