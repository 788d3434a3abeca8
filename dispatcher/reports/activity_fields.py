"""One outreach activity as a person writes it (a command's options, a row of a file), checked.

Every field is checked and every problem reported at once, by field: the unit against the units
registry on the activity's day (a merged commune cannot be given activities after it ceased to
exist; a name typed without tone marks is matched when it fits one unit, else "could be" /
"did you mean"), the form against the fixed vocabulary, the count, the day (dd/mm/yyyy or ISO,
not in the future), the campaign among those registered, and the texts (no control characters,
bounded lengths).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date

from dispatcher.audience.units import Unit, UnitsRegistry, name_key
from dispatcher.core.schedule import format_date_vi
from dispatcher.core.text import control_character
from dispatcher.reports.forms import Form, find_form
from dispatcher.sms.encoding import fold_vietnamese

FIELDS = ("unit", "form", "count", "date", "means", "content", "campaign", "note")
MAX_COUNT = 1_000_000  # more in one record is a typing mistake
TEXT_LIMITS = {"means": 500, "content": 2000, "note": 1000, "reason": 1000}
FIRST_DAY = date(2000, 1, 1)
_DAY_VI = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})")
_DAY_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_COUNT = re.compile(r"\d+(?:\.0+)?")  # Excel may store 12 as 12.0
_KIND_WORD = re.compile(r"^(?:xa|phuong|thi tran|huyen|tinh)\s+")


@dataclass(frozen=True)
class ActivityFields:
    """The fields as written; None or blank: not given."""

    unit: str | None = None
    form: str | None = None
    count: str | None = None
    date: str | None = None
    means: str | None = None
    content: str | None = None
    campaign: str | None = None
    note: str | None = None


@dataclass(frozen=True, kw_only=True)
class CheckedActivity:
    unit: Unit  # the registry's unit on ``day``
    form: Form
    count: int
    day: date
    means: str | None
    content: str | None
    campaign_id: str | None
    note: str | None


Problems = list[tuple[str, str]]  # (field, message)


def check_activity(
    fields: ActivityFields, units: UnitsRegistry, campaigns: Collection[str], today: date
) -> CheckedActivity | Problems:
    """The activity, or every problem of its fields as ``(field, message)``."""
    problems: Problems = []

    def required(name: str) -> str | None:
        value = (getattr(fields, name) or "").strip()
        if not value:
            problems.append((name, "missing"))
        return value or None

    unit_text, form_text = required("unit"), required("form")
    count_text, day_text = required("count"), required("date")
    day = _day(day_text, today, problems) if day_text else None
    unit = _unit(unit_text, day, units, problems) if unit_text else None
    form = _form(form_text, problems) if form_text else None
    count = _count(count_text, problems) if count_text else None
    texts = {name: _text(name, getattr(fields, name), problems) for name in TEXT_LIMITS
             if name != "reason"}  # fmt: skip
    campaign = (fields.campaign or "").strip() or None
    if campaign is not None and campaign not in campaigns:
        known = ", ".join(sorted(campaigns)) or "none registered yet"
        problems.append(("campaign", f"unknown campaign '{campaign}' (campaigns: {known})"))
    if problems or unit is None or form is None or count is None or day is None:
        return problems
    return CheckedActivity(
        unit=unit, form=form, count=count, day=day, means=texts["means"],
        content=texts["content"], campaign_id=campaign, note=texts["note"],
    )  # fmt: skip


def parse_day(text: str) -> date | None:
    """``05/12/2024``, ``5/12/2024`` or ``2024-12-05``; None when it is neither or no day."""
    written = text.strip()
    match = _DAY_VI.fullmatch(written)
    parts = (match[3], match[2], match[1]) if match else None
    iso = _DAY_ISO.fullmatch(written[:10])
    if parts is None and iso and written[10:] in ("", "T00:00:00", " 00:00:00"):
        parts = (iso[1], iso[2], iso[3])
    try:
        return date(int(parts[0]), int(parts[1]), int(parts[2])) if parts else None
    except ValueError:
        return None


def checked_text(name: str, value: str | None, problems: Problems) -> str | None:
    """A free text: stripped, None when blank; a problem for control characters or length."""
    return _text(name, value, problems)


def _day(text: str, today: date, problems: Problems) -> date | None:
    day = parse_day(text)
    if day is None:
        problems.append(("date", f"'{text}' is not a day like 05/12/2024 or 2024-12-05"))
    elif day > today:
        problems.append(("date", f"{format_date_vi(day)} is in the future"))
    elif day < FIRST_DAY:
        problems.append(("date", f"{format_date_vi(day)} is before {format_date_vi(FIRST_DAY)}"))
    else:
        return day
    return None


def _count(text: str, problems: Problems) -> int | None:
    if not _COUNT.fullmatch(text) or not 1 <= int(float(text)) <= MAX_COUNT:
        problems.append(("count", f"'{text}' is not a whole number from 1 to {MAX_COUNT:,}"))
        return None
    return int(float(text))


def _form(text: str, problems: Problems) -> Form | None:
    try:
        return find_form(text)
    except LookupError as exc:
        problems.append(("form", str(exc.args[0])))
        return None


def _text(name: str, value: str | None, problems: Problems) -> str | None:
    text = (value or "").strip()
    if (found := control_character(text)) is not None:
        problems.append((name, f"contains the control character {found}: retype the text"))
    elif len(text) > TEXT_LIMITS[name]:
        problems.append((name, f"{len(text)} characters; at most {TEXT_LIMITS[name]}"))
    return text or None


# -- units ------------------------------------------------------------------------------------


def _unit(text: str, day: date | None, units: UnitsRegistry, problems: Problems) -> Unit | None:
    try:
        periods = find_unit(units, text)
    except LookupError as exc:
        problems.append(("unit", str(exc.args[0])))
        return None
    if day is None:  # the day is wrong: the unit is known, its period cannot be checked
        return None
    found = next((u for u in periods if u.valid_on(day)), None)
    if found is None:
        problems.append(("unit", _not_then(periods, day, units)))
    return found


def find_unit(units: UnitsRegistry, written: str) -> tuple[Unit, ...]:
    """Every period of the unit (of any kind) written as a code or a name, with or without its
    kind and tone marks; :class:`LookupError` saying why not, with "did you mean"."""
    text = " ".join(written.split())
    by_code = [u for u in units.units if u.code == text]
    exact = [u for u in units.units if name_key(u.name) == name_key(text)]
    found = by_code or exact or _folded(units.units, text)
    if len({u.name for u in found}) > 1 and not by_code:
        names = " or ".join(sorted({f"{u.name} ({u.code})" for u in found}))
        raise LookupError(f"'{text}' could be {names}: write the full name or the code")
    if not found:
        raise LookupError(_unknown(units, text))
    return tuple(sorted(found, key=lambda u: u.valid_from or date.min))


def _fold(name: str) -> str:
    return name_key(fold_vietnamese(name))


def _folded(candidates: Collection[Unit], text: str) -> list[Unit]:
    """Units whose name matches without tone marks, with or without its kind."""
    key = _fold(text)
    same = [u for u in candidates if _fold(u.name) == key]
    if same or _KIND_WORD.match(key):
        return same
    return [u for u in candidates if _KIND_WORD.sub("", _fold(u.name)) == key]


def _unknown(units: UnitsRegistry, text: str) -> str:
    names = {_KIND_WORD.sub("", _fold(u.name)): u.name for u in units.units}
    key = _KIND_WORD.sub("", _fold(text))
    close = sorted({names[n] for n in difflib.get_close_matches(key, names, n=3, cutoff=0.75)})
    hint = f" (did you mean {', '.join(close)}?)" if close else ""
    return f"'{text}' is not a unit in the units registry {units.source}{hint}"


def _not_then(periods: tuple[Unit, ...], day: date, units: UnitsRegistry) -> str:
    """Why the unit cannot have an activity on ``day``: when it existed, what it became."""
    name = periods[-1].name
    spans = "; ".join(u.period for u in periods)
    ended = [u for u in periods if u.valid_to is not None and u.valid_to < day]
    successor = units.successor(ended[-1]) if ended else None
    merged = f", merged into {successor.name}" if successor else ""
    when = format_date_vi(day)
    return f"{name} did not exist on {when} (it existed {spans}{merged})"
