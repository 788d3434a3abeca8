"""``dispatcher log`` and ``log events``: the deliveries and their history, as an auditor asks.

Filters: campaign (an unknown one is an error listing the known ones, never "0 deliveries"),
the unit running the campaigns (``--unit``/``--commune``, written with or without tone marks),
the form (the delivery log holds SMS: another form is an error naming where it is kept),
occurrence, number (any written form), status, and a period (``--from``/``--to`` as dd/mm/yyyy
or ISO, or ``--month``) read in the configured time zone. Everything is streamed: a million
rows never sit in memory; the auditors' pages read it a page at a time, by keyset.

The exports' records and CSV are here, below the two faces, so that ``dispatcher log --format
csv`` and the auditors' page ``/audit/log.csv`` write the very same bytes.
"""

from __future__ import annotations

import csv
import difflib
import io
from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dispatcher.audience.phones import InvalidPhone, normalize
from dispatcher.bootstrap import Runtime
from dispatcher.core.errors import BadInput, Problem
from dispatcher.core.outbox import DeliveryView, EventView, LogFilter
from dispatcher.core.status import Status
from dispatcher.core.text import spreadsheet_safe
from dispatcher.reports.activities import month_days
from dispatcher.reports.activity_fields import parse_day
from dispatcher.reports.forms import form_option
from dispatcher.reports.monthly import unit_match_key

BOM = "\ufeff"  # Excel on Windows reads a CSV as UTF-8 only with it
CSV_CHUNK_ROWS = 1000  # CSV rows handed on at once
LOG_FIELDS = ["campaign", "occurrence", "to", "status", "provider_id", "attempts", "error_code",
              "error_message", "sent_at", "updated_at"]  # fmt: skip
EVENT_FIELDS = ["id", "at", "campaign", "occurrence", "to", "status", "attempt", "provider_id",
                "error_code", "detail"]  # fmt: skip


def log_filter(
    tz: ZoneInfo,
    *,
    campaign: str | None = None,
    phone: str | None = None,
    status: str | None = None,
    first: str | None = None,
    last: str | None = None,
    month: str | None = None,
    occurrence: str | None = None,
    unit: str | None = None,
    commune: str | None = None,
    form: str | None = None,
) -> LogFilter:
    """Check the options of ``dispatcher log``; bad ones are :class:`BadInput` naming them.
    ``--to`` includes its day; ``--month`` is ``2024-12`` or ``12/2024``; ``--commune`` is
    ``--unit`` by another name (a commune's campaigns are those its unit runs)."""
    if unit is not None and commune is not None:
        raise BadInput(Problem("give --unit or --commune, not both", field="--commune"))
    _sms_only(form)
    start, end = _period(tz, first, last, month)
    return LogFilter(campaign, _phone(phone), _status(status), start, end, occurrence,
                     unit if unit is not None else commune)  # fmt: skip


def check_filter(rt: Runtime, filters: LogFilter) -> LogFilter:
    """``filters`` with its unit resolved into that unit's campaigns; :class:`BadInput` for a
    campaign or unit the database does not know, listing those it does (called before an
    export starts, so nothing is half-written)."""
    if filters.campaign is None and filters.unit is None:
        return filters
    with rt.uow() as uow:
        units = uow.repo.lifecycle.campaign_units()
    known = [campaign_id for campaign_id, _ in units]
    if filters.campaign is not None and filters.campaign not in known:
        campaign = filters.campaign
        listed = ", ".join(known) or "none has sent yet"
        raise BadInput(Problem(f"unknown campaign '{campaign}' (campaigns: {listed})",
                               field="--campaign"))  # fmt: skip
    if filters.unit is None:
        return filters
    wanted = unit_match_key(filters.unit)
    matching = tuple(campaign_id for campaign_id, unit in units if unit_match_key(unit) == wanted)
    if not matching:
        raise BadInput(Problem(_no_such_unit(filters.unit, [u for _, u in units]), field="--unit"))
    return replace(filters, campaigns=matching)


def _no_such_unit(written: str, units: list[str]) -> str:
    names = sorted(set(units))
    by_key = {unit_match_key(name): name for name in names}
    close = difflib.get_close_matches(unit_match_key(written), list(by_key), n=2, cutoff=0.6)
    hint = " or ".join(f"'{by_key[key]}'" for key in close)
    maybe = f"did you mean {hint}? " if hint else ""
    if not names:
        return f"no campaign is run by '{written}' (no campaign is registered yet)"
    return f"no campaign is run by '{written}' ({maybe}units with campaigns: {'; '.join(names)})"


def _sms_only(form: str | None) -> None:
    """The delivery log holds SMS; any other form is kept elsewhere, and said where."""
    if form is None:
        return
    found = form_option(form)
    if found.code == "sms":
        return
    where = ("`dispatcher report monthly` (airings confirmed, and those not)"
             if found.code == "loudspeaker"
             else f"`dispatcher activity list --form {found.code}`")  # fmt: skip
    message = f"the delivery log holds SMS only; {found.label} is in {where}"
    raise BadInput(Problem(message, field="--form"))


