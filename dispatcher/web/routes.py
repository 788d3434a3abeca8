"""The communes' routes on ``dispatcher serve``: the page, the "Đã phát" button, JSON and files.

Every route is ``/c/<unit key>/…`` (the commune's code in the units registry), guarded by
:mod:`dispatcher.web.guard`: a signed-in browser (cookie) or a token sent with the request
(``?t=``, the form's ``t``), of that very commune, or an operator's or auditor's; anything else
gets 403 and changes nothing, and only operators and communes may press the button. Opening
the page with a link's token signs the browser in and redirects to the page without it. Bad
parameters get 400 naming the parameter. The button posts a form and is redirected back to the
page (303), so reloading the page never posts twice.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Callable, Mapping
from contextlib import suppress
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

from aiohttp import web

from dispatcher.auth.sessions import COMMUNE
from dispatcher.auth.tokens import page_path
from dispatcher.bootstrap import Runtime
from dispatcher.broadcast import confirmations as airings
from dispatcher.broadcast import undo as undoing
from dispatcher.broadcast.confirmations import AiringConflict, CommuneAiring, ConfirmResult
from dispatcher.broadcast.scripts import AiringScript
from dispatcher.broadcast.served_audio import AudioServer
from dispatcher.core.errors import BadInput, Problem
from dispatcher.store.airings import Confirmation
from dispatcher.web import guard, login, pages
from dispatcher.web.access import Principal

log = logging.getLogger(__name__)

PAGE_DAYS_BEFORE = 7  # the page lists the past week's airings still to confirm
PAGE_DAYS_AHEAD = 7  # and the coming week's
JSON_DEFAULT_DAYS = 7  # airings.json without `to`: from `from` to a week later
MAX_DAYS = 366  # a longer range is a typing mistake, not a request
MAX_KEY_CHARS = 200  # a unit code, or a commune's name without a registry
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_KEY = r"(?P<key>\d{4}-\d{2}-\d{2}T\d{4})(?:\.(?P<language>[a-z]{2,8}))?"
_SCRIPT_FILE = re.compile(_KEY + r"\.txt")
_AUDIO_FILE = re.compile(_KEY + r"(?P<suffix>\.mp3|\.wav)")
Link = Callable[[str], str]


def add_routes(app: web.Application, rt: Runtime) -> None:
    """Add the communes' routes to ``app`` (the application of ``dispatcher serve``)."""
    routes = _CommuneRoutes(rt)
    add, view = guard.add_route, guard.VIEW
    add(app, "GET", "/c/{key}", routes.page, view, "commune-page")
    add(app, "GET", "/c/{key}/confirm", routes.confirm_step, view, "commune-confirm-step")
    add(app, "POST", "/c/{key}/confirm", routes.confirm, guard.CHANGE, "commune-confirm")
    add(app, "POST", "/c/{key}/undo", routes.undo, guard.CHANGE, "commune-undo")
    add(app, "GET", "/c/{key}/airings.json", routes.listing, view, "commune-airings")
    add(app, "GET", "/c/{key}/script/{campaign}/{name}", routes.script, view, "commune-script")
    add(app, "GET", "/c/{key}/audio/{campaign}/{name}", routes.audio, view, "commune-audio")


