"""Which Twilio answers are retried, failed, left unknown, or stop the run."""

from __future__ import annotations

import pytest

from dispatcher.gateways.retry import ErrorKind, RetryPolicy, account_refusal, classify
from dispatcher.settings.config import RetrySettings


@pytest.mark.parametrize(
    ("status", "code", "kind"),
    [
        (429, 20429, ErrorKind.RETRY),  # "never processed ... always safe to retry"
        (503, 20503, ErrorKind.RETRY),
        (400, 21611, ErrorKind.RETRY),  # the sender's queue is full: slow down
        (500, 20500, ErrorKind.AMBIGUOUS),  # may have created the message
        (502, None, ErrorKind.AMBIGUOUS),
        (504, None, ErrorKind.AMBIGUOUS),
        (400, 21211, ErrorKind.PERMANENT),  # invalid To
        (400, 21610, ErrorKind.PERMANENT),  # opted out
        (400, 21614, ErrorKind.PERMANENT),  # landline
        (400, 21408, ErrorKind.PERMANENT),  # region not enabled
        (400, 21612, ErrorKind.PERMANENT),
        (400, 21617, ErrorKind.PERMANENT),  # body too long
        (401, 20003, ErrorKind.HALT),  # credentials
        (403, None, ErrorKind.HALT),
        (400, 21606, ErrorKind.HALT),  # From not ours: every message would fail
        (400, 21603, ErrorKind.HALT),  # no sender configured
    ],
)
def test_classify(status: int, code: int | None, kind: ErrorKind) -> None:
    assert classify(status, code) is kind


def test_policy_comes_from_settings() -> None:
    settings = RetrySettings(max_attempts=7, initial_backoff_s=0.1, max_backoff_s=2, jitter_s=0)
    assert RetryPolicy.from_settings(settings) == RetryPolicy(7, 0.1, 2.0, 0.0)


@pytest.mark.parametrize(
    ("status", "code", "reason"),
    [
        (401, 20003, "automatic: Twilio 20003 authentication failed: check TWILIO_ACCOUNT_SID"),
        (403, 30002, "automatic: Twilio 30002 the Twilio account is suspended"),
        (401, 20005, "automatic: Twilio 20005 the Twilio account is not active"),
        (401, None, "automatic: HTTP 401 authentication failed"),
        (400, 21606, None),  # one campaign's sender: only that run stops
        (400, 21603, None),
        (403, None, None),
        (400, 21211, None),
    ],
)
def test_only_refusals_of_the_account_halt_every_worker(
    status: int, code: int | None, reason: str | None
) -> None:
    found = account_refusal(status, code)
    if reason is None:
        assert found is None
    else:
        assert found is not None and found.startswith(reason)
        assert classify(status, code) is ErrorKind.HALT  # it stops this run too
