"""The administrative units registry: which communes exist, under which district, and when.

Communes are data, not code: they merge (Văn Quan went from 17 units to 15 in late 2024) and
districts were abolished in 2025. The registry (``units_file`` in config.yaml, by default
``units.yaml`` next to it) lists every unit with its GSO code, its full name, its kind, the code
of the unit above it and the days it existed; campaigns name their communes from it and airings
go only to communes that exist on the airing's date.

A unit may keep its code, or its name, across a rearrangement, so neither names one unit for
ever: two entries may share a code or a name only when their dates do not overlap.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from dispatcher.core.errors import BadInput, Problem
from dispatcher.core.schedule import format_date_vi
from dispatcher.core.yamlfile import YamlDocument, load_model, read_yaml

Kind = Literal["tinh", "huyen", "xa", "phuong", "thi_tran"]
COMMUNE_KINDS: frozenset[str] = frozenset({"xa", "phuong", "thi_tran"})
KIND_NAMES = {"tinh": "province", "huyen": "district", "xa": "commune", "phuong": "ward",
              "thi_tran": "township"}  # fmt: skip
_LEVEL = {"tinh": 1, "huyen": 2, "xa": 3, "phuong": 3, "thi_tran": 3}
_KIND_WORD = re.compile(r"^(?:xã|phường|thị trấn|huyện|tỉnh)\s+", re.IGNORECASE)
_CODE = re.compile(r"[0-9]{2,5}")


def _code(value: object) -> object:
    if isinstance(value, int) and not isinstance(value, bool):
        # YAML reads 06301 as a number (octal, even: 3265), so the written code is lost.
        raise ValueError(f'{value} is a number: quote codes, like "06301"')
    if isinstance(value, str) and not _CODE.fullmatch(value.strip()):
        raise ValueError(f"'{value}' is not a GSO code: 2 (province) to 5 (commune) digits")
    return value.strip() if isinstance(value, str) else value


def _name(value: object) -> object:
    return (
        " ".join(unicodedata.normalize("NFC", value).split()) if isinstance(value, str) else value
    )


Code = Annotated[str, BeforeValidator(_code)]
Name = Annotated[str, BeforeValidator(_name), Field(min_length=1)]


class _UnitSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: Code
    name: Name
    kind: Kind
    parent: Code | None = None
    valid_from: date | None = None
    valid_to: date | None = None  # the last day it exists
    merged_into: Code | None = None

    @model_validator(mode="after")
    def _consistent(self) -> _UnitSpec:
        if self.valid_from and self.valid_to and self.valid_to < self.valid_from:
            raise ValueError(f"valid_to {self.valid_to} is before valid_from {self.valid_from}")
        if (self.kind == "tinh") != (self.parent is None):
            raise ValueError("a province has no `parent`; every other unit needs one")
        if self.merged_into is not None and self.valid_to is None:
            raise ValueError("`merged_into` needs `valid_to`, the last day before the merger")
        return self


class _UnitsFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str | None = None  # where the data comes from, for whoever maintains the file
    units: list[_UnitSpec] = Field(min_length=1)


@dataclass(frozen=True)
class Unit:
    """One administrative unit over the days it existed (both ends included; None: open)."""

    code: str
    name: str
    kind: str
    parent: str | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    merged_into: str | None = None

    def valid_on(self, day: date) -> bool:
        """Whether the unit exists on ``day``."""
        return (self.valid_from or date.min) <= day <= (self.valid_to or date.max)

    def overlaps(self, other: Unit) -> bool:
        """Whether the two units exist on some same day."""
        first = max(self.valid_from or date.min, other.valid_from or date.min)
        return first <= min(self.valid_to or date.max, other.valid_to or date.max)

    @property
    def period(self) -> str:
        """``"01/12/2024–30/06/2025"``, ``"until 30/11/2024"``, ``"always"``: for messages."""
        start = format_date_vi(self.valid_from) if self.valid_from else None
        end = format_date_vi(self.valid_to) if self.valid_to else None
        if start and end:
            return f"{start}–{end}"
        return f"from {start}" if start else f"until {end}" if end else "always"


class UnitsRegistry:
    """The units of a registry file, looked up by code or name."""

    def __init__(self, units: Iterable[Unit], source: str) -> None:
        self.units = tuple(units)
        self.source = source  # the file, as shown in messages

    def find(self, written: str, kinds: Iterable[str] = COMMUNE_KINDS) -> tuple[Unit, ...]:
        """Every period of the unit written as a code or a name, of one of ``kinds``.

        A name matches with any case and spacing, and without its kind ("Tân Đoàn" for "Xã Tân
        Đoàn") when only one unit is called that. Raises :class:`LookupError` with a message
        for the user when nothing matches, or when a bare name fits several units.
        """
        wanted = set(kinds)
        candidates = [u for u in self.units if u.kind in wanted]
        text = _name(written)
        assert isinstance(text, str)
        by_code = [u for u in candidates if u.code == text]
        by_name = [u for u in candidates if name_key(u.name) == name_key(text)]
        # A name written with its kind ("Xã …") is taken as written; only a bare one is matched
        # without the kind.
        bare = [] if _KIND_WORD.match(name_key(text)) else candidates
        found = by_code or by_name or [u for u in bare if _bare(u.name) == _bare(text)]
        if len({u.name for u in found}) > 1 and not by_code:
            names = ", ".join(sorted({u.name for u in found}))
            raise LookupError(f"'{text}' could be {names}: write the full name or the code")
        if not found:
            raise LookupError(self._unknown(text, candidates))
        return tuple(sorted(found, key=lambda u: u.valid_from or date.min))

    def by_code_on(self, code: str, day: date) -> Unit | None:
        """The unit with ``code`` on ``day``, if any."""
        return next((u for u in self.units if u.code == code and u.valid_on(day)), None)

    def successor(self, unit: Unit) -> Unit | None:
        """The unit that took ``unit`` over, the day after it ended."""
        if unit.merged_into is None or unit.valid_to is None:
            return None
        return self.by_code_on(unit.merged_into, unit.valid_to + timedelta(days=1))

    def _unknown(self, text: str, candidates: Sequence[Unit]) -> str:
        other = next(
            (
                u
                for u in self.units
                if text in (u.code, u.name) or name_key(u.name) == name_key(text)
            ),
            None,
        )
        if other is not None:
            return f"'{text}' is a {KIND_NAMES[other.kind]}, not a commune"
        names = {_bare(u.name): u.name for u in candidates}
        close = sorted(
            {names[n] for n in difflib.get_close_matches(_bare(text), names, n=3, cutoff=0.8)}
        )
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        return f"'{text}' is not a commune in the units registry {self.source}{hint}"


def name_key(name: str) -> str:
    """How names compare: NFC, case-folded, single spaces."""
    return " ".join(unicodedata.normalize("NFC", name).casefold().split())


def _bare(name: str) -> str:
    return _KIND_WORD.sub("", name_key(name))


def load_units(path: Path, display: str | None = None) -> UnitsRegistry:
    """Read and check a registry file; raises :class:`BadInput` naming ``file:line``."""
    doc = read_yaml(path, display_path=display)
    spec = load_model(_UnitsFile, doc)
    units = [Unit(**u.model_dump()) for u in spec.units]
    problems = _cross_problems(units, doc)
    if problems:
        raise BadInput(problems)
    return UnitsRegistry(units, doc.display_path)


def _cross_problems(units: Sequence[Unit], doc: YamlDocument) -> list[Problem]:
    """What one entry alone cannot say: clashes, parents and mergers that do not fit."""
    problems = []
    for index, unit in enumerate(units):
        for key, message in _entry_problems(unit, units[:index], units):
            problems.append(doc.problem(["units", index, key], message))
    return problems


def _entry_problems(
    unit: Unit, earlier: Sequence[Unit], units: Sequence[Unit]
) -> Iterable[tuple[str, str]]:
    for other in earlier:
        if other.code == unit.code and other.overlaps(unit):
            yield "code", f"code {unit.code} is also {other.name} ({other.period}), same dates"
        elif name_key(other.name) == name_key(unit.name) and other.overlaps(unit):
            yield "name", f"{unit.name} is also code {other.code} ({other.period}), same dates"
    if unit.parent is not None:
        message = _parent_problem(unit, [u for u in units if u.code == unit.parent])
        if message:
            yield "parent", message
    if unit.merged_into is not None and unit.valid_to is not None:
        after = unit.valid_to + timedelta(days=1)
        if not any(u.code == unit.merged_into and u.valid_on(after) for u in units):
            yield "merged_into", f"no unit {unit.merged_into} exists on {format_date_vi(after)}"


def _parent_problem(unit: Unit, parents: Sequence[Unit]) -> str | None:
    if not parents:
        return f"no unit has code {unit.parent}"
    if any(_LEVEL[p.kind] >= _LEVEL[unit.kind] for p in parents):
        return f"a {KIND_NAMES[parents[0].kind]} cannot be above a {KIND_NAMES[unit.kind]}"
    ends = [d for d in (unit.valid_from, unit.valid_to) if d is not None]
    if unit.valid_from is None and any(p.valid_from for p in parents):
        return f"{unit.name} exists before its parent {unit.parent}: give valid_from"
    if unit.valid_to is None and all(p.valid_to for p in parents):
        return f"{unit.name} outlives its parent {unit.parent}: give valid_to"
    if any(not any(p.valid_on(day) for p in parents) for day in ends):
        return f"{unit.name} ({unit.period}) exists on days its parent {unit.parent} does not"
    return None
