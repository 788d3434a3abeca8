"""The log's verification on the auditors' pages: ``/audit/verify`` shows the last one's result
(intact, or the first record that is not as written; the chain's head; when it ran and how
long) and a button that runs ``dispatcher log verify`` now.

It runs in a thread of its own, one at a time per process: a second press while it runs only
shows it running (the page reloads itself until it is done). The result is kept in this
process's memory (:class:`Verifier`, one per application) and written to the log; a restarted
``serve`` has none until someone runs it again. The button posts (CSRF checked by the guard)
but changes no data, so auditors may press it. An optional head and position, as a filed
report prints them, are checked too (``--head``/``--at``).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from aiohttp import web

from dispatcher.bootstrap import Runtime
from dispatcher.core.errors import BadInput, DispatcherError, Problem
from dispatcher.core.schedule import format_datetime_vi
from dispatcher.reports import log_verify
from dispatcher.reports.log_verify import Anchor, Verdict
from dispatcher.web import audit_render, guard
from dispatcher.web.audit_render import CHECK, VERIFY, render

log = logging.getLogger(__name__)

REFRESH_S = 2  # how often the page reloads itself while a verification runs
STOP_WAIT_S = 10.0  # when the service stops, how long a running verification may finish
Verify = Callable[[Runtime, Anchor | None, int], Verdict]


@dataclass(frozen=True)
class Run:
    """One verification: who asked, when, against which printed head; and, once done, what it
    found (or why it could not run) and how long it took."""

    by: str
    started_at: datetime
    expected: Anchor | None
    seconds: float | None = None
    verdict: Verdict | None = None
    error: str | None = None


class Verifier:
    """Runs ``log verify`` in a background thread, one at a time, and keeps the last result."""

    def __init__(self, rt: Runtime, verify: Verify = log_verify.verify_log) -> None:
        self.rt = rt
        self.verify = verify  # tests hold it back to see it running
        self._lock = threading.Lock()
        self.running: Run | None = None
        self.last: Run | None = None
        self._thread: threading.Thread | None = None

    def start(self, by: str, expected: Anchor | None) -> bool:
        """Start a verification; False when one is already running (nothing started)."""
        with self._lock:
            if self.running is not None:
                return False
            run = self.running = Run(by, self.rt.clock.now(), expected)
            self._thread = threading.Thread(
                target=self._run, args=(run,), name="log-verify", daemon=True
            )
            self._thread.start()
        return True

    def wait(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for a running verification; whether none runs."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return self.running is None

    def _run(self, run: Run) -> None:
        began = time.monotonic()
        try:
            verdict = self.verify(self.rt, run.expected, log_verify.default_jobs())
            done = replace(run, verdict=verdict, seconds=time.monotonic() - began)
        except Exception as exc:  # the database away, a bug: said on the page and logged
            message = exc.message if isinstance(exc, DispatcherError) else type(exc).__name__
            done = replace(run, error=message, seconds=time.monotonic() - began)
        _log_result(done)
        with self._lock:
            self.last, self.running = done, None


def _log_result(run: Run) -> None:
    took = f"{run.seconds or 0:.1f} s"
    if run.verdict is None:
        log.error("log verify (asked by %s on the web) could not run: %s", run.by, run.error)
    elif run.verdict.broken is None:
        at, head = run.verdict.head
        log.info("log verify (asked by %s on the web): intact, %d records, head %d %s, in %s",
                 run.by, run.verdict.records, at, head, took)  # fmt: skip
    else:
        broken = run.verdict.broken
        log.warning("log verify (asked by %s on the web): CHANGED: %s id %s (position %s): %s; "
                    "in %s", run.by, broken.table, broken.record_id, broken.position, broken.what,
                    took)  # fmt: skip


VERIFIER = web.AppKey("audit-verifier", Verifier)


def add_routes(app: web.Application, rt: Runtime) -> None:
    app[VERIFIER] = Verifier(rt)
    app.on_cleanup.append(_let_it_finish)
    routes = _VerifyRoutes()
    audit_render.add(app, "GET", CHECK, routes.page, "audit-verify")
    audit_render.add(app, "POST", CHECK, routes.run, "audit-verify-run", VERIFY)


async def _let_it_finish(app: web.Application) -> None:
    """On stopping, a verification under way gets a moment to end and give its connection
    back before the database is let go; a longer one is abandoned (its thread is a daemon)."""
    if not await asyncio.to_thread(app[VERIFIER].wait, STOP_WAIT_S):
        log.warning("log verify was still running when the service stopped: abandoned")


class _VerifyRoutes:
    async def page(self, request: web.Request) -> web.Response:
        return _page(request, request.app[VERIFIER], request.query.get("busy") == "1")

    async def run(self, request: web.Request) -> web.Response:
        verifier = request.app[VERIFIER]
        fields = await request.post()
        given = {k: v.strip() for k in ("head", "at") if isinstance(v := fields.get(k), str)}
        try:
            expected = _anchor(given)
        except BadInput as exc:
            errors = audit_render.problems(exc)
            return _page(request, verifier, False, errors=errors, given=given, status=400)
        started = verifier.start(guard.principal(request).who, expected)
        raise web.HTTPSeeOther(CHECK if started else CHECK + "?busy=1")


def _anchor(given: Mapping[str, str]) -> Anchor | None:
    """The printed head and position, both or neither (as ``--head``/``--at``)."""
    head, at = given.get("head") or None, given.get("at") or None
    if at is not None and not at.isdigit():
        raise BadInput(Problem(f"'{at}' is not a position (a whole number)", field="at"))
    try:
        return log_verify.anchor(head, int(at) if at is not None else None)
    except BadInput as exc:  # the command's names: --head is the page's head
        fields = [replace(p, field=(p.field or "").removeprefix("--")) for p in exc.problems]
        raise BadInput(fields) from exc


def summary(verifier: Verifier) -> str | None:
    """The last result in a few words, for the auditors' start page."""
    if verifier.running is not None:
        return "đang kiểm tra…"
    run = verifier.last
    if run is None:
        return None
    when = format_datetime_vi(run.started_at.astimezone(verifier.rt.settings.tz))
    if run.verdict is None:
        return f"{when}: không chạy được ({run.error})"
    state = "nguyên vẹn" if run.verdict.broken is None else "ĐÃ BỊ THAY ĐỔI"
    return f"{when}: nhật ký {state}"


def _page(
    request: web.Request, verifier: Verifier, busy: bool, *, errors: list[str] | None = None,
    given: Mapping[str, str] | None = None, status: int = 200,
) -> web.Response:  # fmt: skip
    tz = verifier.rt.settings.tz
    running, last = verifier.running, verifier.last
    return render(
        request, "audit_verify.html.j2", status=status, errors=errors or [], given=given or {},
        running=running, busy=busy and running is not None, last=last, refresh=REFRESH_S,
        started=format_datetime_vi(running.started_at.astimezone(tz)) if running else None,
        last_started=format_datetime_vi(last.started_at.astimezone(tz)) if last else None,
        seconds=f"{last.seconds:.1f}".replace(".", ",") if last and last.seconds else "0",
    )  # fmt: skip