class _CommuneRoutes:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.audio_files = AudioServer(rt)

    # -- access (the guard has checked the principal may see this unit) ------------------------
    def _key(self, request: web.Request) -> str:
        key = request.match_info["key"]
        if len(key) > MAX_KEY_CHARS:
            raise web.HTTPNotFound(text="no such page\n")
        return key

    def _link(self, request: web.Request) -> Link:
        """Links under the page: with the request's token when it came with one (scripts), bare
        for a browser signed in by cookie."""
        base = page_path(self._key(request))
        who = guard.principal(request)
        token = request.query.get("t") if who.csrf is None else None
        query = f"?{urlencode({'t': token})}" if token else ""
        return lambda relative: f"{base}/{relative}{query}"

    # -- the page and the button ---------------------------------------------------------------
    async def page(self, request: web.Request) -> web.Response:
        key = self._key(request)
        if "t" in request.query:  # a link with its token: sign in, and drop it from the URL
            rest = {k: v for k, v in request.query.items() if k != "t"}
            target = page_path(key) + (f"?{urlencode(rest)}" if rest else "")
            raise await login.sign_in(request, self.rt, request.query["t"], "link", target)
        who = guard.principal(request)
        today = airings.today(self.rt)
        start, end = today - timedelta(PAGE_DAYS_BEFORE), today + timedelta(PAGE_DAYS_AHEAD)
        found = await self._schedule(key, start, end)
        notice = _notice(found, request.query)
        name = found[-1].commune if found else await self._name(key)
        html = pages.commune_page(
            name, found, today, self._link(request), who.csrf, notice, viewer=who.name,
            read_only=not who.can_change,
        )  # fmt: skip
        return _html(html)

    async def confirm(self, request: web.Request) -> web.Response:
        _same_origin(request)
        key, who = self._key(request), guard.principal(request)
        as_json = request.content_type == "application/json"
        fields = await (_json_fields(request) if as_json else _form_fields(request))
        token = None if who.csrf is not None else fields.get("t") or request.query.get("t")
        keep = {"t": token} if token else {}
        try:
            result = await asyncio.to_thread(self._confirm, key, who, fields, as_json)
        except (BadInput, AiringConflict) as exc:
            return await self._refused(key, exc, as_json, keep)
        if as_json:
            body = {"created": result.created, "confirmation": _confirmation(result.confirmation)}
            return web.json_response(body, status=201 if result.created else 200, dumps=_dumps)
        done = "new" if result.created else "already"
        when = result.confirmation.scheduled_at.astimezone(result.tz).strftime("%Y-%m-%dT%H%M")
        query = keep | {"done": done, "c": result.confirmation.campaign_id, "k": when}
        raise web.HTTPSeeOther(f"{page_path(key)}?{urlencode(query)}")

    async def confirm_step(self, request: web.Request) -> web.Response:
        """The page between "Đã phát" and the record (a GET: nothing changes), whose own button
        posts; an airing that cannot be confirmed (any more) goes back to the page."""
        key = self._key(request)
        campaign, time = request.query.get("campaign", ""), request.query.get("k", "")
        found = None
        with suppress(BadInput):
            call = airings.find_airing
            found = await asyncio.to_thread(call, self.rt, key, campaign, time, by_key=True)
        if found is None:
            raise web.HTTPNotFound(text="no such airing\n")
        who = guard.principal(request)
        if not found.confirmable or not who.can_change:
            raise web.HTTPSeeOther(page_path(key))
        html = pages.confirm_step_page(
            found.commune, found, self._link(request), who.csrf, page_path(key)
        )
        return _html(html)

    async def undo(self, request: web.Request) -> web.Response:
        _same_origin(request)
        key, who = self._key(request), guard.principal(request)
        fields = await _form_fields(request)
        token = None if who.csrf is not None else fields.get("t") or request.query.get("t")
        keep = {"t": token} if token else {}
        source, by = _source_and_by(key, who, as_json=False)
        try:
            result = await asyncio.to_thread(
                undoing.undo, self.rt, key, _required(fields, "campaign"),
                _required(fields, "at"), source=source, by=by, by_key=True,
            )  # fmt: skip
        except (BadInput, AiringConflict) as exc:
            return await self._refused(key, exc, False, keep)
        when = result.confirmation.scheduled_at.astimezone(result.tz).strftime("%Y-%m-%dT%H%M")
        query = keep | {"done": "undone", "c": result.confirmation.campaign_id, "k": when}
        raise web.HTTPSeeOther(f"{page_path(key)}?{urlencode(query)}")

    async def _refused(
        self, key: str, exc: BadInput | AiringConflict, as_json: bool, keep: Mapping[str, str]
    ) -> web.Response:
        # A paused or canceled campaign, an undo too late: a conflict with the airing's state.
        status = 409 if isinstance(exc, AiringConflict) else 400
        if as_json:
            return web.json_response({"error": exc.message}, status=status, dumps=_dumps)
        back = page_path(key) + (f"?{urlencode(keep)}" if keep else "")
        page = pages.error_page(await self._name(key), exc.message, back)
        return _html(page, status=status)

    def _confirm(
        self, key: str, who: Principal, fields: Mapping[str, str], as_json: bool
    ) -> ConfirmResult:
        source, by = _source_and_by(key, who, as_json)
        return airings.confirm(
            self.rt, key, _required(fields, "campaign"), _required(fields, "at"),
            duration_s=_duration(fields.get("duration_s")), aired_at=fields.get("aired_at"),
            source=source, by=by, by_key=True,
        )  # fmt: skip

    # -- JSON and files ------------------------------------------------------------------------
    async def listing(self, request: web.Request) -> web.Response:
        key = self._key(request)
        start, end = _range(request.query, airings.today(self.rt))
        found = await self._schedule(key, start, end)
        link = self._link(request)
        body = {
            "commune": found[-1].commune if found else await self._name(key),
            "from": start.isoformat(), "to": end.isoformat(),
            "airings": [_airing_json(a, link) for a in found],
        }  # fmt: skip
        return web.json_response(body, dumps=_dumps)

    async def script(self, request: web.Request) -> web.Response:
        key = self._key(request)
        match = _SCRIPT_FILE.fullmatch(request.match_info["name"])
        airing = await self._airing(request, key, match["key"] if match else None)
        script = airing.script(match["language"]) if match else None
        if script is None:
            raise web.HTTPNotFound(text="no such script\n")
        path = script.file(".txt")  # as written for print, with its header
        text = await asyncio.to_thread(path.read_text, "utf-8") if path else script.text
        return web.Response(text=text, content_type="text/plain", charset="utf-8")

    async def audio(self, request: web.Request) -> web.StreamResponse:
        key = self._key(request)
        match = _AUDIO_FILE.fullmatch(request.match_info["name"])
        airing = await self._airing(request, key, match["key"] if match else None)
        script = airing.script(match["language"]) if match else None
        # Where it was made or pulled, else made now, in seconds (broadcast.served_audio).
        path = await self.audio_files.path(script, match["suffix"]) if script and match else None
        if path is None:
            raise web.HTTPNotFound(text="no audio for this airing\n")
        return web.FileResponse(path)

    # -- the service, off the event loop --------------------------------------------------------
    async def _schedule(self, key: str, start: date, end: date) -> list[CommuneAiring]:
        schedule = airings.commune_schedule
        try:
            return await asyncio.to_thread(schedule, self.rt, key, start, end, by_key=True)
        except BadInput as exc:  # a valid link, but no campaign airs in this commune (now)
            log.info("commune %s: %s", key, exc.message)
            return []

    async def _airing(self, request: web.Request, key: str, time: str | None) -> CommuneAiring:
        campaign = request.match_info["campaign"]
        found = None
        if time is not None:
            with suppress(BadInput):
                call = airings.find_airing
                found = await asyncio.to_thread(call, self.rt, key, campaign, time, by_key=True)
        if found is None:
            raise web.HTTPNotFound(text="no such airing\n")
        return found

    async def _name(self, key: str) -> str:
        return await asyncio.to_thread(airings.commune_name, self.rt, key)


