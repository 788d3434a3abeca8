"""Who may use ``dispatcher serve``: tokens for operators, auditors and communes, and the browser
sessions they open.

One table holds every token (``access_tokens``: a SHA-256 digest each, an expiry, revocable):
the communes' page links made by `broadcast link` are commune tokens, and ``token create``
makes any role's. A token works two ways: sent with each request (``?t=``, a form's ``t`` or
``Authorization: Bearer``: scripts that pull scripts and audio, and the links already given
out), or once, to sign a browser in (:func:`open_session`), after which a cookie does.
Signing in and out, and making and revoking tokens, are in the activity log with who did it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

from dispatcher.auth import sessions
from dispatcher.auth.sessions import AUDITOR, CAN_CHANGE, COMMUNE, OPERATOR, ROLES
from dispatcher.auth.tokens import new_token, token_digest, token_state
from dispatcher.bootstrap import Runtime
from dispatcher.broadcast import links
from dispatcher.broadcast.commune_keys import unit_key
from dispatcher.broadcast.links import LinkRefused
from dispatcher.broadcast.units import units_registry
from dispatcher.core.errors import BadInput, Problem
from dispatcher.core.operator import operator
from dispatcher.core.schedule import format_date_vi
from dispatcher.store.models import AccessTokenRow

STAFF_DAYS = 30  # an operator's or auditor's token, unless --expires says otherwise
MAX_NAME_CHARS = 200
__all__ = ["AUDITOR", "COMMUNE", "OPERATOR", "LinkRefused", "Principal"]


@dataclass(frozen=True, kw_only=True)
class Principal:
    """Who a request comes from: a token's role and holder, and its session if it has one."""

    role: str
    name: str  # the holder's name, or the commune's for a link made without one
    token_id: int
    unit_key: str | None  # a commune's unit; None for operators and auditors
    session_id: int | None = None
    csrf: str | None = None  # the session's CSRF token; None: the token came with the request

    @property
    def can_change(self) -> bool:
        return self.role in CAN_CHANGE

    def may_see(self, key: str) -> bool:
        """Whether the pages of unit ``key`` are open to it (a commune sees its own only)."""
        return self.role != COMMUNE or key == self.unit_key

    @property
    def who(self) -> str:
        """For the records: ``auditor:Chị Lan (token 3)``."""
        return f"{self.role}:{self.name} (token {self.token_id})"


@dataclass(frozen=True, kw_only=True)
class NewToken:
    """A token just made: the only time its secret is seen."""

    id: int
    role: str
    name: str
    commune: str | None
    secret: str
    login_url: str
    expires_at: datetime


@dataclass(frozen=True, kw_only=True)
class TokenRecord:
    """A token as listed: never its secret, which is not kept."""

    id: int
    role: str
    name: str | None  # the holder (None for a link made without one)
    commune: str | None
    key: str | None
    created_at: datetime
    created_by: str
    expires_at: datetime
    revoked_at: datetime | None
    revoked_by: str | None

    def state(self, now: datetime) -> str:
        """``active``, ``expired`` or ``revoked``."""
        return token_state(self.revoked_at, self.expires_at, now)


@dataclass(frozen=True)
class Session:
    """A session just opened: the cookie's value (shown to the browser once) and its end."""

    principal: Principal
    secret: str
    expires_at: datetime


