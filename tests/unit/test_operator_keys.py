"""Operator keys: a name acts only with its own key once keys are configured."""

from __future__ import annotations

import pytest

from dispatcher.auth.operators import KEY_DIGEST, digest, key_problem, new_key


def test_a_new_key_is_random_and_its_digest_is_what_config_holds() -> None:
    (key, stored), (other, _) = new_key(), new_key()
    assert key != other and len(key) >= 43  # 256 random bits, URL-safe base64
    assert KEY_DIGEST.fullmatch(stored) and stored == digest(key)


KEYS = {"lan": digest("lans-key"), "minh": digest("minhs-key")}


@pytest.mark.parametrize(
    ("name", "environ", "problem"),
    [
        ("minh", {"DISPATCHER_OPERATOR_KEY": "minhs-key"}, None),
        ("minh", {"DISPATCHER_OPERATOR_KEY": "lans-key"}, "DISPATCHER_OPERATOR_KEY is not minh's"),
        ("minh", {}, "set DISPATCHER_OPERATOR_KEY to minh's own key"),
        ("khach", {"DISPATCHER_OPERATOR_KEY": "x"}, "'khach' has no key in approval.operator_keys"),
    ],
)
def test_a_name_needs_its_own_key(name: str, environ: dict[str, str], problem: str | None) -> None:
    found = key_problem(name, KEYS, environ)
    assert found is None if problem is None else found is not None and problem in found


def test_without_keys_configured_names_are_taken_as_given() -> None:
    assert key_problem("anyone", {}, {}) is None
