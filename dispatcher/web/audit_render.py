"""What the auditors' pages share: who may open them, their templates, answers and downloads.

Operators and auditors may open every ``/audit`` route; communes may not (403). The guard
checks the signed-in principal and its role against the route's policy, CSRF, and that an
auditor changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlencode

from aiohttp import web

from dispatcher.auth.sessions import AUDITOR, OPERATOR, ROLE_NAMES_VI
from dispatcher.core import templating
from dispatcher.core.errors import BadInput
from dispatcher.sms.encoding import fold_vietnamese
from dispatcher.web import guard, pages
from dispatcher.web.guard import Handler

STAFF = guard.Policy(frozenset({OPERATOR, AUDITOR}))  # reading: operators and auditors
# Running `log verify` posts, but changes no data: auditors may (CSRF still checked).
VERIFY = guard.Policy(frozenset({OPERATOR, AUDITOR}), changes=False)
HOME, LOG, EVENTS = "/audit", "/audit/log", "/audit/events"
REPORT, CHECK = "/audit/report", "/audit/verify"
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")

# The filters' names on the pages, for messages naming a field (the service names the
# command line's options: --from is the page's "from").
FIELD_LABELS = {
    "from": "Từ ngày", "to": "Đến ngày", "month": "Tháng", "campaign": "Chiến dịch",
    "occurrence": "Đợt gửi", "unit": "Đơn vị", "commune": "Xã", "phone": "Số điện thoại",
    "status": "Trạng thái", "form": "Hình thức", "after": "Trang sau", "n": "Số dòng mỗi trang",
    "head": "Mã đầu chuỗi", "at": "Vị trí",
}  # fmt: skip


def add(
    app: web.Application, method: str, path: str, handler: Handler, name: str,
    policy: guard.Policy = STAFF,
) -> None:  # fmt: skip
    """Add an auditors' route with its policy (the guard keeps communes off it)."""
    guard.add_route(app, method, path, handler, policy, name)


def render(request: web.Request, template: str, status: int = 200, **values: Any) -> web.Response:
    """The page ``template`` with ``values``, and who is signed in (for the header)."""
    who = guard.principal(request)
    role = ROLE_NAMES_VI.get(who.role, who.role)
    with templating.time_limit():
        html = (
            pages.environment()
            .get_template(template)
            .render(
                viewer=f"{who.name} ({role})", csrf=who.csrf, read_only=not who.can_change, **values
            )
        )
    return web.Response(
        text=html, status=status, content_type="text/html", charset="utf-8",
        headers=guard.PAGE_HEADERS,
    )  # fmt: skip


def problems(exc: BadInput) -> list[str]:
    """The service's messages with the page's name of each field: ``Từ ngày (from): '32/08'
    is not a day like 05/12/2024``."""
    lines = []
    for problem in exc.problems:
        name = (problem.field or "").removeprefix("--")
        label = FIELD_LABELS.get(name)
        where = f"{label} ({name}): " if label else f"{name}: " if name else ""
        lines.append(where + problem.message)
    return lines


def attachment(name: str) -> str:
    """``Content-Disposition`` of a download named ``name``: an ASCII ``filename`` for old
    clients and the Vietnamese one as RFC 5987's ``filename*``."""
    plain = _UNSAFE_NAME.sub("-", fold_vietnamese(name)).strip("-") or "tep"
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(name, safe='')}"


def query_string(values: Mapping[str, str]) -> str:
    """``?a=1&b=2`` of the values that are set, or nothing."""
    kept = {k: v for k, v in values.items() if v}
    return "?" + urlencode(kept) if kept else ""
