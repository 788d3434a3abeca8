"""Each airing's audio from the broadcast commands' services, with the real espeak-ng and real
files: `broadcast pull` renders the day's airings, a recording declared in the campaign wins over
the voice, bad `recordings` entries are errors at their line, and without a voice the scripts are
still written and the reason is given once.

espeak-ng must be installed (`make test` installs it): these tests fail, never skip, without it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import soundfile

from dispatcher.bootstrap import runtime
from dispatcher.broadcast import pull as broadcast_pull
from dispatcher.broadcast import service as broadcast_service
from dispatcher.broadcast.audio import audio_available
from dispatcher.broadcast.audio import render as render_module
from dispatcher.cli import present_broadcast as presenters_broadcast
from dispatcher.core.errors import BadInput
from dispatcher.sending import send as services
from dispatcher.settings.config import AudioSettings, Settings
from tests.integration.test_audio import DURATION_TOLERANCE, _mp3, _recording, _wav

REPO = Path(__file__).resolve().parents[2]
NOTICE = (
    "Từ ngày 16/10/2024, điện thoại chỉ dùng được sóng 2G sẽ không gọi được. Bà con lắp thẻ SIM "
    "đang dùng vào máy 4G, hoặc gọi tổng đài 1800 8098 để được giúp đỡ."
)
# An audio setting other than the default, to see that the files follow the configuration.
AUDIO = {"sample_rate": 16_000, "mp3_bitrate_kbps": 32}
NO_TAY = "no recording in Tày (no offline voice speaks it)"


@pytest.fixture(autouse=True)
def _fresh_render_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    # Identical audio is linked from the last airing that had it; tests must not share that.
    monkeypatch.setattr(render_module, "_recent", {})


@pytest.fixture(scope="module")
def espeak() -> None:
    reason = audio_available(AudioSettings())
    assert reason is None, f"the audio tests need espeak-ng: {reason}"


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An operator's folder: the shipped units registry, two recordings, no config file."""
    (tmp_path / "campaigns" / "ghi-am").mkdir(parents=True)
    shutil.copy(REPO / "units.yaml", tmp_path / "units.yaml")
    _recording(tmp_path / "campaigns" / "ghi-am" / "tan-doan.wav", 2.0)
    _recording(tmp_path / "campaigns" / "ghi-am" / "tay.mp3", 3.0)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def settings(folder: Path, **audio: object) -> Settings:
    return Settings.model_validate(
        {"database_url": f"sqlite:///{folder / 'dispatcher.sqlite3'}", "base_dir": folder,
         "audio": {**AUDIO, **audio}}
    )  # fmt: skip


HEAD = [
    "id: thu-nghiem", "title: Thử nghiệm", "unit: UBND huyện Văn Quan", "broadcast:",
    "  communes: [Xã Tân Đoàn, Xã Tràng Các]", "  times: ['06:00']",
    "  start: 2024-08-05", "  end: 2024-08-06", f"  script: '{NOTICE}'",
    "  variants:", "    tay: {name: Tày, script: Bản tiếng Tày.}",
]  # fmt: skip
RECORDINGS = [  # lines 12-14
    "  recordings:",
    "    - {file: ghi-am/tan-doan.wav, commune: Tân Đoàn, at: '2024-08-05 06:00'}",
    "    - {file: ghi-am/tay.mp3, commune: '06301', language: tay}",  # Xã Tràng Các's code
]


def campaign(folder: Path, *lines: str) -> Path:
    """A campaign file whose line N is ``[*HEAD, *lines][N - 1]``."""
    path = folder / "campaigns" / "thu-nghiem.yaml"
    path.write_text("\n".join([*HEAD, *lines]) + "\n", encoding="utf-8")
    return path


