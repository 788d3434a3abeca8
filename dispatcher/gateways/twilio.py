"""The Twilio gateway: the official twilio client (async API) behind the :class:`Gateway` protocol.

Decisions that come from how the client behaves (README "Errors and retries"):
- the async HTTP client ignores its constructor timeout, so every call is bounded here with
  ``asyncio.timeout`` (``wait_for`` wraps the call in a task of its own: 4× the cost, thousands
  of times a second);
- its own ``max_retries`` re-POSTs a message on any 5xx (a double send), so it is never set:
  retries are ours, with tenacity, and only for answers that prove nothing was created;
- since 9.10 some errors are ``TwilioServiceException``, so ``TwilioException`` is what we catch.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import timedelta

import aiohttp
from tenacity import (
    AsyncRetrying,
    RetryError,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
    wait_random,
)
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.rest import Client

# The client imports its Messages API at the first `client.messages` (some 40 ms): here, at
# start-up, so the first request is not held up after pacing has reserved its slot (the
# provider then saw the next ones closer together: 111 segments in the first 10 s, not 110).
from twilio.rest.api.v2010.account import message as _messages_api  # noqa: F401

from dispatcher.audience.phones import mask
from dispatcher.core.errors import ConfigError, GatewayError, GatewayHalt, Problem, ProviderNotFound
from dispatcher.core.outbox import OutboundMessage, Outcome
from dispatcher.core.status import Status, from_twilio
from dispatcher.gateways.base import OptOutNotice, ProviderStatus, SendResult, twilio_identity
from dispatcher.gateways.retry import (
    HALT_CODES,
    ErrorKind,
    RetryPolicy,
    account_refusal,
    classify,
)
from dispatcher.gateways.twilio_http import FormEncodingHttpClient

log = logging.getLogger(__name__)

LOOKUP_WINDOW_BEFORE = timedelta(minutes=10)  # clock skew between us and the provider
LOOKUP_MAX_PAGES = 5  # bound on provider calls to reconcile one delivery
# The recipient replied STOP (or the carrier blocked us): they join our opt-out list too.
UNSUBSCRIBED_CODE = 21610
UNSUBSCRIBED = OptOutNotice("Twilio 21610: unsubscribed", "twilio-21610")


@dataclass(frozen=True)
class TwilioConfig:
    account_sid: str
    auth_token: str = field(repr=False)
    api_base_url: str | None = None
    default_from: str | None = None
    messaging_service_sid: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> TwilioConfig:
        env = os.environ if environ is None else environ
        missing = [v for v in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN") if not env.get(v)]
        if missing:
            raise ConfigError([Problem("is not set", field=f"${v}") for v in missing])
        return cls(
            account_sid=env["TWILIO_ACCOUNT_SID"],
            auth_token=env["TWILIO_AUTH_TOKEN"],
            api_base_url=env.get("TWILIO_API_BASE_URL") or None,
            default_from=env.get("TWILIO_FROM") or None,
            messaging_service_sid=env.get("TWILIO_MESSAGING_SERVICE_SID") or None,
        )


class _Retryable(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TwilioGateway:
    """Sends through Twilio (or anything speaking its API, such as the built-in simulator)."""

    def __init__(
        self,
        config: TwilioConfig,
        retry: RetryPolicy,
        timeout_s: float,
        status_callback_base: str | None = None,
        identity: str | None = None,
    ) -> None:
        self.config = config
        # The built-in simulator names its run; anything else is the account at its API.
        self.identity = identity or twilio_identity(config.account_sid, config.api_base_url)
        self.retry = retry
        # The policy as tenacity's objects, built once; each send runs a copy (which holds that
        # send's attempts) sharing the same stateless strategies.
        self._retrying = AsyncRetrying(
            stop=stop_after_attempt(retry.max_attempts),
            # initial × 2^n capped at max, plus up to `jitter` seconds at random
            wait=wait_exponential(multiplier=retry.initial_backoff_s, max=retry.max_backoff_s)
            + wait_random(0, retry.jitter_s),
            retry=retry_if_exception_type(_Retryable),
        )
        self.timeout_s = timeout_s
        # Where Twilio posts status callbacks (``dispatcher serve``); None: polling only.
        self.status_callback_base = (
            status_callback_base.rstrip("/") if status_callback_base else None
        )
        self._http: FormEncodingHttpClient | None = None
        self._client: Client | None = None

    def _get_client(self) -> Client:
        # Built lazily: aiohttp sessions must be created inside the running event loop.
        if self._client is None:
            self._http = FormEncodingHttpClient()
            client = Client(self.config.account_sid, self.config.auth_token, http_client=self._http)
            if self.config.api_base_url:
                client.api.base_url = self.config.api_base_url.rstrip("/")
            self._client = client
        return self._client

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None
            self._client = None

    def _params(self, message: OutboundMessage) -> dict[str, str]:
        params = {"to": message.to, "body": message.body}
        sender = message.sender or self.config.default_from
        if sender:
            params["from_"] = sender
        elif self.config.messaging_service_sid:
            params["messaging_service_sid"] = self.config.messaging_service_sid
        if self.status_callback_base:
            # Our delivery id in the (signed) URL: the first callback ties the provider's SID to
            # the delivery even when the create response was lost.
            callback = f"{self.status_callback_base}/twilio/status?d={message.delivery_id}"
            params["status_callback"] = callback
        return params

    async def send(self, message: OutboundMessage) -> SendResult:
        try:
            return await self._send_with_retries(message)
        except RetryError as exc:
            reason = str(exc.last_attempt.exception())
            return SendResult(message.delivery_id, None, f"gave up after retries: {reason}")

    async def _send_with_retries(self, message: OutboundMessage) -> SendResult:
        # The first attempt runs bare: nearly every send ends there, and tenacity's state for a
        # send cost more than a fifth of the gateway's CPU (64 of 280 µs a message). Only a
        # retryable answer hands over to the policy, as its attempt 1 (replayed, no request),
        # so its waits and its count of attempts are exactly the policy's.
        try:
            return await self._send_once(message)
        except _Retryable as exc:
            first: _Retryable | None = exc
        async for attempt in self._retrying.copy():
            with attempt:
                if first is not None:
                    replayed, first = first, None
                    raise replayed
                return await self._send_once(message)
        raise AssertionError("unreachable: tenacity either returns or raises")

    async def _send_once(self, message: OutboundMessage) -> SendResult:
        client = self._get_client()
        try:
            async with asyncio.timeout(self.timeout_s):
                created = await client.messages.create_async(**self._params(message))
        except TwilioRestException as exc:
            return self._from_error(message, exc.status, exc.code, exc.msg)
        except TwilioException as exc:  # TwilioServiceException and friends (RFC 9457 bodies)
            status = int(getattr(exc, "status", 0) or 0)
            return self._from_error(message, status, getattr(exc, "code", None), str(exc))
        except aiohttp.ClientConnectorError as exc:
            raise _Retryable(f"cannot connect: {exc}") from exc
        except (TimeoutError, aiohttp.ClientError) as exc:
            detail = "timed out" if isinstance(exc, TimeoutError) else f"connection lost: {exc}"
            return _unknown(message, f"{detail}; the message may have been sent", self.identity)
        outcome = Outcome(
            message.delivery_id,
            from_twilio(created.status or "queued"),
            provider_id=created.sid,
            detail=f"segments={created.num_segments}" if created.num_segments else None,
            gateway=self.identity,
        )
        return SendResult(message.delivery_id, outcome)

    def _from_error(
        self, message: OutboundMessage, status: int, code: int | None, text: str
    ) -> SendResult:
        kind = classify(status, code)
        if kind is ErrorKind.RETRY:
            raise _Retryable(f"HTTP {status} code {code}")
        if kind is ErrorKind.HALT:
            reason = HALT_CODES.get(code or 0, f"the gateway refused the account (HTTP {status})")
            every = account_refusal(status, code)
            halt = f"{reason} [{code}]"
            return SendResult(message.delivery_id, None, reason, halt=halt, halt_all=every)
        if kind is ErrorKind.AMBIGUOUS:
            detail = f"HTTP {status} code {code}: the message may have been sent"
            return _unknown(message, detail, self.identity)
        outcome = Outcome(
            message.delivery_id,
            Status.FAILED,
            error_code=code,
            error_message=_clean(text),
            gateway=self.identity,
        )
        opted_out = UNSUBSCRIBED if code == UNSUBSCRIBED_CODE else None
        return SendResult(message.delivery_id, outcome, opted_out=opted_out)

    async def lookup(self, message: OutboundMessage, taken: Collection[str] = ()) -> Outcome | None:
        """Find the message an unknown attempt may have created: same To and Body, created
        after the claim (newest first, a bounded number of pages), and not one of ``taken``
        (SIDs other deliveries already own: another occurrence may have sent the same text)."""
        client = self._get_client()
        since = message.claimed_at - LOOKUP_WINDOW_BEFORE
        try:
            async with asyncio.timeout(self.timeout_s):
                page = await client.messages.page_async(to=message.to, page_size=50)
            for _ in range(LOOKUP_MAX_PAGES):
                for found in page:
                    if found.date_created is not None and found.date_created < since:
                        return None
                    if found.body == message.body and found.sid not in taken:
                        status = from_twilio(found.status or "queued")
                        detail = "reconciled: the provider has it"
                        return Outcome(
                            message.delivery_id, status, found.sid, detail=detail,
                            gateway=self.identity,
                        )  # fmt: skip
                async with asyncio.timeout(self.timeout_s):
                    page = await page.next_page_async()
                if page is None:
                    return None
        except (TwilioException, aiohttp.ClientError, TimeoutError) as exc:
            raise GatewayHalt(f"cannot ask the gateway about unknown outcomes: {exc}") from exc
        to = mask(message.to)  # an error message: no whole number (personal data)
        raise GatewayHalt(f"too many messages to {to} to reconcile; check by hand")

    async def fetch(self, provider_id: str) -> ProviderStatus:
        """The message's current status at Twilio (one GET, bounded by the request timeout)."""
        client = self._get_client()
        try:
            async with asyncio.timeout(self.timeout_s):
                found = await client.messages(provider_id).fetch_async()
        except TwilioException as exc:
            status = int(getattr(exc, "status", 0) or 0)
            raise _fetch_error(provider_id, status, getattr(exc, "code", None), exc) from exc
        except (TimeoutError, aiohttp.ClientError) as exc:
            what = "timed out" if isinstance(exc, TimeoutError) else str(exc)
            raise GatewayError(f"cannot fetch {provider_id}: {what}") from exc
        raw = found.status or "queued"
        price = f"{found.price} {found.price_unit or ''}".strip() if found.price else None
        return ProviderStatus(
            provider_id,
            from_twilio(raw),
            raw,
            error_code=found.error_code,
            num_segments=int(found.num_segments) if (found.num_segments or "").isdigit() else None,
            price=price,
        )


def _unknown(message: OutboundMessage, detail: str, gateway: str) -> SendResult:
    outcome = Outcome(message.delivery_id, Status.UNKNOWN, detail=detail, gateway=gateway)
    return SendResult(message.delivery_id, outcome)


def _fetch_error(
    provider_id: str, status: int, code: int | None, exc: Exception
) -> GatewayError | GatewayHalt:
    if status == 404:
        return ProviderNotFound(f"the provider has no message {provider_id}")
    if classify(status, code) is ErrorKind.HALT:
        return GatewayHalt(HALT_CODES.get(code or 0, f"the gateway refused the account: {exc}"))
    return GatewayError(f"cannot fetch {provider_id}: HTTP {status} code {code}")


def _clean(text: str) -> str:
    return text.removeprefix("Unable to create record: ").strip()
