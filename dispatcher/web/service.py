"""The HTTP service of ``dispatcher serve``: Twilio status callbacks, inbound SMS, a health check,
and the periodic status poll, in one process.

Built on aiohttp.web: already a dependency (twilio's async client and the simulator use it), on
the same asyncio loop as the gateway, and it serves HTML as well as forms and JSON, which the
pages for communes and auditors planned next need (Jinja2 is a dependency too).

Security: every ``/twilio/`` request must carry a valid ``X-Twilio-Signature`` (HMAC of the URL
and the form, keyed by the auth token), checked against the URL rebuilt from
``http.public_base_url`` (behind a proxy the Host header is not the URL Twilio signed). Anything
else gets 403 and changes nothing. The service binds to loopback unless configured otherwise.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import NoReturn

from aiohttp import web
from multidict import MultiDict
from twilio.request_validator import RequestValidator

from dispatcher.bootstrap import Runtime, gateway
from dispatcher.core.errors import BadInput, ConfigError, DispatcherError, Problem, StoreError
from dispatcher.core.signals import stop_on_signals
from dispatcher.gateways.twilio import TwilioGateway
from dispatcher.ops import health
from dispatcher.ops.health import HealthReport
from dispatcher.ops.scheduler import SchedulerStats, run_scheduler
from dispatcher.ops.worker import Worker, WorkerStats
from dispatcher.sending import tracking
from dispatcher.sending.liveness import registered
from dispatcher.web import audit_pages, guard, login, ops_pages, pages
from dispatcher.web import routes as commune_routes

log = logging.getLogger(__name__)

STATUS_PATH = "/twilio/status"
INBOUND_PATH = "/twilio/inbound"
HEALTH_PATH = "/health"
LOOPBACK = frozenset({"127.0.0.1", "::1"})
SIGNATURE_HEADER = "X-Twilio-Signature"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'  # no reply SMS
SHUTDOWN_TIMEOUT_S = 5.0  # requests in flight get this long to finish on stop


@dataclass
class ServiceStats:
    """What ``serve`` did, for the summary printed when it stops."""

    callbacks: int = 0  # signed status callbacks
    changed: int = 0  # of which moved a delivery forward
    refused: int = 0  # requests refused for a missing or bad signature
    opted_out: int = 0  # numbers added to the opt-out list by an inbound keyword
    polls: int = 0  # polling passes
    polled_moved: int = 0  # deliveries a poll moved forward
    expired: int = 0  # unknown outcomes failed as unknown-outcome
    gone: int = 0  # awaiting a report no gateway can give: failed as gateway-gone/-changed
    scheduler: SchedulerStats = field(default_factory=SchedulerStats)
    worker: WorkerStats = field(default_factory=WorkerStats)


def serve(rt: Runtime, on_ready: Callable[[str], None]) -> ServiceStats:
    """Run the HTTP service and the periodic status poll until SIGTERM or SIGINT.

    ``on_ready`` gets the URL once the port listens. Raises :class:`ConfigError` when the port
    cannot be bound. With the built-in simulator (``gateway: simulator``, the default) it runs
    inside this process for as long as the service: nothing reaches a real phone.
    """
    return asyncio.run(_serve(rt, on_ready))


async def _serve(rt: Runtime, on_ready: Callable[[str], None]) -> ServiceStats:
    stats, stop = ServiceStats(), asyncio.Event()
    with gateway(rt) as gw:
        # The key of the signatures is the auth token of the account the gateway sends with.
        runner = web.AppRunner(
            build_app(rt, gw.config.auth_token, stats),
            handle_signals=False,
            shutdown_timeout=SHUTDOWN_TIMEOUT_S,
        )
        await runner.setup()
        try:
            async with registered(rt, "serve") as me:
                worker = Worker(rt, gw, me)

                def stop_all() -> None:
                    stop.set()
                    worker.stop()

                with stop_on_signals(stop_all):
                    on_ready(await _listen(runner, rt.settings.http.host, rt.settings.http.port))
                    await asyncio.gather(
                        _poll_until(rt, gw, stats, stop),
                        run_scheduler(rt, stats.scheduler, stop),
                        worker.run(),
                    )
                stats.worker = worker.stats
        finally:
            await runner.cleanup()
            await gw.aclose()
    return stats


async def _listen(runner: web.AppRunner, host: str, port: int) -> str:
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as exc:
        problem = Problem(f"cannot listen on {host}:{port}: {exc.strerror or exc}", field="http")
        raise ConfigError(problem) from exc
    bound_host, bound_port = runner.addresses[0][:2]
    return f"http://{f'[{bound_host}]' if ':' in bound_host else bound_host}:{bound_port}"


async def _poll_until(
    rt: Runtime, gw: TwilioGateway, stats: ServiceStats, stop: asyncio.Event
) -> None:
    """Poll every ``status.poll_interval_s`` until ``stop``; a failed pass is logged, not fatal."""
    while not stop.is_set():
        try:
            polled = await tracking.poll_statuses(rt, gw, stop.is_set)
            expired = await asyncio.to_thread(tracking.expire_unknown, rt)
            gone = await asyncio.to_thread(tracking.expire_elsewhere, rt, gw.identity)
            stats.polls += 1
            stats.polled_moved += sum(polled.moved.values())
            stats.expired += expired
            stats.gone += gone
            _log_pass(polled, expired, gone)
        except DispatcherError as exc:
            log.error("status poll failed: %s", exc.message)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), rt.settings.status.poll_interval_s)


def _log_pass(polled: tracking.PollResult, expired: int, gone: int) -> None:
    """A pass that changed something, in one line. What it could not learn is already in the
    poll's own summary line; a pass that only found the same nothing again says nothing more."""
    if polled.moved or expired or gone:
        moved = ", ".join(f"{n} {status}" for status, n in polled.moved.items()) or "none"
        log.info("status poll: %d asked, moved: %s; %d not at the provider, %d errors; "
                 "%d unknown failed; %d not asked (sent through another gateway), %d of them "
                 "failed as gateway-gone/-changed", polled.checked, moved, polled.not_found,
                 polled.errors, expired, polled.elsewhere, gone)  # fmt: skip


