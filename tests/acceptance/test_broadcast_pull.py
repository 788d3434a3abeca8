"""`dispatcher broadcast pull`: one commune's scripts and audio for a day or a range, as a
subprocess. Rendering audio takes a few seconds an airing: only the tests about audio do it."""

from __future__ import annotations

import json
import re

import pytest
import soundfile

from tests.acceptance.conftest import Workspace

SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
SAMPLE = "campaigns/2g-shutdown-2024.yaml"
ROW = re.compile(r"(\d\d/\d\d/\d{4})  (\d\d:\d\d)  (\S+(?: \(\S+\))?)\s+(\d+) s\s+(.+)")
AUDIO_ROW = re.compile(r"\d\d/\d\d/\d{4}  (\d\d:\d\d)  \S+\s+\d+ s\s+(\d+) s\s+(\S+) (.+)")


def _ok(workspace: Workspace, *args: str) -> str:
    result = workspace.run(*args)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def _rows(stdout: str) -> list[tuple[str, ...]]:
    return [m.groups() for line in stdout.splitlines() if (m := ROW.fullmatch(line))]


def test_pull_after_scripts_lists_the_day_and_writes_its_files(workspace: Workspace) -> None:
    _ok(workspace, "broadcast", "scripts", SAMPLE, "--commune", "Xã Tân Đoàn")  # registers it
    stdout = _ok(workspace, "broadcast", "pull", "--commune", "tân đoàn", "--date", "16/09/2024",
                 "--out", "usb", "--no-audio")  # fmt: skip
    lines = stdout.splitlines()
    assert lines[0] == "Xã Tân Đoàn: 2 scripts on 16/09/2024, under usb"
    assert lines[1].split() == ["date", "time", "campaign", "reading", "files"]
    stem = "2g-shutdown-2024/xa-tan-doan/2024-09-16"
    rows = _rows(stdout)
    assert [(r[0], r[1], r[2], r[4]) for r in rows] == [
        ("16/09/2024", hhmm, "2g-shutdown-2024", f"{stem}_{hhmm.replace(':', '')} .txt "
         ".spoken.txt .docx")
        for hhmm in ("06:00", "17:30")
    ]  # fmt: skip
    seconds = int(rows[0][3])
    assert 60 < seconds < 600
    text = (workspace.root / "usb" / f"{stem}_0600.txt").read_text(encoding="utf-8")
    assert "Thời lượng ước tính: " in text and "Đài truyền thanh: Xã Tân Đoàn" in text


@SQLITE_ONLY
def test_pull_a_range_by_code_as_json_from_a_campaign_file(workspace: Workspace) -> None:
    stdout = _ok(workspace, "broadcast", "pull", "--commune", "06301", "--from", "2024-10-14",
                 "--to", "20/10/2024", "--campaign", SAMPLE, "--json", "--no-audio")  # fmt: skip
    data = json.loads(stdout)
    assert data["audio_unavailable"] is None and data["airings"][0]["audio"] is None
    assert (data["commune"], data["from"], data["to"]) == ("06301", "2024-10-14", "2024-10-20")
    assert [a["at"] for a in data["airings"]] == [  # the campaign ends on 15/10/2024
        "2024-10-14T06:00:00+07:00", "2024-10-14T17:30:00+07:00",
    ]  # fmt: skip
    first = data["airings"][0]
    assert (first["commune"], first["campaign"], first["language"]) == (
        "Xã Tràng Các", "2g-shutdown-2024", None,
    )  # fmt: skip
    assert first["reading_seconds"] > 60
    assert [f.rsplit("/", 1)[1] for f in first["files"]] == [
        "2024-10-14_0600.txt", "2024-10-14_0600.spoken.txt", "2024-10-14_0600.docx",
    ]  # fmt: skip


