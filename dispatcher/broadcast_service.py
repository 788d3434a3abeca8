"""Use cases around loudspeaker broadcasts: which communes, which airings, which scripts."""

from __future__ import annotations

import csv
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from dispatcher.bootstrap import Runtime
from dispatcher.broadcast import Airing, ScriptTemplate, airings, render_script, write_scripts
from dispatcher.campaign import BroadcastSection, Campaign, load_campaign
from dispatcher.errors import BadInput, Problem
from dispatcher.registry import register_campaign

COMMUNE_COLUMNS = ("name", "commune")


@dataclass(frozen=True)
class ScriptsResult:
    campaign: str
    communes: list[str]
    airings: int
    files: list[Path]
    out_dir: Path


def _section(campaign: Campaign) -> BroadcastSection:
    if campaign.spec.broadcast is None:
        raise BadInput(campaign.problem([], "this campaign has no `broadcast` section"))
    return campaign.spec.broadcast


def communes(campaign: Campaign) -> list[str]:
    """The communes named in the campaign, or read from the list file it points to."""
    section = _section(campaign)
    if isinstance(section.communes, list):
        return [c.strip() for c in section.communes]
    path = campaign.resolve(section.communes)
    shown = campaign.problem(["broadcast", "communes"], "").file
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            header = {(h or "").strip().lower(): h for h in reader.fieldnames or []}
            column = next((header[c] for c in COMMUNE_COLUMNS if c in header), None)
            if column is None:
                found = ", ".join(header) or "none"
                raise BadInput(Problem(f"no `name` column (columns: {found})", str(path), 1))
            names = [row[column].strip() for row in reader if (row.get(column) or "").strip()]
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(Problem(f"cannot read the commune list: {exc}", shown)) from exc
    if not names:
        raise BadInput(Problem("the commune list is empty", str(path)))
    return names


def template(campaign: Campaign) -> ScriptTemplate:
    section = _section(campaign)
    if section.template is not None:
        return ScriptTemplate.from_file(campaign.resolve(section.template))
    assert section.script is not None
    return ScriptTemplate.from_text(section.script, origin=campaign.display_path)


def campaign_airings(campaign: Campaign) -> list[Airing]:
    section = _section(campaign)
    window = campaign.broadcast_window()
    assert window is not None
    start, end = window
    return airings(communes(campaign), start, end, section.times, section.weekdays, campaign.tz)


def planned_airings(campaign: Campaign) -> list[tuple[str, datetime]]:
    """(commune, time) of every airing; empty for a campaign without broadcasts."""
    if campaign.spec.broadcast is None:
        return []
    return [(a.commune, a.at) for a in campaign_airings(campaign)]


def _render(campaign: Campaign, airing: Airing, script: ScriptTemplate) -> str:
    section = _section(campaign)
    spec = campaign.spec
    return render_script(
        script, airing, campaign_id=spec.id, title=spec.title, unit=spec.unit,
        repeat=section.repeat, extra_vars=section.vars,
    )  # fmt: skip


def check_broadcast(campaign: Campaign) -> list[Problem]:
    """Render the first airing of each commune, so template problems show up in validate."""
    try:
        script = template(campaign)
        first: dict[str, Airing] = {}
        for airing in campaign_airings(campaign):
            first.setdefault(airing.commune, airing)
        for airing in first.values():
            _render(campaign, airing, script)
    except BadInput as exc:
        return _in_campaign_lines(campaign, exc.problems)
    return []


def _in_campaign_lines(campaign: Campaign, problems: list[Problem]) -> list[Problem]:
    """An inline `script:` counts its lines from its own start: shift them to the file's."""
    source = campaign.doc.scalar_source(["broadcast", "script"])
    if source is None:
        return problems
    offset = source[0] - 1
    return [
        replace(p, line=p.line + offset)
        if p.file == campaign.display_path and p.line is not None and p.field is None
        else p
        for p in problems
    ]


def write_campaign_scripts(
    rt: Runtime, path: Path, commune: str | None, out: Path | None
) -> ScriptsResult:
    """Write the scripts of every airing (of one commune, if named) and record the plan."""
    campaign = load_campaign(path)
    names = communes(campaign)
    if commune is not None and commune not in names:
        known = ", ".join(names)
        raise BadInput(
            Problem(f"'{commune}' is not in this campaign (communes: {known})", field="--commune")
        )
    script = template(campaign)
    selected = [a for a in campaign_airings(campaign) if commune in (None, a.commune)]
    rendered = [(a, _render(campaign, a, script)) for a in selected]
    out_dir = out or rt.settings.resolved_output_dir / "scripts"
    files = write_scripts(rendered, out_dir, campaign.id, title=campaign.spec.title)
    with rt.uow() as uow:
        register_campaign(uow.repo, campaign, planned_airings(campaign), rt.clock.now())
        uow.commit()
    return ScriptsResult(
        campaign.id, [commune] if commune else names, len(selected), files, out_dir
    )
