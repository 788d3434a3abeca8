"""The abbreviation table of text read aloud: ``UBND`` → "Ủy ban nhân dân", ``4G`` → "bốn G".

The default table ships as package data (``abbreviations.yaml``); a campaign extends it with
``{**default_abbreviations(), **its_own}``. Keys match as whole words, case-sensitively, the
longest first.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Mapping
from importlib import resources
from types import MappingProxyType

import yaml

__all__ = ["Handler", "abbreviation_rule", "default_abbreviations"]

Handler = Callable[[re.Match[str]], str | None]  # spoken words for a match; None: leave it

_PACKAGE = "dispatcher.broadcast.speech"
_TABLE_RESOURCE = "abbreviations.yaml"


@functools.cache
def default_abbreviations() -> Mapping[str, str]:
    """The packaged table (``abbreviations.yaml``): written form → spoken form, read-only."""
    raw = resources.files(_PACKAGE).joinpath(_TABLE_RESOURCE).read_text(encoding="utf-8")
    data = yaml.safe_load(raw)
    if not isinstance(data, dict) or not all(
        isinstance(key, str) and key and isinstance(value, str) for key, value in data.items()
    ):
        # Package data, checked by the tests: a broken file is a bug, not a user error.
        raise RuntimeError(f"{_TABLE_RESOURCE} must map written forms to spoken forms")
    return MappingProxyType({_nfc(key): _nfc(value) for key, value in data.items()})


def abbreviation_rule(table: Mapping[str, str]) -> tuple[re.Pattern[str], Handler]:
    """A pattern matching the keys of ``table`` and a handler giving their spoken forms."""
    spoken_forms = {_nfc(key): _nfc(value) for key, value in table.items() if key}
    if not spoken_forms:
        return re.compile(r"(?!)"), lambda match: None  # matches nothing
    return _pattern(frozenset(spoken_forms)), lambda match: spoken_forms[match.group()]


@functools.lru_cache(maxsize=32)
def _pattern(keys: frozenset[str]) -> re.Pattern[str]:
    """One alternation of the keys, longest first, each bounded as a whole word.

    A key starting with a letter may follow a digit ("5km", "50.000đ"); one starting with a
    digit may not ("14G" is not "1" + "4G"). A key ending in a letter or digit may not be
    followed by either. Keys made of symbols ("&", "°C") need no boundary on that side.
    """
    alternatives = []
    for key in sorted(keys, key=lambda k: (-len(k), k)):
        alternatives.append(_left_boundary(key[0]) + re.escape(key) + _right_boundary(key[-1]))
    return re.compile("|".join(alternatives))


def _left_boundary(first: str) -> str:
    if first.isalpha():
        return r"(?<![^\W\d_])"  # not right after a letter
    return r"(?<![^\W_])" if first.isalnum() else ""  # not after a letter or digit


def _right_boundary(last: str) -> str:
    return r"(?![^\W_])" if last.isalnum() else ""


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)
