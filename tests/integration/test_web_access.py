"""Tokens, sessions and the guard of ``dispatcher serve`` on SQLite and PostgreSQL: tokens stored
as digests, expiry and revocation (of tokens and of the sessions they opened), sign-in by link
and form, the cookie, CSRF on every POST, auditors changing nothing, communes seeing their own."""

# ruff: noqa: F811 (the fixtures rt and folder are those of test_commune_web, imported)
from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from dispatcher.bootstrap import Runtime
from dispatcher.core.errors import BadInput
from dispatcher.store.models import AccessTokenRow, ActivityRow, WebSessionRow
from dispatcher.web import access, guard
from dispatcher.web.access import LinkRefused
from dispatcher.web.service import build_app
from tests.fakes import FakeClock
from tests.integration.test_commune_web import (  # noqa: F401 (fixtures)
    FORM,
    PAGE,
    TAN_DOAN,
    confirmations,
    folder,
    rt,
)

T = TypeVar("T")
Steps = Callable[[TestClient[Any, Any]], Awaitable[T]]
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def serve(rt: Runtime, steps: Steps[T]) -> T:
    async def main() -> T:
        async with TestClient(TestServer(build_app(rt, "auth-token"))) as client:
            return await steps(client)

    return asyncio.run(main())


def token(rt: Runtime, role: str, commune: str | None = None, expires: str | None = None) -> str:
    return access.create_token(rt, role, f"Chị {role}", commune, expires).secret


async def sign_in(client: TestClient[Any, Any], secret: str) -> str:
    """Open the login link; the CSRF token of the page it leads to."""
    page = await client.get(f"/login?token={secret}")
    assert page.status == 200, await page.text()
    found = CSRF.search(await page.text())
    assert found is not None
    return found[1]


def activities(rt: Runtime, kind: str) -> list[str]:
    with rt.uow() as uow:
        query = select(ActivityRow.detail).where(ActivityRow.kind == kind).order_by(ActivityRow.id)
        return [str(d) for d in uow.repo.session.scalars(query)]


# -- storage, expiry, revocation -------------------------------------------------------------------
def test_tokens_are_stored_as_digests_and_listed_without_them(rt: Runtime) -> None:
    rt.environ = {"DISPATCHER_OPERATOR": "thu"}
    made = access.create_token(rt, "auditor", "  Chị   Lan ", None, "30d")
    commune = access.create_token(rt, "commune", "Anh Tú", "Tân Đoàn", None)
    assert made.login_url == f"http://127.0.0.1:8080/login?token={made.secret}"
    assert (made.role, made.name, made.commune) == ("auditor", "Chị Lan", None)
    assert made.expires_at == rt.clock.now() + timedelta(days=30)
    assert (commune.commune, commune.expires_at) == ("Xã Tân Đoàn", rt.clock.now() + timedelta(180))
    with rt.uow() as uow:
        rows = uow.repo.session.scalars(select(AccessTokenRow)).all()
        stored = " ".join(str(v) for row in rows for v in vars(row).values())
    assert made.secret not in stored and commune.secret not in stored
    listed = [(r.id, r.role, r.name, r.key) for r in access.list_tokens(rt, None)]
    assert listed[-2:] == [(made.id, "auditor", "Chị Lan", None),
                           (commune.id, "commune", "Anh Tú", "06307")]  # fmt: skip
    assert [r.id for r in access.list_tokens(rt, "06307")][-1] == commune.id
    created = activities(rt, "token-created")
    assert created[-2].startswith(f"auditor Chị Lan: token {made.id}, valid until ")
    assert created[-2].endswith("; by thu")  # who made it
    assert f"commune Anh Tú, Xã Tân Đoàn (06307): token {commune.id}" in created[-1]