@SQLITE_ONLY
def test_pull_renders_the_days_audio_into_the_out_folder(workspace: Workspace) -> None:
    stdout = _ok(workspace, "broadcast", "pull", "--commune", "Xã Tân Đoàn", "--date",
                 "16/09/2024", "--campaign", SAMPLE, "--out", "usb")  # fmt: skip
    lines = stdout.splitlines()
    assert lines[1].split() == ["date", "time", "campaign", "reading", "audio", "files"]
    rows = [m.groups() for line in lines if (m := AUDIO_ROW.fullmatch(line))]
    assert [(r[0], r[3]) for r in rows] == [
        (hhmm, ".txt .spoken.txt .docx .wav .mp3") for hhmm in ("06:00", "17:30")
    ]
    folder = workspace.root / "usb" / "2g-shutdown-2024" / "xa-tan-doan"
    for hhmm, (_, seconds, stem, _) in zip(("0600", "1730"), rows, strict=True):
        assert stem == f"2g-shutdown-2024/xa-tan-doan/2024-09-16_{hhmm}"
        for suffix, kind in ((".wav", "WAV"), (".mp3", "MP3")):
            info = soundfile.info(str(folder / f"2024-09-16_{hhmm}{suffix}"))
            assert (info.format, info.samplerate) == (kind, 22_050)  # the default config
            assert info.duration == pytest.approx(int(seconds), abs=1)  # as listed
    assert 60 < int(rows[0][1]) < 600


@SQLITE_ONLY
def test_pull_without_espeak_ng_writes_the_scripts_and_says_why(
    workspace: Workspace, tmp_path_factory: pytest.TempPathFactory
) -> None:
    empty = tmp_path_factory.mktemp("bin")  # a PATH where no espeak-ng is found
    result = workspace.run("broadcast", "pull", "--commune", "Xã Tân Đoàn", "--date",
                           "16/09/2024", "--campaign", SAMPLE,
                           env={"PATH": str(empty)})  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    reason = (
        "espeak-ng is not installed: sudo apt-get install espeak-ng; scripts are written "
        "without audio"
    )
    assert result.stdout.splitlines()[-1] == f"no audio for 2 airings: {reason}"
    assert result.stdout.count("is not installed") == 1  # once, not per airing
    folder = workspace.root / "out" / "scripts" / "2g-shutdown-2024" / "xa-tan-doan"
    assert sorted(p.name for p in folder.iterdir()) == [
        f"2024-09-16_{hhmm}{suffix}"
        for hhmm in ("0600", "1730")
        for suffix in (".docx", ".spoken.txt", ".txt")
    ]


@SQLITE_ONLY
def test_pull_with_nothing_that_day(workspace: Workspace) -> None:
    saturday = "2024-08-03"  # the sample airs on Monday, Wednesday and Friday
    stdout = _ok(workspace, "broadcast", "pull", "--commune", "Xã Tân Đoàn", "--date", saturday,
                 "--campaign", SAMPLE)  # fmt: skip
    assert stdout == "No airings for Xã Tân Đoàn on 03/08/2024.\n"


@SQLITE_ONLY
@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["--commune", "Xã Không Có", "--date", "16/09/2024"],
         "Error: --commune: 'Xã Không Có' is not a commune in the units registry "
         "units.yaml"),
        (["--commune", "Xã Tân Đoàn", "--date", "31/09/2024"],
         "Error: --date: '31/09/2024' is not a date: day is out of range for month"),
        (["--commune", "Xã Tân Đoàn", "--from", "2024-09-16"],
         "Error: --to: --from and --to go together"),
        (["--commune", "Xã Tân Đoàn", "--from", "16/09/2024", "--to", "15/09/2024"],
         "Error: --to: 15/09/2024 is before --from 16/09/2024"),
    ],
)  # fmt: skip
def test_bad_input_names_the_option(workspace: Workspace, args: list[str], error: str) -> None:
    result = workspace.run("broadcast", "pull", *args, "--campaign", SAMPLE)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.startswith(error), result.stderr
    assert "Traceback" not in result.stderr
