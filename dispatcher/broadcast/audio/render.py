"""One airing's audio: speech (or a human recording) between the jingles, as WAV and MP3.

Each part is brought to the target loudness on its own, so the jingles are as loud as the voice,
and then the whole file. Files are replaced atomically, and a small sidecar
(``<stem>.audio.json``) holds a hash of everything that went in: rerunning with the same
inputs costs a hash, not a synthesis.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import secrets
import shutil
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from dispatcher.broadcast.audio.engine import SpeechEngine, make_engine
from dispatcher.core.errors import BadInput, Problem
from dispatcher.settings.config import AudioSettings

__all__ = ["RENDER_VERSION", "AudioFiles", "audio_available", "audio_paths", "render_airing_audio"]

log = logging.getLogger(__name__)

# Part of every cache key: bump it when the rendering changes, so old files are redone.
RENDER_VERSION = "1"
# Spoken audio this far from the reading-time estimate suggests the voice read something else
# (letters of an abbreviation, a language it does not know): worth a line in the log.
_ESTIMATE_RATIO_RANGE = (0.5, 2.0)
_RECENT_KEYS = 64  # identical airings (same text, same settings) rendered once per process


@dataclass(frozen=True)
class AudioFiles:
    """The written files, the length of the audio and what spoke it."""

    wav: Path
    mp3: Path
    duration_s: float
    source: str  # "espeak-ng:<voice>" or "recording:<file name>"


def audio_available(settings: AudioSettings) -> str | None:
    """``None`` when speech can be synthesized here, else the reason, meant for people."""
    return make_engine(settings).unavailable_reason()


def audio_paths(stem: Path) -> tuple[Path, Path]:
    """The WAV and MP3 of ``stem``: the suffix is appended, so ``x_0600.tay`` keeps ``.tay``."""
    return _sibling(stem, ".wav"), _sibling(stem, ".mp3")


def render_airing_audio(
    spoken_text: str,
    stem: Path,
    settings: AudioSettings,
    *,
    recording: Path | None = None,
    estimate_s: float | None = None,
    engine: SpeechEngine | None = None,
) -> AudioFiles:
    """Write ``<stem>.wav`` and ``<stem>.mp3`` for one airing and say what was written.

    With ``recording`` that file is the speech (decoded, loudness-normalized, framed by the
    jingles) and nothing is synthesized; otherwise ``spoken_text`` is read by ``engine``
    (default: the one ``settings`` names). ``settings`` should come from
    ``Settings.resolved_audio`` so that the jingle paths are absolute. ``estimate_s``, the
    expected reading time, only adds a log line when the speech is far from it.

    Raises :class:`BadInput` naming the file for a missing or unreadable recording or jingle,
    or when there is nothing to read; :class:`AudioError` when the engine fails.
    """
    if recording is None and not spoken_text.strip():
        raise BadInput(Problem("there is nothing to read aloud", file=str(stem)))
    speaker: SpeechEngine | None = None
    if recording is not None:
        source = f"recording:{recording.name}"
    else:
        speaker = engine or make_engine(settings)
        source = speaker.source
    key = _cache_key(spoken_text, settings, recording, speaker)
    wav, mp3 = audio_paths(stem)
    sidecar = _sibling(stem, ".audio.json")
    done = _unchanged(sidecar, key, wav, mp3) or _copy_recent(key, wav, mp3, sidecar)
    if done is not None:
        return done
    # The signal libraries load scipy (about a second): only when there is audio to make.
    from dispatcher.broadcast.audio import program

    samples, speech_s = program.build(spoken_text, settings, recording, speaker)
    files = AudioFiles(wav, mp3, samples.shape[1] / settings.sample_rate, source)
    _write(files, sidecar, key, lambda path: program.encode(samples, settings, path))
    _check_estimate(stem, speech_s, estimate_s, recording)
    log.info("%s: %.1f s of audio from %s", wav, files.duration_s, source)
    _remember(key, files, sidecar)
    return files


# --- what goes in ----------------------------------------------------------------------------


def _cache_key(
    text: str, settings: AudioSettings, recording: Path | None, engine: SpeechEngine | None
) -> str:
    digest = hashlib.sha256()
    parts = [RENDER_VERSION, settings.model_dump_json(exclude={"intro", "outro"})]
    parts += [_file_digest(path) if path else "-" for path in (settings.intro, settings.outro)]
    if recording is not None:
        parts += ["recording", recording.name, _file_digest(recording)]
    elif engine is not None:
        parts += [engine.source, engine.fingerprint(), text]
    for part in parts:
        digest.update(part.encode("utf-8") + b"\0")
    return digest.hexdigest()


def _file_digest(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()
    except OSError as exc:
        reason = "not found" if isinstance(exc, FileNotFoundError) else exc.strerror or str(exc)
        raise BadInput(Problem(f"audio file {reason}", file=str(path))) from exc


def _check_estimate(
    stem: Path, speech_s: float, estimate_s: float | None, recording: Path | None
) -> None:
    if recording is not None or not estimate_s or estimate_s <= 0:
        return
    low, high = _ESTIMATE_RATIO_RANGE
    if not low <= speech_s / estimate_s <= high:
        log.warning(
            "%s: the speech lasts %.0f s, the reading-time estimate is %.0f s",
            stem,
            speech_s,
            estimate_s,
        )


# --- files -----------------------------------------------------------------------------------


def _sibling(stem: Path, suffix: str) -> Path:
    return stem.with_name(stem.name + suffix)


def _unchanged(sidecar: Path, key: str, wav: Path, mp3: Path) -> AudioFiles | None:
    """The files as the sidecar describes them, when they exist and were made from ``key``."""
    try:
        saved = json.loads(sidecar.read_text(encoding="utf-8"))
        if saved["key"] != key or not (wav.is_file() and mp3.is_file()):
            return None
        return AudioFiles(wav, mp3, float(saved["duration_s"]), str(saved["source"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None  # no sidecar or an unreadable one: render again


def _write(files: AudioFiles, sidecar: Path, key: str, encode: Callable[[Path], None]) -> None:
    """``encode`` the WAV and the MP3 (it goes by the suffix), then the sidecar."""
    files.wav.parent.mkdir(parents=True, exist_ok=True)
    # The sidecar goes first and comes back last: a crash in between leaves no stale claim.
    sidecar.unlink(missing_ok=True)
    _atomic(files.wav, encode)
    _atomic(files.mp3, encode)
    _write_sidecar(sidecar, key, files)


def _write_sidecar(sidecar: Path, key: str, files: AudioFiles) -> None:
    record = {"key": key, "duration_s": files.duration_s, "source": files.source}
    text = json.dumps(record, ensure_ascii=False, indent=1) + "\n"
    _atomic(sidecar, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def _atomic(path: Path, write: Callable[[Path], object]) -> None:
    """``write`` a temporary file beside ``path`` (same suffix: encoders go by it), then rename."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp{path.suffix}")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        with suppress(FileNotFoundError):
            tmp.unlink()