def delivery_log(rt: Runtime, filters: LogFilter) -> Iterator[DeliveryView]:
    """The outbox rows matching ``filters``, oldest first, streamed."""
    filters = check_filter(rt, filters)
    with rt.uow() as uow:
        yield from uow.audit.deliveries(filters)


def delivery_events(rt: Runtime, filters: LogFilter) -> Iterator[EventView]:
    """The delivery log's events matching ``filters``, in the order written, streamed."""
    filters = check_filter(rt, filters)
    with rt.uow() as uow:
        yield from uow.audit.events(filters)


def delivery_page(
    rt: Runtime, filters: LogFilter, after: int | None, limit: int
) -> list[tuple[int, DeliveryView]]:
    """One page of :func:`delivery_log`: at most ``limit`` rows after the row ``after`` (an
    id), each with its id."""
    filters = check_filter(rt, filters)
    with rt.uow() as uow:
        return uow.audit.delivery_page(filters, after, limit)


def event_page(rt: Runtime, filters: LogFilter, after: int | None, limit: int) -> list[EventView]:
    """One page of :func:`delivery_events`: at most ``limit`` events after the event ``after``."""
    filters = check_filter(rt, filters)
    with rt.uow() as uow:
        return uow.audit.event_page(filters, after, limit)


# -- exports ----------------------------------------------------------------------------------
def log_record(view: DeliveryView, tz: ZoneInfo) -> dict[str, Any]:
    """A delivery as exported (:data:`LOG_FIELDS`): whole numbers, ISO 8601 local times."""
    return {
        "campaign": view.campaign, "occurrence": view.occurrence, "to": view.to,
        "status": view.status, "provider_id": view.provider_id, "attempts": view.attempts,
        "error_code": view.error_code, "error_message": view.error_message,
        "sent_at": view.sent_at.astimezone(tz).isoformat() if view.sent_at else None,
        "updated_at": view.updated_at.astimezone(tz).isoformat(),
    }  # fmt: skip


def event_record(event: EventView, tz: ZoneInfo) -> dict[str, Any]:
    """An event as exported (:data:`EVENT_FIELDS`)."""
    return {
        "id": event.id, "at": event.at.astimezone(tz).isoformat(), "campaign": event.campaign,
        "occurrence": event.occurrence, "to": event.to, "status": event.status,
        "attempt": event.attempt, "provider_id": event.provider_id,
        "error_code": event.error_code, "detail": event.detail,
    }  # fmt: skip


def csv_chunks(
    records: Iterable[dict[str, Any]], fields: list[str], *, bom: bool = True
) -> Iterator[str]:
    """CSV text in chunks of :data:`CSV_CHUNK_ROWS` rows, the header first (after a byte-order
    mark unless ``bom`` is False); text a spreadsheet would run as a formula is neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([_cell(f) for f in fields])
    yield (BOM if bom else "") + buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    for count, record in enumerate(records, start=1):
        writer.writerow([_cell(record[f]) for f in fields])
        if count % CSV_CHUNK_ROWS == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    return spreadsheet_safe(value) if isinstance(value, str) else value


def _status(status: str | None) -> Status | None:
    if status is None:
        return None
    try:
        return Status(status)
    except ValueError as exc:
        choices = ", ".join(s.value for s in Status)
        problem = Problem(f"unknown status '{status}' (one of {choices})", field="--status")
        raise BadInput(problem) from exc


def _phone(phone: str | None) -> str | None:
    if phone is None:
        return None
    try:
        return normalize(phone)
    except InvalidPhone as exc:
        raise BadInput(Problem(f"'{phone}': {exc.reason}", field="--phone")) from exc


def _period(
    tz: ZoneInfo, first: str | None, last: str | None, month: str | None
) -> tuple[datetime | None, datetime | None]:
    """The instants from the start of ``first``'s day to the end of ``last``'s, in ``tz``."""
    days: dict[str, date | None] = {}
    for name, text in (("--from", first), ("--to", last)):
        if text is not None and days.setdefault(name, parse_day(text)) is None:
            raise BadInput(Problem(f"'{text}' is not a day like 05/12/2024", field=name))
    start, end = days.get("--from"), days.get("--to")
    if month is not None:
        if start is not None or end is not None:
            raise BadInput(Problem("give --month or --from/--to, not both", field="--month"))
        start, end = month_days(month)
    if start is not None and end is not None and end < start:
        raise BadInput(Problem("--to is before --from", field="--to"))
    return (
        datetime.combine(start, time(), tz) if start else None,
        datetime.combine(end + timedelta(days=1), time(), tz) if end else None,
    )
