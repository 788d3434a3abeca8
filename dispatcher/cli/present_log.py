"""``dispatcher log`` and ``log events``: a table for people (local times dd/mm/yyyy, numbers
masked unless --full), CSV (with a byte-order mark for Excel unless told not to), JSONL, and the
rows of an .xlsx; all streamed."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from dispatcher.audience.phones import mask, mask_in_text
from dispatcher.cli.presenters import DELIVERED_NOTE
from dispatcher.core import schedule
from dispatcher.core.files import replace_with
from dispatcher.core.outbox import DeliveryView, EventView

# The exports' records and CSV are the service's, so the auditors' pages write the same bytes
# (re-exported: the `log` command and its tests read them here).
from dispatcher.reports.audit_log import EVENT_FIELDS as EVENT_FIELDS
from dispatcher.reports.audit_log import LOG_FIELDS as LOG_FIELDS
from dispatcher.reports.audit_log import csv_chunks
from dispatcher.reports.audit_log import event_record as event_record
from dispatcher.reports.audit_log import log_record as log_record

if TYPE_CHECKING:
    from dispatcher.reports.log_verify import Verdict


def delivery_log(
    views: Iterable[DeliveryView], fmt: str, tz: ZoneInfo, *, full: bool = False, bom: bool = True
) -> Iterator[str]:
    """Stream the deliveries; the table masks numbers unless ``full``, CSV and JSONL never do."""
    if fmt != "table":
        yield from _records((log_record(v, tz) for v in views), LOG_FIELDS, fmt, bom)
        return
    yield f"{'time':<16}  {'campaign':<20} {'occurrence':<22} {'to':<16} {'status':<12} " \
          f"{'tries':>5}  error or reason\n"  # fmt: skip
    count = 0
    for view in views:
        count += 1
        why = " ".join(str(p) for p in (view.error_code, view.error_message) if p)
        to, why = (view.to, why) if full else (mask(view.to), mask_in_text(why))
        yield (
            f"{_when(view.at, tz):<16}  {view.campaign:<20} {view.occurrence:<22} {to:<16} "
            f"{view.status:<12} {view.attempts:>5}  {why}\n"
        )
    yield f"{count} deliveries. {DELIVERED_NOTE}\n"


def delivery_events(
    events: Iterable[EventView], fmt: str, tz: ZoneInfo, *, full: bool = False, bom: bool = True
) -> Iterator[str]:
    """Stream the per-transition history, in the order it was written."""
    if fmt != "table":
        yield from _records((event_record(e, tz) for e in events), EVENT_FIELDS, fmt, bom)
        return
    yield f"{'time':<16}  {'campaign':<20} {'occurrence':<22} {'to':<16} {'status':<12} " \
          f"{'try':>3}  error or detail\n"  # fmt: skip
    count = 0
    for event in events:
        count += 1
        why = " ".join(str(p) for p in (event.error_code, event.detail) if p)
        to, why = (event.to, why) if full else (mask(event.to), mask_in_text(why))
        yield (
            f"{_when(event.at, tz):<16}  {event.campaign:<20} {event.occurrence:<22} {to:<16} "
            f"{event.status:<12} {event.attempt:>3}  {why}\n"
        )
    yield f"{count} events.\n"


def _records(
    records: Iterable[dict[str, Any]], fields: list[str], fmt: str, bom: bool
) -> Iterator[str]:
    """JSONL, or CSV through the service's writer (formula-like text neutralised, as every CSV
    export is)."""
    if fmt == "csv":
        yield from csv_chunks(records, fields, bom=bom)
        return
    for record in records:
        yield json.dumps(record, ensure_ascii=False) + "\n"


def _when(moment: datetime, tz: ZoneInfo) -> str:
    return schedule.format_datetime_vi(moment.astimezone(tz))


def write_out(path: Path, chunks: Iterable[str]) -> None:
    """Stream ``chunks`` into ``path`` (UTF-8), whole or not at all: an export that fails
    halfway leaves the file as it was. :class:`BadInput` naming it when it cannot be written."""
    encoded = (chunk.encode("utf-8") for chunk in chunks)
    replace_with(path, lambda raw: raw.writelines(encoded), "the export")


def verdict(result: Verdict) -> str:
    """What ``log verify`` found, in a sentence or two."""
    if result.broken is None:
        at, head = result.head
        return (f"The logs are intact: {result.records} records chained.\n"
                f"Chain head: position {at}, hash {head}")  # fmt: skip
    broken = result.broken
    record = broken.table if broken.record_id is None else f"{broken.table} id {broken.record_id}"
    where = f" (chain position {broken.position})" if broken.position is not None else ""
    return (f"The logs were changed: {record}{where}: {broken.what}.\n"
            f"Intact before it: {result.records} records.")  # fmt: skip
