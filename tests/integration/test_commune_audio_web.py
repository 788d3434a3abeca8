"""The commune page's audio (issue 16), on SQLite and PostgreSQL: found wherever
``broadcast pull --out`` wrote it, served only while it is as pulled, made on demand (once) when
there is none, and never another commune's."""

from __future__ import annotations

import asyncio
import re
import shutil
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import soundfile
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from dispatcher.bootstrap import Runtime, runtime
from dispatcher.broadcast import pull, served_audio
from dispatcher.broadcast import service as broadcast_service
from dispatcher.broadcast.audio import audio_available, program
from dispatcher.broadcast.audio import render as render_module
from dispatcher.campaigns.registry import register_campaign
from dispatcher.campaigns.spec import load_campaign
from dispatcher.settings.config import AudioSettings
from dispatcher.store.models import PulledAudioRow
from tests.fakes import FakeClock
from tests.integration.test_airings import CAMPAIGN, COMMUNES, NOW, REPO, UNIT, grant_link, settings
from tests.integration.test_commune_web import PAGE, TAN_DOAN, TRANG_CAC, serve

AUDIO = {"sample_rate": 16_000, "mp3_bitrate_kbps": 32}  # smaller files, quicker renders
KEY = "2024-10-14T0600"  # Monday's airing, on the page's today
STEM = f"{CAMPAIGN}/xa-tan-doan/2024-10-14_0600"  # its files, under scripts/ or --out
MP3_URL = f"{PAGE}/audio/{CAMPAIGN}/{KEY}.mp3"
WAV_URL = f"{PAGE}/audio/{CAMPAIGN}/{KEY}.wav"
OTHER_MP3_URL = f"/c/06301/audio/{CAMPAIGN}/{KEY}.mp3"  # Xã Tràng Các's airing


@pytest.fixture(scope="module")
def espeak() -> None:
    reason = audio_available(AudioSettings())
    assert reason is None, f"these tests need espeak-ng: {reason}"


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The texts the audio was built from (synthesis, loudness, encoding), one per render."""
    built: list[str] = []
    build = program.build

    def counted(text: str, *args: Any, **kwargs: Any) -> Any:
        built.append(text)
        return build(text, *args, **kwargs)

    monkeypatch.setattr(program, "build", counted)
    # Identical audio is linked from the last airing that had it: no test may lean on another's.
    monkeypatch.setattr(render_module, "_recent", {})
    return built


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The airings the server set out to make audio for (it may find it made meanwhile)."""
    asked: list[str] = []
    render = served_audio.render_missing

    def counted(rt: Runtime, script: Any, suffix: str) -> Path | None:
        asked.append(f"{script.at:%Y-%m-%dT%H%M}{suffix}")
        return render(rt, script, suffix)

    monkeypatch.setattr(served_audio, "render_missing", counted)
    return asked


@pytest.fixture
def rt(
    tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch, espeak: None
) -> Iterator[Runtime]:
    """A registered campaign airing at 06:00 in two communes; no script or audio made yet."""
    (tmp_path / "campaigns").mkdir()
    shutil.copy(REPO / "units.yaml", tmp_path / "units.yaml")
    monkeypatch.chdir(tmp_path)
    with runtime(settings(tmp_path, db_url, audio=AUDIO), clock=FakeClock(NOW), environ={}) as rt:
        campaign = load_campaign(_campaign_file(tmp_path))
        plan = broadcast_service.airings_to_register(campaign, rt.settings)
        with rt.uow() as uow:
            register_campaign(uow.repo, campaign, plan, rt.clock.now())
            uow.commit()
        grant_link(rt, "06307", TAN_DOAN)
        grant_link(rt, "06301", TRANG_CAC)
        yield rt


def _campaign_file(folder: Path) -> Path:
    path = folder / "campaigns" / f"{CAMPAIGN}.yaml"
    path.write_text(
        "\n".join([
            f"id: {CAMPAIGN}", "title: Thử loa", f"unit: {UNIT}", "broadcast:",
            f"  communes: {COMMUNES}", "  times: ['06:00']", "  days: [mon, wed, fri]",
            "  start: 2024-10-07", "  end: 2024-10-21", "  script: 'Bà con chú ý: 2G tắt.'",
        ]) + "\n",
        encoding="utf-8",
    )  # fmt: skip
    return path


@pytest.fixture
def usb(tmp_path_factory: pytest.TempPathFactory, rt: Runtime, builds: list[str]) -> Path:
    """Monday's files pulled onto a USB stick, outside the output folder; the audio made for
    the pull then removed, so that the stick holds the only copy."""
    out = tmp_path_factory.mktemp("usb")
    pull.pull(rt, "Xã Tân Đoàn", day="14/10/2024", out=out)
    made = _made(rt)
    assert made.with_name(made.name + ".mp3").is_file()  # the pull rendered it here first
    for suffix in (".mp3", ".wav", ".audio.json"):
        made.with_name(made.name + suffix).unlink()
    builds.clear()
    return out


def _made(rt: Runtime) -> Path:
    return rt.settings.resolved_output_dir / "scripts" / STEM


def _pulled(usb: Path, suffix: str) -> Path:
    return usb / f"{STEM}{suffix}"


async def _page_audio_link(client: TestClient[Any, Any]) -> str:
    """Sign in with the link, then read the audio link of Monday's airing off the page."""
    page = await client.get(f"{PAGE}?t={TAN_DOAN}")
    assert page.status == 200
    links = re.findall(r'href="([^"]*/audio/[^"]*)"', await page.text())
    # Every airing of the page's two weeks (7 to 21/10, Mon, Wed, Fri) offers its audio.
    assert len(links) == 7 and MP3_URL in links
    return MP3_URL


