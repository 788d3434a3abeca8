"""`dispatcher serve` as a subprocess with the default configuration (the built-in simulator, no
Twilio variables), and who may do what on it: tokens from `dispatcher token create`, sign-in by
link, the cookie's flags, CSRF refusal, an auditor refused every POST route, communes kept to
their own unit."""

from __future__ import annotations

import http.cookiejar
import re
import signal
import urllib.error
import urllib.parse
import urllib.request
from types import SimpleNamespace
from typing import Any, cast

from dispatcher.bootstrap import Runtime
from dispatcher.settings.config import Settings
from dispatcher.web.service import build_app
from tests.acceptance.conftest import Workspace
from tests.acceptance.test_serve import _free_port, _read, _serving

SAMPLE = "campaigns/2g-shutdown-2024.yaml"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
FORM = {"campaign": "2g-shutdown-2024", "at": "2024-10-02T06:00:00+07:00"}


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # the 303 itself is the answer to look at


class Browser:
    """urllib with a cookie jar, redirects not followed: what a browser sends and is told."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect()
        )

    def request(self, path: str, form: dict[str, str] | None = None) -> tuple[int, Any, str]:
        data = None if form is None else urllib.parse.urlencode(form).encode()
        try:
            with self.opener.open(self.base + path, data=data, timeout=10) as resp:
                return resp.status, resp.headers, resp.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.headers, exc.read().decode()

    def sign_in(self, link: str) -> str:
        """Open a login link; the CSRF token of the page it leads to."""
        status, headers, _ = self.request(link)
        assert status == 303, status
        status, _, page = self.request(headers["Location"])
        assert status == 200, page
        return CSRF.findall(page)[0]


def _made(ws: Workspace, *args: str) -> str:
    """`token create ARGS`: its login link's path and query (the port is the test's own)."""
    result = ws.run("token", "create", *args)
    assert result.returncode == 0, result.stdout + result.stderr
    link = result.stdout.splitlines()[1]
    assert link.startswith("http://127.0.0.1:8080/login?token=")
    return link.removeprefix("http://127.0.0.1:8080")


def _post_routes() -> list[str]:
    """Every POST route of the service, as its application declares them."""
    rt = cast(Runtime, SimpleNamespace(settings=Settings()))
    app = build_app(rt, "unused")
    return sorted(
        route.resource.canonical.replace("{key}", "06307")
        for route in app.router.routes()
        if route.method == "POST" and route.resource is not None
    )


def test_serve_starts_with_the_default_configuration_and_guards_every_route(
    workspace: Workspace,
) -> None:
    scripts = workspace.run("broadcast", "scripts", SAMPLE)
    assert scripts.returncode == 0, scripts.stdout + scripts.stderr
    auditor = _made(workspace, "--role", "auditor", "--name", "Chị Lan", "--expires", "30d")
    tan_doan = _made(workspace, "--role", "commune", "--name", "Anh Tú", "--commune", "Tân Đoàn")
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    with _serving(workspace, {}, "--port", str(port)) as serve:  # no variables: the defaults
        assert serve.stdout is not None
        gateway = serve.stdout.readline()  # the line after "Listening on …"
        assert gateway.startswith("Gateway: the built-in simulator, in this process"), gateway
        # Signing in by link: a cookie, and a redirect to a URL without the token.
        lan = Browser(base)
        status, headers, _ = lan.request(auditor)
        assert status == 303 and headers["Location"] == "/"
        cookie = headers["Set-Cookie"]
        assert cookie.startswith("dispatcher_session=") and auditor.split("=")[1] not in cookie
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
        assert "Secure" not in cookie  # plain http on loopback; https behind a proxy sets it
        csrf = CSRF.findall(lan.request("/")[2])[0]
        # An auditor reads, and is refused every POST that changes something, CSRF token or not.
        assert lan.request("/c/06307")[0] == 200
        # (Signing in and out, and asking for the log's verification, change no data.)
        readers = ("/login", "/logout", "/audit/verify")
        changing = [path for path in _post_routes() if path not in readers]
        assert "/c/06307/confirm" in changing and "/twilio/status" in changing
        for path in changing:
            assert lan.request(path, {**FORM, "csrf": csrf})[0] == 403, path
        # A commune: its own page only; a POST without the CSRF token changes nothing.
        tu = Browser(base)
        tu_csrf = tu.sign_in(tan_doan)
        assert tu.request("/c/06307")[0] == 200
        for other in ("/c/06301", "/c/06301/airings.json", "/c/06301/confirm"):
            form = {**FORM, "csrf": tu_csrf} if other.endswith("confirm") else None
            assert tu.request(other, form)[0] == 403, other
        assert tu.request("/c/06307/confirm", FORM)[0] == 403  # no CSRF token
        assert tu.request("/c/06307/confirm", {**FORM, "csrf": "0" * 64})[0] == 403
        done = tu.request("/c/06307/confirm", {**FORM, "csrf": tu_csrf})
        assert done[0] == 303 and "done=new" in done[1]["Location"]
        # Signed out: the cookie opens nothing any more.
        assert tu.request("/logout", {"csrf": tu_csrf})[0] == 303
        assert tu.request("/c/06307")[0] == 403
        serve.send_signal(signal.SIGTERM)
        out, _ = serve.communicate(timeout=30)
        assert serve.returncode == 0, out + _read(workspace)
    assert "Traceback" not in _read(workspace)
    listing = workspace.run("token", "list")
    assert "Chị Lan" in listing.stdout and auditor.split("=")[1] not in listing.stdout


def test_the_port_comes_from_the_environment_too(workspace: Workspace) -> None:
    port = _free_port()
    with _serving(workspace, {"DISPATCHER_HTTP_PORT": str(port)}) as serve:
        assert Browser(f"http://127.0.0.1:{port}").request("/health")[0] == 200
        serve.send_signal(signal.SIGTERM)
        serve.communicate(timeout=30)
        assert serve.returncode == 0
