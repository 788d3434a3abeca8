"""Per-commune tokens: ``HMAC-SHA256(secret, "commune:" + slug)``, never stored anywhere.

One secret, ``$DISPATCHER_SECRET_KEY``, from the environment only. A commune's token opens its
own page and nothing else; changing the secret revokes every link at once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
from collections import Counter
from collections.abc import Mapping
from urllib.parse import quote, urlencode

from dispatcher.core.errors import ConfigError, Problem

SECRET_ENV = "DISPATCHER_SECRET_KEY"
# One commune's link lets anyone test guesses of the secret offline, as fast as a machine can
# hash: the secret must be random and long. 32 characters of a random hex or base64 string
# carry 128 bits or more; a word repeated, or spaces, carries next to nothing. The estimate
# below catches those (a 128-bit hex key scores ~120, "passwordpassword…" 22); it cannot know a
# famous phrase, so the README and the error say how to make a random one.
MIN_SECRET_CHARS = 32
MIN_SECRET_BITS = 100  # of estimated_bits
MAKE_ONE = "make one with: openssl rand -hex 32"
TOKEN_CHARS = 32  # of the URL-safe base64 digest: 192 bits, plenty against guessing online
PAGE_PREFIX = "/c/"


def secret_key(environ: Mapping[str, str]) -> str:
    """The secret the tokens are made with; :class:`ConfigError` when unset or too short."""
    secret = environ.get(SECRET_ENV, "")
    if not secret:
        message = f"set {SECRET_ENV} (a long random secret) to give communes their page links"
        raise ConfigError(Problem(message, field=SECRET_ENV))
    if len(secret) < MIN_SECRET_CHARS:
        message = f"must be at least {MIN_SECRET_CHARS} random characters; {MAKE_ONE}"
        raise ConfigError(Problem(message, field=SECRET_ENV))
    if estimated_bits(secret) < MIN_SECRET_BITS:
        message = f"is not random enough to keep the links unguessable; {MAKE_ONE}"
        raise ConfigError(Problem(message, field=SECRET_ENV))
    return secret


def estimated_bits(secret: str) -> float:
    """An upper bound on the secret's randomness: its length times the entropy of its
    characters' frequencies. Low for repeats and small alphabets ("passwordpassword…", spaces);
    ~4 bits a character for `openssl rand -hex`, ~5.5 for base64."""
    counts = Counter(secret)
    per_char = -sum(n / len(secret) * math.log2(n / len(secret)) for n in counts.values())
    # A word repeated has a varied alphabet but no more randomness than the word once.
    distinct_chunks = len({secret[i : i + 4] for i in range(0, len(secret), 4)})
    repeats = distinct_chunks / max(1, math.ceil(len(secret) / 4))
    return per_char * len(secret) * repeats


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
