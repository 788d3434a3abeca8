"""The Twilio simulator's HTTP side: the Messages API served by aiohttp, with faults.

Each request pays the configured latency, is authenticated, then (for a create) meets a fault
drawn from the configured rates before Twilio's own rules apply
(:mod:`~dispatcher.gateways.simulator_api`). Everything runs on one event loop:
:class:`SimulatorServer` serves both the threaded
:class:`~dispatcher.gateways.simulator.Simulator` and the standalone process.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hmac
import logging
import random
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from os import PathLike

from aiohttp import web

from dispatcher.gateways import simulator_state as st
from dispatcher.gateways.simulator_api import ApiError, CreateRequest, list_page, validate_create
from dispatcher.gateways.simulator_callbacks import CallbackSender

log = logging.getLogger(__name__)

RECORD_SYNC_INTERVAL_S = 0.2  # fsync the record this often (each line is flushed at once)
SHUTDOWN_TIMEOUT_S = 2.0
MESSAGES_PATH = "/2010-04-01/Accounts/{account}/Messages.json"
MESSAGE_PATH = "/2010-04-01/Accounts/{account}/Messages/{sid}.json"


class SimulatorServer:
    """The simulator's aiohttp application, its state and background tasks, in one event loop.

    Construct anywhere; :meth:`start` and :meth:`close` must run in the loop that serves it.
    """

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        config: st.SimulatorConfig | None = None,
        record_path: str | PathLike[str] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.account_sid = account_sid
        self._expected_auth = base64.b64encode(f"{account_sid}:{auth_token}".encode()).decode()
        self.config = config or st.SimulatorConfig()
        self.store = st.MessageStore()
        self.counts: dict[str, int] = {}
        self._clock = clock
        self._record_path = record_path
        self._record: st.RecordFile | None = None
        self.callbacks = CallbackSender(account_sid, auth_token, clock)
        self._closing = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._sync_task: asyncio.Task[None] | None = None
        self.base_url: str | None = None

    @property
    def config(self) -> st.SimulatorConfig:
        return self._config

    @config.setter
    def config(self, config: st.SimulatorConfig) -> None:
        # A new config restarts the fault draws, so a test's faults repeat from its own seed.
        self._config = config
        self._rng = random.Random(config.seed)

    def count(self, outcome: str) -> None:
        self.counts[outcome] = self.counts.get(outcome, 0) + 1

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen on ``host:port`` (0: a free port) and return the base URL."""
        if self._record_path is not None:
            self._record = st.RecordFile(self._record_path)
            self._sync_task = asyncio.create_task(self._sync_record())
        await self.callbacks.start()
        app = web.Application()
        app.router.add_post(MESSAGES_PATH, self._create)
        app.router.add_get(MESSAGES_PATH, self._list)
        app.router.add_get(MESSAGE_PATH, self._fetch)
        # No access log: thousands of requests a second would spend their time logging.
        self._runner = web.AppRunner(
            app, access_log=None, handle_signals=False, shutdown_timeout=SHUTDOWN_TIMEOUT_S
        )
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        bound_host, bound_port = self._runner.addresses[0][:2]
        host_part = f"[{bound_host}]" if ":" in bound_host else bound_host  # IPv6 literal
        self.base_url = f"http://{host_part}:{bound_port}"
        return self.base_url

    async def close(self) -> None:
        """Stop serving: hung requests are released, pending callbacks dropped, record synced."""
        self._closing.set()
        if self._runner is not None:
            await self._runner.cleanup()
        await self.callbacks.close()
        if self._sync_task is not None:
            self._sync_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sync_task
        if self._record is not None:
            self._record.close()

    async def _sync_record(self) -> None:
        assert self._record is not None
        while True:
            await asyncio.sleep(RECORD_SYNC_INTERVAL_S)
            self._record.sync()

    def _authorized(self, request: web.Request) -> bool:
        scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
        return (
            scheme.lower() == "basic"
            and hmac.compare_digest(credentials.strip(), self._expected_auth)
            and request.match_info["account"] == self.account_sid
        )

    async def _guard(self, request: web.Request) -> web.Response | None:
        """Latency, then authentication: what every endpoint does first."""
        if latency := self._config.latency_ms:
            await asyncio.sleep(latency / 1000)
        if self._authorized(request):
            return None
        self.count("unauthorized")
        challenge = {"WWW-Authenticate": 'Basic realm="Twilio API"'}
        return ApiError(401, 20003, "Authenticate").response(challenge)

    def _draw_fault(self, config: st.SimulatorConfig) -> str | None:
        faults = config.request_faults()
        if not any(rate for _, rate in faults):
            return None
        draw = self._rng.random()
        for name, rate in faults:
            if draw < rate:
                return name
            draw -= rate
        return None

    async def _create(self, request: web.Request) -> web.StreamResponse:
        if (denied := await self._guard(request)) is not None:
            return denied
        config = self._config
        fault = self._draw_fault(config)
        if early := self._early_fault(request, fault, config):
            return early
        form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
        try:
            accepted = validate_create(form, config.fail_to)
        except ApiError as exc:
            self.count(f"rejected_{exc.code}")
            return exc.response()
        message = self._accept(accepted, config)
        if fault == "500":
            self.count("500_after_accept")
            return ApiError(500, 20500, "Internal Server Error").response()
        if fault == "hang":
            self.count("hung")
            return await self._hang(request, config.hang_s)
        self.count("created")
        # As created, as Twilio answers a create: however slow this answer, never later statuses.
        created = st.message_json(message, self.account_sid, message.created)
        return web.json_response(created, status=201)

    def _early_fault(
        self, request: web.Request, fault: str | None, config: st.SimulatorConfig
    ) -> web.StreamResponse | None:
        """Faults that strike before the message is accepted."""
        if fault == "drop":
            self.count("dropped")
            return _drop(request)
        if fault == "429":
            self.count("429")
            return ApiError(429, 20429, "Too Many Requests").response({"Retry-After": "1"})
        if fault == "503":
            self.count("503")
            return ApiError(503, 20503, "Service Unavailable").response()
        if fault == "500" and not config.error_500_after_accept:
            self.count("500_before_accept")
            return ApiError(500, 20500, "Internal Server Error").response()
        return None

    def _accept(self, req: CreateRequest, config: st.SimulatorConfig) -> st.StoredMessage:
        now = self._clock()
        record = st.AcceptedMessage(
            sid=f"SM{uuid.uuid4().hex}",
            to=req.to,
            from_=req.from_,
            messaging_service_sid=req.messaging_service_sid,
            body=req.body,
            segments=req.segments,
            created_at=datetime.fromtimestamp(now, UTC),
        )
        fate = config.fate(req.to, req.body)
        timeline = st.build_timeline(config, now, req.messaging_service_sid is not None, fate)
        message = st.StoredMessage(record, timeline, req.status_callback)
        self.store.add(message)
        if self._record is not None:
            self._record.append(record)
        if req.status_callback and config.callbacks:
            self.callbacks.schedule(message)
        return message

    async def _hang(self, request: web.Request, hang_s: float) -> web.StreamResponse:
        # The ambiguous case: the message exists, the client never learns it. Released on close.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._closing.wait(), hang_s)
        return _drop(request)

    async def _fetch(self, request: web.Request) -> web.Response:
        if (denied := await self._guard(request)) is not None:
            return denied
        message = self.store.get(request.match_info["sid"])
        if message is None:
            self.count("not_found")
            return ApiError(
                404, 20404, f"The requested resource {request.path} was not found"
            ).response()
        self.count("fetched")
        return web.json_response(st.message_json(message, self.account_sid, self._clock()))

    async def _list(self, request: web.Request) -> web.Response:
        if (denied := await self._guard(request)) is not None:
            return denied
        try:
            page = list_page(
                self.store, request.path, request.query, self.account_sid, self._clock()
            )
        except ApiError as exc:
            self.count(f"rejected_{exc.code}")
            return exc.response()
        self.count("listed")
        return web.json_response(page)


def _drop(request: web.Request) -> web.Response:
    """Close the connection without answering; the response returned is never written."""
    if request.transport is not None:
        request.transport.close()
    return web.Response(status=204)
