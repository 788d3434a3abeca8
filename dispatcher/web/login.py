"""Signing in and out of ``dispatcher serve``, and the page a signed-in browser starts from.

- ``GET /login?token=…``: the link ``token create`` prints. It opens a session (an HttpOnly
  cookie) and redirects at once to a URL without the token, so the token stays out of the
  history, the screen and any referrer. A commune's old link (``/c/<key>?t=…``) does the same.
- ``GET /login``: a short form for pasting a token; ``POST /login`` checks it (CSRF: a value
  in a short-lived cookie and in the form, compared in constant time).
- ``POST /logout``: ends the session (CSRF checked by the guard).
- ``GET /``: a commune goes to its page; operators and auditors see the communes' pages.
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from dispatcher.auth import sessions
from dispatcher.auth.sessions import COMMUNE, LOGIN_COOKIE, SESSION_COOKIE
from dispatcher.auth.tokens import page_path
from dispatcher.bootstrap import Runtime
from dispatcher.web import access, guard, pages
from dispatcher.web.access import LinkRefused, Principal

LOGIN_PATH, LOGOUT_PATH, HOME_PATH = "/login", "/logout", "/"


def add_routes(app: web.Application, rt: Runtime) -> None:
    routes = _LoginRoutes(rt)
    guard.add_route(app, "GET", LOGIN_PATH, routes.login_page, guard.PUBLIC, "login-page")
    guard.add_route(app, "POST", LOGIN_PATH, routes.login_form, guard.PUBLIC, "login")
    guard.add_route(app, "POST", LOGOUT_PATH, routes.logout, guard.SIGNED_IN, "logout")
    guard.add_route(app, "GET", HOME_PATH, routes.home, guard.PUBLIC, "home")


def home_of(principal: Principal) -> str:
    """Where a principal lands after signing in: a commune's page, or the start page."""
    if principal.role == COMMUNE and principal.unit_key is not None:
        return page_path(principal.unit_key)
    return HOME_PATH


async def sign_in(
    request: web.Request, rt: Runtime, token: str | None, how: str, target: str | None = None
) -> web.HTTPSeeOther:
    """Open a session with ``token`` and redirect (303) to ``target`` (default: where its holder
    starts), the session cookie set; 403 with the reason in Vietnamese when the token opens
    nothing."""
    try:
        session = await asyncio.to_thread(access.open_session, rt, token, how)
    except LinkRefused as refused:
        guard.refuse(request, refused.reason, f"sign-in by {how}", refused)
    where = target or home_of(session.principal)
    response = web.HTTPSeeOther(where, headers=guard.PAGE_HEADERS)
    http = rt.settings.http
    response.set_cookie(
        SESSION_COOKIE, session.secret, path="/", httponly=True, samesite="Lax",
        secure=sessions.cookies_secure(http.secure_cookies, http.public_base_url),
        max_age=max(1, int((session.expires_at - rt.clock.now()).total_seconds())),
    )  # fmt: skip
    response.del_cookie(LOGIN_COOKIE, path=LOGIN_PATH)
    return response


class _LoginRoutes:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        http = rt.settings.http
        self.secure = sessions.cookies_secure(http.secure_cookies, http.public_base_url)

    async def login_page(self, request: web.Request) -> web.Response:
        if "token" in request.query:
            raise await sign_in(request, self.rt, request.query["token"], "link")
        return self._form()

    async def login_form(self, request: web.Request) -> web.Response:
        form = await request.post()
        given, expected = form.get("csrf"), request.cookies.get(LOGIN_COOKIE, "")
        if not isinstance(given, str) or not sessions.csrf_valid(expected, given):
            return self._form("Biểu mẫu đã hết hạn, xin nhập lại mã.", status=403)
        token = form.get("token")
        if not isinstance(token, str) or not token.strip():
            return self._form("Xin nhập mã truy cập huyện đã cấp.", status=400)
        raise await sign_in(request, self.rt, token.strip(), "form")

    async def logout(self, request: web.Request) -> web.Response:
        await asyncio.to_thread(access.close_session, self.rt, guard.principal(request))
        response = web.HTTPSeeOther(LOGIN_PATH, headers=guard.PAGE_HEADERS)
        response.del_cookie(SESSION_COOKIE, path="/")
        raise response

    async def home(self, request: web.Request) -> web.Response:
        secret = request.cookies.get(SESSION_COOKIE)
        call = access.session_principal
        found = await asyncio.to_thread(call, self.rt, secret) if secret else None
        if found is None:
            raise web.HTTPSeeOther(LOGIN_PATH)
        if found.role == COMMUNE:
            raise web.HTTPSeeOther(home_of(found))
        communes = await asyncio.to_thread(access.commune_pages, self.rt)
        html = pages.home_page(found, communes)
        return web.Response(text=html, content_type="text/html", headers=guard.PAGE_HEADERS)

    def _form(self, error: str | None = None, status: int = 200) -> web.Response:
        value = sessions.new_secret()
        page = pages.login_page(value, error)
        response = web.Response(
            text=page, status=status, content_type="text/html", headers=guard.PAGE_HEADERS
        )
        response.set_cookie(
            LOGIN_COOKIE, value, path=LOGIN_PATH, httponly=True, samesite="Strict",
            secure=self.secure, max_age=sessions.LOGIN_COOKIE_MAX_AGE_S,
        )  # fmt: skip
        return response
