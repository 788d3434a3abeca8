"""Broadcast use cases over real files and databases: communes from the registry, the files of
each airing, reading times, language variants, and one commune's airings across campaigns."""

from __future__ import annotations

import shutil
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from dispatcher.bootstrap import runtime
from dispatcher.broadcast import pull as broadcast_pull
from dispatcher.broadcast import service as broadcast_service
from dispatcher.broadcast import tidy
from dispatcher.broadcast.speech import reading_seconds, spoken
from dispatcher.broadcast.units import units_registry
from dispatcher.core.errors import BadInput
from dispatcher.sending import send as services
from dispatcher.settings.config import Settings
from tests.fakes import FakeClock

REPO = Path(__file__).resolve().parents[2]
VN = ZoneInfo("Asia/Ho_Chi_Minh")
HEAD = ["title: Thử nghiệm", "unit: UBND huyện Văn Quan"]  # lines 2-3, after the id
SCRIPT = "Bà con {{ commune|in_sentence }} gọi 1800 8098 trước 16/10/2024."


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An operator's folder: the shipped units registry, no config (the defaults apply)."""
    (tmp_path / "campaigns").mkdir()
    shutil.copy(REPO / "units.yaml", tmp_path / "units.yaml")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def campaign(folder: Path, *lines: str, name: str = "thu-nghiem") -> Path:
    """A campaign file (id ``name``) whose line N is ``[id, *HEAD, *lines][N - 1]``."""
    path = folder / "campaigns" / f"{name}.yaml"
    path.write_text("\n".join([f"id: {name}", *HEAD, *lines]) + "\n", encoding="utf-8")
    return path


def broadcast(communes: str, start: str, end: str, *extra: str) -> list[str]:
    return [
        "broadcast:", f"  communes: {communes}", "  times: ['06:00']",
        f"  start: {start}", f"  end: {end}", f"  script: '{SCRIPT}'", *extra,
    ]  # fmt: skip


def settings(folder: Path, db_url: str | None = None, **extra: object) -> Settings:
    url = db_url or f"sqlite:///{folder / 'dispatcher.sqlite3'}"
    return Settings.model_validate({"database_url": url, "base_dir": folder, **extra})


def problems(path: Path) -> list[str]:
    (result,) = services.validate([path], settings(path.parents[1]))
    return [str(p) for p in result.problems]


# -- validate: communes from the registry -----------------------------------------------------


def test_unknown_communes_are_errors_at_their_line(folder: Path) -> None:
    path = campaign(folder, *broadcast("[Xã Tân Doàn, Huyện Văn Quan]", "2024-08-01", "2024-08-31"))
    assert problems(path) == [
        "campaigns/thu-nghiem.yaml:5: broadcast.communes[0]: 'Xã Tân Doàn' is not a commune in "
        "the units registry units.yaml (did you mean Xã Tân Đoàn?)",
        "campaigns/thu-nghiem.yaml:5: broadcast.communes[1]: 'Huyện Văn Quan' is a district, not "
        "a commune",
    ]


def test_a_commune_list_file_is_checked_row_by_row(folder: Path) -> None:
    (folder / "campaigns" / "xa.csv").write_text("name\nXã Tân Đoàn\nXã Lạ\n", encoding="utf-8")
    path = campaign(folder, *broadcast("xa.csv", "2024-08-01", "2024-08-31"))
    assert problems(path) == [
        "campaigns/xa.csv:3: 'Xã Lạ' is not a commune in the units registry units.yaml"
    ]


def test_a_commune_gone_before_the_broadcast_is_an_error(folder: Path) -> None:
    path = campaign(folder, *broadcast("[Xã Tràng Các]", "2025-01-01", "2025-01-31"))
    assert problems(path) == [
        "campaigns/thu-nghiem.yaml:5: broadcast.communes[0]: Xã Tràng Các does not exist during "
        "the broadcast 01/01/2025–31/01/2025 (Xã Tràng Các until 30/11/2024)"
    ]


def test_a_commune_merged_mid_campaign_is_a_note_and_stops_airing(folder: Path) -> None:
    path = campaign(folder, *broadcast("[Xã Tràng Các, Xã Khánh Khê]", "2024-11-29", "2024-12-02"))
    (result,) = services.validate([path], settings(folder))
    assert result.problems == []
    assert [str(p) for p in result.warnings] == [
        "campaigns/thu-nghiem.yaml:5: broadcast.communes[0]: Xã Tràng Các: no airings from "
        "01/12/2024 (merged into Xã Khánh Khê)"
    ]
    registry = units_registry(settings(folder))
    planned = broadcast_service.planned_airings(services.prepare_campaign(path).campaign, registry)
    assert [(c, at.day) for c, at in planned] == [
        ("Xã Tràng Các", 29), ("Xã Khánh Khê", 29), ("Xã Tràng Các", 30), ("Xã Khánh Khê", 30),
        ("Xã Khánh Khê", 1), ("Xã Khánh Khê", 2),
    ]  # fmt: skip