@pytest.mark.parametrize(
    ("role", "name", "commune", "expires", "field"),
    [("commune", "A", None, None, "--commune"), ("auditor", "A", "Tân Đoàn", None, "--commune"),
     ("auditor", "A", None, "30", "--expires"), ("auditor", "A", None, "9999d", "--expires"),
     ("auditor", " ", None, None, "--name"), ("admin", "A", None, None, "--role"),
     ("commune", "A", "Hà Nội", None, "--commune")],
)  # fmt: skip
def test_bad_requests_name_their_option_and_make_nothing(
    rt: Runtime, role: str, name: str, commune: str | None, expires: str | None, field: str
) -> None:
    before = len(access.list_tokens(rt, None, every=True))
    with pytest.raises(BadInput) as caught:
        access.create_token(rt, role, name, commune, expires)
    assert caught.value.problems[0].field == field
    assert len(access.list_tokens(rt, None, every=True)) == before


def test_an_expired_token_and_its_sessions_open_nothing(rt: Runtime) -> None:
    clock = rt.clock
    assert isinstance(clock, FakeClock)
    secret = token(rt, "auditor", expires="2d")
    session = access.open_session(rt, secret, "link")
    assert session.expires_at == clock.now() + timedelta(hours=12)  # http.session_hours
    assert access.session_principal(rt, session.secret) == session.principal
    clock.advance(timedelta(hours=12))
    assert access.session_principal(rt, session.secret) is None  # the session's own end
    again = access.open_session(rt, secret, "form")
    clock.advance(timedelta(days=2))
    assert access.session_principal(rt, again.secret) is None  # the token's end
    with pytest.raises(LinkRefused) as refused:
        access.authenticate(rt, secret)
    assert refused.value.reason == "expired"


def test_a_session_never_outlives_its_token(rt: Runtime) -> None:
    session = access.open_session(rt, token(rt, "operator", expires="3h"), "link")
    assert session.expires_at == rt.clock.now() + timedelta(hours=3)


def test_revoking_a_token_signs_its_browsers_out_and_no_other(rt: Runtime) -> None:
    rt.environ = {"DISPATCHER_OPERATOR": "thu"}
    lan, minh = token(rt, "auditor"), token(rt, "operator")
    lan_session, minh_session = (access.open_session(rt, s, "link") for s in (lan, minh))
    lan_id = lan_session.principal.token_id
    with pytest.raises(BadInput):
        access.revoke_tokens(rt, [lan_id, 999], None)  # one unknown: nothing revoked
    assert access.session_principal(rt, lan_session.secret) is not None
    done = access.revoke_tokens(rt, [lan_id], None, "left the office")
    assert [(r.id, r.state(rt.clock.now())) for r in done] == [(lan_id, "revoked")]
    assert access.session_principal(rt, lan_session.secret) is None
    assert access.session_principal(rt, minh_session.secret) is not None
    with pytest.raises(LinkRefused) as refused:
        access.authenticate(rt, lan)
    assert refused.value.reason == "revoked"
    assert access.revoke_tokens(rt, [lan_id], None) == []  # once is enough
    assert activities(rt, "token-revoked") == [
        f"auditor Chị auditor: token {lan_id}; by thu; left the office"
    ]


def test_garbage_is_never_looked_up(rt: Runtime) -> None:
    for value in ("", "short", "x" * 32, "ä" * 32):
        with pytest.raises(LinkRefused):
            access.authenticate(rt, value)
        assert access.session_principal(rt, value) is None


