"""Who is at the keyboard: the one way every command records it (confirmations, opt-outs,
pauses, halts, approvals).

``$DISPATCHER_OPERATOR`` when set, else the login name (``LOGNAME``, ``USER``, ``LNAME``,
``USERNAME``, as :func:`getpass.getuser` looks), else the OS account's name, else its user id.
It names a person for the record; it is not proof of who they are (README, Security).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

ENV_OPERATOR = "DISPATCHER_OPERATOR"
# The operator's standing "yes" to the confirmation before a real send, for scripts.
ENV_ASSUME_YES = "DISPATCHER_ASSUME_YES"
_LOGIN_VARIABLES = ("LOGNAME", "USER", "LNAME", "USERNAME")


def operator(environ: Mapping[str, str] | None = None) -> str:
    """The operator's name from ``environ`` (default: the process's environment)."""
    env = os.environ if environ is None else environ
    for name in (ENV_OPERATOR, *_LOGIN_VARIABLES):
        value = env.get(name, "").strip()
        if value:
            return value
    return _account_name()


def _account_name() -> str:
    try:
        import pwd  # POSIX only

        return pwd.getpwuid(os.getuid()).pw_name
    except (ImportError, KeyError, AttributeError):  # no user database entry (containers)
        return f"uid {os.getuid()}" if hasattr(os, "getuid") else "unknown user"
