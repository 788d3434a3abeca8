"""Which commune a name, a code or a page link stands for: by unit code, never a folded name.

"Xã Tân Thành" and "Xã Tân Thạnh" fold to one slug (``xa-tan-thanh``): a folded name cannot
tell them apart. A commune's page, its links and the confirmations made there are therefore
keyed on its *unit key*: its code in the units registry (a code names one unit at a time, and a
unit that kept its code through a rearrangement keeps its page), or, without a registry, its
name exactly as the airing plan has it. Commands typed by people accept more (any case, a bare
name, a code, a folder slug), and a folded name that fits two communes is refused, never
guessed.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from contextlib import suppress
from datetime import date

from dispatcher.audience.units import COMMUNE_KINDS, UnitsRegistry, name_key
from dispatcher.broadcast.files import commune_slug
from dispatcher.core.errors import BadInput, Problem


def unit_key(name: str, units: UnitsRegistry | None) -> str:
    """The key of the commune called exactly ``name`` in the airing plan: the registry code of
    the unit with that name (the newest, if units of two codes had it), else ``name``."""
    if units is not None:
        named = [u for u in units.units if u.name == name and u.kind in COMMUNE_KINDS]
        if named:
            return max(named, key=lambda u: u.valid_from or date.min).code
    return name


def names_for_key(key: str, units: UnitsRegistry | None, known: Iterable[str]) -> list[str]:
    """The names of ``known`` (the airing plan's) whose unit key is exactly ``key``."""
    return [name for name in dict.fromkeys(known) if unit_key(name, units) == key]


def matching_names(
    written: str,
    units: UnitsRegistry | None,
    known: Sequence[str],
    field: str,
    unknown: str,
    *,
    registry_hint: bool = False,
) -> list[str]:
    """The names that ``written`` (typed by a person) stands for.

    In order: a name of ``known`` exactly (any case and spacing), the registry's units written
    as a code or name (with their names not in ``known`` too), else the folder slug of one of
    ``known`` when it fits a single commune. :class:`BadInput` naming
    ``field``: ``unknown`` when nothing fits (or, with ``registry_hint``, the registry's own
    message and its "did you mean", when the registry does not know the name either), and
    a refusal naming the candidates when a folded name fits two communes.
    """
    text = unicodedata.normalize("NFC", written).strip()
    exact = [n for n in known if name_key(n) == name_key(text)]
    registry, hint = _in_registry(text, units, known)
    if exact or registry:
        return list(dict.fromkeys(exact + registry))
    slug = None
    with suppress(BadInput):  # no letter or digit: no slug
        slug = commune_slug(text)
    folded = sorted({n for n in known if slug is not None and commune_slug(n) == slug})
    if len(folded) > 1:
        choices = " or ".join(_with_code(n, units) for n in folded)
        message = f"'{written}' could be {choices}: write the name with its tone marks, or the code"
        raise BadInput(Problem(message, field=field))
    if not folded:
        raise BadInput(Problem(hint if hint and registry_hint else unknown, field=field))
    return folded


def _in_registry(
    text: str, units: UnitsRegistry | None, known: Sequence[str]
) -> tuple[list[str], str | None]:
    """The names the registry finds for ``text`` (those of ``known`` first: a commune of the
    registry without planned airings is still that commune); else why it found none."""
    if units is None:
        return [], None
    try:
        found = units.find(text)
    except LookupError as exc:
        return [], str(exc.args[0])
    names = list(dict.fromkeys(u.name for u in found))
    return [n for n in known if n in names] + [n for n in names if n not in known], None


def _with_code(name: str, units: UnitsRegistry | None) -> str:
    key = unit_key(name, units)
    return name if key == name else f"{name} ({key})"