async def _get(client: TestClient[Any, Any], url: str) -> tuple[int, str, bytes]:
    response = await client.get(url)
    return response.status, response.headers.get("Content-Type", ""), await response.read()


def _mp3_seconds(body: bytes, folder: Path) -> float:
    assert body[:3] == b"ID3" or (body[0] == 0xFF and body[1] & 0xE0 == 0xE0)  # tag or frame
    path = folder / "served.mp3"
    path.write_bytes(body)
    info = soundfile.info(str(path))
    assert info.format == "MP3"
    return float(info.duration)


def _wav_seconds(body: bytes, folder: Path) -> float:
    assert body[:4] == b"RIFF" and body[8:12] == b"WAVE"
    path = folder / "served.wav"
    path.write_bytes(body)
    with wave.open(str(path), "rb") as handle:
        return handle.getnframes() / handle.getframerate()


def test_the_page_serves_the_audio_where_the_pull_wrote_it(
    rt: Runtime, usb: Path, builds: list[str]
) -> None:
    with rt.uow() as uow:
        recorded = uow.repo.session.scalars(select(PulledAudioRow.path)).all()
    assert sorted(recorded) == sorted(str(_pulled(usb, s).resolve()) for s in (".mp3", ".wav"))

    async def steps(client: TestClient[Any, Any]) -> tuple[tuple[int, str, bytes], ...]:
        link = await _page_audio_link(client)
        return await _get(client, link), await _get(client, WAV_URL)

    (mp3_status, mp3_type, mp3), (wav_status, _, wav) = serve(rt, steps)
    assert (mp3_status, mp3_type) == (200, "audio/mpeg")
    assert mp3 == _pulled(usb, ".mp3").read_bytes()
    assert (wav_status, wav) == (200, _pulled(usb, ".wav").read_bytes())
    assert builds == []  # found, not made again


def test_without_any_file_the_audio_is_made_once_then_served_from_the_cache(
    rt: Runtime, usb: Path, builds: list[str], renders: list[str], tmp_path: Path
) -> None:
    for suffix in (".mp3", ".wav"):
        _pulled(usb, suffix).unlink()

    async def steps(client: TestClient[Any, Any]) -> list[tuple[int, str, bytes]]:
        link = await _page_audio_link(client)  # offered though no file exists yet
        at_once = await asyncio.gather(*(_get(client, link) for _ in range(3)))
        return [*at_once, await _get(client, link), await _get(client, WAV_URL)]

    *mp3s, (wav_status, _, wav) = serve(rt, steps)
    assert {(status, kind) for status, kind, _ in mp3s} == {(200, "audio/mpeg")}
    assert len({body for _, _, body in mp3s}) == 1  # never half a file
    assert _mp3_seconds(mp3s[0][2], tmp_path) > 0
    assert wav_status == 200 and _wav_seconds(wav, tmp_path) > 0
    # Four MP3 requests (three at once) and a WAV: one render; the others waited for it.
    assert (renders, len(builds)) == ([f"{KEY}.mp3"], 1)
    made = _made(rt)
    assert made.with_name(made.name + ".mp3").read_bytes() == mp3s[0][2]  # the cache


@pytest.mark.parametrize("edit", ["one byte changed", "cut short"])
def test_a_pulled_file_changed_since_is_not_served_as_it_is(
    rt: Runtime, usb: Path, builds: list[str], tmp_path: Path, edit: str
) -> None:
    # Decided: a pulled copy that no longer has the SHA-256 recorded at the pull is not served;
    # the audio is made afresh (where audio is made) and that is served. The copy is left alone.
    pulled = _pulled(usb, ".mp3")
    body = bytearray(pulled.read_bytes())
    if edit == "one byte changed":  # the same size: only the hash can tell
        body[len(body) // 2] ^= 0xFF
    else:
        del body[len(body) // 2 :]
    pulled.write_bytes(bytes(body))

    status, kind, served = serve(rt, lambda client: _get(client, f"{MP3_URL}?t={TAN_DOAN}"))
    assert (status, kind) == (200, "audio/mpeg")
    assert served != bytes(body) and _mp3_seconds(served, tmp_path) > 0
    assert len(builds) == 1
    assert pulled.read_bytes() == bytes(body)


def test_a_commune_cannot_fetch_another_communes_audio(
    rt: Runtime, usb: Path, builds: list[str]
) -> None:
    async def steps(client: TestClient[Any, Any]) -> list[int]:
        others_token = await client.get(f"{MP3_URL}?t={TRANG_CAC}")
        await _page_audio_link(client)  # signed in as Xã Tân Đoàn
        others_page = await client.get(OTHER_MP3_URL)
        own = await client.get(MP3_URL)
        return [others_token.status, others_page.status, own.status]

    assert serve(rt, steps) == [403, 403, 200]
    assert builds == []  # nothing made for the refused requests
    other = rt.settings.resolved_output_dir / "scripts" / CAMPAIGN / "xa-trang-cac"
    assert not other.exists()


def test_an_airing_that_does_not_exist_is_404_and_nothing_is_made(
    rt: Runtime, builds: list[str]
) -> None:
    async def steps(client: TestClient[Any, Any]) -> list[int]:
        names = ("2024-10-14T0630.mp3", "2024-10-15T0600.mp3", f"{KEY}.tay.mp3", f"{KEY}.ogg")
        urls = [f"{PAGE}/audio/{CAMPAIGN}/{name}?t={TAN_DOAN}" for name in names]
        return [(await client.get(url)).status for url in urls]

    assert serve(rt, steps) == [404] * 4
    assert builds == []
