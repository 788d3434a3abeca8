"""Use cases around loudspeaker broadcasts: which communes, which airings, which scripts.

Each airing's script comes in two forms: the written text the announcer reads (dates and numbers as
written) and its spoken form, what the offline voice reads
(:func:`dispatcher.broadcast.speech.spoken`), with the estimated reading time at the campaign's (or
config's) syllables per minute. Language variants (Tày, Nùng) have only the written text: no offline
voice speaks them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path

from dispatcher.audience.units import UnitsRegistry
from dispatcher.bootstrap import Runtime
from dispatcher.broadcast import (
    TEXT_SUFFIX,
    Airing,
    Commune,
    ScriptText,
    airing_stem,
    airings,
    tidy,
    with_suffix,
    write_scripts,
)
from dispatcher.broadcast.airing_audio import AudioReport, render_audio
from dispatcher.broadcast.commune_keys import matching_names, names_for_key
from dispatcher.broadcast.scripts import AiringScript, CampaignScripts, names_of
from dispatcher.broadcast.units import (
    commune_entries,
    commune_notes,
    resolve_communes,
    section,
    units_registry,
)
from dispatcher.campaigns.folder import IdAt, id_clashes
from dispatcher.campaigns.registry import register_campaign
from dispatcher.campaigns.spec import Campaign, load_campaign
from dispatcher.core.errors import BadInput, DispatcherError, Problem
from dispatcher.settings.config import Settings

log = logging.getLogger(__name__)

# Why a campaign's airings are off the plan, as the communes read it (campaigns.state).
HALTED_VI = {"paused": "chiến dịch đang tạm dừng", "canceled": "chiến dịch đã bị hủy"}


@dataclass(frozen=True)
class ScriptsResult:
    """What ``broadcast scripts`` wrote."""

    campaign: str
    communes: list[str]
    airings: int
    files: list[Path]  # the .txt of each script written
    out_dir: Path
    scripts: list[AiringScript] = field(default_factory=list)
    audio: AudioReport | None = None  # of each script, in order; None: not asked for


# -- the campaign's communes, airings and templates --------------------------------------------


def communes(campaign: Campaign) -> list[str]:
    """The communes as written in the campaign, or in the list file it points to."""
    return [name for name, _ in commune_entries(campaign)]


def campaign_airings(campaign: Campaign, units: UnitsRegistry | None) -> list[Airing]:
    """Every airing of the campaign: its calendar, in each commune on the days it exists."""
    broadcast = section(campaign)
    resolved = resolve_communes(campaign, units)
    start, end = _window(campaign)
    return airings(resolved, start, end, broadcast.times, broadcast.weekdays, campaign.tz)


def airings_to_register(campaign: Campaign, settings: Settings) -> list[tuple[str, datetime]]:
    """:func:`planned_airings` with the configured registry, read only for a broadcast."""
    if campaign.spec.broadcast is None:
        return []
    return planned_airings(campaign, units_registry(settings))


def planned_airings(campaign: Campaign, units: UnitsRegistry | None) -> list[tuple[str, datetime]]:
    """(commune, time) of every airing; empty for a campaign without broadcasts."""
    if campaign.spec.broadcast is None:
        return []
    return [(a.commune, a.at) for a in campaign_airings(campaign, units)]


def _window(campaign: Campaign) -> tuple[date, date]:
    window = campaign.broadcast_window()
    assert window is not None
    return window


def check_broadcast(campaign: Campaign, units: UnitsRegistry | None) -> list[Problem]:
    """Every problem of the broadcast section: communes, and the first airing of each commune
    rendered with each template, so template problems show up in ``validate``."""
    try:
        scripts = CampaignScripts(campaign, units)
        first: dict[str, Airing] = {}
        for airing in campaign_airings(campaign, units):
            first.setdefault(airing.commune, airing)
        for airing in first.values():
            scripts.for_airing(airing)
    except BadInput as exc:
        return exc.problems
    return []


def broadcast_notes(campaign: Campaign, units: UnitsRegistry | None) -> list[Problem]:
    """Notes for ``validate`` and ``plan`` (not errors): communes airing only part of the time."""
    return commune_notes(campaign, units)


def _wrapped(script: ScriptText) -> ScriptText:
    return replace(script, text=tidy([script.text]))


def airing_script(campaign: Campaign, script: ScriptText, out_dir: Path | None) -> AiringScript:
    """The listing entry of ``script``; its stem is set when its .txt is under ``out_dir``."""
    airing = script.airing
    stem = airing_stem(out_dir, campaign.id, airing, script.language) if out_dir else None
    exists = stem is not None and with_suffix(stem, TEXT_SUFFIX).is_file()
    return AiringScript(
        campaign_id=campaign.id, title=campaign.spec.title, commune=airing.commune, at=airing.at,
        text=script.text, spoken=script.spoken if script.spoken is not None else script.text,
        reading_seconds=round(script.reading_seconds or 0), stem=stem if exists else None,
        language=script.language, language_name=script.language_name,
    )  # fmt: skip


def write_campaign_scripts(
    rt: Runtime, path: Path, commune: str | None, out: Path | None, *, audio: bool = False
) -> ScriptsResult:
    """Write the files of every airing (of one commune, if named) and record the plan; with
    ``audio``, each airing's audio too (a few seconds each, unless unchanged)."""
    campaign = load_campaign(path)
    units = units_registry(rt.settings)
    scripts = CampaignScripts(campaign, units, rt.settings.broadcast.syllables_per_minute)
    every = campaign_airings(campaign, units)
    wanted = _in_campaign(campaign, commune, units, scripts.communes) if commune else None
    selected = [a for a in every if wanted is None or a.commune in wanted]
    rendered = [_wrapped(s) for a in selected for s in scripts.for_airing(a)]
    out_dir = out or scripts_dir(rt)
    files = write_scripts(rendered, out_dir, campaign.id, title=campaign.spec.title)
    with rt.uow() as uow:
        register_campaign(uow.repo, campaign, [(a.commune, a.at) for a in every], rt.clock.now())
        uow.commit()
    names = list(dict.fromkeys(a.commune for a in selected)) if commune else communes(campaign)
    listing = [airing_script(campaign, s, out_dir) for s in rendered]
    made = render_audio(rt.settings, listing, {campaign.id: scripts.recordings}) if audio else None
    return ScriptsResult(campaign.id, names, len(selected), files, out_dir, listing, made)


