"""``dispatcher broadcast pull``: one commune's scripts (and audio) for a day or a range of days.

Across the campaigns registered in the database and the campaign files given; the files are
written (or left as they are, when unchanged) under ``output_dir/scripts`` or ``--out``. The
audio is rendered under ``output_dir/scripts``, where the commune page finds it and the next
pull finds it made, and copied along when ``--out`` is another folder (without rendering, the
audio already made is copied). Each audio file written is recorded with its SHA-256
(:func:`dispatcher.broadcast.served_audio.record_pulled`): the page serves it from there too.
"""

from __future__ import annotations

import filecmp
import os
import re
import secrets
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path

from dispatcher.bootstrap import Runtime
from dispatcher.broadcast import (
    DOCX_SUFFIX,
    SPOKEN_SUFFIX,
    TEXT_SUFFIX,
    ScriptText,
    airing_stem,
    write_scripts,
)
from dispatcher.broadcast.airing_audio import AiringAudio, AudioReport, render_audio
from dispatcher.broadcast.scripts import campaign_recordings
from dispatcher.broadcast.served_audio import record_pulled
from dispatcher.broadcast.service import (
    AiringScript,
    DayWindow,
    airing_script,
    commune_scripts,
    scripts_dir,
)
from dispatcher.broadcast.units import resolve_communes, units_registry
from dispatcher.campaigns.spec import Campaign
from dispatcher.core.errors import BadInput, DispatcherError, Problem

AUDIO_SUFFIXES = (".wav", ".mp3")
SUFFIXES = (TEXT_SUFFIX, SPOKEN_SUFFIX, DOCX_SUFFIX, *AUDIO_SUFFIXES)
MAX_DAYS = 366  # a range longer than a year is a typing mistake, not a request
_VIETNAMESE_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class PulledAiring:
    script: AiringScript
    files: list[Path]  # every file of the airing that exists: texts, .docx, audio
    audio: AiringAudio | None = None  # None: not rendered (--no-audio)


@dataclass(frozen=True)
class PullResult:
    commune: str  # as asked
    start: date | None  # None (with end): today, in each campaign's time zone
    end: date | None
    out_dir: Path
    airings: list[PulledAiring]
    skipped: list[str]  # registered campaigns whose file no longer loads
    audio: AudioReport | None = None  # None: not rendered (--no-audio)


def parse_day(text: str, field: str) -> date:
    """``16/10/2024`` (as people write it) or ``2024-10-16`` (ISO); else :class:`BadInput`."""
    written = text.strip()
    try:
        if match := _VIETNAMESE_DATE.fullmatch(written):
            return date(int(match[3]), int(match[2]), int(match[1]))
        if _ISO_DATE.fullmatch(written):
            return date.fromisoformat(written)
    except ValueError as exc:
        raise BadInput(Problem(f"'{text}' is not a date: {exc}", field=field)) from exc
    raise BadInput(Problem(f"'{text}' is not a date like 16/10/2024 or 2024-10-16", field=field))


def days_asked(
    day: str | None, start: str | None, end: str | None
) -> tuple[date | None, date | None]:
    """``--date D`` or ``--from D --to D`` (both days included); neither: today."""
    if day is not None and (start is not None or end is not None):
        raise BadInput(Problem("give --date, or --from and --to, not both", field="--date"))
    if day is not None:
        one = parse_day(day, "--date")
        return one, one
    if (start is None) != (end is None):
        missing = "--to" if end is None else "--from"
        raise BadInput(Problem("--from and --to go together", field=missing))
    if start is None or end is None:
        return None, None
    first, last = parse_day(start, "--from"), parse_day(end, "--to")
    if last < first:
        raise BadInput(Problem(f"{end} is before --from {start}", field="--to"))
    if (last - first).days >= MAX_DAYS:
        raise BadInput(Problem(f"at most {MAX_DAYS} days at once", field="--to"))
    return first, last


def pull(
    rt: Runtime,
    commune: str,
    day: str | None = None,
    start: str | None = None,
    end: str | None = None,
    out: Path | None = None,
    campaign_files: Sequence[Path] = (),
    audio: bool = True,
) -> PullResult:
    """Write the commune's scripts of the day (default today) or range, render their audio
    (unless ``audio`` is false), and list their files."""
    first, last = days_asked(day, start, end)
    now = rt.clock.now()
    window: DayWindow = (
        (lambda _: (first, last)) if first and last else (lambda c: (_today(c, now),) * 2)
    )
    found, skipped = commune_scripts(rt, commune, window, campaign_files, field="--commune")
    out_dir = out or scripts_dir(rt)
    by_campaign: dict[str, tuple[Campaign, list[int]]] = {}
    for index, (campaign, _) in enumerate(found):
        by_campaign.setdefault(campaign.id, (campaign, []))[1].append(index)
    for campaign, indexes in by_campaign.values():
        scripts = [found[i][1] for i in indexes]
        write_scripts(scripts, out_dir, campaign.id, title=campaign.spec.title)
    made = _render(rt, found) if audio else None
    pulled = []
    for index, (campaign, script) in enumerate(found):
        listed = airing_script(campaign, script, out_dir)
        sound = made.airings[index] if made else None
        pulled.append(PulledAiring(listed, _files(listed, scripts_dir(rt), out_dir), sound))
    # Wherever --out is, the commune's page finds the audio there (while it is as pulled).
    record_pulled(rt, [airing.script for airing in pulled], now)
    return PullResult(commune, first, last, out_dir, pulled, skipped, made)


def _render(rt: Runtime, found: Sequence[tuple[Campaign, ScriptText]]) -> AudioReport:
    """The audio of each script, made (or found unchanged) under ``output_dir/scripts``."""
    units = units_registry(rt.settings)
    campaigns = {campaign.id: campaign for campaign, _ in found}
    recordings = {
        key: campaign_recordings(campaign, units, resolve_communes(campaign, units))
        for key, campaign in campaigns.items()
    }
    made_in = scripts_dir(rt)
    targets = [
        replace(
            airing_script(campaign, script, None),
            stem=airing_stem(made_in, campaign.id, script.airing, script.language),
        )
        for campaign, script in found
    ]
    return render_audio(rt.settings, targets, recordings)


def _today(campaign: Campaign, now: datetime) -> date:
    return now.astimezone(campaign.tz).date()


def _files(script: AiringScript, made_in: Path, out_dir: Path) -> list[Path]:
    """The airing's files under ``out_dir``, audio made under ``made_in`` copied along."""
    stem = script.stem
    if stem is None:
        return []
    if made_in.resolve() != out_dir.resolve():
        source_stem = made_in / stem.relative_to(out_dir)
        for suffix in AUDIO_SUFFIXES:
            _copy_if_changed(Path(f"{source_stem}{suffix}"), Path(f"{stem}{suffix}"))
    return [path for suffix in SUFFIXES if (path := Path(f"{stem}{suffix}")).is_file()]


def _copy_if_changed(source: Path, target: Path) -> None:
    if not source.is_file():
        return
    try:
        if target.is_file() and filecmp.cmp(source, target, shallow=False):
            return
        # Copied beside the target, then renamed over it: a player never gets half a file.
        temporary = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
        try:
            shutil.copyfile(source, temporary)
            os.replace(temporary, target)
        finally:
            temporary.unlink(missing_ok=True)
    except OSError as exc:
        raise DispatcherError(f"cannot copy {source} to {target}: {exc.strerror or exc}") from exc
