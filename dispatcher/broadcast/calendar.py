"""The airing calendar: which commune's loudspeakers read the script, and when."""

from __future__ import annotations

import unicodedata
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, tzinfo

from dispatcher.errors import BadInput
from dispatcher.schedule import expand, occurrence_key


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


def airings(
    communes: Sequence[str],
    start: date,
    end: date,
    times: Sequence[time],
    days: Collection[int] | None,
    tz: tzinfo,
) -> list[Airing]:
    """Every airing of the calendar in every commune, by time, then in the order of ``communes``.

    Names are NFC-normalized and trimmed, and a name listed twice airs once.
    """
    names = _distinct_names(communes)
    return [Airing(name, at) for at in expand(start, end, times, days, tz) for name in names]


def _distinct_names(communes: Sequence[str]) -> list[str]:
    names: dict[str, None] = {}
    for raw in communes:
        name = " ".join(unicodedata.normalize("NFC", raw).split())
        if not name:
            raise BadInput("a commune name is empty")
        names.setdefault(name, None)
    return list(names)
