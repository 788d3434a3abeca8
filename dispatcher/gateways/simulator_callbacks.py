"""Status callbacks of the Twilio simulator: signed form POSTs, sent when each status is reached.

One background task sleeps until the next due callback (a heap, not a timer per message) and
hands each POST to its own task, so a slow receiver delays nobody else. As with Twilio, the
order in which a receiver sees two callbacks of one message is not guaranteed.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
from collections.abc import Callable
from datetime import UTC, datetime

import aiohttp
from twilio.request_validator import RequestValidator
from yarl import URL

from dispatcher.gateways.simulator_state import API_VERSION, FINAL_ERRORS, StoredMessage

log = logging.getLogger(__name__)

# Twilio's defaults: connect 5 s, whole request 15 s (webhooks-connection-overrides).
CALLBACK_TIMEOUT = aiohttp.ClientTimeout(total=15, connect=5)
MAX_CONCURRENT_CALLBACKS = 64
LOGGED_FAILURES = 10  # then failures go to DEBUG: an unreachable receiver would flood the log


def callback_params(
    message: StoredMessage, status: str, due: float, account_sid: str
) -> dict[str, str]:
    """The form fields of one status callback, as Twilio names them."""
    rec = message.record
    params = {
        "AccountSid": account_sid,
        "ApiVersion": API_VERSION,
        "MessageSid": rec.sid,
        "MessageStatus": status,
        "SmsSid": rec.sid,
        "SmsStatus": status,
        "To": rec.to,
    }
    if rec.from_ is not None:
        params["From"] = rec.from_
    if rec.messaging_service_sid is not None:
        params["MessagingServiceSid"] = rec.messaging_service_sid
    if status in FINAL_ERRORS:
        params["ErrorCode"] = str(FINAL_ERRORS[status][0])
    if status in ("delivered", "undelivered"):
        # The carrier's receipt time, YYMMDDhhmm; receivers must not choke on extra fields.
        params["RawDlrDoneDate"] = datetime.fromtimestamp(due, UTC).strftime("%y%m%d%H%M")
    return params


class CallbackSender:
    """Schedules and posts the status callbacks of accepted messages."""

    def __init__(self, account_sid: str, auth_token: str, clock: Callable[[], float]) -> None:
        self._account_sid = account_sid
        self._validator = RequestValidator(auth_token)
        self._clock = clock
        self._due: list[tuple[float, int, str, StoredMessage]] = []
        self._order = itertools.count()  # ties in time keep scheduling order
        self._wake = asyncio.Event()
        self._limit = asyncio.Semaphore(MAX_CONCURRENT_CALLBACKS)
        self._posts: set[asyncio.Task[None]] = set()
        self._session: aiohttp.ClientSession | None = None
        self._loop_task: asyncio.Task[None] | None = None
        self.delivered = 0
        self.failed = 0

    async def start(self) -> None:
        """Start the scheduling task; call from inside the running event loop."""
        self._session = aiohttp.ClientSession(timeout=CALLBACK_TIMEOUT)
        self._loop_task = asyncio.create_task(self._run())

    def schedule(self, message: StoredMessage) -> None:
        """Queue the callbacks of a newly accepted message (it must have a StatusCallback)."""
        earliest = self._due[0][0] if self._due else None
        for due, status in message.callback_events():
            heapq.heappush(self._due, (due, next(self._order), status, message))
        if earliest is None or self._due[0][0] < earliest:
            self._wake.set()

    def pending(self) -> int:
        """Callbacks not yet posted or still being posted."""
        return len(self._due) + len(self._posts)

    async def _run(self) -> None:
        while True:
            if not self._due:
                await self._wake.wait()
                self._wake.clear()
                continue
            delay = self._due[0][0] - self._clock()
            if delay > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), delay)
                self._wake.clear()
                continue
            due, _, status, message = heapq.heappop(self._due)
            task = asyncio.create_task(self._post(message, status, due))
            self._posts.add(task)
            task.add_done_callback(self._posts.discard)

    async def _post(self, message: StoredMessage, status: str, due: float) -> None:
        assert self._session is not None and message.status_callback is not None
        url = message.status_callback.split("#", 1)[0]  # connection overrides are not sent
        params = callback_params(message, status, due, self._account_sid)
        headers = {
            "X-Twilio-Signature": self._validator.compute_signature(url, params),
            "I-Twilio-Idempotency-Token": f"{message.record.sid}-{status}",
            "User-Agent": "TwilioProxy/1.1",
        }
        async with self._limit:
            try:
                # encoded=True: post to the very URL that was signed, not a requoted one.
                async with self._session.post(
                    URL(url, encoded=True), data=params, headers=headers
                ) as resp:
                    await resp.read()
            except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
                self._failed(f"status callback {status} for {message.record.sid} to {url}: {exc}")
                return
        if resp.status < 400:
            self.delivered += 1
        else:
            self._failed(f"status callback {status} for {message.record.sid}: HTTP {resp.status}")

    def _failed(self, what: str) -> None:
        self.failed += 1
        if self.failed < LOGGED_FAILURES:
            log.warning("%s", what)
        elif self.failed == LOGGED_FAILURES:
            log.warning("%s (further callback failures are logged at DEBUG)", what)
        else:
            log.debug("%s", what)

    async def close(self) -> None:
        """Stop scheduling and abandon callbacks not yet delivered (they are logged as lost)."""
        tasks = [t for t in (self._loop_task, *self._posts) if t is not None]
        if self._due or self._posts:
            log.info("simulator stopping with %d status callbacks not delivered", self.pending())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
