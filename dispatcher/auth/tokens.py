"""Per-commune tokens: ``HMAC-SHA256(secret, "commune:" + slug)``, never stored anywhere.

One secret, ``$DISPATCHER_SECRET_KEY``, from the environment only. A commune's token opens its
own page and nothing else; changing the secret revokes every link at once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from urllib.parse import quote, urlencode

from dispatcher.core.errors import ConfigError, Problem

SECRET_ENV = "DISPATCHER_SECRET_KEY"
MIN_SECRET_CHARS = 16  # a short secret would make the tokens guessable offline
TOKEN_CHARS = 32  # of the URL-safe base64 digest: 192 bits, plenty against guessing online
PAGE_PREFIX = "/c/"


def secret_key(environ: Mapping[str, str]) -> str:
    """The secret the tokens are made with; :class:`ConfigError` when unset or too short."""
    secret = environ.get(SECRET_ENV, "")
    if not secret:
        message = f"set {SECRET_ENV} (a long random secret) to give communes their page links"
        raise ConfigError(Problem(message, field=SECRET_ENV))
    if len(secret) < MIN_SECRET_CHARS:
        message = f"must be at least {MIN_SECRET_CHARS} characters (e.g. openssl rand -hex 32)"
        raise ConfigError(Problem(message, field=SECRET_ENV))
    return secret


def commune_token(secret: str, slug: str) -> str:
    """The commune's token: URL-safe, the same for the same secret and slug."""
    digest = hmac.digest(secret.encode(), f"commune:{slug}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(digest).decode("ascii")[:TOKEN_CHARS]


def token_matches(secret: str, slug: str, token: str | None) -> bool:
    """Whether ``token`` is the commune's (compared in constant time)."""
    if not token:
        return False
    return hmac.compare_digest(commune_token(secret, slug).encode(), token.encode())


def page_path(slug: str) -> str:
    """``/c/<slug>``: the commune's page, without its token."""
    return PAGE_PREFIX + quote(slug, safe="")


def page_url(base_url: str, slug: str, token: str) -> str:
    """The link a commune is given: its page with its token."""
    return f"{base_url.rstrip('/')}{page_path(slug)}?{urlencode({'t': token})}"
