"""``dispatcher activity import FILE``: a unit's table of activities, all or nothing.

A ``.csv`` or ``.xlsx`` with a header row, in Vietnamese or English: Đơn vị (unit), Hình thức
(form), Số lượt (count), Ngày (date), Phương tiện (means), Nội dung (content), Ghi chú (note),
Chiến dịch (campaign); any case, with or without tone marks. A numbering column (STT, TT) is
ignored; any other column is an error, since its data would be lost. Every problem of every row
is reported as ``file:line: column: message`` (the column as the file writes it) and nothing is
written unless every row is right.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from dispatcher.audience.lists import display_path, read_table
from dispatcher.bootstrap import Runtime
from dispatcher.core.errors import BadInput, Problem
from dispatcher.reports.activities import (
    campaign_ids,
    log_change,
    new_row,
    registry,
    today,
)
from dispatcher.reports.activity_fields import ActivityFields, CheckedActivity, check_activity
from dispatcher.sms.encoding import fold_vietnamese

MAX_ROWS = 100_000  # a unit's activities for years; more is not such a table
_HEADERS = {
    "unit": ("đơn vị", "unit", "tên đơn vị"),
    "form": ("hình thức", "hình thức truyền thông", "form"),
    "count": ("số lượt", "số lượng", "count"),
    "date": ("ngày", "ngày thực hiện", "date"),
    "means": ("phương tiện", "means"),
    "content": ("nội dung", "content"),
    "note": ("ghi chú", "note"),
    "campaign": ("chiến dịch", "campaign"),
}
_REQUIRED = ("unit", "form", "count", "date")
_IGNORED = ("stt", "tt", "#", "so tt")


def _key(text: str) -> str:
    return " ".join(fold_vietnamese(text).casefold().split())


_BY_KEY = {_key(name): field for field, names in _HEADERS.items() for name in names}


@dataclass(frozen=True)
class ImportResult:
    file: str
    ids: list[int]


def import_file(rt: Runtime, path: Path) -> ImportResult:
    """Record every row of ``path``, or none: :class:`BadInput` with every problem."""
    shown = display_path(path, Path.cwd())
    units = registry(rt)
    with rt.uow() as uow:
        campaigns, day = campaign_ids(uow), today(rt)
    checked: list[tuple[int, CheckedActivity]] = []
    problems: list[Problem] = []
    for line, header, fields in _rows(path, shown):
        found = check_activity(fields, units, campaigns, day)
        if isinstance(found, list):
            problems += [Problem(m, shown, line, header[f]) for f, m in found]
        else:
            checked.append((line, found))
    if problems:
        raise BadInput(problems)
    if not checked:
        raise BadInput(Problem("no activity in the file: only its header", shown))
    with rt.uow() as uow:
        rows = [new_row(rt, c, kind="record", source=f"import {shown}:{n}") for n, c in checked]
        ids = uow.outreach.add(rows)
        for row, activity_id in zip(rows, ids, strict=True):
            log_change(uow, rt, "activity-recorded", row, activity_id)
        uow.commit()
    return ImportResult(shown, ids)


def _rows(path: Path, shown: str) -> Iterator[tuple[int, dict[str, str], ActivityFields]]:
    """``(line, column header of each field as written, fields)`` for each non-blank row."""
    table = read_table(path, shown)
    header_line, header = next(((n, cells) for n, cells in table if any(cells)), (0, []))
    if not header:
        raise BadInput(Problem("the file is empty: a header row is needed", shown))
    columns = _columns(header, header_line, shown)
    written = {field: header[at] for at, field in columns.items()}
    count = 0
    for line, cells in table:
        if not any(cells):
            continue
        count += 1
        if count > MAX_ROWS:
            raise BadInput(Problem(f"more than {MAX_ROWS:,} rows: split the file", shown, line))
        values = {field: cells[at] if at < len(cells) else "" for at, field in columns.items()}
        yield line, written, ActivityFields(**values)


def _columns(header: list[str], line: int, shown: str) -> dict[int, str]:
    """Which field each column holds; :class:`BadInput` for unknown, repeated or missing ones."""
    columns: dict[int, str] = {}
    problems = []
    for at, name in enumerate(header):
        key = _key(name)
        if not key or key in _IGNORED:
            continue
        field = _BY_KEY.get(key)
        if field is None:
            accepted = ", ".join(names[0].capitalize() for names in _HEADERS.values())
            problems.append(Problem(f"unknown column '{name}' (columns: {accepted})", shown, line))
        elif field in columns.values():
            problems.append(Problem(f"column '{name}' repeats another one", shown, line))
        else:
            columns[at] = field
    missing = [_HEADERS[f][0].capitalize() for f in _REQUIRED if f not in columns.values()]
    if missing:
        problems.append(Problem(f"missing column(s): {', '.join(missing)}", shown, line))
    if problems:
        raise BadInput(problems)
    return columns
