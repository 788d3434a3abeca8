"""A campaign's scripts: its templates loaded once, each airing's text in every language.

The written text is what the announcer reads; its spoken form
(:func:`dispatcher.broadcast.speech.spoken`, with the campaign's abbreviations over the default
table) is what the offline voice reads, and gives the estimated reading time. A language variant
(Tày, Nùng) has only its written text.
The campaign's recordings (``broadcast.recordings``) are checked here too, against its communes
and its airings, so that ``validate`` reports them.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import TypeVar

from dispatcher.audience.units import UnitsRegistry
from dispatcher.broadcast import (
    Airing,
    Commune,
    ScriptTemplate,
    ScriptText,
    render_script,
    with_suffix,
)
from dispatcher.broadcast.audio.recordings import DEFAULT_LANGUAGE, RecordingSpec
from dispatcher.broadcast.speech import (
    DEFAULT_SYLLABLES_PER_MINUTE,
    default_abbreviations,
    reading_seconds,
    spoken,
)
from dispatcher.broadcast.units import resolve_communes, section
from dispatcher.campaigns.spec import Campaign
from dispatcher.core.errors import BadInput, Problem
from dispatcher.core.schedule import expand, format_date_vi, format_time_vi, localize

_T = TypeVar("_T")


@dataclass(frozen=True, kw_only=True)
class AiringScript:
    """One airing's script in one language, for listings, pages and ``broadcast pull``."""

    campaign_id: str
    title: str  # the campaign's
    commune: str
    at: datetime  # aware, in the campaign's time zone
    text: str  # the announcer's written text (without the file header)
    spoken: str  # what the voice reads; a language variant's is its written text
    reading_seconds: int  # estimated, at the campaign's syllables per minute
    stem: Path | None  # the airing's files are stem + suffix; None: its .txt is not written
    language: str | None = None  # None: Vietnamese; else the variant's code ("tay")
    language_name: str | None = None  # "Tày"

    def file(self, suffix: str) -> Path | None:
        """``stem`` + ``suffix`` (``.txt``, ``.spoken.txt``, ``.docx``, ``.mp3``…), if written."""
        return None if self.stem is None else with_suffix(self.stem, suffix)


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
        # Checked against the communes, so not when those failed: each would be a stranger.
        recordings = functools.partial(campaign_recordings, campaign, units, self.communes)
        self.recordings = (_collect(problems, recordings) if self.communes else None) or []
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


def campaign_recordings(
    campaign: Campaign, units: UnitsRegistry | None, main: Sequence[Commune]
) -> list[RecordingSpec]:
    """``broadcast.recordings`` for :func:`dispatcher.broadcast.audio.find_recording`: files
    resolved, times aware in the campaign's zone, a commune under each of its names (an airing
    carries its name of the day). Every problem at once, each at its entry's line."""
    written = section(campaign).recordings
    problems: list[Problem] = []
    found: list[RecordingSpec] = []
    seen: dict[tuple[frozenset[str], datetime | None, str], int] = {}
    for index, recording in enumerate(written):
        try:
            specs = _recording_specs(campaign, units, main, index)
        except BadInput as exc:
            problems += exc.problems
            continue
        # Two files for the same airings would fail each of them when rendered: say it now.
        communes = frozenset(_name_key(s.commune) for s in specs if s.commune is not None)
        language = recording.language or DEFAULT_LANGUAGE
        first = seen.setdefault((communes, specs[0].at, language), index)
        if written[first].file != recording.file:
            message = f"recordings[{first}] is for the same airings: give one file"
            problems.append(_at(campaign, ["broadcast", "recordings", index], message))
        found += specs
    if problems:
        raise BadInput(problems)
    return found


def _recording_specs(
    campaign: Campaign, units: UnitsRegistry | None, main: Sequence[Commune], index: int
) -> list[RecordingSpec]:
    """The ``index``-th recording, once per name of its commune; :class:`BadInput` when its
    commune is not the campaign's or its time is not an airing."""
    recording = section(campaign).recordings[index]
    loc: list[int | str] = ["broadcast", "recordings", index]
    communes = list(main)
    names: list[str | None] = [None]  # for every commune
    if recording.commune is not None:
        locate = functools.partial(_at, campaign, [*loc, "commune"])
        (commune,) = resolve_communes(campaign, units, [(recording.commune, locate)])
        known = {_name_key(name) for c in main for name in names_of(c)}
        if not known & {_name_key(name) for name in names_of(commune)}:
            raise BadInput(locate(f"{recording.commune} is not one of the campaign's communes"))
        communes, names = [commune], list(names_of(commune))
    at = None
    if recording.at is not None:
        # Localized as the airing calendar does, so that the two instants compare equal.
        at = localize(recording.at.date(), recording.at.time(), campaign.tz)
        if not _airs(campaign, at, communes):
            message = _no_airing(campaign, at, recording.commune)
            raise BadInput(_at(campaign, [*loc, "at"], message))
    file = campaign.resolve(recording.file)
    return [RecordingSpec(file, name, at, recording.language) for name in names]


def _airs(campaign: Campaign, at: datetime, communes: Sequence[Commune]) -> bool:
    """Whether ``at`` is an airing of the campaign in one of ``communes``."""
    broadcast, day = section(campaign), at.date()
    start, end = _window(campaign)
    if not start <= day <= end or not any(c.name_on(day) for c in communes):
        return False
    return at in set(expand(day, day, broadcast.times, broadcast.weekdays, campaign.tz))


def _window(campaign: Campaign) -> tuple[date, date]:
    window = campaign.broadcast_window()
    assert window is not None  # the campaign has a broadcast section
    return window


def _no_airing(campaign: Campaign, at: datetime, commune: str | None) -> str:
    broadcast = section(campaign)
    start, end = _window(campaign)
    times = ", ".join(t.strftime("%H:%M") for t in broadcast.times)
    days = f" on {', '.join(broadcast.days)}" if broadcast.days else ""
    return (
        f"{commune or 'the campaign'} has no airing at {format_time_vi(at)} "
        f"{format_date_vi(at.date())} (airings: {times}{days}, "
        f"{format_date_vi(start)}–{format_date_vi(end)})"
    )


def _name_key(name: str) -> str:
    return " ".join(unicodedata.normalize("NFC", name).casefold().split())


def _at(campaign: Campaign, loc: list[int | str], message: str) -> Problem:
    return campaign.problem(loc, message)


def names_of(commune: Commune) -> list[str]:
    """Every name the commune has had (its name as written, without a registry)."""
    return [u.name for u in commune.units] or [commune.written]