# -- tokens, from the command line --------------------------------------------------------------
def create_token(
    rt: Runtime, role: str, name: str, commune: str | None, expires: str | None
) -> NewToken:
    """A new token for ``name`` in ``role``; a commune's names its ``commune``. ``expires``:
    ``30d``, ``12h`` or ``2w`` (default ``http.link_days`` for a commune, 30 days otherwise)."""
    holder = _holder(name)
    key, label = _unit(rt, role, commune)
    days = rt.settings.http.link_days if role == COMMUNE else STAFF_DAYS
    valid = timedelta(days=days) if expires is None else sessions.parse_duration(expires)
    if valid is None or valid > timedelta(days=links.MAX_DAYS):
        message = f"'{expires}' is not a duration like 30d, 12h or 2w (at most {links.MAX_DAYS}d)"
        raise BadInput(Problem(message, field="--expires"))
    secret, now, who = new_token(), rt.clock.now(), operator(rt.environ)
    with rt.uow() as uow:
        row = uow.access.add(
            digest=_digest(secret), role=role, unit_key=key, label=label or holder, by=who,
            now=now, expires_at=now + valid, holder=holder,
        )  # fmt: skip
        token_id = row.id
        where = f", {label} ({key})" if key else ""
        until = _day(rt, now + valid)
        detail = f"{role} {holder}{where}: token {token_id}, valid until {until}; by {who}"
        uow.repo.record_activity("token-created", now, detail=detail)
        uow.commit()
    return NewToken(
        id=token_id, role=role, name=holder, commune=label, secret=secret,
        login_url=f"{base_url(rt)}/login?{urlencode({'token': secret})}",
        expires_at=now + valid,
    )  # fmt: skip


def list_tokens(rt: Runtime, commune: str | None, *, every: bool = False) -> list[TokenRecord]:
    """Every role's tokens, oldest first (a commune's only, if named); active ones only unless
    ``every`` (expired and revoked too)."""
    if commune is not None:
        ids = [link.id for link in links.list_links(rt, commune, every=every)]
        return _records(rt, ids)
    with rt.uow() as uow:
        rows = uow.access.listed(None, None, None if every else rt.clock.now())
        return [_record(row) for row in rows]


def revoke_tokens(
    rt: Runtime, ids: Sequence[int], commune: str | None, reason: str | None = None
) -> list[TokenRecord]:
    """Revoke the tokens of ``ids`` (any role), and every active link of ``commune``; those
    revoked now. Their sessions end with them. An unknown id is BadInput; nothing is revoked."""
    if not ids and commune is None:
        raise BadInput(Problem("name the tokens to revoke, or a commune", field="ID"))
    now, who = rt.clock.now(), operator(rt.environ)
    with rt.uow() as uow:
        found = uow.access.by_ids(ids) if ids else []
        missing = sorted(set(ids) - {row.id for row in found})
        if missing:
            listed = ", ".join(str(i) for i in missing)
            raise BadInput(Problem(f"no such token: {listed} (see `dispatcher token list`)",
                                   field="ID"))  # fmt: skip
        chosen = [row for row in found if row.revoked_at is None]
        uow.access.revoke([row.id for row in chosen], who, now)
        why = f"; {reason}" if reason else ""
        for row in chosen:
            detail = f"{row.role} {row.label}: token {row.id}; by {who}{why}"
            uow.repo.record_activity("token-revoked", now, detail=detail)
        uow.commit()
        revoked = [row.id for row in chosen]
    if commune is not None:
        revoked += [link.id for link in links.revoke_links(rt, [], commune, reason)]
    return _records(rt, sorted(set(revoked)))


# -- requests ----------------------------------------------------------------------------------
def authenticate(rt: Runtime, token: str | None) -> Principal:
    """Who ``token`` (sent with a request) stands for; :class:`LinkRefused` when it is none of
    ours (``unknown``), has expired or was revoked."""
    digest = token_digest(token or "")
    if digest is None:
        raise LinkRefused("unknown")
    with rt.uow() as uow:
        row = uow.access.by_digest(digest)
        if row is None:
            raise LinkRefused("unknown")
        return _principal(rt, row)


def open_session(rt: Runtime, token: str | None, how: str) -> Session:
    """Sign a browser in with ``token`` (``how``: ``link`` or ``form``, for the record): a new
    session until ``http.session_hours`` from now, never past the token's expiry."""
    principal = authenticate(rt, token)
    secret, now = sessions.new_secret(), rt.clock.now()
    with rt.uow() as uow:
        row = uow.access.by_ids([principal.token_id])[0]
        ends = min(now + timedelta(hours=rt.settings.http.session_hours), row.expires_at)
        session_id = uow.access.open_session(_digest(secret), row.id, now, ends).id
        detail = f"{principal.who} signed in by {how}: session {session_id}"
        uow.repo.record_activity("login", now, detail=detail)
        uow.commit()
    signed_in = _with_session(principal, session_id, secret)
    return Session(signed_in, secret, ends)


