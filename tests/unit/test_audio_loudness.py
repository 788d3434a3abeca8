"""Loudness normalization on synthetic signals: the target met, no sample over the ceiling."""

from __future__ import annotations

import numpy as np
import pytest

from dispatcher.broadcast.audio.sound import (
    concatenate,
    loudness_lufs,
    normalize_loudness,
    peak_dbfs,
    silence,
)

RATE = 22_050
TARGET, CEILING = -16.0, -1.0


def _tone(seconds: float, amplitude: float, channels: int = 1) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    wave = amplitude * np.sin(2 * np.pi * 440 * t)
    return np.repeat(wave[np.newaxis, :], channels, axis=0).astype(np.float32)


def _peaky(seconds: float) -> np.ndarray:
    """Quiet noise with sharp clicks: loudness far below its peaks, like speech, only more so."""
    rng = np.random.default_rng(20241016)
    noise = 0.02 * rng.standard_normal(int(seconds * RATE))
    noise[:: RATE // 4] = 0.99  # four full-scale clicks a second
    return noise[np.newaxis, :].astype(np.float32)


def test_a_quiet_tone_gets_a_plain_gain_to_the_target() -> None:
    tone = _tone(3, 0.01)
    out = normalize_loudness(tone, RATE, TARGET, CEILING)
    assert loudness_lufs(out, RATE) == pytest.approx(TARGET, abs=0.05)
    ratio = out[0, 1000:1100] / tone[0, 1000:1100]
    assert np.allclose(ratio, ratio[0], rtol=1e-4)  # one gain: the waveform is untouched
    assert out.dtype == np.float32 and out.shape == tone.shape


def test_peaks_that_the_gain_would_push_over_the_ceiling_are_limited() -> None:
    clicks = _peaky(5)
    assert peak_dbfs(clicks) - loudness_lufs(clicks, RATE) > 20  # a plain gain would clip
    out = normalize_loudness(clicks, RATE, TARGET, CEILING)
    assert peak_dbfs(out) <= CEILING + 1e-4
    assert loudness_lufs(out, RATE) == pytest.approx(TARGET, abs=0.3)
    assert out.shape == clicks.shape


def test_a_loud_signal_is_turned_down() -> None:
    out = normalize_loudness(_tone(2, 0.9), RATE, -23.0, CEILING)
    assert loudness_lufs(out, RATE) == pytest.approx(-23.0, abs=0.05)


def test_stereo_stays_stereo() -> None:
    out = normalize_loudness(_tone(2, 0.05, channels=2), RATE, TARGET, CEILING)
    assert out.shape[0] == 2
    assert loudness_lufs(out, RATE) == pytest.approx(TARGET, abs=0.05)


def test_silence_has_no_loudness_to_normalize() -> None:
    with pytest.raises(ValueError, match="silent"):
        normalize_loudness(silence(2, RATE, 1), RATE, TARGET, CEILING)


def test_audio_shorter_than_a_measuring_block_cannot_be_measured() -> None:
    with pytest.raises(ValueError):
        normalize_loudness(_tone(0.2, 0.1), RATE, TARGET, CEILING)


def test_parts_join_end_to_end() -> None:
    joined = concatenate([_tone(1, 0.1), silence(0.5, RATE, 1), _tone(0.25, 0.1)])
    assert joined.shape == (1, RATE + RATE // 2 + RATE // 4)
    assert peak_dbfs(silence(1, RATE, 1)) == float("-inf")
