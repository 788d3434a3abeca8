"""The operators' dashboard on ``dispatcher serve`` (``/ops/…``): campaigns' progress, and the
pause, resume, cancel and halt controls, each with a confirmation step.

| route | answer |
|---|---|
| ``GET /ops`` | every campaign: state, progress, recent rate, next occurrence; the halt |
| ``GET /ops/c/<id>`` | one campaign: per occurrence, failures by error code, recent activity |
| ``GET /ops/c/<id>/{pause,resume,cancel}`` | the confirmation step: what will happen, a reason |
| ``POST /ops/c/<id>/{pause,resume,cancel}`` | form ``csrf``, ``reason`` → 303 to ``/ops`` |
| ``GET``, ``POST /ops/{halt,unhalt}`` | likewise, for the global halt |

Operators only: an auditor or a commune gets 403 on every route (auditors have ``/audit``;
a campaign's controls are no business of theirs, and the progress tells them nothing the
delivery log does not). A GET changes nothing; a POST needs the session's CSRF token (the
guard) and a reason, calls the same service as the command line with who asked
(``web:operator:<name> (token <id>)``), and lands in the activity log with that reason. An
action that does not fit the state (resume an active campaign, cancel a canceled one, halt
when halted) is 409, an unknown campaign 404, a missing reason 400: a page in Vietnamese
saying why, and nothing changed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from dispatcher.auth.sessions import OPERATOR
from dispatcher.bootstrap import Runtime
from dispatcher.core.errors import BadInput
from dispatcher.core.status import Status
from dispatcher.ops import controls, dashboard
from dispatcher.ops.dashboard import CampaignDetail
from dispatcher.safety import halting
from dispatcher.store.health import CANCELED
from dispatcher.web import guard
from dispatcher.web import ops_views as views
from dispatcher.web.access import Principal
from dispatcher.web.ops_words import ACTIONS, STATE_NAMES, Action, consequence, number

log = logging.getLogger(__name__)

MAX_REASON_CHARS = 500  # a reason, not a report: the activity log keeps it whole
MAX_ID_CHARS = 64  # campaigns.id
VIEW = guard.Policy(frozenset({OPERATOR}))
CHANGE = guard.Policy(frozenset({OPERATOR}), changes=True)
# Any segment matches (aiohttp's default refuses braces), and the handler answers 404 for an
# action it does not know: the guard runs first, so whoever may not act gets 403 whatever they
# ask, even the route's own pattern (as tests/integration/test_web_access.py posts it).
_CAMPAIGN = "/ops/c/{campaign:[^/]+}"
_CAMPAIGN_ACTION = _CAMPAIGN + "/{action:[^/]+}"
_HALT_ACTION = "/ops/{action:[^/]+}"
CAMPAIGN_ACTIONS = ("pause", "resume", "cancel")
HALT_ACTIONS = ("halt", "unhalt")
_Handler = Callable[[Any, web.Request], Awaitable[web.Response]]


def add_routes(app: web.Application, rt: Runtime) -> None:
    """Add the operators' routes to ``app`` (the application of ``dispatcher serve``)."""
    pages, add = _OpsPages(rt), guard.add_route
    add(app, "GET", views.DASHBOARD, pages.dashboard, VIEW, "ops")
    add(app, "GET", _CAMPAIGN, pages.campaign, VIEW, "ops-campaign")
    add(app, "GET", _CAMPAIGN_ACTION, pages.campaign_step, VIEW, "ops-campaign-step")
    add(app, "POST", _CAMPAIGN_ACTION, pages.campaign_action, CHANGE, "ops-campaign-action")
    add(app, "GET", _HALT_ACTION, pages.halt_step, VIEW, "ops-halt-step")
    add(app, "POST", _HALT_ACTION, pages.halt_action, CHANGE, "ops-halt-action")


class _Refused(Exception):
    """An answer other than the page asked for: an error page with its status."""

    def __init__(self, status: int, heading: str, message: str) -> None:
        super().__init__(message)
        self.status, self.heading, self.message = status, heading, message


