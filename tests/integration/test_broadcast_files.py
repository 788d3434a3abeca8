"""Broadcast script files on disk: layout, header, idempotence, atomic replacement."""

from __future__ import annotations

import os
import unicodedata
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import docx
import pytest

from dispatcher.broadcast import (
    Airing,
    ScriptTemplate,
    ScriptText,
    airings,
    render_script,
    with_suffix,
    write_scripts,
)
from dispatcher.core.errors import BadInput, DispatcherError

VN = ZoneInfo("Asia/Ho_Chi_Minh")
SAMPLE = Path(__file__).resolve().parents[2] / "audio" / "templates" / "2g-shutdown.txt.j2"
CAMPAIGN_ID = "2g-shutdown-2024"
TITLE = "Chuyển đổi điện thoại 2G sang 4G"
COMMUNES = ["Thị trấn Văn Quan", "Xã Tân Đoàn", "Xã Tràng Các"]
MORNING = Airing("Xã Tân Đoàn", datetime(2024, 8, 5, 6, 0, tzinfo=VN))
EVENING = Airing("Thị trấn Văn Quan", datetime(2024, 8, 7, 17, 30, tzinfo=VN))


def sample_scripts(found: list[Airing], repeat: int = 2) -> list[tuple[Airing, str]]:
    template = ScriptTemplate.from_file(SAMPLE)
    return [
        (a, render_script(template, a, campaign_id=CAMPAIGN_ID, title=TITLE,
                          unit="UBND huyện Văn Quan", repeat=repeat))
        for a in found
    ]  # fmt: skip


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_layout_and_slugs(tmp_path: Path) -> None:
    written = write_scripts(sample_scripts([MORNING, EVENING]), tmp_path, CAMPAIGN_ID, title=TITLE)
    assert written == [
        tmp_path / CAMPAIGN_ID / "xa-tan-doan" / "2024-08-05_0600.txt",
        tmp_path / CAMPAIGN_ID / "thi-tran-van-quan" / "2024-08-07_1730.txt",
    ]
    assert sorted(snapshot(tmp_path)) == [  # no spoken form given: no .spoken.txt
        f"{CAMPAIGN_ID}/thi-tran-van-quan/2024-08-07_1730.docx",
        f"{CAMPAIGN_ID}/thi-tran-van-quan/2024-08-07_1730.txt",
        f"{CAMPAIGN_ID}/xa-tan-doan/2024-08-05_0600.docx",
        f"{CAMPAIGN_ID}/xa-tan-doan/2024-08-05_0600.txt",
    ]


def test_file_is_a_header_then_the_script(tmp_path: Path) -> None:
    ((airing, script),) = sample_scripts([MORNING])
    (path,) = write_scripts([(airing, script)], tmp_path, CAMPAIGN_ID, title=TITLE)
    text = path.read_bytes().decode("utf-8")
    header, body = text.split("\n\n", 1)
    assert header.splitlines()[:5] == [
        f"Chiến dịch: {TITLE} ({CAMPAIGN_ID})",
        "Đài truyền thanh: Xã Tân Đoàn",
        "Thời gian phát: 06:00 05/08/2024",
        "Ngày trong tuần: Thứ Hai",
        "Mã buổi phát: 2024-08-05T06:00+07:00",
    ]
    assert body == script
    assert unicodedata.is_normalized("NFC", text)
    assert "Tổ công nghệ số cộng đồng" in " ".join(body.split())


def test_header_falls_back_to_the_campaign_id(tmp_path: Path) -> None:
    (path,) = write_scripts([(MORNING, "Nội dung.\n")], tmp_path, CAMPAIGN_ID)
    assert path.read_text(encoding="utf-8").startswith(f"Chiến dịch: {CAMPAIGN_ID} ({CAMPAIGN_ID})")


