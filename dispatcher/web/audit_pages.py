"""The auditors' pages on ``dispatcher serve`` (``/audit/…``): log search, exports, the monthly
report and the log's verification. Being built: see issue 16."""

from __future__ import annotations

from aiohttp import web

from dispatcher.bootstrap import Runtime


def add_routes(app: web.Application, rt: Runtime) -> None:
    """Add the auditors' routes to ``app`` (none yet)."""