def test_pull_renders_the_days_airings_and_copies_them_out(espeak: None, folder: Path) -> None:
    path = campaign(folder)  # no recordings: the voice reads every Vietnamese airing
    with runtime(settings(folder)) as rt:
        result = broadcast_pull.pull(rt, "Xã Tân Đoàn", "05/08/2024", out=folder / "usb",
                                     campaign_files=[path])  # fmt: skip
        assert result.audio is not None and result.audio.unavailable is None
        vietnamese, tay = result.airings
        assert vietnamese.audio is not None and vietnamese.audio.files is not None
        made = vietnamese.audio.files
        assert made.source == "espeak-ng:vi"
        # Rendered where the commune page finds it, and copied to --out without the sidecar.
        home = folder / "audio" / "out" / "scripts" / "thu-nghiem" / "xa-tan-doan"
        usb = folder / "usb" / "thu-nghiem" / "xa-tan-doan"
        assert (made.wav, made.mp3) == (home / "2024-08-05_0600.wav", home / "2024-08-05_0600.mp3")
        assert [p.name for p in vietnamese.files] == [
            f"2024-08-05_0600{s}" for s in (".txt", ".spoken.txt", ".docx", ".wav", ".mp3")
        ]
        assert (usb / "2024-08-05_0600.mp3").read_bytes() == made.mp3.read_bytes()
        assert not (usb / "2024-08-05_0600.audio.json").exists()
        for data, rate in (_wav(usb / "2024-08-05_0600.wav"), _mp3(usb / "2024-08-05_0600.mp3")):
            assert rate == 16_000  # as configured, not espeak-ng's 22,050 Hz
            # An MP3 decodes up to a frame longer (1,152 samples: 72 ms at 16 kHz).
            assert data.shape[0] / rate == pytest.approx(made.duration_s, abs=0.1)
        reading = vietnamese.script.reading_seconds
        assert made.duration_s == pytest.approx(reading, rel=DURATION_TOLERANCE)
        assert tay.audio is not None and (tay.audio.files, tay.audio.reason) == (None, NO_TAY)
        assert not list(usb.glob("*.tay.wav")) and not list(home.glob("*.tay.wav"))
        written = made.mp3.stat().st_mtime_ns
        again = broadcast_pull.pull(rt, "Xã Tân Đoàn", "05/08/2024", out=folder / "usb",
                                    campaign_files=[path])  # fmt: skip
    assert made.mp3.stat().st_mtime_ns == written  # unchanged: not rendered again
    assert again.airings[0].audio == vietnamese.audio
    table = presenters_broadcast.pull_table(result).splitlines()
    assert table[1].split() == ["date", "time", "campaign", "reading", "audio", "files"]
    assert table[2].split()[3:7] == [f"{reading}", "s", f"{round(made.duration_s)}", "s"]
    assert table[-1] == f"no audio for 1 airing: {NO_TAY}"


def test_recordings_in_the_campaign_beat_the_voice(espeak: None, folder: Path) -> None:
    path = campaign(folder, *RECORDINGS)
    with runtime(settings(folder)) as rt:
        result = broadcast_service.write_campaign_scripts(rt, path, None, None, audio=True)
    assert result.audio is not None
    made = {
        (s.commune, s.at.day, s.language): audio
        for s, audio in zip(result.scripts, result.audio.airings, strict=True)
    }
    assert len(made) == 8  # 2 communes × 2 days × (Vietnamese, Tày)
    sources = {
        key: audio.files.source if audio.files else audio.reason for key, audio in made.items()
    }
    assert sources == {
        ("Xã Tân Đoàn", 5, None): "recording:tan-doan.wav",  # the airing it names
        ("Xã Tân Đoàn", 6, None): "espeak-ng:vi",
        ("Xã Tràng Các", 5, None): "espeak-ng:vi",
        ("Xã Tràng Các", 6, None): "espeak-ng:vi",
        ("Xã Tân Đoàn", 5, "tay"): NO_TAY,  # only Tràng Các has a Tày recording
        ("Xã Tân Đoàn", 6, "tay"): NO_TAY,
        ("Xã Tràng Các", 5, "tay"): "recording:tay.mp3",
        ("Xã Tràng Các", 6, "tay"): "recording:tay.mp3",
    }
    recorded = made[("Xã Tân Đoàn", 5, None)].files
    tay = made[("Xã Tràng Các", 6, "tay")].files
    assert recorded is not None and tay is not None
    assert recorded.duration_s == pytest.approx(2.0, abs=0.06)  # the recording, not the notice
    assert tay.wav.name == "2024-08-06_0600.tay.wav" and tay.duration_s == pytest.approx(
        3.0, abs=0.06
    )
    assert soundfile.info(str(tay.mp3)).samplerate == 16_000
    summary = presenters_broadcast.scripts_summary(result).splitlines()
    assert summary[-2:] == [
        "  audio: 6 airings (.wav, .mp3 beside the scripts), 2–"
        f"{max(round(a.files.duration_s) for a in made.values() if a.files)} s",
        f"  no audio for 2 airings: {NO_TAY}",
    ]