def session_principal(rt: Runtime, secret: str | None) -> Principal | None:
    """Who the session of the cookie ``secret`` belongs to; None when there is no such session
    or it has ended (expired, logged out, or its token expired or was revoked)."""
    digest = token_digest(secret or "")
    if digest is None:
        return None
    now = rt.clock.now()
    with rt.uow() as uow:
        found = uow.access.session_by_digest(digest)
        if found is None:
            return None
        session, token = found
        if session.ended_at is not None or now >= session.expires_at:
            return None
        try:
            principal = _principal(rt, token)
        except LinkRefused:
            return None
        session_id = session.id
    assert secret is not None
    return _with_session(principal, session_id, secret)


def close_session(rt: Runtime, principal: Principal) -> None:
    """Log out: the session opens nothing from now on."""
    if principal.session_id is None:
        return
    now = rt.clock.now()
    with rt.uow() as uow:
        if uow.access.end_session(principal.session_id, now):
            detail = f"{principal.who} signed out: session {principal.session_id}"
            uow.repo.record_activity("logout", now, detail=detail)
        uow.commit()


def commune_pages(rt: Runtime) -> list[tuple[str, str]]:
    """(unit key, name) of every commune with planned airings, by name: the pages operators and
    auditors may open."""
    with rt.uow() as uow:
        names = uow.repo.airings.communes()
    units = units_registry(rt.settings)
    return sorted({unit_key(name, units): name for name in names}.items(), key=lambda kv: kv[1])


def base_url(rt: Runtime) -> str:
    http = rt.settings.http
    return (http.public_base_url or f"http://{http.host}:{http.port}").rstrip("/")


# -- helpers -----------------------------------------------------------------------------------
def _holder(name: str) -> str:
    holder = " ".join(name.split())
    if not holder or len(holder) > MAX_NAME_CHARS:
        message = f"the name of the person given the token (1 to {MAX_NAME_CHARS} characters)"
        raise BadInput(Problem(message, field="--name"))
    return holder


def _unit(rt: Runtime, role: str, commune: str | None) -> tuple[str | None, str | None]:
    if role not in ROLES:
        raise BadInput(Problem(f"'{role}' is not one of {', '.join(ROLES)}", field="--role"))
    if role != COMMUNE:
        if commune is not None:
            message = f"only a commune's token is bound to a commune, not an {role}'s"
            raise BadInput(Problem(message, field="--commune"))
        return None, None
    if commune is None:
        raise BadInput(Problem("a commune's token needs its commune", field="--commune"))
    return links.commune_key(rt, commune)


def _principal(rt: Runtime, row: AccessTokenRow) -> Principal:
    if row.revoked_at is not None:
        raise LinkRefused("revoked")
    if rt.clock.now() >= row.expires_at:
        raise LinkRefused("expired", row.expires_at)
    return Principal(
        role=row.role, name=row.holder or row.label, token_id=row.id, unit_key=row.unit_key
    )


def _with_session(principal: Principal, session_id: int, secret: str) -> Principal:
    return Principal(
        role=principal.role, name=principal.name, token_id=principal.token_id,
        unit_key=principal.unit_key, session_id=session_id, csrf=sessions.csrf_token(secret),
    )  # fmt: skip


def _records(rt: Runtime, ids: Sequence[int]) -> list[TokenRecord]:
    if not ids:
        return []
    with rt.uow() as uow:
        return [_record(row) for row in uow.access.by_ids(ids)]


def _record(row: AccessTokenRow) -> TokenRecord:
    return TokenRecord(
        id=row.id, role=row.role, name=row.holder,
        commune=row.label if row.role == COMMUNE else None, key=row.unit_key,
        created_at=row.created_at, created_by=row.created_by, expires_at=row.expires_at,
        revoked_at=row.revoked_at, revoked_by=row.revoked_by,
    )  # fmt: skip


def _digest(secret: str) -> str:
    digest = token_digest(secret)
    assert digest is not None  # new_token and new_secret make values of the checked form
    return digest


def _day(rt: Runtime, moment: datetime) -> str:
    return format_date_vi(moment.astimezone(rt.settings.tz).date())
