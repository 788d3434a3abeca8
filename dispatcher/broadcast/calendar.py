"""The airing calendar: which commune's loudspeakers read the script, and when."""

from __future__ import annotations

import unicodedata
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from dispatcher.audience.units import Unit
from dispatcher.core.errors import BadInput
from dispatcher.core.schedule import expand, occurrence_key


@dataclass(frozen=True)
class Airing:
    """One reading of the campaign's script on one commune's loudspeakers."""

    commune: str
    at: datetime  # aware, in the campaign's time zone

    def __post_init__(self) -> None:
        if self.at.utcoffset() is None:
            raise ValueError(f"an airing time must be timezone-aware, got {self.at.isoformat()}")

    @property
    def key(self) -> str:
        """The occurrence key of the moment (``2024-08-01T06:00+07:00``).

        Every commune airing at that moment shares it; ``(commune, key)`` names one airing.
        """
        return occurrence_key(self.at)


@dataclass(frozen=True)
class Commune:
    """A commune as a campaign names it, with the registry's units that name stands for.

    Without units (no registry) the commune is the name as written and always exists. With
    them, it exists on the days one of them does, under that unit's name: a unit that kept its
    code through a merger can change its name ("Thị trấn Văn Quan" → "Xã Văn Quan").
    """

    written: str
    units: tuple[Unit, ...] = ()

    def name_on(self, day: date) -> str | None:
        """The commune's name on ``day``, or None when it does not exist then."""
        if not self.units:
            return clean_name(self.written)
        return next((u.name for u in self.units if u.valid_on(day)), None)

    def first_and_last(self, start: date, end: date) -> tuple[date, date] | None:
        """The first and last day in ``[start, end]`` the commune exists, if any."""
        if not self.units:
            return start, end
        spans = [
            (max(start, u.valid_from or start), min(end, u.valid_to or end)) for u in self.units
        ]
        spans = [(a, b) for a, b in spans if a <= b]
        return (min(a for a, _ in spans), max(b for _, b in spans)) if spans else None

    def last_unit_before(self, day: date) -> Unit | None:
        """The unit that ended just before ``day`` (to say what it was merged into)."""
        before = day - timedelta(days=1)
        return next((u for u in self.units if u.valid_on(before)), None)


def clean_name(raw: str) -> str:
    """NFC, trimmed, single spaces; raises :class:`BadInput` when nothing is left."""
    name = " ".join(unicodedata.normalize("NFC", raw).split())
    if not name:
        raise BadInput("a commune name is empty")
    return name


def airings(
    communes: Sequence[str | Commune],
    start: date,
    end: date,
    times: Sequence[time],
    days: Collection[int] | None,
    tz: tzinfo,
) -> list[Airing]:
    """Every airing of the calendar in every commune, by time, then in the order of ``communes``.

    Names are NFC-normalized and trimmed, and a name listed twice airs once. A :class:`Commune`
    airs only on the days it exists, under its name of that day.
    """
    entries = [c if isinstance(c, Commune) else Commune(clean_name(c)) for c in communes]
    for entry in entries:
        clean_name(entry.written)
    found: list[Airing] = []
    for at in expand(start, end, times, days, tz):
        names = {name: None for c in entries if (name := c.name_on(at.date())) is not None}
        found += [Airing(name, at) for name in names]
    return found