# -- the web application -----------------------------------------------------------------------
def build_app(rt: Runtime, auth_token: str, stats: ServiceStats | None = None) -> web.Application:
    """The aiohttp application (routes and error handling), without a listening socket."""
    handlers = _Handlers(rt, auth_token, stats or ServiceStats())
    app = web.Application(middlewares=[_errors, guard.guard])  # every route's access policy
    app[guard.RUNTIME] = rt
    app.on_response_prepare.append(_security_headers)
    # Public: Twilio's requests are checked by their signature, /health tells outsiders ok only.
    add, public = guard.add_route, guard.PUBLIC
    add(app, "POST", STATUS_PATH, handlers.status_callback, public, "twilio-status")
    add(app, "POST", INBOUND_PATH, handlers.inbound, public, "twilio-inbound")
    add(app, "GET", HEALTH_PATH, handlers.health, public, "health")
    login.add_routes(app, rt)  # /login, /logout, /
    commune_routes.add_routes(app, rt)  # /c/<commune>: pages, "Đã phát", airings.json, files
    audit_pages.add_routes(app, rt)  # /audit: log search, exports, monthly report, verification
    ops_pages.add_routes(app, rt)  # /ops: campaigns' progress; pause, resume, cancel, halt
    return app


@web.middleware
async def _errors(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Our errors as answers, never a traceback: bad input 400, database unavailable 503; to a
    browser, 403, 404, 405, 409, 500 and 503 are a page in Vietnamese (:func:`_for_browser`)."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if not _for_browser(request, exc.status, exc.content_type):
            raise
        kept = {k: v for k, v in exc.headers.items() if k.lower() not in _BODY_HEADERS}  # Allow
        return _page(exc.status, kept)
    except BadInput as exc:
        return web.Response(status=400, text=exc.message + "\n")
    except StoreError as exc:
        log.error("%s %s: %s", request.method, request.path, exc.message)
        return _plain_or_page(request, 503, "database unavailable\n")
    except Exception as exc:  # a bug: one log line per request, nothing of it to the caller
        log.error("%s %s: %s: %s", request.method, request.path, type(exc).__name__, exc)
        return _plain_or_page(request, 500, "internal error\n")


# Machines' routes: Twilio's callbacks and the health check answer in plain text, always.
_MACHINE_PATHS = frozenset({STATUS_PATH, INBOUND_PATH, HEALTH_PATH})


def _for_browser(request: web.Request, status: int, content_type: str) -> bool:
    """Whether an error answer goes out as a page: a status with a Vietnamese text, not one
    already a page (the guard's refusals), to a person's browser, not a script asking JSON."""
    if status not in pages.STATUS_TEXTS or content_type != "text/plain":
        return False
    if request.path in _MACHINE_PATHS or request.path.endswith(".json"):
        return False
    wants_json = "application/json" in request.headers.get("Accept", "")
    return not wants_json and request.content_type != "application/json"


def _plain_or_page(request: web.Request, status: int, text: str) -> web.Response:
    if _for_browser(request, status, "text/plain"):
        return _page(status, {})
    return web.Response(status=status, text=text)


_BODY_HEADERS = frozenset({"content-type", "content-length"})  # the page's own replace them


def _page(status: int, headers: dict[str, str]) -> web.Response:
    return web.Response(status=status, text=pages.status_page(status), content_type="text/html",
                        charset="utf-8", headers={**headers, **guard.PAGE_HEADERS})  # fmt: skip


# Every answer: no sniffing, no framing, no referrer; the pages load nothing from elsewhere and
# post only to themselves. Nothing is cached: pages are per person, some URLs carry a token.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; media-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    response.headers["Cache-Control"] = "no-store"


class _Handlers:
    def __init__(self, rt: Runtime, auth_token: str, stats: ServiceStats) -> None:
        self.rt = rt
        self.stats = stats
        self.validator = RequestValidator(auth_token)
        base = rt.settings.http.public_base_url
        self.public_base_url = base.rstrip("/") if base else None

    async def status_callback(self, request: web.Request) -> web.Response:
        params = await self._signed_params(request)
        raw_id = request.query.get("d", "")
        if not raw_id.isdigit():
            raise BadInput("the callback URL has no delivery id (?d=)")
        self.stats.callbacks += 1
        call = tracking.handle_status_callback
        if await asyncio.to_thread(call, self.rt, int(raw_id), params):
            self.stats.changed += 1
        return web.Response(status=200)

    async def inbound(self, request: web.Request) -> web.Response:
        params = await self._signed_params(request)
        if await asyncio.to_thread(tracking.handle_inbound, self.rt, params):
            self.stats.opted_out += 1
        return web.Response(text=EMPTY_TWIML, content_type="text/xml")

    async def health(self, request: web.Request) -> web.Response:
        """200 ``{"status": "ok"}``, or 503 ``{"status": "unhealthy"}``; asked on this machine
        (loopback, not through a proxy), with the findings (campaign, rule, why; no phone
        numbers) as ``dispatcher status`` reports them. Outsiders learn ok / not ok only."""
        report = await self._health_report()
        body = report.as_json()
        if not _from_this_machine(request):
            body = {"status": body["status"]}
        return web.json_response(body, status=200 if report.healthy else 503)

    async def _health_report(self) -> HealthReport:
        try:
            report = await asyncio.to_thread(health.check, self.rt)
        except StoreError as exc:
            log.error("health: %s", exc.message)
            report = health.unreadable(self.rt.clock.now())
        scheduler = self.stats.scheduler
        stuck = scheduler.stuck_for(self.rt.clock.monotonic())
        if stuck is not None:
            report = health.with_stuck_scheduler(report, stuck, scheduler.current_file)
        return report

    async def _signed_params(self, request: web.Request) -> dict[str, str]:
        """The form of a request signed by Twilio; 403 for anything else, 400 for a bad form."""
        signature = request.headers.get(SIGNATURE_HEADER)
        if not signature or self.public_base_url is None:
            return self._refuse(request, "no signature" if signature is None else "no base URL")
        form = await _form(request)
        url = self.public_base_url + request.raw_path  # the very URL Twilio was given
        if not self.validator.validate(url, form, signature):
            return self._refuse(request, "bad signature")
        return {key: form.getone(key) for key in form}

    def _refuse(self, request: web.Request, why: str) -> NoReturn:
        self.stats.refused += 1
        if self.public_base_url is None:
            why += ": set http.public_base_url to the URL Twilio calls"
        log.warning("refused %s %s: %s", request.method, request.path, why)
        raise web.HTTPForbidden(text="forbidden\n")


def _from_this_machine(request: web.Request) -> bool:
    """Asked on loopback, not through a proxy (which adds a forwarding header)."""
    forwarded = "Forwarded" in request.headers or "X-Forwarded-For" in request.headers
    return request.remote in LOOPBACK and not forwarded


async def _form(request: web.Request) -> MultiDict[str]:
    try:
        form = await request.post()
    except Exception as exc:  # undecodable text, a broken multipart body: the caller's
        raise BadInput(f"unreadable form: {type(exc).__name__}") from exc
    fields: MultiDict[str] = MultiDict()
    for key, value in form.items():
        if not isinstance(value, str):
            raise BadInput(f"unexpected file in form field {key!r}")
        fields.add(key, value)
    return fields