def test_a_whole_campaign(tmp_path: Path) -> None:
    start, end = date(2024, 8, 1), date(2024, 10, 15)
    found = airings(COMMUNES, start, end, [time(6), time(17, 30)], {0, 2, 4}, VN)
    scripts = sample_scripts(found)
    written = write_scripts(scripts, tmp_path, CAMPAIGN_ID, title=TITLE, formats=["txt"])

    days = [start + timedelta(i) for i in range((end - start).days + 1)]
    expected_days = [d for d in days if d.weekday() in {0, 2, 4}]
    assert len(written) == len(set(written)) == len(expected_days) * 2 * len(COMMUNES)
    for folder in ["thi-tran-van-quan", "xa-tan-doan", "xa-trang-cac"]:
        names = sorted(p.name for p in (tmp_path / CAMPAIGN_ID / folder).iterdir())
        assert names[:2] == ["2024-08-02_0600.txt", "2024-08-02_1730.txt"]
        assert len(names) == len(expected_days) * 2


def test_rerun_is_idempotent_and_leaves_unchanged_files_alone(tmp_path: Path) -> None:
    scripts = sample_scripts([MORNING, EVENING])
    first = write_scripts(scripts, tmp_path, CAMPAIGN_ID, title=TITLE)
    before = snapshot(tmp_path)
    mtimes = [os.stat(p).st_mtime_ns for p in first]
    second = write_scripts(sample_scripts([MORNING, EVENING]), tmp_path, CAMPAIGN_ID, title=TITLE)
    assert second == first
    assert snapshot(tmp_path) == before
    assert [os.stat(p).st_mtime_ns for p in second] == mtimes


def test_changed_script_replaces_the_file(tmp_path: Path) -> None:
    (path,) = write_scripts([(MORNING, "Bản cũ.\n")], tmp_path, CAMPAIGN_ID)
    write_scripts([(MORNING, "Bản mới.\n")], tmp_path, CAMPAIGN_ID)
    assert path.read_text(encoding="utf-8").endswith("\n\nBản mới.\n")
    assert not list(tmp_path.rglob("*.tmp"))


def test_no_temporary_files_are_left(tmp_path: Path) -> None:
    write_scripts(sample_scripts([MORNING, EVENING]), tmp_path, CAMPAIGN_ID, title=TITLE)
    names = [p.name for p in tmp_path.rglob("*")]
    assert not [n for n in names if n.startswith(".") or n.endswith(".tmp")]


def test_failed_replace_keeps_the_old_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (path,) = write_scripts([(MORNING, "Bản cũ.\n")], tmp_path, CAMPAIGN_ID, formats=["txt"])
    old = path.read_bytes()

    def crash(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", crash)  # the rename in dispatcher.core.files
    with pytest.raises(DispatcherError, match="No space left") as caught:
        write_scripts([(MORNING, "Bản mới.\n")], tmp_path, CAMPAIGN_ID)
    assert str(path) in caught.value.message
    assert path.read_bytes() == old
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]


def test_two_communes_with_one_slug_are_refused_before_writing(tmp_path: Path) -> None:
    twin = Airing("Xa Tan Doan", MORNING.at)
    with pytest.raises(BadInput, match="Xa Tan Doan"):
        write_scripts([(MORNING, "a\n"), (twin, "b\n")], tmp_path, CAMPAIGN_ID)
    assert not list(tmp_path.iterdir())


# -- every file of an airing: text, spoken form, printable .docx, language variants -------------
SPOKEN = "Gọi tổng đài một tám không không, tám không chín tám.\n"


def full_script(airing: Airing = MORNING, **changes: object) -> ScriptText:
    fields: dict[str, Any] = {
        "airing": airing, "text": "Gọi tổng đài 1800 8098.\n\nXin cảm ơn!\n",
        "spoken": SPOKEN, "reading_seconds": 85.4,
    }  # fmt: skip
    return ScriptText(**(fields | changes))


def test_every_file_of_an_airing_shares_its_stem(tmp_path: Path) -> None:
    (path,) = write_scripts([full_script()], tmp_path, CAMPAIGN_ID, title=TITLE)
    stem = tmp_path / CAMPAIGN_ID / "xa-tan-doan" / "2024-08-05_0600"
    assert path == with_suffix(stem, ".txt")
    assert sorted(p.name for p in stem.parent.iterdir()) == [
        "2024-08-05_0600.docx", "2024-08-05_0600.spoken.txt", "2024-08-05_0600.txt",
    ]  # fmt: skip
    assert with_suffix(stem, ".spoken.txt").read_text(encoding="utf-8") == SPOKEN  # no header
    header = path.read_text(encoding="utf-8").split("\n\n", 1)[0].splitlines()
    assert header[5] == "Thời lượng ước tính: 1 phút 25 giây"