def test_without_a_registry_names_are_taken_as_written(folder: Path) -> None:
    (folder / "units.yaml").unlink()
    path = campaign(folder, *broadcast("[Xã Không Có]", "2024-08-01", "2024-08-01"))
    assert problems(path) == []


def test_variant_communes_must_be_the_campaigns(folder: Path) -> None:
    variant = ["  variants:", "    tay:", "      name: Tày", "      communes: [Xã Tràng Phái]",
               "      script: Bản tiếng Tày."]  # fmt: skip
    path = campaign(folder, *broadcast("[Xã Tân Đoàn]", "2024-08-01", "2024-08-01", *variant))
    assert problems(path) == [
        "campaigns/thu-nghiem.yaml:13: broadcast.variants.tay.communes[0]: Xã Tràng Phái is not "
        "one of the campaign's communes"
    ]


def test_an_inline_variant_script_error_is_at_its_line(folder: Path) -> None:
    variant = ["  variants:", "    nung:", "      name: Nùng", "      script: |",
               "        Dòng một.", "        {{ khong_co }}"]  # fmt: skip
    path = campaign(folder, *broadcast("[Xã Tân Đoàn]", "2024-08-01", "2024-08-01", *variant))
    (problem,) = problems(path)
    assert problem.startswith("campaigns/thu-nghiem.yaml:15: 'khong_co' is undefined")


# -- the files of each airing ------------------------------------------------------------------


def test_scripts_have_a_spoken_form_a_docx_and_a_reading_time(folder: Path) -> None:
    variant = ["  repeat: 2", "  variants:", "    tay:", "      name: Tày",
               "      script: Bản tiếng Tày."]  # fmt: skip
    path = campaign(folder, *broadcast("['06307']", "2024-08-05", "2024-08-05", *variant))
    with runtime(settings(folder)) as rt:
        result = broadcast_service.write_campaign_scripts(rt, path, None, folder / "out")
    stem = folder / "out" / "thu-nghiem" / "xa-tan-doan" / "2024-08-05_0600"
    assert result.files == [Path(f"{stem}.txt"), Path(f"{stem}.tay.txt")]
    assert sorted(p.name for p in stem.parent.iterdir()) == [
        f"{stem.name}{suffix}"
        for suffix in (".docx", ".spoken.txt", ".tay.docx", ".tay.txt", ".txt")
    ]
    said = Path(f"{stem}.spoken.txt").read_text(encoding="utf-8")
    assert "một tám không không, tám không chín tám" in said and "1800" not in said
    vietnamese, tay = result.scripts
    assert vietnamese.spoken == said and vietnamese.text == tidy([vietnamese.text])
    assert vietnamese.reading_seconds == round(reading_seconds(said))  # 140 syllables a minute
    assert (tay.language, tay.language_name, tay.spoken, tay.text) == (
        "tay", "Tày", "Bản tiếng Tày.\n", "Bản tiếng Tày.\n",
    )  # fmt: skip
    header = Path(f"{stem}.txt").read_text(encoding="utf-8").split("\n\n")[0]
    assert "Đài truyền thanh: Xã Tân Đoàn\n" in header  # the registry's name for code 06307
    assert header.endswith(
        f"Thời lượng ước tính: {_words(vietnamese.reading_seconds)}\n" + "=" * 72
    )


def _words(seconds: int) -> str:
    minutes, rest = divmod(seconds, 60)
    return f"{minutes} phút {rest} giây" if minutes else f"{rest} giây"


def test_the_reading_rate_comes_from_config_or_the_campaign(folder: Path) -> None:
    path = campaign(folder, *broadcast("[Xã Tân Đoàn]", "2024-08-05", "2024-08-05"))
    with runtime(settings(folder, broadcast={"syllables_per_minute": 70})) as rt:
        (slow,) = broadcast_service.write_campaign_scripts(rt, path, None, None).scripts
    said = spoken(slow.text.replace("\n", " "))
    assert slow.reading_seconds == round(reading_seconds(said, 70))
    path = campaign(folder, *broadcast("[Xã Tân Đoàn]", "2024-08-05", "2024-08-05",
                                       "  syllables_per_minute: 280"))  # fmt: skip
    with runtime(settings(folder, broadcast={"syllables_per_minute": 70})) as rt:
        (fast,) = broadcast_service.write_campaign_scripts(rt, path, None, None).scripts
    assert fast.reading_seconds == round(reading_seconds(said, 280))


def test_a_commune_that_is_not_in_the_campaign(folder: Path) -> None:
    path = campaign(folder, *broadcast("[Xã Tân Đoàn]", "2024-08-05", "2024-08-05"))
    with runtime(settings(folder)) as rt, pytest.raises(BadInput) as caught:
        broadcast_service.write_campaign_scripts(rt, path, "Xã Tràng Phái", None)
    assert [str(p) for p in caught.value.problems] == [
        "--commune: 'Xã Tràng Phái' is not in this campaign (communes: Xã Tân Đoàn)"
    ]