# Airings whose audio is identical (same spoken text and settings) are rendered once per
# process and linked after that: a campaign has hundreds of airings and a few distinct texts.
_recent: dict[str, tuple[AudioFiles, Path]] = {}  # key → files and their sidecar


def _remember(key: str, files: AudioFiles, sidecar: Path) -> None:
    _recent.pop(key, None)
    _recent[key] = (files, sidecar)
    while len(_recent) > _RECENT_KEYS:
        _recent.pop(next(iter(_recent)))


def _copy_recent(key: str, wav: Path, mp3: Path, sidecar: Path) -> AudioFiles | None:
    known, known_sidecar = _recent.get(key, (None, None))
    if known is None or known_sidecar is None or known_sidecar == sidecar:
        return None
    if _unchanged(known_sidecar, key, known.wav, known.mp3):
        files = AudioFiles(wav, mp3, known.duration_s, known.source)
        wav.parent.mkdir(parents=True, exist_ok=True)
        sidecar.unlink(missing_ok=True)
        _atomic(wav, lambda tmp: _link_or_copy(known.wav, tmp))
        _atomic(mp3, lambda tmp: _link_or_copy(known.mp3, tmp))
        _write_sidecar(sidecar, key, files)
        return files
    return None


def _link_or_copy(source: Path, target: Path) -> None:
    # A hard link costs no space (hundreds of airings share a few texts) and stays safe: files
    # are only ever replaced by renaming, never written in place.
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)