def _refusals(handler: _Handler) -> _Handler:
    async def answer(self: _OpsPages, request: web.Request) -> web.Response:
        try:
            return await handler(self, request)
        except _Refused as refused:
            log.info("%s %s: %d %s", request.method, request.path, refused.status, refused)
            return _html(views.error_page(refused.heading, refused.message), refused.status)

    return answer


class _OpsPages:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    # -- the pages -------------------------------------------------------------------------------
    @_refusals
    async def dashboard(self, request: web.Request) -> web.Response:
        who = guard.principal(request)
        found = await asyncio.to_thread(dashboard.overview, self.rt)
        page = views.dashboard_page(found, self.rt.settings.tz, _viewer(who), _notice(request))
        return _html(page)

    @_refusals
    async def campaign(self, request: web.Request) -> web.Response:
        who = guard.principal(request)
        detail = await self._detail(request)
        return _html(views.campaign_page(detail, self.rt.settings.tz, _viewer(who)))

    # -- pause, resume, cancel -----------------------------------------------------------------
    @_refusals
    async def campaign_step(self, request: web.Request) -> web.Response:
        """The confirmation step (a GET: nothing changes); its form posts the action."""
        who, action = guard.principal(request), _action(request, CAMPAIGN_ACTIONS)
        detail = await self._detail(request)
        summary = detail.line.summary
        if action not in views.possible_actions(detail.line):
            raise _not_now(action, summary.id, summary.state)
        counts = summary.counts
        in_flight = counts.get(Status.SENDING, 0) + counts.get(Status.UNKNOWN, 0)
        text = consequence(action.name, summary.id, counts.get(Status.PENDING, 0), in_flight)
        target = views.campaign_path(summary.id, action.name)
        what = f"{summary.title} ({summary.id})"
        return _html(views.confirm_page(action, what, text, target, _viewer(who)))

    @_refusals
    async def campaign_action(self, request: web.Request) -> web.Response:
        who, action = guard.principal(request), _action(request, CAMPAIGN_ACTIONS)
        campaign_id = _campaign_id(request)
        reason = await _reason(request)
        state = await asyncio.to_thread(dashboard.state, self.rt, campaign_id)
        if state is None:
            raise _unknown(campaign_id)
        try:
            change = await asyncio.to_thread(
                self._change, action.name, campaign_id, reason, _by(who)
            )
        except BadInput as refused:  # pause or resume a canceled campaign: final
            log.info("refused %s of %s: %s", action.name, campaign_id, refused.message)
            raise _not_now(action, campaign_id, CANCELED) from refused
        if change is None or not change.changed:
            raise _not_now(action, campaign_id, change.after if change else state)
        done = {"done": action.name, "c": campaign_id, "n": str(change.canceled)}
        raise web.HTTPSeeOther(f"{views.DASHBOARD}?{urlencode(done)}")

    def _change(
        self, action: str, campaign_id: str, reason: str, by: str
    ) -> controls.StateChange | None:
        if action == "pause":
            return controls.pause(self.rt, campaign_id, reason, by=by)
        if action == "resume":
            return controls.resume(self.rt, campaign_id, reason, by=by)
        return controls.cancel(self.rt, campaign_id, reason, by=by)

    async def _detail(self, request: web.Request) -> CampaignDetail:
        campaign_id = _campaign_id(request)
        detail = await asyncio.to_thread(dashboard.campaign, self.rt, campaign_id)
        if detail is None:
            raise _unknown(campaign_id)
        return detail

    # -- halt, unhalt ----------------------------------------------------------------------------
    @_refusals
    async def halt_step(self, request: web.Request) -> web.Response:
        who, action = guard.principal(request), _action(request, HALT_ACTIONS)
        halt = await asyncio.to_thread(halting.current, self.rt)
        if (action.name == "halt") == (halt is not None):
            raise _halt_not_now(action, halt, self.rt)
        what = "Mọi chiến dịch, mọi máy gửi"
        page = views.confirm_page(action, what, consequence(action.name), request.path,
                                  _viewer(who))  # fmt: skip
        return _html(page)

    @_refusals
    async def halt_action(self, request: web.Request) -> web.Response:
        who, action = guard.principal(request), _action(request, HALT_ACTIONS)
        reason = await _reason(request)
        change_switch = halting.halt if action.name == "halt" else halting.unhalt
        change = await asyncio.to_thread(change_switch, self.rt, reason, _by(who))
        if not change.changed:
            raise _halt_not_now(action, change.state, self.rt)
        raise web.HTTPSeeOther(f"{views.DASHBOARD}?{urlencode({'done': action.name})}")


