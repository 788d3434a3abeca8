"""Commune page links: made, listed and revoked by the district; checked on every request.

A link is ``<base>/c/<unit key>?t=<token>``: the key is the commune's code in the units
registry (:mod:`dispatcher.broadcast.commune_keys`), the token 192 random bits kept only as a
digest (:mod:`dispatcher.auth.tokens`). Each link has its own expiry (``http.link_days``,
or ``--days``) and can be revoked alone, or all of a commune's at once, without touching any
other commune's. Making and revoking a link are in the activity log, with who did it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from dispatcher.auth.tokens import new_token, page_url, token_digest, token_state
from dispatcher.bootstrap import Runtime
from dispatcher.broadcast.commune_keys import matching_names, names_for_key, unit_key
from dispatcher.broadcast.units import units_registry
from dispatcher.core.errors import BadInput, Problem
from dispatcher.core.operator import operator
from dispatcher.core.schedule import format_date_vi
from dispatcher.store.access import AccessTokenRepository
from dispatcher.store.models import AccessTokenRow

ROLE = "commune"
MAX_DAYS = 3650  # ten years: longer is a typing mistake


@dataclass(frozen=True, kw_only=True)
class CommuneLink:
    """A link just made: the only time its token is seen."""

    id: int
    commune: str
    key: str
    url: str
    expires_at: datetime


@dataclass(frozen=True, kw_only=True)
class LinkRecord:
    """A link as listed: never its token, which is not kept."""

    id: int
    commune: str
    key: str
    created_at: datetime
    created_by: str
    expires_at: datetime
    revoked_at: datetime | None
    revoked_by: str | None

    def state(self, now: datetime) -> str:
        """``active``, ``expired`` or ``revoked``."""
        return token_state(self.revoked_at, self.expires_at, now)


@dataclass(frozen=True)
class PageAccess:
    """A request's right to one commune's pages: its key, and the link (by id) it came with."""

    key: str
    link_id: int


class LinkRefused(Exception):
    """A request's token opens no page: ``reason`` is ``unknown``, ``expired`` or ``revoked``
    (another commune's token is ``unknown``: a page never says whose a token is)."""

    def __init__(self, reason: str, expires_at: datetime | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.expires_at = expires_at


def issue_link(rt: Runtime, commune: str, days: int | None = None) -> CommuneLink:
    """A new link to the page of ``commune`` (a name, bare name, code or folder slug of a
    commune with planned airings), valid ``days`` (default ``http.link_days``)."""
    valid_days = rt.settings.http.link_days if days is None else days
    if not 1 <= valid_days <= MAX_DAYS:
        raise BadInput(Problem(f"{valid_days} is not a number of days from 1 to {MAX_DAYS}",
                               field="--days"))  # fmt: skip
    key, name = commune_key(rt, commune)
    token, now = new_token(), rt.clock.now()
    expires_at = now + timedelta(days=valid_days)
    who = operator(rt.environ)
    with rt.uow() as uow:
        row = uow.access.add(
            digest=_digest(token), role=ROLE, unit_key=key, label=name, by=who, now=now,
            expires_at=expires_at,
        )  # fmt: skip
        link_id = row.id
        detail = f"{name} ({key}): link {link_id}, valid until {_day(rt, expires_at)}; by {who}"
        uow.repo.record_activity("link-issued", now, detail=detail)
        uow.commit()
    http = rt.settings.http
    base = http.public_base_url or f"http://{http.host}:{http.port}"
    url = page_url(base, key, token)
    return CommuneLink(id=link_id, commune=name, key=key, url=url, expires_at=expires_at)


def commune_key(rt: Runtime, written: str, field: str = "--commune") -> tuple[str, str]:
    """The unit key of the one commune ``written`` names (a name, bare name, code or folder
    slug of a commune with planned airings), and the name to show for it; else BadInput."""
    with rt.uow() as uow:
        known = uow.repo.airings.communes()
    return _one_key(written, known, field, rt)


def list_links(rt: Runtime, commune: str | None, *, every: bool = False) -> list[LinkRecord]:
    """The communes' links, oldest first (of one commune, if named); active ones only unless
    ``every`` (expired and revoked too)."""
    with rt.uow() as uow:
        keys = _keys(rt, uow.repo.airings.communes(), uow.access, commune)
        rows = uow.access.listed(ROLE, keys, None if every else rt.clock.now())
        return [_record(row) for row in rows]


def revoke_links(
    rt: Runtime, ids: Sequence[int], commune: str | None, reason: str | None = None
) -> list[LinkRecord]:
    """Revoke the links of ``ids``, and every active link of ``commune``; the links revoked
    now. An unknown id is :class:`BadInput` and nothing is revoked."""
    if not ids and commune is None:
        raise BadInput(Problem("name the links to revoke, or a commune", field="ID"))
    now, who = rt.clock.now(), operator(rt.environ)
    with rt.uow() as uow:
        found = uow.access.by_ids(ids) if ids else []
        missing = sorted(set(ids) - {row.id for row in found if row.role == ROLE})
        if missing:
            listed = ", ".join(str(i) for i in missing)
            raise BadInput(Problem(f"no such link: {listed} (see `dispatcher token list`)",
                                   field="ID"))  # fmt: skip
        if commune is not None:
            keys = _keys(rt, uow.repo.airings.communes(), uow.access, commune)
            found += uow.access.listed(ROLE, keys, now)
        chosen = [row for row in {row.id: row for row in found}.values() if row.revoked_at is None]
        uow.access.revoke([row.id for row in chosen], who, now)
        why = f"; {reason}" if reason else ""
        for row in chosen:
            detail = f"{row.label} ({row.unit_key}): link {row.id}; by {who}{why}"
            uow.repo.record_activity("link-revoked", now, detail=detail)
        uow.commit()
        revoked = [row.id for row in chosen]
    with rt.uow() as uow:
        return [_record(row) for row in uow.access.by_ids(revoked)]


def check_link(rt: Runtime, key: str, token: str | None) -> PageAccess:
    """The request's access to the page of ``key``; :class:`LinkRefused` unless ``token`` is
    an active link made for exactly that key."""
    digest = token_digest(token or "")
    if digest is None:
        raise LinkRefused("unknown")
    with rt.uow() as uow:
        row = uow.access.by_digest(digest)
        found = None if row is None or row.role != ROLE else _record(row)
    if found is None or found.key != key:
        raise LinkRefused("unknown")
    state = found.state(rt.clock.now())
    if state != "active":
        raise LinkRefused(state, found.expires_at)
    return PageAccess(key, found.id)


def _one_key(written: str, known: Sequence[str], field: str, rt: Runtime) -> tuple[str, str]:
    """The unit key of the one commune ``written`` names, and the name to show for it."""
    units = units_registry(rt.settings)
    listed = ", ".join(known) or "none: register a campaign with `dispatcher broadcast scripts`"
    unknown = f"'{written}' is not a commune with planned airings (communes: {listed})"
    names = matching_names(written, units, known, field, unknown)
    keys = sorted({unit_key(name, units) for name in names})
    if len(keys) > 1:
        message = f"'{written}' stands for several communes ({', '.join(keys)}): give the code"
        raise BadInput(Problem(message, field=field))
    planned = names_for_key(keys[0], units, known)
    return keys[0], (planned or names)[-1]


def _keys(
    rt: Runtime, planned: Sequence[str], access: AccessTokenRepository, commune: str | None
) -> set[str] | None:
    """The unit keys ``commune`` stands for, among the plan's communes and those with links;
    None (every key) when no commune is named."""
    if commune is None:
        return None
    labelled = [row.label for row in access.listed(ROLE, None, None)]
    known = sorted(set(planned) | set(labelled))
    units = units_registry(rt.settings)
    listed = ", ".join(known) or "none"
    unknown = f"'{commune}' has no links and no planned airings (communes: {listed})"
    names = matching_names(commune, units, known, "--commune", unknown)
    return {unit_key(name, units) for name in names}


def _record(row: AccessTokenRow) -> LinkRecord:
    return LinkRecord(
        id=row.id, commune=row.label, key=row.unit_key or "", created_at=row.created_at,
        created_by=row.created_by, expires_at=row.expires_at, revoked_at=row.revoked_at,
        revoked_by=row.revoked_by,
    )  # fmt: skip


def _digest(token: str) -> str:
    digest = token_digest(token)
    assert digest is not None  # new_token makes tokens of the checked form
    return digest


def _day(rt: Runtime, moment: datetime) -> str:
    return format_date_vi(moment.astimezone(rt.settings.tz).date())
