"""The Twilio adapter decodes the provider's refusals itself: the sender sees what they mean."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from dispatcher.core.outbox import OutboundMessage
from dispatcher.core.status import Status
from dispatcher.gateways.base import SendResult
from dispatcher.gateways.retry import RetryPolicy
from dispatcher.gateways.simulator import Simulator, SimulatorConfig
from dispatcher.gateways.twilio import UNSUBSCRIBED, TwilioConfig, TwilioGateway

ACCOUNT_SID = "AC" + secrets.token_hex(16)
AUTH_TOKEN = secrets.token_hex(16)
NO_RETRY = RetryPolicy(max_attempts=1, initial_backoff_s=1, max_backoff_s=1, jitter_s=0)
STOPPED, NOT_MOBILE, FINE = "+84912000001", "+84912000002", "+84912000003"


def _send(sim: Simulator, to: str) -> SendResult:
    gateway = TwilioGateway(
        TwilioConfig(ACCOUNT_SID, AUTH_TOKEN, api_base_url=sim.base_url), NO_RETRY, 10, None
    )
    message = OutboundMessage(1, to, "Xin chào", "VANQUAN", 1, 1, datetime.now(UTC))

    async def send() -> SendResult:
        try:
            return await gateway.send(message)
        finally:
            await gateway.aclose()

    return asyncio.run(send())


@pytest.fixture
def sim() -> Iterator[Simulator]:
    config = SimulatorConfig(fail_to={STOPPED: 21610, NOT_MOBILE: 21614})
    with Simulator(ACCOUNT_SID, AUTH_TOKEN, config) as simulator:
        yield simulator


def test_an_unsubscribed_recipient_is_failed_and_named_for_the_opt_out_list(sim: Simulator) -> None:
    result = _send(sim, STOPPED)
    assert result.outcome is not None and result.outcome.status is Status.FAILED
    assert result.outcome.error_code == 21610
    assert result.opted_out == UNSUBSCRIBED
    assert (UNSUBSCRIBED.reason, UNSUBSCRIBED.source) == (
        "Twilio 21610: unsubscribed", "twilio-21610",
    )  # fmt: skip


@pytest.mark.parametrize("to", [NOT_MOBILE, FINE])
def test_other_answers_name_no_opt_out(sim: Simulator, to: str) -> None:
    result = _send(sim, to)
    assert result.outcome is not None and result.opted_out is None


def test_a_vietnamese_body_with_form_characters_arrives_as_written(sim: Simulator) -> None:
    """The gateway form-encodes the body itself (dispatcher.gateways.twilio_http): diacritics,
    `&`, `=`, `+`, `%` and new lines reach the provider unchanged, with From and To."""
    body = "Thông báo: tắt sóng 2G từ 15/9 & đổi máy = miễn phí (+84, 100%)\nĐT: 0205 3830 123"
    gateway = TwilioGateway(
        TwilioConfig(ACCOUNT_SID, AUTH_TOKEN, api_base_url=sim.base_url), NO_RETRY, 10, None
    )
    message = OutboundMessage(7, FINE, body, "VANQUAN", 1, 1, datetime.now(UTC))

    async def send() -> SendResult:
        try:
            return await gateway.send(message)
        finally:
            await gateway.aclose()

    result = asyncio.run(send())
    assert result.outcome is not None and result.outcome.status is Status.ACCEPTED
    [accepted] = sim.accepted_messages()
    assert (accepted.to, accepted.from_, accepted.body) == (FINE, "VANQUAN", body)


def test_a_refused_create_is_retried_to_the_policy_s_count_and_waits(sim: Simulator) -> None:
    """The first attempt runs outside tenacity and hands a retryable answer over to it: the
    attempts are still exactly ``max_attempts``, with the policy's back-offs between them."""
    sim.set_faults(rate_429=1.0)
    policy = RetryPolicy(max_attempts=3, initial_backoff_s=0.05, max_backoff_s=1, jitter_s=0)
    gateway = TwilioGateway(
        TwilioConfig(ACCOUNT_SID, AUTH_TOKEN, api_base_url=sim.base_url), policy, 10, None
    )
    message = OutboundMessage(8, FINE, "Xin chào", "VANQUAN", 1, 1, datetime.now(UTC))

    async def send() -> tuple[SendResult, float]:
        started = asyncio.get_running_loop().time()
        try:
            return await gateway.send(message), asyncio.get_running_loop().time() - started
        finally:
            await gateway.aclose()

    result, took = asyncio.run(send())
    assert result.outcome is None
    assert result.not_processed_reason == "gave up after retries: HTTP 429 code 20429"
    assert sim.counters()["429"] == 3
    assert took >= 0.05 + 0.1  # 0.05 s after the first attempt, 0.1 s after the second
