"""The audio the communes' pages serve: where it was made, where a pull wrote it, else made now.

For one airing's script and one format (``.mp3``, ``.wav``), in this order:

1. where audio is made, ``output_dir/scripts/<campaign>/<commune>/<stem>`` (``broadcast pull``
   and ``broadcast scripts --audio`` render there, and so does step 3);
2. the files ``broadcast pull`` wrote, wherever ``--out`` was (``pulled_audio``), newest first,
   each only while its content has the SHA-256 recorded at the pull: a file edited, truncated or
   replaced since is never served as it is (the next candidate is, or audio is made afresh);
3. made on demand where step 1 looks, by the same code as ``broadcast pull`` (the campaign's
   recording, else the offline voice), so the next request and the next pull find it made.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import weakref
from collections.abc import Collection, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from dispatcher.bootstrap import Runtime
from dispatcher.broadcast import Airing, airing_stem, with_suffix
from dispatcher.broadcast.airing_audio import render_audio
from dispatcher.broadcast.audio import audio_available
from dispatcher.broadcast.audio.recordings import DEFAULT_LANGUAGE
from dispatcher.broadcast.scripts import AiringScript, campaign_recordings
from dispatcher.broadcast.service import scripts_dir
from dispatcher.broadcast.units import resolve_communes, units_registry
from dispatcher.campaigns.spec import Campaign, load_campaign
from dispatcher.core.schedule import instant
from dispatcher.settings.config import AudioSettings

if TYPE_CHECKING:  # SQLAlchemy loads with the first record: `broadcast pull` imports this early
    from dispatcher.store.pulled_audio import PulledAudio

log = logging.getLogger(__name__)

AUDIO_SUFFIXES = (".mp3", ".wav")  # as a phone plays them: MP3 first
# A render is seconds of CPU (speech, loudness, MP3): one at a time keeps the server answering,
# and keeps the renderer's per-process memo of recent audio to one thread.
RENDER_SLOTS = 1
PulledKey = tuple[str, str, datetime, str, str]  # campaign, commune, UTC time, language, suffix


# -- where the audio is -------------------------------------------------------------------------


def made_stem(rt: Runtime, script: AiringScript) -> Path:
    """The airing's stem where its audio is made: under ``output_dir/scripts``."""
    airing = Airing(script.commune, script.at)
    return airing_stem(scripts_dir(rt), script.campaign_id, airing, script.language)


def find_audio(rt: Runtime, script: AiringScript, suffix: str) -> Path | None:
    """The script's audio file in ``suffix``: where made, else an intact pulled copy."""
    made = with_suffix(made_stem(rt, script), suffix)
    if made.is_file():
        return made
    with rt.uow() as uow:
        pulled = uow.repo.airings.pulled.found(
            script.campaign_id, script.commune, instant(script.at), _language(script), suffix
        )
    return next((Path(p.path) for p in pulled if _intact(p)), None)


def _intact(pulled: PulledAudio) -> bool:
    """Whether the pulled file is still there, holding what the pull wrote."""
    path = Path(pulled.path)
    try:
        if path.stat().st_size == pulled.size_bytes and _sha256(path) == pulled.sha256:
            return True
    except OSError:  # moved or deleted since: the next candidate
        return False
    log.warning("%s changed since it was pulled: not served", path)
    return False


def _sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _language(script: AiringScript) -> str:
    return script.language or DEFAULT_LANGUAGE


# -- what the page links ------------------------------------------------------------------------


def audio_link(rt: Runtime, script: AiringScript, pulled: Collection[PulledKey]) -> Path | None:
    """The file the page links for the script (its name and format), None when it has none:
    the audio made or pulled (MP3 first), else the MP3 the voice will make when asked. A
    language variant has audio only from a recording: linked once made or pulled."""
    stem = made_stem(rt, script)
    for suffix in AUDIO_SUFFIXES:
        key = (script.campaign_id, script.commune, instant(script.at), _language(script), suffix)
        if with_suffix(stem, suffix).is_file() or key in pulled:
            return with_suffix(stem, suffix)
    if script.language is None and _voice_reason(rt.settings.resolved_audio) is None:
        return with_suffix(stem, AUDIO_SUFFIXES[0])
    return None