# -- who may, and what they sent -------------------------------------------------------------------
def _by(who: Principal) -> str:
    """Who did it, for the activity log: ``web:operator:Minh (token 3)``, as the communes'
    pages record an operator's confirmation."""
    return f"web:{who.who}"


def _viewer(who: Principal) -> views.Viewer:
    return views.Viewer(f"{who.name} (cán bộ vận hành)", who.csrf)


def _action(request: web.Request, known: tuple[str, ...]) -> Action:
    name = request.match_info["action"]
    if name not in known:
        raise web.HTTPNotFound(text="no such page\n")
    return ACTIONS[name]


def _campaign_id(request: web.Request) -> str:
    campaign_id = request.match_info["campaign"]
    if len(campaign_id) > MAX_ID_CHARS:
        raise _unknown(campaign_id[:MAX_ID_CHARS] + "…")
    return campaign_id


async def _reason(request: web.Request) -> str:
    try:
        form = await request.post()
    except Exception as exc:  # undecodable text, a broken multipart body
        raise _Refused(400, "Không thực hiện được", "Biểu mẫu không đọc được.") from exc
    reason = form.get("reason")
    text = " ".join(reason.split()) if isinstance(reason, str) else ""
    if not text:
        raise _Refused(400, "Thiếu lý do", "Xin ghi lý do: lý do được ghi vào nhật ký hoạt "
                       "động cùng tên người thực hiện. Không có gì thay đổi.")  # fmt: skip
    if len(text) > MAX_REASON_CHARS:
        raise _Refused(400, "Lý do quá dài", f"Lý do dài tối đa {MAX_REASON_CHARS} ký tự. "
                       "Không có gì thay đổi.")  # fmt: skip
    return text


def _notice(request: web.Request) -> str | None:
    """After an action: what was done (the ``done``, ``c`` and ``n`` of the redirect)."""
    query: Mapping[str, str] = request.query
    action = ACTIONS.get(query.get("done", ""))
    if action is None:
        return None
    canceled = query.get("n", "0")
    n = number(int(canceled)) if canceled.isdigit() else "0"
    return action.done.format(id=query.get("c", "")[:MAX_ID_CHARS], n=n)


# -- refusals --------------------------------------------------------------------------------------
def _unknown(campaign_id: str) -> _Refused:
    return _Refused(404, "Không có chiến dịch này",
                    f"Không có chiến dịch «{campaign_id}». Không có gì thay đổi.")  # fmt: skip


def _not_now(action: Action, campaign_id: str, state: str) -> _Refused:
    now = STATE_NAMES.get(state, state)
    return _Refused(409, f"Không thể {action.heading.lower()}",
                    f"Chiến dịch {campaign_id} đang ở trạng thái «{now}»: không thể "
                    f"{action.button.lower()}. Không có gì thay đổi.")  # fmt: skip


def _halt_not_now(action: Action, halt: halting.HaltState | None, rt: Runtime) -> _Refused:
    if action.name == "halt" and halt is not None:
        why = f": {halt.reason}" if halt.reason else ""
        since = views.moment(halt.since, rt.settings.tz)
        message = f"Việc gửi tin đã bị dừng từ {since}, bởi {halt.by}{why}."
    else:
        message = "Việc gửi tin đang không bị dừng: không có gì để cho gửi lại."
    return _Refused(409, f"Không thể {action.heading.lower()}",
                    f"{message} Không có gì thay đổi.")  # fmt: skip


def _html(text: str, status: int = 200) -> web.Response:
    return web.Response(text=text, status=status, content_type="text/html", charset="utf-8",
                        headers=guard.PAGE_HEADERS)  # fmt: skip
