"""Error answers of ``dispatcher serve`` (issue 16): a browser gets a page in Vietnamese for 403,
404, 405, 409 and 500; scripts asking JSON, Twilio and the health check keep plain text."""
# ruff: noqa: F811 (the fixtures rt and folder are those of test_commune_web, imported)

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from dispatcher.bootstrap import Runtime
from dispatcher.broadcast import confirmations as airings
from tests.integration.test_airings import CAMPAIGN
from tests.integration.test_commune_web import (  # noqa: F401
    PAGE,
    TAN_DOAN,
    folder,
    rt,
    serve,
)

Answer = tuple[int, str, str]  # status, Content-Type, body


async def _answer(response: Any) -> Answer:
    return response.status, response.headers.get("Content-Type", ""), await response.text()


def _is_page(answer: Answer, status: int, heading: str) -> None:
    code, kind, body = answer
    assert (code, kind) == (status, "text/html; charset=utf-8")
    assert '<html lang="vi">' in body and f"<h1>{heading}</h1>" in body
    assert f"Mã lỗi: {status}" in body
    assert "Traceback" not in body


def test_a_browser_gets_vietnamese_pages_for_404_403_and_405(rt: Runtime) -> None:
    async def steps(client: TestClient[Any, Any]) -> list[Answer]:
        found = [await _answer(await client.get("/khong-co-trang-nay"))]
        await client.get(f"{PAGE}?t={TAN_DOAN}")  # signed in by cookie from here on
        script = await client.get(f"{PAGE}/script/{CAMPAIGN}/2024-10-14T0700.txt")
        found.append(await _answer(script))
        found.append(await _answer(await client.get(f"{PAGE}/undo")))  # a GET: 405
        other = {"Origin": "https://elsewhere.example"}
        posted = await client.post(f"{PAGE}/confirm", data={"t": TAN_DOAN}, headers=other)
        found.append(await _answer(posted))
        return found

    missing, no_script, wrong_method, other_site = serve(rt, steps)
    _is_page(missing, 404, "Không tìm thấy trang")
    _is_page(no_script, 404, "Không tìm thấy trang")
    _is_page(wrong_method, 405, "Không thực hiện được")
    _is_page(other_site, 403, "Không có quyền truy cập")


def test_a_bug_is_a_vietnamese_page_with_nothing_of_it_and_plain_text_to_scripts(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret detail of the bug")

    monkeypatch.setattr(airings, "commune_schedule", broken)

    async def steps(client: TestClient[Any, Any]) -> list[Answer]:
        page = await _answer(await client.get(f"{PAGE}?t={TAN_DOAN}"))
        listing = await _answer(await client.get(f"{PAGE}/airings.json"))
        asked = {"Accept": "application/json"}
        missing = await _answer(await client.get("/khong-co", headers=asked))
        return [page, listing, missing]

    page, listing, missing = serve(rt, steps)
    _is_page(page, 500, "Lỗi hệ thống")
    assert "secret detail" not in page[2]
    assert listing[0] == 500 and listing[2] == "internal error\n"  # a script's JSON route
    assert missing[0] == 404 and "<html" not in missing[2]