def scripts_dir(rt: Runtime) -> Path:
    """Where scripts go by default: ``output_dir/scripts``."""
    return rt.settings.resolved_output_dir / "scripts"


def _in_campaign(
    campaign: Campaign, written: str, units: UnitsRegistry | None, resolved: Sequence[Commune]
) -> set[str]:
    """The names the campaign's commune written as a name, bare name, code or slug has had."""
    known = [name for commune in resolved for name in names_of(commune)]
    unknown = f"'{written}' is not in this campaign (communes: {', '.join(communes(campaign))})"
    found = set(matching_names(written, units, known, "--commune", unknown)) & set(known)
    if not found:  # a commune of the registry, but not of this campaign
        raise BadInput(Problem(unknown, field="--commune"))
    return found


def _commune_filter(
    written: str, units: UnitsRegistry | None, known: Iterable[str], field: str = "--commune"
) -> set[str]:
    """The names of ``known`` the commune written as a name, bare name, code or slug has had."""
    listed = sorted(set(known))
    unknown = f"'{written}' is not a commune of these campaigns ({', '.join(listed) or 'none'})"
    return set(matching_names(written, units, listed, field, unknown, registry_hint=True))


# -- one commune's airings, across campaigns ----------------------------------------------------


DayWindow = Callable[[Campaign], tuple[date, date]]