# -- requests and answers ---------------------------------------------------------------------


def _source_and_by(key: str, who: Principal, as_json: bool) -> tuple[str, str]:
    """The record's ``source`` and who made it: a commune's link, or an operator."""
    source = "http" if as_json else "web"
    by = f"{source}:{key} link {who.token_id}" if who.role == COMMUNE else f"{source}:{who.who}"
    return source, by


def _same_origin(request: web.Request) -> None:
    """A browser's post from another site (its ``Origin``) is refused: the page's own form is
    the only one that may press the button. Clients without ``Origin`` (scripts) need the
    token as ever."""
    origin = request.headers.get("Origin")
    if origin is None:
        return
    if origin == "null" or urlsplit(origin).netloc != request.host:
        log.warning("refused a confirm from another origin: %s", origin)
        raise web.HTTPForbidden(text="forbidden: posted from another site\n")


# A token may be in the URL (scripts): no referrer carries it away, no cache keeps the page.
_PAGE_HEADERS = guard.PAGE_HEADERS


def _html(text: str, status: int = 200) -> web.Response:
    return web.Response(
        text=text, status=status, content_type="text/html", charset="utf-8", headers=_PAGE_HEADERS
    )


async def _form_fields(request: web.Request) -> dict[str, str]:
    try:
        form = await request.post()
    except Exception as exc:  # undecodable text, a broken multipart body: the caller's
        raise BadInput(f"unreadable form: {type(exc).__name__}") from exc
    return {key: value for key, value in form.items() if isinstance(value, str)}