# -- one commune's airings across campaigns (for the commune pages and `broadcast pull`) -------


def test_commune_airings_across_registered_campaigns(folder: Path, db_url: str) -> None:
    first = campaign(folder, *broadcast("[Xã Tân Đoàn, Xã Tràng Các]", "2024-11-29", "2024-12-02"))
    second = campaign(
        folder, "broadcast:", "  communes: [Tràng Các]", "  times: ['17:30']",
        "  start: 2024-11-30", "  end: 2024-11-30", "  script: Thông báo thứ hai.",
        name="thu-nghiem-2",
    )  # fmt: skip
    clock = FakeClock(datetime(2024, 11, 1, 8, tzinfo=VN))
    with runtime(settings(folder, db_url), clock=clock) as rt:
        broadcast_service.write_campaign_scripts(rt, first, None, None)
        found = broadcast_service.commune_airings(
            rt, "06301", date(2024, 11, 1), date(2024, 12, 31), campaign_files=[second]
        )
        assert [(a.campaign_id, a.at.isoformat(), a.commune) for a in found] == [
            ("thu-nghiem", "2024-11-29T06:00:00+07:00", "Xã Tràng Các"),
            ("thu-nghiem", "2024-11-30T06:00:00+07:00", "Xã Tràng Các"),
            ("thu-nghiem-2", "2024-11-30T17:30:00+07:00", "Xã Tràng Các"),
        ]  # merged into Khánh Khê on 01/12/2024: nothing after
        written, unwritten = found[0], found[2]  # the second campaign's scripts were not written
        out = folder / "audio" / "out" / "scripts"
        assert written.stem == out / "thu-nghiem" / "xa-trang-cac" / "2024-11-29_0600"
        assert written.file(".docx") == Path(f"{written.stem}.docx")
        assert unwritten.stem is None and unwritten.file(".txt") is None
        assert written.title == "Thử nghiệm" and "gọi 1800 8098" in written.text
        assert "một tám không không" in written.spoken and written.reading_seconds > 0
        by_name = broadcast_service.commune_airings(
            rt, "tràng các", date(2024, 11, 30), date(2024, 11, 30)
        )
        assert [a.at.day for a in by_name] == [30]  # only the registered campaign
        by_slug = broadcast_service.commune_airings(
            rt, "xa-trang-cac", date(2024, 11, 30), date(2024, 11, 30)
        )
        assert by_slug == by_name  # as the commune pages name it
        with pytest.raises(BadInput, match="commune: 'Xã Lạ' is not a commune"):
            broadcast_service.commune_airings(rt, "Xã Lạ", date(2024, 11, 1), date(2024, 11, 30))


def test_a_registered_campaign_whose_file_is_gone_is_skipped(folder: Path) -> None:
    path = campaign(folder, *broadcast("[Xã Tân Đoàn]", "2024-08-05", "2024-08-05"))
    with runtime(settings(folder)) as rt:
        broadcast_service.write_campaign_scripts(rt, path, None, None)
        path.unlink()
        found, skipped = broadcast_service.commune_scripts(
            rt, "Xã Tân Đoàn", lambda _: (date(2024, 8, 5), date(2024, 8, 5))
        )
    assert found == [] and len(skipped) == 1 and skipped[0].startswith("thu-nghiem (")


def test_a_campaign_adds_to_the_abbreviation_table(folder: Path) -> None:
    lines = broadcast(
        "[Xã Tân Đoàn]", "2024-08-05", "2024-08-05", "  abbreviations: {VQ: Văn Quan}"
    )
    path = campaign(folder, *[line.replace("gọi 1800", "VQ gọi 1800") for line in lines])
    with runtime(settings(folder)) as rt:
        (script,) = broadcast_service.write_campaign_scripts(rt, path, None, None).scripts
    assert "VQ gọi" in script.text and "Văn Quan gọi" in script.spoken


def test_pull_without_audio_copies_audio_already_made_into_another_folder(folder: Path) -> None:
    path = campaign(folder, *broadcast("[Xã Tân Đoàn]", "2024-08-05", "2024-08-05"))
    with runtime(settings(folder)) as rt:
        (script,) = broadcast_service.write_campaign_scripts(rt, path, None, None).scripts
        assert script.stem is not None
        Path(f"{script.stem}.mp3").write_bytes(b"ID3 not really an mp3")
        result = broadcast_pull.pull(rt, "Tân Đoàn", "05/08/2024", out=folder / "usb", audio=False)
    assert result.audio is None  # not rendered (it would have replaced that .mp3)
    (pulled,) = result.airings
    stem = folder / "usb" / "thu-nghiem" / "xa-tan-doan" / "2024-08-05_0600"
    assert pulled.script.stem == stem
    assert [p.name for p in pulled.files] == [
        f"{stem.name}{s}" for s in (".txt", ".spoken.txt", ".docx", ".mp3")
    ]
    assert Path(f"{stem}.mp3").read_bytes() == b"ID3 not really an mp3"
    assert not list(stem.parent.glob(".*"))  # no temporary file left