@functools.cache
def _voice_reason(settings: AudioSettings) -> str | None:
    # Asked once per process: it starts espeak-ng, and the page is drawn often.
    return audio_available(settings)


# -- made on demand -----------------------------------------------------------------------------


def render_missing(rt: Runtime, script: AiringScript, suffix: str) -> Path | None:
    """Make the script's audio where audio is made, as ``broadcast pull`` would; the file in
    ``suffix``, or None when the airing can have none here (say, a variant without recording,
    or no voice installed)."""
    campaign = _registered(rt, script.campaign_id)
    if campaign is None:
        return None
    units = units_registry(rt.settings)
    specs = campaign_recordings(campaign, units, resolve_communes(campaign, units))
    recordings = {campaign.id: specs}
    target = replace(script, stem=made_stem(rt, script))
    made = render_audio(rt.settings, [target], recordings).airings[0]
    if made.files is None:
        log.info("no audio for %s %s: %s", script.campaign_id, script.at, made.reason)
        return None
    return made.files.mp3 if suffix == ".mp3" else made.files.wav


def _registered(rt: Runtime, campaign_id: str) -> Campaign | None:
    with rt.uow() as uow:
        source = dict(uow.repo.campaign_sources()).get(campaign_id)
    return load_campaign(Path(source)) if source is not None else None


class AudioServer:
    """Finds an airing's audio for the pages and makes it when missing: off the event loop,
    :data:`RENDER_SLOTS` renders at a time, and each airing's audio made once however many
    ask for it at once (the others wait, then find it made)."""

    def __init__(self, rt: Runtime, slots: int = RENDER_SLOTS) -> None:
        self._rt = rt
        self._slots = asyncio.Semaphore(slots)
        # A lock per airing being looked at, dropped when no request holds it any more.
        self._making: weakref.WeakValueDictionary[object, asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )

    async def path(self, script: AiringScript, suffix: str) -> Path | None:
        """The script's audio file in ``suffix``, made if need be; None when it can have none."""
        found = await asyncio.to_thread(find_audio, self._rt, script, suffix)
        if found is not None:
            return found
        key = (script.campaign_id, script.commune, script.at, script.language)
        lock = self._making.setdefault(key, asyncio.Lock())
        async with lock:
            found = await asyncio.to_thread(find_audio, self._rt, script, suffix)
            if found is not None:  # made while this request waited
                return found
            async with self._slots:
                return await asyncio.to_thread(render_missing, self._rt, script, suffix)


# -- recorded by the pull -----------------------------------------------------------------------


def record_pulled(rt: Runtime, scripts: Sequence[AiringScript], now: datetime) -> int:
    """Remember the audio files written beside ``scripts`` (their stems, under ``--out``),
    with their SHA-256; returns how many."""
    files = []
    for script in scripts:
        for suffix in AUDIO_SUFFIXES:
            path = script.file(suffix)
            if path is not None and path.is_file():
                files.append(_pulled(script, suffix, path.resolve(), now))
    with rt.uow() as uow:
        uow.repo.airings.pulled.record(files)
        uow.commit()
    return len(files)


def _pulled(script: AiringScript, suffix: str, path: Path, now: datetime) -> PulledAudio:
    from dispatcher.store.pulled_audio import PulledAudio

    return PulledAudio(
        campaign_id=script.campaign_id, commune=script.commune, scheduled_at=instant(script.at),
        language=_language(script), suffix=suffix, path=str(path), sha256=_sha256(path),
        size_bytes=path.stat().st_size, pulled_at=now,
    )  # fmt: skip
