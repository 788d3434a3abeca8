"""Loudspeaker audio with the real espeak-ng and real files: decodable, as configured, as loud
as asked, as long as the reading-time estimate says, and rendered only when something changed.

espeak-ng must be installed (`make test` installs it): these tests fail, never skip, without it.
The WAV files are read back with the standard library's `wave`, the MP3 files with libsndfile
(soundfile), not with the library that wrote them.
"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pyloudnorm
import pytest
import soundfile

from dispatcher.broadcast.audio import (
    AudioFiles,
    EspeakEngine,
    SpeechEngine,
    audio_available,
    render_airing_audio,
)
from dispatcher.broadcast.audio import render as render_module
from dispatcher.broadcast.speech import DEFAULT_SYLLABLES_PER_MINUTE, reading_seconds, spoken
from dispatcher.core.errors import AudioError, BadInput
from dispatcher.settings.config import AudioSettings, load_settings
from tests.conftest import REPO

NOTICE = (
    "Kính thưa bà con nhân dân! Từ 0h ngày 16/10/2024, các máy điện thoại chỉ sử dụng được "
    "sóng 2G sẽ không thể gọi đi, nhận cuộc gọi, gửi hay nhận tin nhắn. Bà con không bị mất số "
    "điện thoại: chỉ cần lắp thẻ SIM đang dùng vào máy 4G. Khi cần giúp đỡ, gọi tổng đài "
    "1800 8098."
)
VOICES = ["vi", "vi-vn-x-central", "vi-vn-x-south"]
# Measured with espeak-ng 1.51 at -s 105 on four notices (13–87 s estimated), all three voices:
# 1.01–1.18 times the estimate, always longer since the estimate counts no pauses at commas
# and full stops. ±25% holds them all and still fails the default speed (175: about 0.6×).
DURATION_TOLERANCE = 0.25
LOUDNESS_TOLERANCE_LU = 1.0


@pytest.fixture(autouse=True)
def _fresh_render_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    # Identical audio is linked from the last airing that had it; tests must not share that.
    monkeypatch.setattr(render_module, "_recent", {})


@pytest.fixture(scope="module")
def espeak() -> None:
    reason = audio_available(AudioSettings())
    assert reason is None, f"the audio tests need espeak-ng: {reason}"


class CountingEngine:
    """espeak-ng, counting its syntheses."""

    def __init__(self, inner: SpeechEngine | None = None) -> None:
        self.inner = inner or EspeakEngine()
        self.calls = 0

    @property
    def source(self) -> str:
        return self.inner.source

    def unavailable_reason(self) -> str | None:
        return self.inner.unavailable_reason()

    def fingerprint(self) -> str:
        return self.inner.fingerprint()

    def synthesize(self, text: str, wav: Path) -> None:
        self.calls += 1
        self.inner.synthesize(text, wav)


class NoEngine(CountingEngine):
    """Fails the test if anything is synthesized."""

    def synthesize(self, text: str, wav: Path) -> None:
        raise AssertionError("a recording was given: nothing may be synthesized")


# --- reading the files back ------------------------------------------------------------------


def _wav(path: Path) -> tuple[np.ndarray, int]:
    """Samples (frames × channels, float) and rate, read with the standard library."""
    with wave.open(str(path), "rb") as handle:
        assert handle.getsampwidth() == 2  # 16-bit PCM
        frames = handle.readframes(handle.getnframes())
        data = np.frombuffer(frames, dtype="<i2").reshape(-1, handle.getnchannels())
        return data.astype(np.float64) / 32768, handle.getframerate()


def _mp3(path: Path) -> tuple[np.ndarray, int]:
    assert soundfile.info(str(path)).format == "MP3"
    data, rate = soundfile.read(str(path), always_2d=True)
    return data, rate


def _lufs(data: np.ndarray, rate: int) -> float:
    return float(pyloudnorm.Meter(rate).integrated_loudness(data))


def _check_files(files: AudioFiles, settings: AudioSettings) -> None:
    """Both files decode, at the configured rate and channels, as long and as loud as said."""
    for data, rate in (_wav(files.wav), _mp3(files.mp3)):
        assert rate == settings.sample_rate
        assert data.shape[1] == settings.channels
        assert data.shape[0] / rate == pytest.approx(files.duration_s, abs=0.05)
        loudness = _lufs(data, rate)
        assert abs(loudness - settings.target_lufs) <= LOUDNESS_TOLERANCE_LU, loudness
    wav_data, _ = _wav(files.wav)
    assert 20 * np.log10(np.max(np.abs(wav_data))) <= settings.peak_dbfs + 0.01


def _recording(path: Path, seconds: float, rate: int = 48_000, amplitude: float = 0.02) -> Path:
    """A stand-in for a human recording: quiet stereo tone bursts, a syllable's length each."""
    t = np.arange(int(seconds * rate)) / rate
    bursts = (np.sin(2 * np.pi * 4 * t) > 0).astype(np.float64)
    voice = amplitude * np.sin(2 * np.pi * 180 * t) * bursts
    soundfile.write(str(path), np.stack([voice, 0.5 * voice], axis=1), rate)
    return path


