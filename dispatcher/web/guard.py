"""Authorisation on every route of ``dispatcher serve``: one middleware, one policy per route.

Each route is added with a :class:`Policy` (:func:`add_route`); a route without one answers 403
to everyone, so a route added carelessly is closed, never open. For a route that is not public
the middleware finds who is asking (a session's cookie, or a token sent with the request:
``?t=``, a form's or JSON body's ``t``, ``Authorization: Bearer``) and refuses with 403:

- a request from nobody, or with a wrong, expired or revoked token;
- a request from a role the route is not for (a commune on the operators' pages);
- a commune's request for another unit's pages (``{key}`` in the path);
- a POST signed in by cookie without the session's CSRF token (form field ``csrf`` or header
  ``X-CSRF-Token``). A POST carrying the token itself needs none: another site cannot know it;
- a POST that changes something, from an auditor.

The handler finds the :class:`~dispatcher.web.access.Principal` in ``request["principal"]``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import NoReturn

from aiohttp import web

from dispatcher.auth.sessions import CAN_CHANGE, ROLES, SESSION_COOKIE, csrf_valid
from dispatcher.bootstrap import Runtime
from dispatcher.web import access, pages
from dispatcher.web.access import LinkRefused, Principal

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
CSRF_FIELD, CSRF_HEADER = "csrf", "X-CSRF-Token"
TOKEN_FIELD = "t"
PAGE_HEADERS = {"Referrer-Policy": "same-origin", "Cache-Control": "no-store"}


@dataclass(frozen=True)
class Policy:
    """Who may use a route: ``roles`` (empty: anyone, the handler checks what it needs, as the
    Twilio routes check signatures); ``changes``: a POST that changes data (never an
    auditor's); ``scoped``: the path's ``{key}`` is a unit, and a commune may only see its own."""

    roles: frozenset[str]
    changes: bool = False
    scoped: bool = False

    @property
    def public(self) -> bool:
        return not self.roles


PUBLIC = Policy(frozenset())
SIGNED_IN = Policy(frozenset(ROLES))  # any role; its POSTs change no data (logout)
VIEW = Policy(frozenset(ROLES), scoped=True)  # a unit's pages
CHANGE = Policy(CAN_CHANGE, changes=True, scoped=True)  # a unit's data, changed
POLICIES = web.AppKey("policies", dict[str, Policy])
RUNTIME = web.AppKey("runtime", Runtime)
PRINCIPAL = web.RequestKey("principal", Principal)


def add_route(
    app: web.Application, method: str, path: str, handler: Handler, policy: Policy, name: str
) -> None:
    """Add a route with the policy the middleware enforces on it."""
    app.setdefault(POLICIES, {})[name] = policy
    app.router.add_route(method, path, handler, name=name)


def policy_of(app: web.Application, name: str | None) -> Policy | None:
    return app.get(POLICIES, {}).get(name or "")


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Enforce the route's policy (see the module's docstring) before its handler runs."""
    if request.match_info.http_exception is not None:  # 404, 405: nothing to guard
        return await handler(request)
    policy = policy_of(request.app, request.match_info.route.name)
    if policy is None:
        log.error("refused %s %s: the route has no access policy", request.method, request.path)
        raise web.HTTPForbidden(text="forbidden\n")
    if policy.public:
        return await handler(request)
    principal = await _principal(request)
    if principal.role not in policy.roles:
        refuse(request, "role", f"{principal.who} may not use {request.match_info.route.name}")
    key = request.match_info.get("key")
    if policy.scoped and key is not None and not principal.may_see(key):
        refuse(request, "unknown", f"{principal.who} asked for unit {key}")
    if request.method == "POST":
        await _check_post(request, policy, principal)
    request[PRINCIPAL] = principal
    return await handler(request)


def principal(request: web.Request) -> Principal:
    """The request's principal, as the middleware found it."""
    return request[PRINCIPAL]


async def _principal(request: web.Request) -> Principal:
    rt = request.app[RUNTIME]
    token = await _token(request)
    if token is not None:
        try:
            return await asyncio.to_thread(access.authenticate, rt, token)
        except LinkRefused as refused:
            refuse(request, refused.reason, "token", refused)
    secret = request.cookies.get(SESSION_COOKIE)
    found = await asyncio.to_thread(access.session_principal, rt, secret) if secret else None
    if found is None:
        refuse(request, "signed-out", "no session" if secret is None else "session ended")
    return found


async def _check_post(request: web.Request, policy: Policy, principal: Principal) -> None:
    if principal.csrf is not None:  # signed in by cookie: the browser may have been sent here
        given = request.headers.get(CSRF_HEADER) or (await _fields(request)).get(CSRF_FIELD)
        if not csrf_valid(principal.csrf, given):
            log.warning("refused %s %s: no valid CSRF token", request.method, request.path)
            raise web.HTTPForbidden(
                text=pages.forbidden_page("csrf"), content_type="text/html", headers=PAGE_HEADERS
            )
    if policy.changes and not principal.can_change:
        log.warning("refused %s %s: %s may not change anything", request.method, request.path,
                    principal.who)  # fmt: skip
        raise web.HTTPForbidden(
            text=pages.forbidden_page("read-only"), content_type="text/html", headers=PAGE_HEADERS
        )


async def _token(request: web.Request) -> str | None:
    """A token sent with the request, if any: ``Authorization: Bearer``, ``?t=``, or for a POST
    the form's or JSON body's ``t``."""
    bearer = request.headers.get("Authorization", "")
    if bearer.startswith("Bearer "):
        return bearer.removeprefix("Bearer ").strip()
    if TOKEN_FIELD in request.query:
        return request.query[TOKEN_FIELD]
    if request.method == "POST":
        return (await _fields(request)).get(TOKEN_FIELD)
    return None


async def _fields(request: web.Request) -> dict[str, str]:
    """The body's fields, read once (aiohttp keeps the body for the handler); an unreadable
    body has none here, and the handler says why it is unreadable."""
    try:
        if request.content_type == "application/json":
            data = await request.json()
            return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}
        form = await request.post()
    except Exception:  # undecodable text, broken multipart, not JSON: the handler's 400
        return {}
    return {key: value for key, value in form.items() if isinstance(value, str)}


def refuse(
    request: web.Request, reason: str, why: str, refused: LinkRefused | None = None
) -> NoReturn:
    """403 with the Vietnamese page for ``reason`` (nothing revealed about others' pages)."""
    log.warning("refused %s %s: %s (%s)", request.method, request.path, reason, why)
    rt = request.app[RUNTIME]
    expires = refused.expires_at if refused else None
    page = pages.refused_page(reason, expires, rt.settings.tz)
    raise web.HTTPForbidden(text=page, content_type="text/html", headers=PAGE_HEADERS)