def commune_airings(
    rt: Runtime,
    commune: str,
    start: date,
    end: date,
    *,
    campaign_files: Sequence[Path] = (),
    by_key: bool = False,
) -> list[AiringScript]:
    """The commune's scripts airing from ``start`` to ``end`` (days included), by time.

    Across the campaigns registered in the database (``broadcast scripts`` and ``send``
    register them) and ``campaign_files``; ``commune`` is a name (any case, with or without
    "Xã"), a folder slug or a GSO code; with ``by_key``, a page's unit key, matched exactly
    (:mod:`dispatcher.broadcast.commune_keys`). ``stem`` is set where the ``.txt`` is written under
    ``output_dir/scripts``. A registered campaign whose file cannot be read is skipped with a
    warning in the log; an unknown commune is :class:`BadInput` (field ``commune``).
    """
    found, _ = commune_scripts(rt, commune, lambda _: (start, end), campaign_files, by_key=by_key)
    return [airing_script(c, s, scripts_dir(rt)) for c, s in found]


def commune_scripts(
    rt: Runtime,
    commune: str,
    window: DayWindow,
    campaign_files: Sequence[Path] = (),
    field: str = "commune",
    *,
    by_key: bool = False,
) -> tuple[list[tuple[Campaign, ScriptText]], list[str]]:
    """Every (campaign, script) of the commune in each campaign's ``window``, by time; and the
    registered campaigns skipped because their file (or its communes) no longer loads."""
    units = units_registry(rt.settings)
    prepared, skipped, halted = _prepared(rt, campaign_files, units)
    if not prepared and halted:  # every campaign paused or canceled: nothing airs, no error
        return [], skipped
    known = {name for _, s in prepared for c in s.communes for name in names_of(c)}
    wanted = set(names_for_key(commune, units, known)) if by_key else set()
    if not by_key:
        wanted = _commune_filter(commune, units, known, field)
    elif not wanted:
        raise BadInput(Problem(f"no campaign airs in the commune of '{commune}'", field=field))
    found: list[tuple[Campaign, ScriptText]] = []
    for campaign, scripts in prepared:
        first, last = window(campaign)
        for airing in campaign_airings(campaign, units):
            if first <= airing.at.date() <= last and airing.commune in wanted:
                found += [(campaign, _wrapped(s)) for s in scripts.for_airing(airing)]
    found.sort(key=lambda pair: (pair[1].airing.at, pair[0].id, pair[1].language or ""))
    return found, skipped


def _prepared(
    rt: Runtime, files: Sequence[Path], units: UnitsRegistry | None
) -> tuple[list[tuple[Campaign, CampaignScripts]], list[str], bool]:
    """The given campaigns (their errors are the user's), then the registered ones not given;
    paused and canceled ones left out (a given file named among the skipped), so nothing of
    theirs is aired; and whether any campaign was left out so."""
    rate = rt.settings.broadcast.syllables_per_minute
    given = [load_campaign(path) for path in files]
    ids = (IdAt(c.display_path, c.id, c.doc.line_of(["id"])) for c in given)
    if clashes := id_clashes(ids):  # two given files would air as one campaign
        raise BadInput(list(clashes.values()))
    with rt.uow() as uow:
        sources = uow.repo.campaign_sources()
        halted = uow.repo.airings.halted_campaigns()
    # A file given is named when left out; registered ones just drop off the plan.
    skipped = [f"{c.id}: {HALTED_VI.get(halted[c.id])}" for c in given if c.id in halted]
    prepared = [(c, CampaignScripts(c, units, rate)) for c in given if c.id not in halted]
    for campaign_id, source in sources:
        if campaign_id in halted or any(c.id == campaign_id for c in given):
            continue
        try:
            campaign = load_campaign(Path(source))
            if campaign.spec.broadcast is None or campaign.id != campaign_id:
                continue
            prepared.append((campaign, CampaignScripts(campaign, units, rate)))
        except DispatcherError as exc:
            log.warning("campaign %s (%s) skipped: %s", campaign_id, source, exc.message)
            skipped.append(f"{campaign_id} ({source}): {exc.message}")
    return prepared, skipped, bool(halted)
