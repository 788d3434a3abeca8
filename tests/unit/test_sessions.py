"""Sessions and CSRF tokens (pure): secrets, the CSRF token of a session, durations, Secure."""

from __future__ import annotations

from datetime import timedelta

import pytest

from dispatcher.auth import sessions
from dispatcher.auth.tokens import token_digest


def test_secrets_are_fresh_and_of_the_token_form() -> None:
    made = {sessions.new_secret() for _ in range(100)}
    assert len(made) == 100
    assert all(token_digest(secret) is not None for secret in made)  # 32 URL-safe characters


def test_the_csrf_token_belongs_to_its_session_only() -> None:
    one, other = sessions.new_secret(), sessions.new_secret()
    token = sessions.csrf_token(one)
    assert token == sessions.csrf_token(one) and len(token) == 64
    assert token != sessions.csrf_token(other)
    assert one not in token  # the cookie's value cannot be read off the page
    assert sessions.csrf_valid(token, token)
    assert not sessions.csrf_valid(token, sessions.csrf_token(other))


@pytest.mark.parametrize("given", [None, "", "x", "ä" * 64])
def test_a_missing_or_wrong_csrf_token_is_refused(given: str | None) -> None:
    assert not sessions.csrf_valid(sessions.csrf_token(sessions.new_secret()), given)


def test_an_empty_expected_value_accepts_nothing() -> None:
    assert not sessions.csrf_valid("", "")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("30d", timedelta(days=30)), ("12h", timedelta(hours=12)), ("2w", timedelta(days=14)),
     (" 7d ", timedelta(days=7)), ("0d", None), ("30", None), ("d", None), ("1.5d", None),
     ("30 days", None), ("-3d", None)],
)  # fmt: skip
def test_durations(text: str, expected: timedelta | None) -> None:
    assert sessions.parse_duration(text) == expected


@pytest.mark.parametrize(
    ("setting", "base", "secure"),
    [("auto", None, False), ("auto", "http://10.0.0.5:8080", False),
     ("auto", "https://sms.example.gov.vn", True), ("auto", "HTTPS://x.vn", True),
     (True, None, True), (False, "https://sms.example.gov.vn", False)],
)  # fmt: skip
def test_cookies_are_secure_behind_https(
    setting: bool | str, base: str | None, secure: bool
) -> None:
    assert sessions.cookies_secure(setting, base) is secure


def test_auditors_change_nothing() -> None:
    assert {sessions.OPERATOR, sessions.COMMUNE} == sessions.CAN_CHANGE
    assert set(sessions.ROLE_NAMES_VI) == set(sessions.ROLES)
