"""A campaign's scripts: its templates loaded once, each airing's text in every language.

The written text is what the announcer reads; its spoken form (:func:`dispatcher.speech.spoken`,
with the campaign's abbreviations over the default table) is what the offline voice reads, and
gives the estimated reading time. A language variant (Tày, Nùng) has only its written text.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import TypeVar

from dispatcher.broadcast import Airing, Commune, ScriptTemplate, ScriptText, render_script
from dispatcher.broadcast_units import resolve_communes, section
from dispatcher.campaign import Campaign
from dispatcher.errors import BadInput, Problem
from dispatcher.speech import (
    DEFAULT_SYLLABLES_PER_MINUTE,
    default_abbreviations,
    reading_seconds,
    spoken,
)
from dispatcher.units import UnitsRegistry

_T = TypeVar("_T")


def template(campaign: Campaign, variant: str | None = None) -> ScriptTemplate:
    """The script template of the campaign (or of its language ``variant``).

    A variant's inline ``script:`` is its whole text: the built-in opening, closing and
    reading markers are Vietnamese.
    """
    source = section(campaign).variants[variant] if variant else section(campaign)
    if source.template is not None:
        return ScriptTemplate.from_file(campaign.resolve(source.template))
    assert source.script is not None
    with _inline_lines(campaign, variant):
        return ScriptTemplate.from_text(
            source.script, origin=campaign.display_path, framed=variant is None
        )


@contextmanager
def _inline_lines(campaign: Campaign, variant: str | None) -> Iterator[None]:
    """An inline `script:` counts its lines from its own start: shift them to the file's."""
    try:
        yield
    except BadInput as exc:
        loc = ["broadcast", "variants", variant, "script"] if variant else ["broadcast", "script"]
        source = campaign.doc.scalar_source(loc)
        if source is None:
            raise
        offset = source[0] - 1
        raise BadInput(
            [
                replace(p, line=p.line + offset)
                if p.file == campaign.display_path and p.line is not None and p.field is None
                else p
                for p in exc.problems
            ]
        ) from exc


class CampaignScripts:
    """Renders a campaign's scripts: its communes resolved, its templates loaded once."""

    def __init__(
        self,
        campaign: Campaign,
        units: UnitsRegistry | None,
        rate: float = DEFAULT_SYLLABLES_PER_MINUTE,
    ):
        self.campaign = campaign
        self.section = section(campaign)
        self.rate = self.section.syllables_per_minute or rate
        self.abbreviations = {**default_abbreviations(), **self.section.abbreviations}
        problems: list[Problem] = []
        # Every commune and template problem at once, not one per run of `validate`.
        self.communes = _collect(problems, lambda: resolve_communes(campaign, units)) or []
        self._template = _collect(problems, lambda: template(campaign))
        self._variants = []
        for code, variant in self.section.variants.items():
            scope = functools.partial(_variant_communes, campaign, units, code, self.communes)
            only = _collect(problems, scope)
            found = _collect(problems, functools.partial(template, campaign, code))
            if found is not None:
                self._variants.append((code, variant, found, only))
        if problems:
            raise BadInput(problems)

    def for_airing(self, airing: Airing) -> list[ScriptText]:
        """The airing's script, then its language variants that this commune has."""
        assert self._template is not None  # else __init__ raised
        text = self._render(self._template, airing, None)
        said = spoken(text, self.abbreviations)
        found = [ScriptText(airing, text, said, self._seconds(text))]
        for code, variant, variant_template, only in self._variants:
            if only is None or airing.commune in {c.name_on(airing.at.date()) for c in only}:
                text = self._render(variant_template, airing, code)
                found.append(
                    ScriptText(airing, text, None, self._seconds(text), code, variant.name)
                )
        return found

    def _render(self, script: ScriptTemplate, airing: Airing, variant: str | None) -> str:
        spec = self.campaign.spec
        # Rendered unwrapped and wrapped afterwards: the spoken form must not see a phone
        # number split over two lines.
        with _inline_lines(self.campaign, variant):
            return render_script(
                script, airing, campaign_id=spec.id, title=spec.title, unit=spec.unit,
                repeat=self.section.repeat, extra_vars=self.section.vars, width=None,
            )  # fmt: skip

    def _seconds(self, text: str) -> float:
        return reading_seconds(text, self.rate, self.abbreviations)


def _collect(problems: list[Problem], load: Callable[[], _T]) -> _T | None:
    """``load()``, or None with its problems added to ``problems``."""
    try:
        return load()
    except BadInput as exc:
        problems += exc.problems
        return None


def _variant_communes(
    campaign: Campaign, units: UnitsRegistry | None, code: str, main: Sequence[Commune]
) -> list[Commune] | None:
    """The communes a language variant is written for (None: all), each one of ``main``."""
    variant = section(campaign).variants[code]
    if variant.communes is None:
        return None
    loc: list[int | str] = ["broadcast", "variants", code, "communes"]
    entries = [
        (name, functools.partial(_at, campaign, [*loc, i]))
        for i, name in enumerate(variant.communes)
    ]
    found = resolve_communes(campaign, units, entries)
    known = {name for commune in main for name in names_of(commune)}
    strangers = [
        _at(campaign, [*loc, i], f"{commune.written} is not one of the campaign's communes")
        for i, commune in enumerate(found)
        if not known & set(names_of(commune))
    ]
    if strangers:
        raise BadInput(strangers)
    return found


def _at(campaign: Campaign, loc: list[int | str], message: str) -> Problem:
    return campaign.problem(loc, message)


def names_of(commune: Commune) -> list[str]:
    """Every name the commune has had (its name as written, without a registry)."""
    return [u.name for u in commune.units] or [commune.written]
