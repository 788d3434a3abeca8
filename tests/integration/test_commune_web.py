"""The communes' routes of ``dispatcher serve`` (aiohttp test server), on SQLite and PostgreSQL:
the token rule, the page and its button, the JSON listing, scripts and audio."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Awaitable, Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select

from dispatcher.bootstrap import Runtime, runtime
from dispatcher.broadcast import links
from dispatcher.broadcast import service as broadcast_service
from dispatcher.safety import halting
from dispatcher.store.models import AiringConfirmationRow
from dispatcher.web.service import build_app
from tests.fakes import FakeClock
from tests.integration.test_airings import (
    CAMPAIGN,
    NOW,
    REPO,
    grant_link,
    settings,
    write_campaign,
)
from tests.script_cache import ScriptCache

T = TypeVar("T")
WEEKS = ("2024-10-07", "2024-10-21")  # the page's days, around NOW
# Links as `broadcast link` stores them (a digest each), with tokens the tests can write out.
TAN_DOAN = "tanDoan-link-token-0123456789_abc"[:32]
TRANG_CAC = "trangCac-link-token-0123456789_ab"[:32]
PAGE = "/c/06307"  # Xã Tân Đoàn's code in the units registry
SCRIPT = f"{PAGE}/script/{CAMPAIGN}/2024-10-14T0600.txt"
AUDIO = f"{PAGE}/audio/{CAMPAIGN}/2024-10-14T0600.mp3"
BUTTON = '<button type="submit">Đã phát</button>'
Steps = Callable[[TestClient[Any, Any]], Awaitable[T]]


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "campaigns").mkdir()
    shutil.copy(REPO / "units.yaml", tmp_path / "units.yaml")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def rt(folder: Path, db_url: str, script_cache: ScriptCache) -> Iterator[Runtime]:
    with runtime(settings(folder, db_url), clock=FakeClock(NOW), environ={}) as rt:
        path = write_campaign(folder, *WEEKS)
        with script_cache.reused(rt.settings.resolved_output_dir, path):
            broadcast_service.write_campaign_scripts(rt, path, None, None)
        grant_link(rt, "06307", TAN_DOAN)
        grant_link(rt, "06301", TRANG_CAC)  # Xã Tràng Các
        yield rt


def serve(rt: Runtime, steps: Steps[T]) -> T:
    """Run ``steps`` against the application of ``dispatcher serve``, on a loopback port."""

    async def main() -> T:
        async with TestClient(TestServer(build_app(rt, "auth-token"))) as client:
            return await steps(client)

    return asyncio.run(main())


def confirmations(rt: Runtime) -> int:
    with rt.uow() as uow:
        return int(uow.repo.session.scalar(select(func.count(AiringConfirmationRow.id))) or 0)


FORM = {"campaign": CAMPAIGN, "at": "2024-10-14T06:00:00+07:00"}


@pytest.mark.parametrize("token", [None, "", "x" * 32, TRANG_CAC, TAN_DOAN[:-1] + "A"])
def test_no_token_a_wrong_one_or_another_communes_gets_403(rt: Runtime, token: str | None) -> None:
    query = "" if token is None else f"?t={token}"
    form = FORM if token is None else {**FORM, "t": token}

    async def steps(client: TestClient[Any, Any]) -> list[int]:
        statuses = []
        for path in (PAGE, f"{PAGE}/airings.json", SCRIPT, AUDIO):
            statuses.append((await client.get(path + query)).status)
        statuses.append((await client.post(f"{PAGE}/confirm", data=form)).status)
        statuses.append((await client.post(f"{PAGE}/confirm", json=form)).status)
        return statuses

    assert serve(rt, steps) == [403] * 6
    assert confirmations(rt) == 0


@pytest.mark.parametrize(
    ("days_on", "revoke", "expected"),
    [
        (31, None, "Đường dẫn này đã hết hạn từ 10:00 13/11/2024."),
        (0, "06307", "Đường dẫn này đã bị thu hồi."),
    ],
)
def test_an_expired_or_revoked_link_opens_nothing_and_says_so_in_vietnamese(
    rt: Runtime, days_on: int, revoke: str | None, expected: str
) -> None:
    # Issue 13.8: each link has its own expiry and can be revoked alone.
    clock = rt.clock
    assert isinstance(clock, FakeClock)
    clock.advance(timedelta(days=days_on))
    if revoke is not None:
        links.revoke_links(rt, [], revoke, "the office phone was lost")

    async def steps(client: TestClient[Any, Any]) -> list[tuple[int, str]]:
        answers = []
        for path, token in ((PAGE, TAN_DOAN), ("/c/06301", TRANG_CAC)):
            response = await client.get(f"{path}?t={token}")
            answers.append((response.status, await response.text()))
        posted = await client.post(f"{PAGE}/confirm", data={**FORM, "t": TAN_DOAN})
        answers.append((posted.status, await posted.text()))
        return answers

    (page, page_html), (other, _), (post, post_html) = serve(rt, steps)
    assert (page, post) == (403, 403) and expected in page_html and expected in post_html
    assert "Xin liên hệ huyện để được cấp đường dẫn mới." in page_html
    assert other == (403 if revoke is None else 200)  # a revocation touches no other commune
    assert confirmations(rt) == 0


def test_the_page_lists_the_week_with_scripts_and_buttons(rt: Runtime) -> None:
    async def steps(client: TestClient[Any, Any]) -> tuple[int, dict[str, str], str]:
        response = await client.get(f"{PAGE}?t={TAN_DOAN}")
        return response.status, dict(response.headers), await response.text()

    status, headers, html = serve(rt, steps)
    assert status == 200
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert headers["Referrer-Policy"] == "same-origin"
    assert "<h1>Lịch phát thanh — Xã Tân Đoàn</h1>" in html
    assert "chú ý: 2G tắt ngày 16/10/2024." in html  # the script, to read from the phone
    # To confirm: the week's past airings (Mon/Wed/Fri 7-11 October, 06:00 and 17:30) and this
    # morning's; this evening's has not come yet.
    assert html.count(BUTTON) == 7
    # The link signed the browser in (a cookie): the page and its links carry no token.
    assert f'href="{SCRIPT}"' in html and TAN_DOAN not in html


def test_the_button_records_the_airing_once_and_redirects_to_the_page(rt: Runtime) -> None:
    async def steps(client: TestClient[Any, Any]) -> list[tuple[int, str, str]]:
        seen = []
        for _ in range(2):
            posted = await client.post(
                f"{PAGE}/confirm", data={**FORM, "t": TAN_DOAN}, allow_redirects=False
            )
            page = await client.get(posted.headers["Location"])
            seen.append((posted.status, posted.headers["Location"], await page.text()))
        return seen

    (first, second) = serve(rt, steps)
    assert first[0] == second[0] == 303
    assert first[1] == f"{PAGE}?t={TAN_DOAN}&done=new&c={CAMPAIGN}&k=2024-10-14T0600"
    assert "Đã ghi nhận: lượt phát 06:00 14/10/2024 (Thử loa) đã được phát." in first[2]
    assert "Đã phát lúc 06:00 14/10/2024 (xác nhận 10:00 14/10/2024 qua trang của xã)" in first[2]
    assert first[2].count(BUTTON) == 6
    assert "done=already" in second[1]
    assert "đã được xác nhận trước đó, lúc 10:00 14/10/2024" in second[2]
    with rt.uow() as uow:
        row = uow.repo.session.execute(
            select(AiringConfirmationRow.source, AiringConfirmationRow.confirmed_by)
        ).one()
    assert tuple(row) == ("web", "web:06307 link 1")  # the commune and the link it used


def test_a_refused_confirmation_explains_and_changes_nothing(rt: Runtime) -> None:
    async def steps(client: TestClient[Any, Any]) -> list[tuple[int, str]]:
        bad = {"t": TAN_DOAN, "campaign": CAMPAIGN, "at": "2024-10-14T06:30:00+07:00"}
        answers = []
        for data in (bad, {"t": TAN_DOAN, "at": FORM["at"]}):
            response = await client.post(f"{PAGE}/confirm", data=data)
            answers.append((response.status, await response.text()))
        return answers

    (wrong_time, no_campaign) = serve(rt, steps)
    assert wrong_time[0] == 400
    assert "at: Xã Tân Đoàn has no airing of loa-thu at 06:30 14/10/2024" in wrong_time[1]
    assert f'href="{PAGE}?t={TAN_DOAN}"' in wrong_time[1]  # the way back
    assert no_campaign[0] == 400 and "campaign: missing" in no_campaign[1]
    assert confirmations(rt) == 0


def test_the_same_over_http_with_json(rt: Runtime) -> None:
    async def steps(client: TestClient[Any, Any]) -> list[tuple[int, Any]]:
        answers = []
        for body in ({**FORM, "t": TAN_DOAN, "duration_s": 300}, {**FORM, "t": TAN_DOAN},
                     {"t": TAN_DOAN, "campaign": CAMPAIGN, "at": "hôm qua"}):  # fmt: skip
            response = await client.post(f"{PAGE}/confirm", json=body)
            answers.append((response.status, await response.json()))
        return answers

    (created, again, bad) = serve(rt, steps)
    assert created[0] == 201 and created[1]["created"] is True
    assert created[1]["confirmation"] == {
        "campaign": CAMPAIGN, "commune": "Xã Tân Đoàn",
        "scheduled_at": "2024-10-13T23:00:00+00:00", "aired_at": "2024-10-13T23:00:00+00:00",
        "duration_s": 300, "confirmed_by": "http:06307 link 1", "source": "http",
        "created_at": "2024-10-14T03:00:00+00:00",
    }  # fmt: skip
    assert again == (200, {"created": False, "confirmation": created[1]["confirmation"]})
    assert bad[0] == 400 and bad[1]["error"].startswith("at: 'hôm qua' is not a date and time")


def test_the_json_listing_links_scripts_and_audio(rt: Runtime, folder: Path) -> None:
    stem = folder / "audio" / "out" / "scripts" / CAMPAIGN / "xa-tan-doan" / "2024-10-14_0600"
    Path(f"{stem}.mp3").write_bytes(b"ID3 not really an mp3")

    async def steps(client: TestClient[Any, Any]) -> tuple[Any, str, str, bytes, str]:
        listing = await client.get(
            f"{PAGE}/airings.json?t={TAN_DOAN}&from=2024-10-14&to=2024-10-16"
        )
        data = await listing.json()
        script = await client.get(data["airings"][0]["script_url"])
        audio = await client.get(data["airings"][0]["audio_url"])
        return data, script.headers["Content-Type"], await script.text(), await audio.read(), \
            audio.headers["Content-Type"]  # fmt: skip

    data, script_type, text, audio, audio_type = serve(rt, steps)
    assert (data["commune"], data["from"], data["to"]) == (
        "Xã Tân Đoàn",
        "2024-10-14",
        "2024-10-16",
    )
    assert [(a["at"], a["confirmable"], a["confirmed"]) for a in data["airings"]] == [
        ("2024-10-14T06:00:00+07:00", True, None),
        ("2024-10-14T17:30:00+07:00", False, None),
        ("2024-10-16T06:00:00+07:00", False, None),
        ("2024-10-16T17:30:00+07:00", False, None),
    ]
    first = data["airings"][0]
    assert first["script_url"] == f"{SCRIPT}?t={TAN_DOAN}"
    assert first["audio_url"] == f"{AUDIO}?t={TAN_DOAN}"
    made_when_asked = f"{PAGE}/audio/{CAMPAIGN}/2024-10-14T1730.mp3?t={TAN_DOAN}"
    assert data["airings"][1]["audio_url"] == made_when_asked  # none made yet: made on demand
    assert script_type == "text/plain; charset=utf-8"
    assert "Đài truyền thanh: Xã Tân Đoàn" in text and "2G tắt ngày 16/10/2024" in text
    assert (audio, audio_type) == (b"ID3 not really an mp3", "audio/mpeg")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("from=14/10/2024", "from: '14/10/2024' is not a day like 2024-10-16"),
        ("from=2024-02-30", "from: '2024-02-30' is not a day like 2024-10-16"),
        ("to=2024-13-01", "to: '2024-13-01' is not a day like 2024-10-16"),
        ("from=2024-10-14&to=2024-10-13", "to: 2024-10-13 is before from"),
        ("from=2024-01-01&to=2025-12-31", "to: at most 366 days at once"),
    ],
)
def test_bad_query_parameters_are_named(rt: Runtime, query: str, expected: str) -> None:
    async def steps(client: TestClient[Any, Any]) -> tuple[int, str]:
        response = await client.get(f"{PAGE}/airings.json?t={TAN_DOAN}&{query}")
        return response.status, await response.text()

    assert serve(rt, steps) == (400, expected + "\n")


@pytest.mark.parametrize(
    "path",
    [
        f"{PAGE}/script/{CAMPAIGN}/2024-10-14T0630.txt",  # no airing then
        f"{PAGE}/script/{CAMPAIGN}/2024-10-14T0600.tay.txt",  # no such language
        f"{PAGE}/script/khac/2024-10-14T0600.txt",
        f"{PAGE}/script/{CAMPAIGN}/2024-10-14T0600.docx",
        f"{PAGE}/script/{CAMPAIGN}/2024-19-14T0600.txt",
        f"{PAGE}/audio/{CAMPAIGN}/2024-10-14T0630.mp3",  # no airing then
        f"{PAGE}/audio/{CAMPAIGN}/2024-10-14T0600.ogg",
    ],
)
def test_files_that_do_not_exist_are_404(rt: Runtime, path: str) -> None:
    response = serve(rt, lambda client: client.get(f"{path}?t={TAN_DOAN}"))
    assert response.status == 404


def test_a_commune_without_airings_gets_an_empty_page(rt: Runtime) -> None:
    token = "triLe-link-token-0123456789_abcd"[:32]
    grant_link(rt, "06313", token)  # Xã Tri Lễ: a commune of the registry, not of the campaign

    async def steps(client: TestClient[Any, Any]) -> tuple[int, str]:
        response = await client.get(f"/c/06313?t={token}")
        return response.status, await response.text()

    status, html = serve(rt, steps)
    assert status == 200
    assert "<h1>Lịch phát thanh — Xã Tri Lễ</h1>" in html
    assert "Hôm nay không có lượt phát nào." in html and BUTTON not in html


# -- hostile requests (issue 13, point 9) ---------------------------------------------------------
MULTIPART_X = "multipart/form-data; boundary=x"


def test_malformed_bodies_are_400_and_one_log_line(
    rt: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    nested = b"[" * 100_000 + b"]" * 100_000

    async def steps(client: TestClient[Any, Any]) -> list[tuple[int, str]]:
        answers = []
        for body, kind in (
            (nested, "application/json"),
            (
                b'--x\r\nContent-Disposition: form-data; name="a"\r\n\r\nzz',
                "multipart/form-data; boundary=x",
            ),
            (b"garbage", "multipart/form-data"),
        ):
            posted = await client.post(
                f"{PAGE}/confirm?t={TAN_DOAN}", data=body, headers={"Content-Type": kind}
            )
            answers.append((posted.status, await posted.text()))
        return answers

    answers = serve(rt, steps)
    assert [status for status, _ in answers] == [400, 400, 400]
    assert all("Traceback" not in text for _, text in answers)
    assert "Traceback" not in caplog.text
    assert confirmations(rt) == 0


def test_every_answer_carries_the_security_headers(rt: Runtime) -> None:
    async def steps(client: TestClient[Any, Any]) -> list[Any]:
        page = await client.get(f"{PAGE}?t={TAN_DOAN}")
        refused = await client.get(f"{PAGE}?t=wrong")
        health = await client.get("/health")
        return [page.headers, refused.headers, health.headers]

    for headers in serve(rt, steps):
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert "default-src 'none'" in headers["Content-Security-Policy"]
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
    page_headers = serve(rt, steps)[0]
    assert page_headers["Cache-Control"] == "no-store"  # its URL carries the token


def test_a_confirm_posted_from_another_site_is_refused(rt: Runtime) -> None:
    async def steps(client: TestClient[Any, Any]) -> list[int]:
        statuses = []
        for origin in ("https://evil.example", "null"):
            posted = await client.post(
                f"{PAGE}/confirm", data={**FORM, "t": TAN_DOAN}, allow_redirects=False,
                headers={"Origin": origin},
            )  # fmt: skip
            statuses.append(posted.status)
        own = f"http://{client.server.host}:{client.server.port}"
        posted = await client.post(
            f"{PAGE}/confirm", data={**FORM, "t": TAN_DOAN}, allow_redirects=False,
            headers={"Origin": own},
        )  # fmt: skip
        return [*statuses, posted.status]

    assert serve(rt, steps) == [403, 403, 303]
    assert confirmations(rt) == 1  # only the page's own post


def test_health_tells_outsiders_only_ok_or_not(rt: Runtime) -> None:
    halting.halt(rt, "thử")  # unhealthy, with a finding that names who halted and why

    async def steps(client: TestClient[Any, Any]) -> list[Any]:
        here = await client.get("/health")
        proxied = await client.get("/health", headers={"X-Forwarded-For": "203.0.113.9"})
        return [await here.json(), await proxied.json()]

    here, proxied = serve(rt, steps)
    assert here["status"] == "unhealthy" and here["findings"][0]["rule"] == "halted"
    assert proxied == {"status": "unhealthy"}
