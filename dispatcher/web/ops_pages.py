"""The operators' dashboard on ``dispatcher serve`` (``/ops/…``): campaigns' progress and the
pause, resume, cancel and halt controls. Being built: see issue 16."""

from __future__ import annotations

from aiohttp import web

from dispatcher.bootstrap import Runtime


def add_routes(app: web.Application, rt: Runtime) -> None:
    """Add the operators' routes to ``app`` (none yet)."""