def test_without_a_voice_scripts_are_written_recordings_play_and_the_reason_is_said_once(
    folder: Path,
) -> None:
    path = campaign(folder, *RECORDINGS)
    with runtime(settings(folder, voice="xx-nope")) as rt:
        result = broadcast_pull.pull(rt, "Tân Đoàn", None, "05/08/2024", "06/08/2024",
                                     campaign_files=[path])  # fmt: skip
    assert result.audio is not None and result.audio.unavailable is not None
    assert "cannot use the voice 'xx-nope'" in result.audio.unavailable
    monday, _, tuesday, _ = result.airings
    assert monday.audio is not None and monday.audio.files is not None
    assert monday.audio.files.source == "recording:tan-doan.wav"
    assert tuesday.audio is not None and tuesday.audio.reason == result.audio.unavailable
    assert [p.name for p in tuesday.files] == [  # the scripts, and no audio
        f"2024-08-06_0600{suffix}" for suffix in (".txt", ".spoken.txt", ".docx")
    ]
    table = presenters_broadcast.pull_table(result)
    assert table.count(result.audio.unavailable) == 1
    assert f"no audio for 1 airing: {result.audio.unavailable}" in table.splitlines()


@pytest.mark.parametrize(
    ("entries", "expected"),
    [
        (["    - {file: ghi-am/tay.mp3, commune: Xã Tràng Phái}"],
         "13: broadcast.recordings[0].commune: Xã Tràng Phái is not one of the campaign's "
         "communes"),
        (["    - {file: ghi-am/tay.mp3, commune: Xã Không Có}"],
         "13: broadcast.recordings[0].commune: 'Xã Không Có' is not a commune in the units "
         "registry units.yaml"),
        (["    - {file: ghi-am/tay.mp3, commune: Tân Đoàn, at: '2024-08-05 06:30'}"],
         "13: broadcast.recordings[0].at: Tân Đoàn has no airing at 06:30 05/08/2024 "
         "(airings: 06:00, 05/08/2024–06/08/2024)"),
        (["    - {file: ghi-am/tay.mp3, at: '2024-08-07 06:00'}"],
         "13: broadcast.recordings[0].at: the campaign has no airing at 06:00 07/08/2024 "
         "(airings: 06:00, 05/08/2024–06/08/2024)"),
        (["    - {file: ghi-am/tay.mp3, language: nung}"],
         "13: broadcast.recordings[0].language: 'nung' is neither vi nor a code of `variants` "
         "(tay)"),
        (["    - {file: ghi-am/khong-co.mp3}"],
         "13: broadcast.recordings[0].file: file not found: ghi-am/khong-co.mp3"),
        (["    - {file: ghi-am/tay.m4a}"],
         "13: broadcast.recordings[0].file: 'ghi-am/tay.m4a' is not an MP3, WAV, FLAC or Ogg "
         "file (a phone's .m4a: convert it to MP3)"),
        (["    - {file: ghi-am/tay.mp3, commune: Xã Tân Đoàn}",
          "    - {file: ghi-am/tan-doan.wav, commune: tân đoàn, language: vi}"],
         "14: broadcast.recordings[1]: recordings[0] is for the same airings: give one file"),
    ],
    ids=["stranger", "unknown", "not-an-airing", "after-the-end", "language", "missing",
         "m4a", "two-files"],
)  # fmt: skip
def test_a_bad_recording_entry_is_an_error_at_its_line(
    folder: Path, entries: list[str], expected: str
) -> None:
    path = campaign(folder, "  recordings:", *entries)
    (result,) = services.validate([path], settings(folder))
    assert [str(p) for p in result.problems] == [f"campaigns/thu-nghiem.yaml:{expected}"]
    with runtime(settings(folder)) as rt, pytest.raises(BadInput) as caught:
        broadcast_pull.pull(rt, "Tân Đoàn", "05/08/2024", campaign_files=[path])
    assert caught.value.exit_code == 2
    assert str(caught.value) == f"campaigns/thu-nghiem.yaml:{expected}"
