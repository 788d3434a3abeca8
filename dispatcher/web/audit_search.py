"""The delivery log on the auditors' pages: ``/audit/log`` (one row per recipient and
occurrence) and ``/audit/events`` (every change of status), with the filters of ``dispatcher
log`` as GET parameters, a page at a time; and their exports, ``.csv`` and ``.xlsx``.

Paging is by keyset: a page is the rows after the last one shown (``after=<id>``, by id), so
the millionth page costs what the first does and no row is shown twice or skipped while new
ones arrive. Exports are streamed: CSV straight from the query (the same bytes as ``dispatcher
log --format csv``), the workbook through a temporary file written in constant memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import shutil
import tempfile
import threading
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from dispatcher.audience.phones import mask, mask_in_text
from dispatcher.bootstrap import Runtime
from dispatcher.core.errors import BadInput, Problem
from dispatcher.core.outbox import DeliveryView, EventView, LogFilter
from dispatcher.core.schedule import format_datetime_vi
from dispatcher.core.status import Status
from dispatcher.reports import audit_log
from dispatcher.reports.spreadsheet import write_records
from dispatcher.web import audit_render
from dispatcher.web.audit_render import EVENTS, LOG, attachment, query_string, render

log = logging.getLogger(__name__)

PAGE_ROWS, MAX_PAGE_ROWS = 100, 1000  # rows per page: the default, and the most asked for
FILTERS = ("from", "to", "month", "campaign", "occurrence", "unit", "commune", "phone",
           "status", "form")  # fmt: skip
_OPTION = {"from": "first", "to": "last"}  # the service's names of the period's ends
FILE_CHUNK = 64 * 1024  # bytes of the workbook sent at a time
QUEUED_CHUNKS = 8  # CSV chunks the query may run ahead of a slow client
STATUS_VI = {
    "pending": "chờ gửi", "sending": "đang gửi", "unknown": "chưa rõ kết quả",
    "accepted": "nhà cung cấp đã nhận", "sent": "đã chuyển nhà mạng",
    "delivered": "tổng đài báo đã nhận", "undelivered": "không đến được", "failed": "thất bại",
    "skipped": "bỏ qua", "canceled": "đã hủy",
}  # fmt: skip


@dataclass(frozen=True)
class _Kind:
    """Deliveries or events: their page, export names and records."""

    path: str
    title: str
    sheet: str  # the workbook's sheet, as `dispatcher log --format xlsx` names it
    file: str  # the downloads' name, without suffix
    fields: list[str]


DELIVERIES = _Kind(LOG, "Nhật ký giao nhận tin nhắn", "Giao nhận", "nhat-ky-giao-nhan",
                   audit_log.LOG_FIELDS)  # fmt: skip
HISTORY = _Kind(EVENTS, "Lịch sử trạng thái tin nhắn", "Nhật ký", "lich-su-trang-thai",
                audit_log.EVENT_FIELDS)  # fmt: skip


@dataclass(frozen=True)
class RowView:
    """One row of the table, for people: local time, masked number, the reason."""

    when: str  # 05:30 01/08/2030
    campaign: str
    occurrence: str
    to: str  # +84 91x xxx 678
    status: str
    status_vi: str
    tries: int
    why: str


def add_routes(app: web.Application, rt: Runtime) -> None:
    routes = _SearchRoutes(rt)
    add = audit_render.add
    add(app, "GET", LOG, routes.deliveries, "audit-log")
    add(app, "GET", EVENTS, routes.events, "audit-events")
    add(app, "GET", LOG + ".csv", routes.deliveries_csv, "audit-log-csv")
    add(app, "GET", LOG + ".xlsx", routes.deliveries_xlsx, "audit-log-xlsx")
    add(app, "GET", EVENTS + ".csv", routes.events_csv, "audit-events-csv")
    add(app, "GET", EVENTS + ".xlsx", routes.events_xlsx, "audit-events-xlsx")


class _SearchRoutes:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    async def deliveries(self, request: web.Request) -> web.Response:
        return await self._page(request, DELIVERIES)

    async def events(self, request: web.Request) -> web.Response:
        return await self._page(request, HISTORY)

    async def deliveries_csv(self, request: web.Request) -> web.StreamResponse:
        return await self._csv(request, DELIVERIES)

    async def events_csv(self, request: web.Request) -> web.StreamResponse:
        return await self._csv(request, HISTORY)

    async def deliveries_xlsx(self, request: web.Request) -> web.StreamResponse:
        return await self._xlsx(request, DELIVERIES)

    async def events_xlsx(self, request: web.Request) -> web.StreamResponse:
        return await self._xlsx(request, HISTORY)

    # -- the page ------------------------------------------------------------------------------
    async def _page(self, request: web.Request, kind: _Kind) -> web.Response:
        given = _given(request.query)
        try:
            wanted, after, size = _filters(given, self.rt.settings.tz), *_paging(request.query)
            rows, last = await asyncio.to_thread(self._rows, kind, wanted, after, size + 1)
        except BadInput as exc:
            return _search_page(request, kind, given, errors=audit_render.problems(exc))
        more = len(rows) > size
        shown = rows[:size]
        paging = {"n": str(size) if size != PAGE_ROWS else ""}
        next_url = None
        if more:
            next_url = kind.path + query_string({**given, **paging, "after": str(last[size - 1])})
        return _search_page(request, kind, given, rows=shown, after=after, next_url=next_url,
                            first_url=kind.path + query_string({**given, **paging}))  # fmt: skip

    def _rows(
        self, kind: _Kind, wanted: LogFilter, after: int | None, limit: int
    ) -> tuple[list[RowView], list[int]]:
        """The rows of a page (one more than shown: is there a next page?) and their ids."""
        tz = self.rt.settings.tz
        if kind is DELIVERIES:
            found = audit_log.delivery_page(self.rt, wanted, after, limit)
            return [_delivery_row(v, tz) for _, v in found], [key for key, _ in found]
        events = audit_log.event_page(self.rt, wanted, after, limit)
        return [_event_row(e, tz) for e in events], [e.id for e in events]

    # -- exports -------------------------------------------------------------------------------
    async def _checked(self, request: web.Request, kind: _Kind) -> LogFilter | web.Response:
        """The filters, checked against the database before anything is sent; or the page
        saying what is wrong (400)."""
        given = _given(request.query)
        try:
            wanted = _filters(given, self.rt.settings.tz)
            return await asyncio.to_thread(audit_log.check_filter, self.rt, wanted)
        except BadInput as exc:
            return _search_page(request, kind, given, errors=audit_render.problems(exc))

    async def _csv(self, request: web.Request, kind: _Kind) -> web.StreamResponse:
        wanted = await self._checked(request, kind)
        if isinstance(wanted, web.Response):
            return wanted
        response = _download(kind.file + ".csv", "text/csv")
        response.charset = "utf-8"
        await response.prepare(request)
        try:
            async for chunk in _from_thread(lambda: self._csv_chunks(kind, wanted)):
                await response.write(chunk.encode("utf-8"))
        except Exception as exc:
            _cut_off(request, exc)
            return response
        await response.write_eof()
        return response

    def _csv_chunks(self, kind: _Kind, wanted: LogFilter) -> Iterator[str]:
        return audit_log.csv_chunks(self._records(kind, wanted), kind.fields)

    def _records(self, kind: _Kind, wanted: LogFilter) -> Iterator[dict[str, Any]]:
        tz = self.rt.settings.tz
        if kind is DELIVERIES:
            return (audit_log.log_record(v, tz) for v in audit_log.delivery_log(self.rt, wanted))
        events = audit_log.delivery_events(self.rt, wanted)
        return (audit_log.event_record(e, tz) for e in events)

    async def _xlsx(self, request: web.Request, kind: _Kind) -> web.StreamResponse:
        wanted = await self._checked(request, kind)
        if isinstance(wanted, web.Response):
            return wanted
        folder = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="dispatcher-log-"))
        try:
            path = folder / (kind.file + ".xlsx")
            await asyncio.to_thread(self._write_xlsx, kind, wanted, path)
            return await _send_file(request, path, XLSX_TYPE)
        finally:
            await asyncio.to_thread(shutil.rmtree, folder, True)

    def _write_xlsx(self, kind: _Kind, wanted: LogFilter, path: Path) -> None:
        """The workbook, as ``dispatcher log --format xlsx`` writes it (write-only mode:
        constant memory), its query on this thread from start to end."""
        write_records(path, kind.sheet, kind.fields, self._records(kind, wanted))


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _download(name: str, content_type: str) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Disposition": attachment(name)})
    response.content_type = content_type
    return response


async def _send_file(request: web.Request, path: Path, content_type: str) -> web.StreamResponse:
    response = _download(path.name, content_type)
    response.content_length = path.stat().st_size
    await response.prepare(request)
    with path.open("rb") as file:
        while chunk := await asyncio.to_thread(file.read, FILE_CHUNK):
            await response.write(chunk)
    await response.write_eof()
    return response


def _cut_off(request: web.Request, exc: Exception) -> None:
    """An export that fails once sent has begun: the connection is dropped, so the client
    sees a broken download rather than a file that looks whole."""
    log.error("%s %s: the export stopped: %s: %s", request.method, request.path,
              type(exc).__name__, exc)  # fmt: skip
    if request.transport is not None:
        request.transport.abort()


async def _from_thread(produce: Callable[[], Iterator[str]]) -> AsyncIterator[str]:
    """The chunks of ``produce()``, computed in one thread of their own (the query's session
    stays on the thread that opened it), at most :data:`QUEUED_CHUNKS` ahead of the reader.
    When the reader stops (the client went away), the thread stops at its next chunk."""
    handed: queue.Queue[str | BaseException | None] = queue.Queue(QUEUED_CHUNKS)
    stop = threading.Event()

    def put(item: str | BaseException | None) -> bool:
        while not stop.is_set():
            try:
                handed.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            for chunk in produce():
                if not put(chunk):
                    return
            put(None)
        except BaseException as exc:  # handed to the reader, who raises it
            put(exc)

    threading.Thread(target=work, name="audit-export", daemon=True).start()
    try:
        while (item := await asyncio.to_thread(handed.get)) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        with contextlib.suppress(queue.Full):  # a reader still waiting for a chunk wakes up
            handed.put_nowait(None)


# -- requests and pages -------------------------------------------------------------------------
def _given(query: Mapping[str, str]) -> dict[str, str]:
    """The filters the request sets (empty fields of the form are not set)."""
    return {name: query[name].strip() for name in FILTERS if query.get(name, "").strip()}


def _filters(given: Mapping[str, str], tz: ZoneInfo) -> LogFilter:
    return audit_log.log_filter(tz, **{_OPTION.get(k, k): v for k, v in given.items()})


def _paging(query: Mapping[str, str]) -> tuple[int | None, int]:
    """``after`` (the last id shown) and ``n`` (rows per page, 1 to :data:`MAX_PAGE_ROWS`)."""
    after, size = query.get("after", "").strip(), query.get("n", "").strip()
    if after and not after.isdigit():
        raise BadInput(Problem(f"'{after}' is not a row number", field="after"))
    if size and not (size.isdigit() and 1 <= int(size) <= MAX_PAGE_ROWS):
        raise BadInput(Problem(f"'{size}' is not a number from 1 to {MAX_PAGE_ROWS}", field="n"))
    return (int(after) if after else None), (int(size) if size else PAGE_ROWS)


def _delivery_row(view: DeliveryView, tz: ZoneInfo) -> RowView:
    why = " ".join(str(p) for p in (view.error_code, view.error_message) if p)
    return RowView(format_datetime_vi(view.at.astimezone(tz)), view.campaign, view.occurrence,
                   mask(view.to), view.status, STATUS_VI.get(view.status, ""), view.attempts,
                   mask_in_text(why))  # fmt: skip


def _event_row(event: EventView, tz: ZoneInfo) -> RowView:
    why = " ".join(str(p) for p in (event.error_code, event.detail) if p)
    return RowView(format_datetime_vi(event.at.astimezone(tz)), event.campaign, event.occurrence,
                   mask(event.to), event.status, STATUS_VI.get(event.status, ""), event.attempt,
                   mask_in_text(why))  # fmt: skip


def _search_page(
    request: web.Request, kind: _Kind, given: Mapping[str, str], *, errors: list[str] | None = None,
    rows: list[RowView] | None = None, after: int | None = None, next_url: str | None = None,
    first_url: str | None = None,
) -> web.Response:  # fmt: skip
    filters = query_string(given)
    return render(
        request, "audit_log.html.j2", status=400 if errors else 200, kind=kind,
        deliveries=kind is DELIVERIES, given=given, errors=errors or [], rows=rows,
        after=after, next_url=next_url, first_url=first_url,
        statuses=[(s.value, STATUS_VI[s.value]) for s in Status],
        log_url=LOG + filters, events_url=EVENTS + filters,
        csv_url=kind.path + ".csv" + filters, xlsx_url=kind.path + ".xlsx" + filters,
    )  # fmt: skip