async def _json_fields(request: web.Request) -> dict[str, str]:
    try:
        data = await request.json()
    except (ValueError, RecursionError) as exc:  # not JSON, or nested past Python's stack
        raise BadInput(f"unreadable JSON: {type(exc).__name__}") from exc
    if not isinstance(data, dict):
        raise BadInput("the JSON body must be an object")
    return {str(k): str(v) for k, v in data.items() if v is not None}


def _required(fields: Mapping[str, str], name: str) -> str:
    value = fields.get(name, "").strip()
    if not value:
        raise BadInput(Problem("missing", field=name))
    return value


def _duration(value: str | None) -> int | None:
    if value is None or not value.strip():
        return None
    if not value.strip().isdigit():
        raise BadInput(Problem(f"'{value}' is not a whole number of seconds", field="duration_s"))
    return int(value)


def _range(query: Mapping[str, str], today: date) -> tuple[date, date]:
    """``from`` and ``to`` (YYYY-MM-DD, both included); default today and a week on."""
    start = _day(query.get("from"), "from") or today
    end = _day(query.get("to"), "to") or start + timedelta(JSON_DEFAULT_DAYS)
    if end < start:
        raise BadInput(Problem(f"{end.isoformat()} is before from", field="to"))
    if (end - start).days >= MAX_DAYS:
        raise BadInput(Problem(f"at most {MAX_DAYS} days at once", field="to"))
    return start, end


def _day(value: str | None, field: str) -> date | None:
    if value is None:
        return None
    with suppress(ValueError):
        if _ISO_DAY.fullmatch(value):
            return date.fromisoformat(value)
    raise BadInput(Problem(f"'{value}' is not a day like 2024-10-16", field=field))


def _notice(found: list[CommuneAiring], query: Mapping[str, str]) -> str | None:
    """After the button: what was recorded (the ``done``, ``c`` and ``k`` of the redirect)."""
    done = query.get("done")
    if done not in ("new", "already", "undone"):
        return None
    wanted = (query.get("c"), query.get("k"))
    airing = next((a for a in found if (a.campaign_id, a.key) == wanted), None)
    return pages.notice_text(airing, done == "new", done == "undone") if airing else None


def _airing_json(airing: CommuneAiring, link: Link) -> dict[str, Any]:
    def audio(script: AiringScript) -> str | None:
        href = pages.audio_href(airing, script)
        return link(href) if href else None

    main, confirmation = airing.scripts[0], airing.confirmation
    return {
        "campaign": airing.campaign_id,
        "title": airing.title,
        "commune": airing.commune,
        "at": airing.at.isoformat(),
        "reading_seconds": airing.reading_seconds,
        "script_url": link(pages.script_href(airing, main)),
        "audio_url": audio(main),
        "variants": [
            {
                "language": s.language,
                "name": s.language_name,
                "script_url": link(pages.script_href(airing, s)),
                "audio_url": audio(s),
            }
            for s in airing.scripts[1:]
        ],
        "in_plan": airing.in_plan,
        "confirmable": airing.confirmable,
        "confirmed": None if confirmation is None else _confirmation(confirmation),
    }


def _confirmation(confirmation: Confirmation) -> dict[str, Any]:
    return {
        "campaign": confirmation.campaign_id,
        "commune": confirmation.commune,
        "scheduled_at": confirmation.scheduled_at.isoformat(),
        "aired_at": confirmation.aired_at.isoformat(),
        "duration_s": confirmation.duration_s,
        "confirmed_by": confirmation.confirmed_by,
        "source": confirmation.source,
        "created_at": confirmation.created_at.isoformat(),
    }


def _dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False)