def test_the_docx_has_the_header_and_the_script(tmp_path: Path) -> None:
    write_scripts([full_script()], tmp_path, CAMPAIGN_ID, title=TITLE)
    document = docx.Document(str(tmp_path / CAMPAIGN_ID / "xa-tan-doan" / "2024-08-05_0600.docx"))
    rows = [tuple(cell.text for cell in row.cells) for row in document.tables[0].rows]
    assert rows == [
        ("Chiến dịch", f"{TITLE} ({CAMPAIGN_ID})"),
        ("Đài truyền thanh", "Xã Tân Đoàn"),
        ("Thời gian phát", "06:00 05/08/2024"),
        ("Ngày trong tuần", "Thứ Hai"),
        ("Mã buổi phát", "2024-08-05T06:00+07:00"),
        ("Thời lượng ước tính", "1 phút 25 giây"),
    ]
    texts = [p.text for p in document.paragraphs if p.text]
    assert texts == [f"KỊCH BẢN PHÁT THANH: {TITLE}", "Gọi tổng đài 1800 8098.", "Xin cảm ơn!"]
    assert document.sections[0].header.paragraphs[0].text == "Xã Tân Đoàn – 06:00 05/08/2024"
    section = document.sections[0]
    assert section.page_width is not None and section.page_height is not None
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)  # A4


def test_a_rerun_leaves_every_file_alone_and_a_change_rewrites_the_docx(tmp_path: Path) -> None:
    write_scripts([full_script()], tmp_path, CAMPAIGN_ID, title=TITLE)
    before = snapshot(tmp_path)
    stamps = {p: os.stat(p).st_mtime_ns for p in tmp_path.rglob("*.*")}
    write_scripts([full_script()], tmp_path, CAMPAIGN_ID, title=TITLE)
    assert snapshot(tmp_path) == before
    assert {p: os.stat(p).st_mtime_ns for p in tmp_path.rglob("*.*")} == stamps
    write_scripts([full_script(reading_seconds=200)], tmp_path, CAMPAIGN_ID, title=TITLE)
    after = snapshot(tmp_path)
    changed = sorted(name for name in after if after[name] != before[name])
    assert changed == [f"{CAMPAIGN_ID}/xa-tan-doan/2024-08-05_0600{s}" for s in (".docx", ".txt")]


def test_a_damaged_docx_is_built_again(tmp_path: Path) -> None:
    write_scripts([full_script()], tmp_path, CAMPAIGN_ID, title=TITLE)
    document = tmp_path / CAMPAIGN_ID / "xa-tan-doan" / "2024-08-05_0600.docx"
    good = document.read_bytes()
    document.write_bytes(good[: len(good) // 2])
    write_scripts([full_script()], tmp_path, CAMPAIGN_ID, title=TITLE)
    assert document.read_bytes() == good


def test_a_language_variant_sits_beside_the_vietnamese_script(tmp_path: Path) -> None:
    tay = full_script(text="Bản tiếng Tày.\n", spoken=None, language="tay", language_name="Tày")
    written = write_scripts([full_script(), tay], tmp_path, CAMPAIGN_ID, title=TITLE)
    folder = tmp_path / CAMPAIGN_ID / "xa-tan-doan"
    assert written == [folder / "2024-08-05_0600.txt", folder / "2024-08-05_0600.tay.txt"]
    assert sorted(p.name for p in folder.glob("*.tay.*")) == [
        "2024-08-05_0600.tay.docx", "2024-08-05_0600.tay.txt",
    ]  # fmt: skip
    text = written[1].read_text(encoding="utf-8")
    assert "Ngôn ngữ: Tày\n" in text and text.endswith("\n\nBản tiếng Tày.\n")
