"""A campaign's communes, resolved against the units registry: which exist, and on which days.

The campaign names its communes (``broadcast.communes``: a list, or a CSV file with a ``name``
column) by name or GSO code; each must be a commune of the registry, and exist on some day of
the broadcast. One merged away mid-campaign stops getting airings: :func:`commune_notes` says so
(a note for ``validate`` and ``plan``, not an error).

Without a registry file at the default path (``units.yaml`` next to config.yaml, config key
``units_file``) names are taken as written and never checked; a registry named explicitly in
config.yaml must exist.
"""

from __future__ import annotations

import csv
import functools
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from pathlib import Path

from dispatcher.audience.lists import display_path
from dispatcher.audience.units import UnitsRegistry, load_units
from dispatcher.broadcast import Commune, clean_name, commune_slug
from dispatcher.campaigns.spec import BroadcastSection, Campaign
from dispatcher.core.errors import BadInput, ConfigError, Problem
from dispatcher.core.schedule import format_date_vi
from dispatcher.settings.config import Settings

COMMUNE_COLUMNS = ("name", "commune")
Locate = Callable[[str], Problem]  # a message → the problem at the commune's file and line


def units_registry(settings: Settings) -> UnitsRegistry | None:
    """The configured registry; None when there is none at the default path."""
    path = settings.resolved_units_file
    if not path.is_file():
        if "units_file" in settings.model_fields_set:
            where = Problem("units registry not found", file=str(path), field="units_file")
            raise ConfigError(where)
        return None
    stat = path.stat()
    return _load_cached(path.resolve(), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=4)
def _load_cached(path: Path, mtime_ns: int, size: int) -> UnitsRegistry:
    # Keyed by modification time and size too: an edited registry is read again.
    return load_units(path, display_path(path, Path.cwd()))


def section(campaign: Campaign) -> BroadcastSection:
    """The campaign's ``broadcast`` section; :class:`BadInput` when it has none."""
    if campaign.spec.broadcast is None:
        raise BadInput(campaign.problem([], "this campaign has no `broadcast` section"))
    return campaign.spec.broadcast


def commune_entries(campaign: Campaign) -> list[tuple[str, Locate]]:
    """The communes as written in the campaign (or its CSV list), each with its location."""
    communes = section(campaign).communes
    if isinstance(communes, list):
        return [
            (name.strip(), functools.partial(_in_campaign, campaign, index))
            for index, name in enumerate(communes)
        ]
    return _csv_entries(campaign, campaign.resolve(communes))


def _in_campaign(campaign: Campaign, index: int, message: str) -> Problem:
    return campaign.problem(["broadcast", "communes", index], message)


def _csv_entries(campaign: Campaign, path: Path) -> list[tuple[str, Locate]]:
    shown = campaign.problem(["broadcast", "communes"], "").file
    listed = display_path(path, Path.cwd())
    found: list[tuple[str, Locate]] = []
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            header = {(h or "").strip().lower(): h for h in reader.fieldnames or []}
            column = next((header[c] for c in COMMUNE_COLUMNS if c in header), None)
            if column is None:
                columns = ", ".join(header) or "none"
                raise BadInput(Problem(f"no `name` column (columns: {columns})", listed, 1))
            for row in reader:
                name = (row.get(column) or "").strip()
                if name:
                    line = reader.line_num
                    found.append((name, functools.partial(_at_line, listed, line)))
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(Problem(f"cannot read the commune list: {exc}", shown)) from exc
    if not found:
        raise BadInput(Problem("the commune list is empty", listed))
    return found


def _at_line(file: str, line: int, message: str) -> Problem:
    return Problem(message, file=file, line=line)


def resolve_communes(
    campaign: Campaign,
    units: UnitsRegistry | None,
    entries: Sequence[tuple[str, Locate]] | None = None,
) -> list[Commune]:
    """The campaign's communes (or ``entries``) as :class:`Commune`; every problem at once.

    Unknown names, districts and communes that never exist between the broadcast's start and
    end are :class:`BadInput` at the file and line that names them.
    """
    return [commune for commune, _ in _resolved(campaign, units, entries)]


def _resolved(
    campaign: Campaign,
    units: UnitsRegistry | None,
    entries: Sequence[tuple[str, Locate]] | None = None,
) -> list[tuple[Commune, Locate]]:
    start, end = _window(campaign)
    resolved: list[tuple[Commune, Locate]] = []
    problems: list[Problem] = []
    for written, locate in commune_entries(campaign) if entries is None else entries:
        try:
            commune = _resolve(clean_name(written), units)
        except (LookupError, BadInput) as exc:
            problems.append(locate(str(exc.args[0]) if exc.args else str(exc)))
            continue
        if commune.first_and_last(start, end) is None:
            periods = "; ".join(f"{u.name} {u.period}" for u in commune.units)
            span = f"{format_date_vi(start)}–{format_date_vi(end)}"
            problems.append(locate(f"{written} does not exist during the broadcast {span} "
                                   f"({periods})"))  # fmt: skip
            continue
        resolved.append((commune, locate))
    problems += _shared_slugs(resolved)
    if problems:
        raise BadInput(problems)
    return resolved


def _shared_slugs(resolved: list[tuple[Commune, Locate]]) -> list[Problem]:
    """Two communes whose names fold to one slug ("Xã Tân Thành", "Xã Tân Thạnh") would write
    their scripts into one folder (``<out>/<campaign>/<slug>/``) of one campaign: refused, with
    the way round (links and confirmations key on unit codes and never mix them up). A unit
    renamed keeps its own, once."""
    owner: dict[str, tuple[int, str]] = {}
    problems = []
    for index, (commune, locate) in enumerate(resolved):
        for name in [u.name for u in commune.units] or [commune.written]:
            slug = commune_slug(name)
            first = owner.setdefault(slug, (index, name))
            if first[0] != index:
                problems.append(locate(
                    f"{name} and {first[1]} would share one scripts folder ('{slug}'): "
                    "put one of the two communes in a campaign of its own"
                ))  # fmt: skip
    return problems


def _resolve(written: str, units: UnitsRegistry | None) -> Commune:
    return Commune(written, units.find(written) if units is not None else ())


def _window(campaign: Campaign) -> tuple[date, date]:
    window = campaign.broadcast_window()
    assert window is not None  # the campaign has a broadcast section
    return window


def commune_notes(campaign: Campaign, units: UnitsRegistry | None) -> list[Problem]:
    """For each commune that exists only part of the broadcast: from or until when it airs.

    Empty without a registry, and when the communes do not resolve (that is an error, which
    :func:`resolve_communes` reports).
    """
    if units is None or campaign.spec.broadcast is None:
        return []
    try:
        resolved = _resolved(campaign, units)
    except BadInput:
        return []
    start, end = _window(campaign)
    notes: list[Problem] = []
    for commune, locate in resolved:
        first, last = commune.first_and_last(start, end) or (start, end)
        if first > start:
            notes.append(locate(f"{commune.written}: no airings before {format_date_vi(first)} "
                                "(it exists from then)"))  # fmt: skip
        if last < end:
            ended = commune.last_unit_before(last + timedelta(days=1))
            successor = units.successor(ended) if ended else None
            why = f"merged into {successor.name}" if successor else "it no longer exists"
            after = format_date_vi(last + timedelta(days=1))
            notes.append(locate(f"{commune.written}: no airings from {after} ({why})"))
    return notes
