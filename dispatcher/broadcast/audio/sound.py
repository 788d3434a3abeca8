"""Samples in and out: decode, resample, measure and set loudness, encode WAV and MP3.

The signal work is the libraries': pedalboard (JUCE's decoders, resampler and limiter, LAME for
MP3) and pyloudnorm (ITU-R BS.1770 integrated loudness). Arrays are float32, shaped
``(channels, frames)`` as pedalboard has them, with samples in [-1, 1].
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pedalboard
import pyloudnorm
from pedalboard.io import AudioFile

from dispatcher.core.errors import BadInput, Problem

__all__ = [
    "MEASURE_MIN_S",
    "Samples",
    "concatenate",
    "decode",
    "encode_mp3",
    "encode_wav",
    "loudness_lufs",
    "normalize_loudness",
    "peak_dbfs",
    "silence",
]

Samples = npt.NDArray[np.float32]

MEASURE_MIN_S = 0.4  # BS.1770 measures in 400 ms blocks: anything shorter has no loudness
_LIMIT_ROUNDS = 4  # limiting lowers the loudness a little; a few rounds of gain make up for it
_LIMIT_TOLERANCE_LU = 0.2
_LIMITER_RELEASE_MS = 100.0


def decode(path: Path, sample_rate: int, channels: int) -> Samples:
    """The audio of ``path`` (WAV, MP3, FLAC, Ogg Vorbis, AIFF) at ``sample_rate``, ``channels``.

    Raises :class:`BadInput` naming the file when it is missing, unreadable or empty.
    """
    try:
        with AudioFile(str(path)).resampled_to(float(sample_rate)) as audio:
            data = audio.read(audio.frames)
    except (ValueError, RuntimeError, OSError) as exc:
        raise BadInput(Problem(f"cannot be read as audio: {_reason(exc)}", file=str(path))) from exc
    if data.shape[-1] == 0:
        raise BadInput(Problem("holds no audio", file=str(path)))
    return _with_channels(np.asarray(data, dtype=np.float32), channels)


def encode_wav(samples: Samples, sample_rate: int, path: Path) -> None:
    """16-bit PCM WAV; the format is chosen by ``path``'s suffix, which must be ``.wav``."""
    with AudioFile(str(path), "w", float(sample_rate), samples.shape[0], bit_depth=16) as out:
        out.write(samples)


def encode_mp3(samples: Samples, sample_rate: int, path: Path, bitrate_kbps: int) -> None:
    """Constant-bit-rate MP3 (LAME); ``path`` must end in ``.mp3``."""
    with AudioFile(
        str(path), "w", float(sample_rate), samples.shape[0], quality=bitrate_kbps
    ) as out:
        out.write(samples)


def silence(seconds: float, sample_rate: int, channels: int) -> Samples:
    return np.zeros((channels, round(seconds * sample_rate)), dtype=np.float32)


def concatenate(parts: list[Samples]) -> Samples:
    return np.concatenate(parts, axis=1).astype(np.float32, copy=False)


def loudness_lufs(samples: Samples, sample_rate: int) -> float:
    """Integrated loudness (LUFS); ``-inf`` for silence. ValueError when under 0.4 s."""
    meter = pyloudnorm.Meter(sample_rate)
    return float(meter.integrated_loudness(samples.T.astype(np.float64)))


def peak_dbfs(samples: Samples) -> float:
    peak = float(np.max(np.abs(samples))) if samples.size else 0.0
    return 20 * np.log10(peak) if peak > 0 else float("-inf")


def normalize_loudness(
    samples: Samples, sample_rate: int, target_lufs: float, ceiling_dbfs: float
) -> Samples:
    """``samples`` at ``target_lufs`` integrated loudness, no sample above ``ceiling_dbfs``.

    A plain gain when the peaks allow it. Otherwise (speech has peaks 15–20 dB above its
    loudness, espeak-ng's already touch 0 dBFS) the peaks go through a limiter and the gain is
    corrected for what the limiter took away, a few rounds until within 0.2 LU. Raises
    ValueError for audio too short to measure or silent.
    """
    loudness = loudness_lufs(samples, sample_rate)
    if not np.isfinite(loudness):
        raise ValueError("the audio is silent")
    gained = _gain(samples, target_lufs - loudness)
    if peak_dbfs(gained) <= ceiling_dbfs:
        return gained
    limited = gained
    for _ in range(_LIMIT_ROUNDS):
        limited = _limit(gained, sample_rate, ceiling_dbfs)
        error = target_lufs - loudness_lufs(limited, sample_rate)
        if abs(error) <= _LIMIT_TOLERANCE_LU:
            break
        gained = _gain(gained, error)
    return limited


def _limit(samples: Samples, sample_rate: int, ceiling_dbfs: float) -> Samples:
    # pedalboard's Limiter (JUCE) raises its output by -threshold and clips at 0 dBFS; scaling
    # back by the threshold leaves every sample at or below the ceiling.
    limiter = pedalboard.Limiter(threshold_db=ceiling_dbfs, release_ms=_LIMITER_RELEASE_MS)
    limited = limiter(samples, float(sample_rate))
    return _gain(np.asarray(limited, dtype=np.float32), ceiling_dbfs)


def _gain(samples: Samples, db: float) -> Samples:
    return (samples * np.float32(10 ** (db / 20))).astype(np.float32, copy=False)


def _with_channels(samples: Samples, channels: int) -> Samples:
    if samples.shape[0] == channels:
        return samples
    mono = samples.mean(axis=0, keepdims=True, dtype=np.float32)
    return np.repeat(mono, channels, axis=0)


def _reason(exc: Exception) -> str:
    # pedalboard says 'Failed to open audio file: file "/x.m4a" does not seem to contain…'.
    text = str(exc).removeprefix("Failed to open audio file: ")
    return text or type(exc).__name__
