"""``report monthly`` as a table to read, CSV for a spreadsheet, JSON for machines (the .xlsx is
:mod:`dispatcher.reports.spreadsheet`'s)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from dispatcher.cli.presenters import csv_line
from dispatcher.core import schedule
from dispatcher.core.files import replace_file
from dispatcher.core.schedule import format_date_vi
from dispatcher.reports.due import DueReport
from dispatcher.reports.monthly import COLUMNS, MonthlyReport, ReportRow, vi_number

BOM = "\ufeff"  # Excel on Windows reads a CSV as UTF-8 only with it
TABLE_HEADER = ("STT", "Đơn vị", "Hình thức truyền thông", "Nội dung", "Số lượt", "Phương tiện",
                "Kết quả", "Ghi chú")  # fmt: skip
TOTAL = "Tổng cộng"
ANCHOR_LABEL = "Sổ nhật ký (bản ghi, mã)"  # the CSV's last row: the chain head
UNCONFIRMED_TITLE = "Chưa xác nhận — đã qua giờ phát, xã chưa xác nhận đã phát (không tính ở trên):"
UNCONFIRMED_SHOWN = 6  # planned times listed per commune in the table; CSV and JSON list all


def monthly(report: MonthlyReport, fmt: str, *, bom: bool = True) -> str:
    """The report as a table to read (a header row, a Tổng cộng row), CSV (a byte-order mark
    unless ``bom`` is False; the counted rows numbered, then the unconfirmed airings
    unnumbered) or JSON (``rows`` and ``unconfirmed``)."""
    if fmt == "json":
        return json.dumps(_report_json(report), ensure_ascii=False, indent=2) + "\n"
    if fmt == "csv":
        return (BOM if bom else "") + _csv(report)
    return _table(report)


def write_text(path: Path, text: str) -> None:
    """The report into ``path`` (UTF-8), whole or not at all; :class:`BadInput` naming it when
    it cannot be written."""
    replace_file(path, text.encode("utf-8"))


def _csv(report: MonthlyReport) -> str:
    rows: list[list[Any]] = [list(r.cells(i)) for i, r in enumerate(report.rows, start=1)]
    total = ["", TOTAL, "", "", sum(r.count for r in report.rows), "", "", "", ""]
    missing = [["", r.unit, r.form, r.content, r.count, r.count_unit, r.means, "",
                f"{r.note}: {_times(r.times)}"] for r in report.unconfirmed]  # fmt: skip
    anchor = ["", ANCHOR_LABEL, report.chain_head[0], report.chain_head[1]]
    return "".join(csv_line(row) for row in [list(COLUMNS), *rows, total, *missing, anchor])


def _table(report: MonthlyReport) -> str:
    title = f"Báo cáo kết quả tuyên truyền {report.period_label}"
    if report.start.day != 1:  # a period cut off on another day (report.period_start_day)
        last = (report.end - timedelta(microseconds=1)).date()
        title += f" (từ {format_date_vi(report.start.date())} đến {format_date_vi(last)})"
    if not report.rows and not report.unconfirmed:
        return f"{title}\n(không có hoạt động nào trong tháng)\n{report.anchor_line}\n"
    lines = [title]
    if report.rows:
        cells = [
            (str(i), r.unit, r.form, r.content, f"{vi_number(r.count)} {r.count_unit}", r.means,
             r.result, r.note)
            for i, r in enumerate(report.rows, start=1)
        ]  # fmt: skip
        total = ("", TOTAL, "", "", vi_number(sum(r.count for r in report.rows)), "", "", "")
        lines += _aligned([TABLE_HEADER, *cells, total])
    else:
        lines.append("(chưa có hoạt động nào được tính trong tháng)")
    if report.unconfirmed:
        lines += ["", UNCONFIRMED_TITLE] + [_unconfirmed_line(r) for r in report.unconfirmed]
    lines += ["", report.anchor_line]
    return "\n".join(lines) + "\n"


def _aligned(rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
            for row in rows]  # fmt: skip


def _times(times: Iterable[datetime]) -> str:
    return ", ".join(schedule.format_datetime_vi(t) for t in times)


def _unconfirmed_line(row: ReportRow) -> str:
    shown = _times(row.times[:UNCONFIRMED_SHOWN])
    more = len(row.times) - UNCONFIRMED_SHOWN
    rest = f" và {more} lượt khác" if more > 0 else ""
    return f"  - {row.unit} | {row.means}: {row.count} {row.count_unit} ({shown}{rest})"


def _report_json(report: MonthlyReport) -> dict[str, Any]:
    return {
        "month": report.month,
        "period": {"start": report.start.isoformat(), "end": report.end.isoformat()},
        "rows": [_row_json(r) for r in report.rows],
        "unconfirmed": [
            {"unit": r.unit, "form": r.form, "means": r.means, "count": r.count,
             "count_unit": r.count_unit, "status": r.status,
             "planned": [t.isoformat() for t in r.times]}
            for r in report.unconfirmed
        ],
        "daily": [{"unit": unit, "form": form, "day": day.isoformat(), "count": n}
                  for (unit, form, day), n in sorted(report.daily.items())],
        "chain_head": {"position": report.chain_head[0], "hash": report.chain_head[1]},
    }  # fmt: skip


def _row_json(row: ReportRow) -> dict[str, Any]:
    data: dict[str, Any] = {
        "unit": row.unit, "form": row.form, "content": row.content, "means": row.means,
        "count": row.count, "count_unit": row.count_unit, "status": row.status,
        "result": row.result, "note": row.note, "segments": row.segments,
    }  # fmt: skip
    if row.sms is not None:
        data["sms"] = asdict(row.sms)
    if row.airing is not None:
        data["airing"] = asdict(row.airing)
    return data


def due(report: DueReport, *, as_json: bool = False) -> str:
    """The communes still to report, with their codes; or that every one has."""
    last = (report.end - timedelta(microseconds=1)).date()
    period = f"{format_date_vi(report.start.date())}–{format_date_vi(last)}"
    if as_json:
        data = {"month": report.month, "from": report.start.date().isoformat(),
                "to": last.isoformat(), "reporting": report.reporting,
                "due": [{"code": u.code, "name": u.name} for u in report.due]}  # fmt: skip
        return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    if not report.due:
        return f"Every commune has recorded outreach for {period} ({report.reporting}).\n"
    lines = [f"{len(report.due)} commune(s) have recorded nothing for {period} "
             f"({report.reporting} have):"]  # fmt: skip
    lines += [f"  {u.code}  {u.name}" for u in report.due]
    return "\n".join(lines) + "\n"
