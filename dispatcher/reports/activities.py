"""Outreach the software does not perform itself: recorded, corrected, voided, listed.

The directive's report counts every form of communication (meetings, banners, leaflets, web and
Zalo posts, door-to-door visits...), not only the SMS and loudspeakers this service runs. Units
record them here (``dispatcher activity add`` or ``import``). A record is never edited: a
correction is a new record naming the one it replaces, a void is a record saying why one no
longer counts. The monthly report counts the records nothing replaced; the log keeps them all.
Each change is also in the activity log, with who made it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields, replace
from datetime import date, datetime, timedelta

from dispatcher.audience.units import UnitsRegistry
from dispatcher.bootstrap import Runtime
from dispatcher.broadcast.units import units_registry
from dispatcher.core.errors import BadInput, ConfigError, Problem
from dispatcher.core.operator import operator
from dispatcher.core.schedule import format_date_vi
from dispatcher.reports.activity_fields import (
    ActivityFields,
    CheckedActivity,
    check_activity,
    checked_text,
    find_unit,
    parse_day,
)
from dispatcher.reports.forms import form_by_code, form_option
from dispatcher.store.models import OutreachActivityRow
from dispatcher.store.uow import UnitOfWork

_OPTION_NAMES = ("unit", "form", "count", "date", "means", "content", "campaign", "note", "reason")
CLI_OPTIONS = {name: f"--{name}" for name in _OPTION_NAMES}
_MONTH_ISO = re.compile(r"(?P<y>\d{4})-(?P<m>\d{1,2})")
_MONTH_VI = re.compile(r"(?P<m>\d{1,2})/(?P<y>\d{4})")


@dataclass(frozen=True, kw_only=True)
class ActivityView:
    """A record as listed: what it says, and whether it counts."""

    id: int
    kind: str  # record | correction | void
    corrects_id: int | None
    replaced_by: int | None  # the correction or void that replaces it
    unit_code: str
    unit_name: str
    form: str  # code
    form_label: str
    count: int
    count_unit: str
    day: date
    means: str | None
    content: str | None
    campaign_id: str | None
    note: str | None
    reason: str | None
    source: str
    recorded_by: str
    recorded_at: datetime

    @property
    def counts(self) -> bool:
        return self.kind != "void" and self.replaced_by is None

    @property
    def state(self) -> str:
        """``counts``, ``corrected by N``, ``voided by N`` or ``voids N``."""
        if self.kind == "void":
            return f"voids {self.corrects_id}"
        if self.replaced_by is not None:
            return f"replaced by {self.replaced_by}"
        return "counts"


@dataclass(frozen=True)
class ActivityFilter:
    first: date | None = None
    last: date | None = None
    unit: str | None = None  # a name or code, as written
    form: str | None = None
    campaign_id: str | None = None


def make_filter(
    *,
    month: str | None = None,
    first: str | None = None,
    last: str | None = None,
    unit: str | None = None,
    form: str | None = None,
    campaign_id: str | None = None,
) -> ActivityFilter:
    """The filter of ``activity list``'s options; :class:`BadInput` naming a bad one.
    ``month`` is ``2024-12`` or ``12/2024``; days are dd/mm/yyyy or ISO."""
    days: dict[str, date | None] = {}
    for name, text in (("--from", first), ("--to", last)):
        if text is not None and (days.setdefault(name, parse_day(text)) is None):
            raise BadInput(Problem(f"'{text}' is not a day like 05/12/2024", field=name))
    start, end = days.get("--from"), days.get("--to")
    if month is not None:
        if start is not None or end is not None:
            raise BadInput(Problem("give --month or --from/--to, not both", field="--month"))
        start, end = month_days(month)
    return ActivityFilter(start, end, unit, form, campaign_id)


def month_days(month: str) -> tuple[date, date]:
    """The first and last day of ``2024-12`` or ``12/2024``."""
    match = _MONTH_ISO.fullmatch(month.strip()) or _MONTH_VI.fullmatch(month.strip())
    year, number = (int(match["y"]), int(match["m"])) if match else (0, 0)
    if not 1 <= number <= 12 or not 2000 <= year <= 2999:
        raise BadInput(Problem(f"'{month}' is not a month like 2024-12 or 12/2024",
                               field="--month"))  # fmt: skip
    following = date(year + number // 12, number % 12 + 1, 1)
    return date(year, number, 1), following - timedelta(days=1)


def registry(rt: Runtime) -> UnitsRegistry:
    """The units registry; activities need one (they are counted per unit)."""
    units = units_registry(rt.settings)
    if units is None:
        message = "activities are recorded per unit: configure the units registry (units_file)"
        raise ConfigError(Problem(message, field="units_file"))
    return units


def today(rt: Runtime) -> date:
    return rt.clock.now().astimezone(rt.settings.tz).date()


def add(rt: Runtime, written: ActivityFields) -> ActivityView:
    """Record one activity; :class:`BadInput` naming each bad option, and nothing written."""
    units = registry(rt)
    with rt.uow() as uow:
        checked = check_activity(written, units, campaign_ids(uow), today(rt))
        if isinstance(checked, list):
            raise BadInput([Problem(m, field=CLI_OPTIONS[f]) for f, m in checked])
        row = new_row(rt, checked, kind="record", source="cli")
        (activity_id,) = uow.outreach.add([row])
        log_change(uow, rt, "activity-recorded", row, activity_id)
        made = view(row, None)
        uow.commit()
    return made


def correct(
    rt: Runtime, activity_id: int, changes: ActivityFields, reason: str | None
) -> ActivityView:
    """A new record replacing ``activity_id``: its fields, with ``changes``."""
    units = registry(rt)
    problems: list[tuple[str, str]] = []
    why = checked_text("reason", reason, problems)
    with rt.uow() as uow:
        old = _replaceable(uow, activity_id)
        merged = replace(written_fields(old), **{
            f.name: getattr(changes, f.name) for f in fields(changes)
            if getattr(changes, f.name) is not None
        })  # fmt: skip
        checked = check_activity(merged, units, campaign_ids(uow), today(rt))
        if isinstance(checked, list):
            problems += checked
        if problems or isinstance(checked, list):
            raise BadInput([Problem(m, field=CLI_OPTIONS[f]) for f, m in problems])
        row = new_row(rt, checked, kind="correction", source="cli", corrects=old.id, reason=why)
        if _content(row) == _content(old):
            raise BadInput(Problem("nothing to correct: give the fields that change", field="ID"))
        (new_id,) = uow.outreach.add([row])
        log_change(uow, rt, "activity-corrected", row, new_id)
        made = view(row, None)
        uow.commit()
    return made


def void(rt: Runtime, activity_id: int, reason: str) -> ActivityView:
    """A record saying ``activity_id`` no longer counts, and why."""
    problems: list[tuple[str, str]] = []
    why = checked_text("reason", reason, problems)
    if why is None:
        problems.append(("reason", "say why the record no longer counts"))
    if problems:
        raise BadInput([Problem(m, field=CLI_OPTIONS[f]) for f, m in problems])
    with rt.uow() as uow:
        old = _replaceable(uow, activity_id)
        row = OutreachActivityRow(
            kind="void", corrects_id=old.id, unit_code=old.unit_code, unit_name=old.unit_name,
            form=old.form, count=old.count, day=old.day, means=old.means, content=old.content,
            campaign_id=old.campaign_id, note=old.note, reason=why, source="cli",
            recorded_by=operator(rt.environ), recorded_at=rt.clock.now(),
        )  # fmt: skip
        (new_id,) = uow.outreach.add([row])
        log_change(uow, rt, "activity-voided", row, new_id)
        made = view(row, None)
        uow.commit()
    return made


def listing(rt: Runtime, wanted: ActivityFilter) -> list[ActivityView]:
    """The records in the filters, by day then id: replaced ones and voids too, each with its
    state (an auditor sees the whole history)."""
    codes = None
    if wanted.unit is not None:
        try:
            codes = sorted({u.code for u in find_unit(registry(rt), wanted.unit)})
        except LookupError as exc:
            raise BadInput(Problem(str(exc.args[0]), field="--unit")) from exc
    form = form_option(wanted.form).code if wanted.form is not None else None
    with rt.uow() as uow:
        found = uow.outreach.listed(first=wanted.first, last=wanted.last, unit_codes=codes,
                                    form=form, campaign_id=wanted.campaign_id)  # fmt: skip
        return [view(row, replaced) for row, replaced in found]


# -- shared with the import -------------------------------------------------------------------


def new_row(
    rt: Runtime,
    checked: CheckedActivity,
    *,
    kind: str,
    source: str,
    corrects: int | None = None,
    reason: str | None = None,
) -> OutreachActivityRow:
    return OutreachActivityRow(
        kind=kind, corrects_id=corrects, unit_code=checked.unit.code,
        unit_name=checked.unit.name, form=checked.form.code, count=checked.count,
        day=checked.day, means=checked.means, content=checked.content,
        campaign_id=checked.campaign_id, note=checked.note, reason=reason, source=source,
        recorded_by=operator(rt.environ), recorded_at=rt.clock.now(),
    )  # fmt: skip


def log_change(
    uow: UnitOfWork, rt: Runtime, kind: str, row: OutreachActivityRow, activity_id: int
) -> None:
    """The change in the activity log: what, for which unit, by whom."""
    form = form_by_code(row.form)
    target = f" (replaces {row.corrects_id})" if row.corrects_id is not None else ""
    why = f"; {row.reason}" if row.reason else ""
    detail = (
        f"activity {activity_id}{target}: {row.unit_name}, {form.label}, {row.count} "
        f"{form.count_unit}, {format_date_vi(row.day)}; by {row.recorded_by}{why}"
    )
    uow.repo.record_activity(kind, rt.clock.now(), row.campaign_id, None, detail)


def campaign_ids(uow: UnitOfWork) -> list[str]:
    return uow.repo.lifecycle.campaign_ids()


def _replaceable(uow: UnitOfWork, activity_id: int) -> OutreachActivityRow:
    """The record to correct or void: it exists, is not a void, and nothing replaced it yet."""
    old = uow.outreach.by_id(activity_id)
    if old is None:
        raise BadInput(Problem(f"no activity {activity_id} (see `dispatcher activity list`)",
                               field="ID"))  # fmt: skip
    if old.kind == "void":
        message = f"activity {activity_id} is a void of {old.corrects_id}; it cannot change"
        raise BadInput(Problem(message, field="ID"))
    newer = uow.outreach.replaced_by(activity_id)
    if newer is not None:
        message = (
            f"activity {activity_id} was already replaced by {newer.id} ({newer.kind}): "
            f"correct or void {newer.id} instead"
        )
        raise BadInput(Problem(message, field="ID"))
    return old


def _content(row: OutreachActivityRow) -> tuple[object, ...]:
    return (row.unit_code, row.form, row.count, row.day, row.means, row.content,
            row.campaign_id, row.note)  # fmt: skip


def written_fields(row: OutreachActivityRow) -> ActivityFields:
    """A stored record as a person would write it again (the base of a correction)."""
    return ActivityFields(
        unit=row.unit_code, form=row.form, count=str(row.count), date=row.day.isoformat(),
        means=row.means, content=row.content, campaign=row.campaign_id, note=row.note,
    )  # fmt: skip


def view(row: OutreachActivityRow, replaced_by: int | None) -> ActivityView:
    form = form_by_code(row.form)
    return ActivityView(
        id=row.id, kind=row.kind, corrects_id=row.corrects_id, replaced_by=replaced_by,
        unit_code=row.unit_code, unit_name=row.unit_name, form=row.form, form_label=form.label,
        count=row.count, count_unit=form.count_unit, day=row.day, means=row.means,
        content=row.content, campaign_id=row.campaign_id, note=row.note, reason=row.reason,
        source=row.source, recorded_by=row.recorded_by, recorded_at=row.recorded_at,
    )  # fmt: skip