# --- synthesis -------------------------------------------------------------------------------


@pytest.mark.parametrize("voice", VOICES)
def test_espeak_ng_has_the_three_vietnamese_voices(voice: str) -> None:
    assert audio_available(AudioSettings(voice=voice)) is None


@pytest.mark.parametrize("voice", VOICES)
def test_each_voice_reads_the_notice_at_about_140_syllables_a_minute(
    espeak: None, tmp_path: Path, voice: str
) -> None:
    settings = AudioSettings(voice=voice)
    estimate = reading_seconds(NOTICE, DEFAULT_SYLLABLES_PER_MINUTE)
    files = render_airing_audio(spoken(NOTICE), tmp_path / "2024-08-05_0600", settings)
    assert (files.wav.name, files.mp3.name) == ("2024-08-05_0600.wav", "2024-08-05_0600.mp3")
    assert files.source == f"espeak-ng:{voice}"
    _check_files(files, settings)
    assert files.duration_s == pytest.approx(estimate, rel=DURATION_TOLERANCE)


def test_stereo_at_44100_hz_and_its_bitrate_as_configured(espeak: None, tmp_path: Path) -> None:
    settings = AudioSettings(sample_rate=44_100, channels=2, mp3_bitrate_kbps=128)
    files = render_airing_audio(spoken(NOTICE), tmp_path / "stereo", settings)
    _check_files(files, settings)
    kbps = files.mp3.stat().st_size * 8 / 1000 / files.duration_s
    assert kbps == pytest.approx(128, rel=0.05)
    left_right = _wav(files.wav)[0]
    assert np.array_equal(left_right[:, 0], left_right[:, 1])  # the same speech on both


def test_the_shipped_jingles_frame_the_speech(espeak: None, tmp_path: Path) -> None:
    settings = load_settings({}, REPO).resolved_audio
    assert settings.intro and settings.outro  # config.yaml names them
    bare = settings.model_copy(update={"intro": None, "outro": None})
    speech = render_airing_audio(spoken(NOTICE), tmp_path / "bare", bare)
    framed = render_airing_audio(spoken(NOTICE), tmp_path / "framed", settings)
    jingles_s = sum(soundfile.info(str(path)).duration for path in (settings.intro, settings.outro))
    expected = jingles_s + 2 * settings.gap_s + speech.duration_s
    assert framed.duration_s == pytest.approx(expected, abs=0.01)
    _check_files(framed, settings)


def test_unchanged_inputs_are_not_rendered_again(espeak: None, tmp_path: Path) -> None:
    engine = CountingEngine()
    settings = AudioSettings()
    stem = tmp_path / "xa-tan-doan" / "2024-08-05_0600"
    first = render_airing_audio(spoken(NOTICE), stem, settings, engine=engine)
    written = first.wav.stat().st_mtime_ns, first.mp3.stat().st_mtime_ns
    again = render_airing_audio(spoken(NOTICE), stem, settings, engine=engine)
    assert (engine.calls, again) == (1, first)
    assert (again.wav.stat().st_mtime_ns, again.mp3.stat().st_mtime_ns) == written
    render_airing_audio(spoken(NOTICE) + " Xin cảm ơn!", stem, settings, engine=engine)
    assert engine.calls == 2  # the text changed
    louder = settings.model_copy(update={"target_lufs": -14.0})
    render_airing_audio(spoken(NOTICE) + " Xin cảm ơn!", stem, louder, engine=engine)
    assert engine.calls == 3  # a setting changed
    assert sorted(p.name for p in stem.parent.iterdir()) == [
        "2024-08-05_0600.audio.json",
        "2024-08-05_0600.mp3",
        "2024-08-05_0600.wav",
    ]  # no temporary file left behind