# -- sign-in, cookie, logout ---------------------------------------------------------------------
def test_the_login_link_sets_a_safe_cookie_and_drops_the_token(rt: Runtime) -> None:
    secret = token(rt, "auditor")

    async def steps(client: TestClient[Any, Any]) -> tuple[Any, ...]:
        link = await client.get(f"/login?token={secret}", allow_redirects=False)
        home = await client.get("/")
        csrf = CSRF.findall(await home.text())
        refused = await client.post("/logout", data={}, allow_redirects=False)
        out = await client.post("/logout", data={"csrf": csrf[0]}, allow_redirects=False)
        after = await client.get("/", allow_redirects=False)
        return link, home.status, refused.status, out, after

    link, home, refused, out, after = serve(rt, steps)
    assert link.status == 303 and link.headers["Location"] == "/"  # no token in it
    cookie = link.cookies["dispatcher_session"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["path"] == "/"
    assert not cookie["secure"]  # http.public_base_url is not https here
    assert secret not in cookie.value
    assert link.headers["Cache-Control"] == "no-store"
    assert (home, refused) == (200, 403)  # logout too needs the CSRF token
    assert out.status == 303 and out.headers["Location"] == "/login"
    assert after.status == 303 and after.headers["Location"] == "/login"  # signed out for good
    assert [d.split(":")[0] for d in activities(rt, "login")] == ["auditor"]
    assert "signed in by link: session 1" in activities(rt, "login")[0]
    assert activities(rt, "logout")[0].endswith("signed out: session 1")


def test_the_login_form_checks_its_csrf_value_and_the_token(rt: Runtime) -> None:
    secret = token(rt, "commune", "Tân Đoàn")

    async def steps(client: TestClient[Any, Any]) -> list[tuple[int, str]]:
        answers = []
        for given, csrf_given in ((secret, None), (secret, "x" * 32), ("wrong", ""),
                                  (secret, "")):  # fmt: skip
            form = await client.get("/login")  # its value, in a cookie and in the form
            csrf = CSRF.findall(await form.text())[0]
            data = {"token": given} | ({} if csrf_given is None else {"csrf": csrf_given or csrf})
            posted = await client.post("/login", data=data, allow_redirects=False)
            answers.append((posted.status, posted.headers.get("Location", "")))
        return answers

    assert serve(rt, steps) == [(403, ""), (403, ""), (403, ""), (303, PAGE)]
    with rt.uow() as uow:
        assert len(uow.repo.session.scalars(select(WebSessionRow)).all()) == 1


# -- the guard on every route ------------------------------------------------------------------
def test_every_route_has_a_policy_and_only_sign_in_and_out_post_without_changing(
    rt: Runtime,
) -> None:
    app = build_app(rt, "auth-token")
    posts = {}
    for route in app.router.routes():
        policy = guard.policy_of(app, route.name)
        assert policy is not None, f"{route.method} {route.resource} has no access policy"
        if route.method == "POST":
            posts[route.resource.canonical if route.resource else ""] = policy
    assert {path for path, p in posts.items() if not p.changes} == {
        "/login", "/logout", "/twilio/status", "/twilio/inbound",  # Twilio's: signed, or 403
        "/audit/verify",  # reads the whole log again: an auditor's to ask for
    }  # fmt: skip


def test_every_route_refuses_the_roles_it_is_not_for(rt: Runtime) -> None:
    """The guard, not each handler, keeps a role off the routes of the others: a commune off
    the operators' and auditors' pages, an auditor off the operators'."""
    app = build_app(rt, "auth-token")
    closed = sorted(
        (role, route.method, route.resource.canonical.replace("{key}", "06307"))
        for route in app.router.routes()
        if route.resource is not None
        for policy in [guard.policy_of(app, route.name)]
        if policy is not None and not policy.public
        for role in ("operator", "auditor", "commune")
        if role not in policy.roles
    )
    secrets = {role: token(rt, role, "06307" if role == "commune" else None)
               for role in ("operator", "auditor", "commune")}  # fmt: skip

    async def steps(client: TestClient[Any, Any]) -> list[tuple[str, str, str, int]]:
        statuses = []
        for role, method, path in closed:
            headers = {"Authorization": f"Bearer {secrets[role]}"}
            answer = await client.request(method, path, headers=headers, allow_redirects=False)
            statuses.append((role, method, path, answer.status))
        return statuses

    statuses = serve(rt, steps)
    assert {role for role, _, path in closed if path.startswith("/ops")} == {"auditor", "commune"}
    assert {role for role, _, path in closed if path.startswith("/audit")} == {"commune"}
    assert [s for s in statuses if s[3] != 403] == []


def test_the_guard_checks_the_role_before_the_handler_runs(rt: Runtime) -> None:
    app = build_app(rt, "auth-token")
    reached: list[str] = []

    async def handler(request: web.Request) -> web.Response:
        reached.append(guard.principal(request).role)
        return web.Response(text="ok")

    operators_only = guard.Policy(frozenset({"operator"}))
    guard.add_route(app, "GET", "/operators-only", handler, operators_only, "operators-only")
    secrets = {role: token(rt, role, "06307" if role == "commune" else None)
               for role in ("operator", "auditor", "commune")}  # fmt: skip

    async def main() -> list[int]:
        async with TestClient(TestServer(app)) as client:
            return [
                (
                    await client.get("/operators-only", headers={"Authorization": f"Bearer {s}"})
                ).status
                for s in secrets.values()
            ]

    assert asyncio.run(main()) == [200, 403, 403]
    assert reached == ["operator"]


def test_an_auditor_is_refused_every_post(rt: Runtime) -> None:
    secret = token(rt, "auditor")
    app = build_app(rt, "auth-token")
    changing = sorted(
        route.resource.canonical.replace("{key}", "06307")
        for route in app.router.routes()
        if route.method == "POST" and route.resource is not None
        for policy in [guard.policy_of(app, route.name)]
        if policy is not None and policy.changes
    )

    async def steps(client: TestClient[Any, Any]) -> dict[str, int]:
        csrf = await sign_in(client, secret)
        statuses = {}
        for path in changing:
            posted = await client.post(path, data={**FORM, "csrf": csrf}, allow_redirects=False)
            statuses[path] = posted.status
        page = await client.get(PAGE)
        statuses["page"] = page.status
        statuses["buttons"] = (await page.text()).count("Đã phát</button>")
        return statuses

    statuses = serve(rt, steps)
    assert len(changing) >= 3 and all(statuses[path] == 403 for path in changing), statuses
    assert (statuses["page"], statuses["buttons"]) == (200, 0)  # reads, no button
    assert confirmations(rt) == 0


def test_a_cookie_post_without_the_csrf_token_changes_nothing(rt: Runtime) -> None:
    secret = token(rt, "commune", "06307")

    async def steps(client: TestClient[Any, Any]) -> list[int]:
        csrf = await sign_in(client, secret)
        statuses = []
        for extra in ({}, {"csrf": "0" * 64}, {"csrf": csrf}):
            posted = await client.post(f"{PAGE}/confirm", data={**FORM, **extra},
                                       allow_redirects=False)  # fmt: skip
            statuses.append(posted.status)
        return statuses

    assert serve(rt, steps) == [403, 403, 303]
    assert confirmations(rt) == 1


def test_a_commune_sees_its_own_unit_only_and_an_operator_every_one(rt: Runtime) -> None:
    commune, operator = token(rt, "commune", "06307"), token(rt, "operator")
    others = ["/c/06301", "/c/06301/airings.json", "/c/06301/script/loa-thu/2024-10-14T0600.txt"]

    async def steps(client: TestClient[Any, Any]) -> tuple[list[int], list[int], int]:
        csrf = await sign_in(client, commune)
        theirs = [(await client.get(path)).status for path in others]
        posted = await client.post("/c/06301/confirm", data={**FORM, "csrf": csrf})
        own = (await client.get(f"{PAGE}/airings.json")).status
        await sign_in(client, operator)
        every = [(await client.get(path)).status for path in others]
        return [*theirs, posted.status], every, own

    theirs, every, own = serve(rt, steps)
    assert theirs == [403, 403, 403, 403] and own == 200
    assert every[0] == 200 and every[1] == 200  # the script is 404: not a commune of the plan
    assert confirmations(rt) == 0


def test_links_given_out_before_keep_working_for_scripts(rt: Runtime) -> None:
    async def steps(client: TestClient[Any, Any]) -> list[int]:
        return [
            (await client.get(f"{PAGE}/airings.json?t={TAN_DOAN}")).status,
            (await client.get(f"{PAGE}/airings.json",
                              headers={"Authorization": f"Bearer {TAN_DOAN}"})).status,
            (await client.post(f"{PAGE}/confirm", json={**FORM, "t": TAN_DOAN})).status,
        ]  # fmt: skip

    assert serve(rt, steps) == [200, 200, 201]
