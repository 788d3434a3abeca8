"""Access tokens: random, shown once, stored only as their SHA-256 digest.

A token is 192 random bits (``secrets.token_urlsafe``), so nothing about one token tells
anything about another, and a copy of the database cannot open a page: it holds digests only
(a digest of a random 192-bit value cannot be turned back or guessed, so no salt or slow hash
is needed, as for GitHub's or Django REST framework's API tokens). Each token has an expiry and
can be revoked on its own; the table and its checks are in ``dispatcher.store.access`` and
``dispatcher.broadcast.links``.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime
from urllib.parse import quote, urlencode

TOKEN_BYTES = 24  # 192 bits, 32 URL-safe characters
_TOKEN = re.compile(r"[A-Za-z0-9_-]{32}")
PAGE_PREFIX = "/c/"


def token_state(revoked_at: datetime | None, expires_at: datetime, now: datetime) -> str:
    """A token's (or a link's) state: ``active``, ``expired`` or ``revoked``."""
    if revoked_at is not None:
        return "revoked"
    return "expired" if now >= expires_at else "active"


def new_token() -> str:
    """A fresh token, to show its holder once."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_digest(token: str) -> str | None:
    """What is stored of ``token`` and looked up (hex SHA-256); None when ``token`` cannot be
    one of ours (so garbage never reaches the database)."""
    if not _TOKEN.fullmatch(token):
        return None
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def page_path(key: str) -> str:
    """``/c/<key>``: a commune's page (``key``: its unit code), without a token."""
    return PAGE_PREFIX + quote(key, safe="")


def page_url(base_url: str, key: str, token: str) -> str:
    """The link a commune is given: its page with its token."""
    return f"{base_url.rstrip('/')}{page_path(key)}?{urlencode({'t': token})}"