def test_a_changed_jingle_renders_again(espeak: None, tmp_path: Path) -> None:
    engine = CountingEngine()
    intro = _recording(tmp_path / "intro.wav", 1.0)
    settings = AudioSettings(intro=intro)
    render_airing_audio(spoken(NOTICE), tmp_path / "a", settings, engine=engine)
    render_airing_audio(spoken(NOTICE), tmp_path / "a", settings, engine=engine)
    assert engine.calls == 1
    _recording(intro, 1.5)
    changed = render_airing_audio(spoken(NOTICE), tmp_path / "a", settings, engine=engine)
    assert engine.calls == 2
    _check_files(changed, settings)


def test_a_lost_wav_is_rendered_again(espeak: None, tmp_path: Path) -> None:
    engine = CountingEngine()
    files = render_airing_audio(spoken(NOTICE), tmp_path / "a", AudioSettings(), engine=engine)
    files.wav.unlink()
    render_airing_audio(spoken(NOTICE), tmp_path / "a", AudioSettings(), engine=engine)
    assert engine.calls == 2 and files.wav.is_file()


def test_identical_audio_for_another_airing_is_linked_not_synthesized(
    espeak: None, tmp_path: Path
) -> None:
    engine = CountingEngine()
    monday = render_airing_audio(spoken(NOTICE), tmp_path / "mon", AudioSettings(), engine=engine)
    friday = render_airing_audio(spoken(NOTICE), tmp_path / "fri", AudioSettings(), engine=engine)
    assert engine.calls == 1
    assert friday.wav.read_bytes() == monday.wav.read_bytes()
    assert friday.mp3.read_bytes() == monday.mp3.read_bytes()
    assert (friday.duration_s, friday.source) == (monday.duration_s, monday.source)
    render_airing_audio(spoken(NOTICE), tmp_path / "fri", AudioSettings(), engine=engine)
    assert engine.calls == 1  # friday has its own sidecar now


def test_a_language_variant_keeps_its_own_files(espeak: None, tmp_path: Path) -> None:
    main = render_airing_audio(spoken(NOTICE), tmp_path / "x_0600", AudioSettings())
    tay = render_airing_audio(
        "", tmp_path / "x_0600.tay", AudioSettings(), recording=_recording(tmp_path / "t.wav", 2)
    )
    assert (main.wav.name, tay.wav.name) == ("x_0600.wav", "x_0600.tay.wav")
    assert main.wav.is_file() and main.duration_s != tay.duration_s


# --- recordings ------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".wav", ".mp3", ".flac"])
def test_a_recording_is_used_instead_of_synthesis(tmp_path: Path, suffix: str) -> None:
    recording = _recording(tmp_path / f"tay-version{suffix}", 3.0)
    settings = AudioSettings()
    files = render_airing_audio(
        "ignored", tmp_path / "airing", settings, recording=recording, engine=NoEngine()
    )
    assert files.source == f"recording:tay-version{suffix}"
    assert files.duration_s == pytest.approx(3.0, abs=0.06)  # resampled from 48 kHz stereo
    _check_files(files, settings)


def test_a_recording_gets_the_jingles_too(tmp_path: Path) -> None:
    jingle = _recording(tmp_path / "jingle.wav", 1.0, rate=22_050)
    settings = AudioSettings(intro=jingle, outro=jingle, gap_s=0.25)
    recording = _recording(tmp_path / "voice.mp3", 2.0)
    files = render_airing_audio("", tmp_path / "a", settings, recording=recording)
    assert files.duration_s == pytest.approx(1.0 + 0.25 + 2.0 + 0.25 + 1.0, abs=0.06)
    _check_files(files, settings)


