"""The audio of one airing as samples: speech or a recording, jingles, loudness; encoding.

Separate from :mod:`~dispatcher.broadcast.audio.render` (files, cache) because importing it loads
the signal libraries and scipy, which the commands that make no audio should not wait for.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import NoReturn

from dispatcher.broadcast.audio import sound
from dispatcher.broadcast.audio.engine import SpeechEngine
from dispatcher.broadcast.audio.sound import Samples
from dispatcher.core.errors import AudioError, BadInput, Problem
from dispatcher.settings.config import AudioSettings

__all__ = ["build", "encode"]


def build(
    text: str, settings: AudioSettings, recording: Path | None, engine: SpeechEngine | None
) -> tuple[Samples, float]:
    """Intro, gap, speech, gap, outro; and the speech's length.

    Each part is brought to the target first, so the jingles are as loud as the voice; then the
    whole, since the pauses and the joins move the integrated loudness a little.
    """
    rate, channels = settings.sample_rate, settings.channels
    if recording is not None:
        speech = _normalized(sound.decode(recording, rate, channels), settings, recording)
    elif engine is not None:
        speech = _normalized(_synthesize(engine, text, settings), settings, None)
    else:
        raise ValueError("the speech needs a recording or an engine")
    parts = [speech]
    gap = sound.silence(settings.gap_s, rate, channels)
    if settings.intro is not None:
        parts = [_jingle(settings.intro, settings), gap, *parts]
    if settings.outro is not None:
        parts = [*parts, gap, _jingle(settings.outro, settings)]
    speech_s = speech.shape[1] / rate
    if len(parts) == 1:
        return speech, speech_s
    whole = sound.concatenate(parts)
    return sound.normalize_loudness(whole, rate, settings.target_lufs, settings.peak_dbfs), speech_s


def _synthesize(engine: SpeechEngine, text: str, settings: AudioSettings) -> Samples:
    with tempfile.TemporaryDirectory(prefix="dispatcher-tts-") as folder:
        raw = Path(folder) / "speech.wav"
        engine.synthesize(text, raw)
        try:
            return sound.decode(raw, settings.sample_rate, settings.channels)
        except BadInput as exc:
            raise AudioError(f"{engine.source} wrote audio that cannot be read: {exc}") from exc


def _jingle(path: Path, settings: AudioSettings) -> Samples:
    return _normalized(sound.decode(path, settings.sample_rate, settings.channels), settings, path)


def _normalized(samples: Samples, settings: AudioSettings, file: Path | None) -> Samples:
    """At the target loudness; a file too short or silent to measure is the file's fault."""
    if samples.shape[1] < sound.MEASURE_MIN_S * settings.sample_rate:
        message = f"is shorter than {sound.MEASURE_MIN_S} s, too short to measure its loudness"
        _refuse(file, message)
    try:
        return sound.normalize_loudness(
            samples, settings.sample_rate, settings.target_lufs, settings.peak_dbfs
        )
    except ValueError as exc:
        _refuse(file, str(exc))


def _refuse(file: Path | None, message: str) -> NoReturn:
    if file is None:
        raise AudioError(f"the synthesized speech {message}")
    raise BadInput(Problem(f"audio {message}", file=str(file)))


def encode(samples: Samples, settings: AudioSettings, path: Path) -> None:
    """WAV or MP3 as ``path``'s suffix says, at the configured rate (and bit rate)."""
    if path.suffix == ".mp3":
        sound.encode_mp3(samples, settings.sample_rate, path, settings.mp3_bitrate_kbps)
    else:
        sound.encode_wav(samples, settings.sample_rate, path)
