"""Roles, browser sessions and CSRF tokens: the pure part of signing in to ``dispatcher serve``.

A token (:mod:`dispatcher.auth.tokens`) opens a *session*: a second random value of the same
form, given to the browser as an HttpOnly cookie and kept on the server as its SHA-256 digest
only, so a copy of the database opens nothing. A session ends when it expires, at logout, or
when its token expires or is revoked.

Every form that posts carries a CSRF token derived from the session's own secret (HMAC-SHA256
under it): another site can make a browser send the cookie, never read the page to learn the
token, and nothing more needs storing. The login form, before any session, uses a random
value in a short-lived cookie and the same value in the form (double submit). Both are
compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import timedelta

from dispatcher.auth.tokens import TOKEN_BYTES

OPERATOR, AUDITOR, COMMUNE = "operator", "auditor", "commune"
ROLES = (OPERATOR, AUDITOR, COMMUNE)
ROLE_NAMES_VI = {OPERATOR: "cán bộ vận hành", AUDITOR: "kiểm tra (chỉ xem)", COMMUNE: "xã"}
CAN_CHANGE = frozenset({OPERATOR, COMMUNE})  # an auditor reads, and changes nothing

SESSION_COOKIE = "dispatcher_session"
LOGIN_COOKIE = "dispatcher_login"  # the login form's CSRF value, before there is a session
LOGIN_COOKIE_MAX_AGE_S = 3600
_CSRF_PURPOSE = b"dispatcher csrf v1"
_DURATION = re.compile(r"\s*(\d{1,5})\s*([hdw])\s*")
_UNIT_HOURS = {"h": 1, "d": 24, "w": 24 * 7}


def new_secret() -> str:
    """A fresh session secret or login-form value (192 random bits, URL-safe)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def csrf_token(session_secret: str) -> str:
    """The CSRF token of the session whose cookie holds ``session_secret``."""
    mac = hmac.new(session_secret.encode(), _CSRF_PURPOSE, hashlib.sha256)
    return mac.hexdigest()


def csrf_valid(expected: str, given: str | None) -> bool:
    """``given`` (from a form or header) is ``expected``, compared in constant time."""
    if not given or not expected:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


def parse_duration(text: str) -> timedelta | None:
    """``30d``, ``12h`` or ``2w`` as a duration; None when ``text`` is none of these or zero."""
    found = _DURATION.fullmatch(text)
    if found is None or int(found[1]) == 0:
        return None
    return timedelta(hours=int(found[1]) * _UNIT_HOURS[found[2]])


def cookies_secure(setting: bool | str, public_base_url: str | None) -> bool:
    """Whether cookies carry ``Secure``: ``http.secure_cookies`` true or false, or ``auto``:
    when the service is reached over https (``http.public_base_url``)."""
    if isinstance(setting, bool):
        return setting
    return bool(public_base_url and public_base_url.lower().startswith("https://"))