def _not_audio(folder: Path) -> Path:
    path = folder / "ghi-am.mp3"
    path.write_text("this is not an MP3", encoding="utf-8")
    return path


def _silent(folder: Path) -> Path:
    path = folder / "im-lang.wav"
    soundfile.write(str(path), np.zeros(48_000), 48_000)
    return path


def _too_short(folder: Path) -> Path:
    return _recording(folder / "ngan.wav", 0.2)


def _phone_m4a(folder: Path) -> Path:
    path = folder / "zalo.m4a"
    path.write_bytes(b"\x00\x00\x00\x20ftypM4A " + bytes(64))
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda folder: folder / "missing.mp3", "not found"),
        (_not_audio, "cannot be read as audio"),
        (_phone_m4a, "cannot be read as audio"),
        (_silent, "silent"),
        (_too_short, "too short"),
    ],
    ids=["missing", "not-audio", "m4a", "silent", "too-short"],
)
def test_a_bad_recording_is_bad_input_naming_the_file(
    tmp_path: Path, make: object, message: str
) -> None:
    assert callable(make)
    recording = make(tmp_path)
    stem = tmp_path / "out" / "airing"
    with pytest.raises(BadInput, match=message) as caught:
        render_airing_audio("", stem, AudioSettings(), recording=recording, engine=NoEngine())
    assert str(recording) in str(caught.value)
    assert not stem.parent.exists() or not any(stem.parent.iterdir())  # nothing half-written


def test_a_missing_jingle_is_bad_input_naming_it(tmp_path: Path) -> None:
    settings = AudioSettings(outro=tmp_path / "jingles" / "outro.wav")
    with pytest.raises(BadInput, match=r"outro\.wav: audio file not found"):
        render_airing_audio("Xin chào.", tmp_path / "a", settings, engine=NoEngine())


def test_nothing_to_read_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="nothing to read aloud"):
        render_airing_audio(" \n ", tmp_path / "a", AudioSettings(), engine=NoEngine())


# --- when the engine fails -------------------------------------------------------------------


def test_an_unknown_voice_is_an_audio_error_with_espeaks_complaint(tmp_path: Path) -> None:
    reason = audio_available(AudioSettings(voice="xx-nope"))
    assert reason is not None and "xx-nope" in reason and "vi-vn-x-south" in reason
    with pytest.raises(AudioError, match="voice does not exist"):
        render_airing_audio("Xin chào.", tmp_path / "a", AudioSettings(voice="xx-nope"))


def test_without_espeak_ng_the_reason_says_how_to_install_it(tmp_path: Path) -> None:
    engine = EspeakEngine(executable=str(tmp_path / "no-such-espeak"))
    reason = engine.unavailable_reason()
    assert reason is not None
    assert "apt-get install espeak-ng" in reason and "without audio" in reason
    with pytest.raises(AudioError, match="not installed"):
        render_airing_audio("Xin chào.", tmp_path / "a", AudioSettings(), engine=engine)


def _fake_espeak(folder: Path, body: str) -> str:
    path = folder / "fake-espeak"
    path.write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
    path.chmod(0o755)
    return str(path)


def test_an_engine_that_writes_nothing_is_an_audio_error(tmp_path: Path) -> None:
    # espeak-ng exits 0 when it cannot write its output file.
    engine = EspeakEngine(executable=_fake_espeak(tmp_path, 'echo "Can\'t write" >&2; exit 0'))
    with pytest.raises(AudioError, match="Can't write"):
        render_airing_audio("Xin chào.", tmp_path / "a", AudioSettings(), engine=engine)


def test_an_engine_crash_is_an_audio_error_with_its_exit_code(tmp_path: Path) -> None:
    engine = EspeakEngine(executable=_fake_espeak(tmp_path, "echo boom >&2; exit 3"))
    with pytest.raises(AudioError, match=r"exit 3.*boom"):
        render_airing_audio("Xin chào.", tmp_path / "a", AudioSettings(), engine=engine)
