"""The auditors' pages on ``dispatcher serve`` (``/audit/…``), for auditors and operators (a
commune's sign-in gets 403 on every one):

- ``/audit``: where they start;
- ``/audit/log``, ``/audit/events`` and their ``.csv``/``.xlsx`` exports: the delivery log with
  the filters of ``dispatcher log`` (:mod:`dispatcher.web.audit_search`);
- ``/audit/report`` and its ``.docx``, ``.xlsx`` and chart: the monthly report
  (:mod:`dispatcher.web.audit_report`);
- ``/audit/verify``: the log's verification, and a button to run it
  (:mod:`dispatcher.web.audit_verify`).

Everything is read through the services the command line calls; nothing here changes data.
"""

from __future__ import annotations

from aiohttp import web

from dispatcher.bootstrap import Runtime
from dispatcher.web import audit_render, audit_report, audit_search, audit_verify
from dispatcher.web.audit_render import HOME, render


def add_routes(app: web.Application, rt: Runtime) -> None:
    """Add the auditors' routes to ``app`` (the application of ``dispatcher serve``)."""
    audit_render.add(app, "GET", HOME, _home, "audit-home")
    audit_search.add_routes(app, rt)
    audit_report.add_routes(app, rt)
    audit_verify.add_routes(app, rt)


async def _home(request: web.Request) -> web.Response:
    verifier = request.app[audit_verify.VERIFIER]
    return render(request, "audit.html.j2", verify_summary=audit_verify.summary(verifier))
