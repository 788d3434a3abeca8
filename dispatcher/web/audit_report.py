"""The monthly report on the auditors' pages: ``/audit/report?month=2024-10&unit=…`` shows the
table per unit (as ``dispatcher report monthly``), the month's chart, the audit chain's head it
was counted at, and links to the files to sign and send: ``/audit/report.docx``,
``/audit/report.xlsx`` and ``/audit/report/chart.png``, with the same parameters.

Each answer counts the report afresh from the logs, as the command does: a download made after
new records arrived names the later head it was counted at (on the paper and in the workbook).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from aiohttp import web

from dispatcher.bootstrap import Runtime
from dispatcher.core.errors import BadInput
from dispatcher.core.schedule import format_date_vi, format_datetime_vi
from dispatcher.reports import filing
from dispatcher.reports.monthly import MonthlyReport, ReportRow, monthly, vi_number
from dispatcher.web import audit_render
from dispatcher.web.audit_render import REPORT, attachment, query_string, render

CONTENT_TYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "png": "image/png",
}
# The chart sets matplotlib's settings for its drawing (process-wide): one drawing at a time.
_DRAWING = threading.Lock()


@dataclass(frozen=True)
class UnitView:
    """One unit's rows of the report, as the page shows them."""

    unit: str
    rows: list[tuple[int, ReportRow, str]]  # (STT, row, "12.345 tin")
    total: str


def add_routes(app: web.Application, rt: Runtime) -> None:
    routes = _ReportRoutes(rt)
    add = audit_render.add
    add(app, "GET", REPORT, routes.page, "audit-report")
    add(app, "GET", REPORT + ".docx", routes.docx, "audit-report-docx")
    add(app, "GET", REPORT + ".xlsx", routes.xlsx, "audit-report-xlsx")
    add(app, "GET", REPORT + "/chart.png", routes.chart, "audit-report-chart")


class _ReportRoutes:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    async def page(self, request: web.Request) -> web.Response:
        month, unit = self._asked(request.query)
        try:
            report = await asyncio.to_thread(monthly, self.rt, month, unit)
        except BadInput as exc:
            errors = audit_render.problems(exc)
            return render(request, "audit_report.html.j2", status=400, errors=errors,
                          month=month, unit=unit or "", report=None)  # fmt: skip
        links = query_string({"month": report.month, "unit": unit or ""})
        return render(
            request, "audit_report.html.j2", errors=[], month=report.month, unit=unit or "",
            report=report, units=_by_unit(report), total=_total(report.rows),
            period=_period(report), unconfirmed=[_unconfirmed(r) for r in report.unconfirmed],
            docx_url=REPORT + ".docx" + links, xlsx_url=REPORT + ".xlsx" + links,
            chart_url=REPORT + "/chart.png" + links,
        )  # fmt: skip

    async def docx(self, request: web.Request) -> web.Response:
        return await self._file(request, "docx")

    async def xlsx(self, request: web.Request) -> web.Response:
        return await self._file(request, "xlsx")

    async def chart(self, request: web.Request) -> web.Response:
        return await self._file(request, "png")

    async def _file(self, request: web.Request, fmt: str) -> web.Response:
        month, unit = self._asked(request.query)
        try:
            report, data = await asyncio.to_thread(self._made, month, unit, fmt)
        except BadInput as exc:
            raise web.HTTPBadRequest(text="\n".join(audit_render.problems(exc)) + "\n") from exc
        name = filing.download_name(report, fmt)
        disposition = attachment(name)
        if fmt == "png":  # shown in the page; "save as" keeps the name
            disposition = disposition.replace("attachment", "inline", 1)
        headers = {"Content-Disposition": disposition}
        return web.Response(body=data, content_type=CONTENT_TYPES[fmt], headers=headers)

    def _made(self, month: str, unit: str | None, fmt: str) -> tuple[MonthlyReport, bytes]:
        report = monthly(self.rt, month, unit)
        with _DRAWING:
            return report, filing.report_bytes(self.rt, report, fmt)

    def _asked(self, query: Mapping[str, str]) -> tuple[str, str | None]:
        """The month asked for (default: this month, in the configured zone) and the unit."""
        month = query.get("month", "").strip()
        if not month:
            month = self.rt.clock.now().astimezone(self.rt.settings.tz).strftime("%Y-%m")
        return month, query.get("unit", "").strip() or None


def _by_unit(report: MonthlyReport) -> list[UnitView]:
    """The counted rows grouped by unit (the report sorts them by unit), numbered as filed."""
    units: dict[str, list[tuple[int, ReportRow, str]]] = {}
    for number, row in enumerate(report.rows, start=1):
        units.setdefault(row.unit, []).append((number, row, _count(row)))
    return [UnitView(unit, rows, _total([r for _, r, _ in rows])) for unit, rows in units.items()]


def _count(row: ReportRow) -> str:
    return f"{vi_number(row.count)} {row.count_unit}"


def _total(rows: list[ReportRow]) -> str:
    return vi_number(sum(r.count for r in rows))


def _period(report: MonthlyReport) -> str:
    last = (report.end - timedelta(microseconds=1)).date()
    return f"từ {format_date_vi(report.start.date())} đến {format_date_vi(last)}"


def _unconfirmed(row: ReportRow) -> str:
    times = ", ".join(format_datetime_vi(t) for t in row.times)
    return f"{row.unit} — {row.means}: {_count(row)} ({times})"
