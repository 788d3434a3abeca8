"""``dispatcher report due``: the communes that have recorded nothing for a month.

A commune is due when, in the month's reporting period, it existed (on some day of it) and has
neither an activity that counts (``dispatcher activity``) nor a confirmed loudspeaker airing:
the district office chases those before the 10th.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from dispatcher.audience.units import COMMUNE_KINDS, Unit
from dispatcher.bootstrap import Runtime
from dispatcher.broadcast.commune_keys import unit_key
from dispatcher.core.schedule import month_bounds
from dispatcher.reports.activities import registry
from dispatcher.reports.monthly import parse_month
from dispatcher.sms.encoding import fold_vietnamese


@dataclass(frozen=True)
class DueReport:
    month: str  # YYYY-MM
    start: datetime
    end: datetime
    due: list[Unit]  # by name, đ with d
    reporting: int  # communes that recorded something


def due(rt: Runtime, month: str) -> DueReport:
    """The communes with nothing recorded in ``month``'s reporting period."""
    year, number = parse_month(month)
    tz = rt.settings.tz
    start, end = month_bounds(year, number, tz, rt.settings.report.period_start_day)
    first, last = start.date(), (end - timedelta(microseconds=1)).date()
    units = registry(rt)
    existing = {u.code: u for u in sorted(units.units, key=_since) if _exists(u, first, last)}
    with rt.uow() as uow:
        recorded = {row[0] for row in uow.outreach.counted_codes_between(first, last)}
        aired = uow.repo.airings.aired_between(start, end)
    recorded |= {unit_key(row.commune, units) for row in aired}
    missing = sorted((u for code, u in existing.items() if code not in recorded),
                     key=lambda u: (fold_vietnamese(u.name).casefold(), u.name))  # fmt: skip
    return DueReport(f"{year:04d}-{number:02d}", start, end, missing,
                     len(existing) - len(missing))  # fmt: skip


def _since(unit: Unit) -> date:
    return unit.valid_from or date.min


def _exists(unit: Unit, first: date, last: date) -> bool:
    if unit.kind not in COMMUNE_KINDS:
        return False
    return (unit.valid_from or date.min) <= last and (unit.valid_to or date.max) >= first
