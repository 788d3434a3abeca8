"""Text for ``dispatcher activity ...`` (dates dd/mm/yyyy for people, ISO 8601 in exports)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from dispatcher.cli.presenters import csv_line
from dispatcher.core.schedule import format_date_vi
from dispatcher.reports.activities import ActivityView
from dispatcher.reports.activity_import import ImportResult
from dispatcher.reports.forms import FORMS

BOM = "\ufeff"  # Excel on Windows reads a CSV as UTF-8 only with it
FIELDS = ("id", "kind", "state", "corrects_id", "day", "unit_code", "unit_name", "form",
          "form_label", "count", "count_unit", "means", "content", "campaign_id", "note",
          "reason", "source", "recorded_by", "recorded_at")  # fmt: skip


def recorded(activity: ActivityView) -> str:
    """One line: what was recorded, under which id."""
    what = {"record": "Recorded", "correction": "Recorded correction"}
    target = f" (replaces {activity.corrects_id})" if activity.kind == "correction" else ""
    if activity.kind == "void":
        return f"Voided activity {activity.corrects_id} (record {activity.id}): {activity.reason}"
    return (
        f"{what[activity.kind]} activity {activity.id}{target}: {activity.unit_name}, "
        f"{activity.form_label}, {activity.count} {activity.count_unit}, "
        f"{format_date_vi(activity.day)}."
    )


def imported(result: ImportResult) -> str:
    n = len(result.ids)
    span = f"{result.ids[0]}–{result.ids[-1]}" if n > 1 else str(result.ids[0])
    return f"Recorded {n} activit{'y' if n == 1 else 'ies'} from {result.file} (ids {span})."


def forms_table() -> str:
    lines = [f"{'CODE':<14} {'COUNTED IN':<10} LABEL"]
    lines += [f"{f.code:<14} {f.count_unit:<10} {f.label}" for f in FORMS]
    return "\n".join(lines) + "\n"


def listing(activities: Sequence[ActivityView], fmt: str, tz: ZoneInfo) -> Iterator[str]:
    if fmt == "jsonl":
        for activity in activities:
            yield json.dumps(_record(activity, tz), ensure_ascii=False) + "\n"
        return
    if fmt == "csv":
        yield BOM + csv_line(list(FIELDS))
        for activity in activities:
            record = _record(activity, tz)
            yield csv_line(["" if record[f] is None else record[f] for f in FIELDS])
        return
    yield from _table(activities)


def _record(activity: ActivityView, tz: ZoneInfo) -> dict[str, Any]:
    return {
        "id": activity.id, "kind": activity.kind, "state": activity.state,
        "corrects_id": activity.corrects_id, "day": activity.day.isoformat(),
        "unit_code": activity.unit_code, "unit_name": activity.unit_name, "form": activity.form,
        "form_label": activity.form_label, "count": activity.count,
        "count_unit": activity.count_unit, "means": activity.means, "content": activity.content,
        "campaign_id": activity.campaign_id, "note": activity.note, "reason": activity.reason,
        "source": activity.source, "recorded_by": activity.recorded_by,
        "recorded_at": activity.recorded_at.astimezone(tz).isoformat(),
    }  # fmt: skip


def _table(activities: Iterable[ActivityView]) -> Iterator[str]:
    header = ("ID", "DATE", "UNIT", "FORM", "COUNT", "MEANS", "STATE")
    rows = [header]
    counted = 0
    for a in activities:
        counted += a.count if a.counts else 0
        rows.append((str(a.id), format_date_vi(a.day), a.unit_name, a.form,
                     f"{a.count} {a.count_unit}", a.means or "", a.state))  # fmt: skip
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for row in rows:
        yield "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() + "\n"
    yield f"{len(rows) - 1} record(s); {counted} counted (replaced and voided records are not).\n"
