"""Operator keys: what binds the two-person rule to people, not to a name anyone can type.

``$DISPATCHER_OPERATOR`` says who is at the keyboard, and anyone can set it: in one shell an
operator could approve as "minh" and send as "lan". With ``approval.operator_keys`` set, each
operator also holds a random key of their own, in their own environment
(``$DISPATCHER_OPERATOR_KEY``); config.yaml keeps only its SHA-256, which reveals nothing of a
random 256-bit key. A name is then accepted only with its key, for `approve` and for a send that
needs an approval, so approving as someone else needs their key.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping

ENV_OPERATOR_KEY = "DISPATCHER_OPERATOR_KEY"
KEY_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


def new_key() -> tuple[str, str]:
    """(a new random key for an operator, the digest to put in config.yaml)."""
    key = secrets.token_urlsafe(32)
    return key, digest(key)


def digest(key: str) -> str:
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def key_problem(name: str, keys: Mapping[str, str], environ: Mapping[str, str]) -> str | None:
    """Why ``name`` may not act (None: it may): no key configured for it, none given, or
    another one. Compared in constant time."""
    if not keys:
        return None
    wanted = keys.get(name)
    if wanted is None:
        return f"'{name}' has no key in approval.operator_keys ({', '.join(sorted(keys))})"
    given = environ.get(ENV_OPERATOR_KEY, "")
    if not given:
        return f"set {ENV_OPERATOR_KEY} to {name}'s own key (approval.operator_keys is set)"
    if not hmac.compare_digest(digest(given).encode(), wanted.encode()):
        return f"{ENV_OPERATOR_KEY} is not {name}'s key"
    return None
