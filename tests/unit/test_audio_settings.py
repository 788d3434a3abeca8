"""The `audio:` settings and the engine's pure parts: defaults, what is refused, path anchoring."""

from __future__ import annotations

from pathlib import Path

import pydantic
import pytest

from dispatcher.broadcast.audio import EspeakEngine, make_engine
from dispatcher.broadcast.audio.engine import summarize_stderr
from dispatcher.settings.config import MP3_BITRATES_KBPS, AudioSettings, Settings


def test_defaults_are_the_northern_voice_at_an_announcers_pace() -> None:
    audio = Settings().audio
    assert (audio.engine, audio.voice, audio.speed) == ("espeak-ng", "vi", 105)
    assert (audio.sample_rate, audio.channels, audio.mp3_bitrate_kbps) == (22_050, 1, 64)
    assert (audio.target_lufs, audio.peak_dbfs) == (-16.0, -1.0)
    assert (audio.intro, audio.outro) == (None, None)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"sample_rate": 11_025}, "sample_rate must be one of"),
        ({"sample_rate": 22_050, "mp3_bitrate_kbps": 192}, "at 22050 Hz must be one of"),
        ({"sample_rate": 44_100, "mp3_bitrate_kbps": 8}, "at 44100 Hz must be one of"),
        ({"channels": 3}, "channels"),
        ({"speed": 20}, "speed"),
        ({"target_lufs": 0}, "target_lufs"),
        ({"peak_dbfs": 1}, "peak_dbfs"),
        ({"voice": "-s 900"}, "voice"),  # never an option smuggled into the command line
        ({"voice": ""}, "voice"),
        ({"engine": "say"}, "engine"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_settings_the_encoder_or_engine_cannot_honour_are_refused(
    fields: dict[str, object], message: str
) -> None:
    with pytest.raises(pydantic.ValidationError, match=message):
        AudioSettings.model_validate(fields)


@pytest.mark.parametrize("rate", sorted(MP3_BITRATES_KBPS))
def test_every_listed_rate_and_bitrate_is_accepted(rate: int) -> None:
    for kbps in MP3_BITRATES_KBPS[rate]:
        assert AudioSettings(sample_rate=rate, mp3_bitrate_kbps=kbps).sample_rate == rate


def test_jingle_paths_are_anchored_at_the_config_folder() -> None:
    settings = Settings(
        base_dir=Path("/etc/dispatcher"),
        audio=AudioSettings(intro=Path("jingles/in.wav"), outro=Path("/srv/out.mp3")),
    )
    resolved = settings.resolved_audio
    assert resolved.intro == Path("/etc/dispatcher/jingles/in.wav")
    assert resolved.outro == Path("/srv/out.mp3")  # absolute stays as written
    assert resolved.voice == settings.audio.voice
    assert Settings(base_dir=Path("/x")).resolved_audio.intro is None


def test_the_engine_is_built_from_the_settings() -> None:
    engine = make_engine(AudioSettings(voice="vi-vn-x-south", speed=120))
    assert isinstance(engine, EspeakEngine)
    assert (engine.voice, engine.speed, engine.source) == (
        "vi-vn-x-south",
        120,
        "espeak-ng:vi-vn-x-south",
    )


def test_an_engine_complaint_is_summarized_on_one_short_line() -> None:
    assert summarize_stderr("\n  Error: voice not found \n\nwarning: x\n") == (
        "Error: voice not found; warning: x"
    )
    long = summarize_stderr("e" * 1000)
    assert len(long) == 300 and long.endswith("…")
    assert summarize_stderr("") == ""
