"""The page's "Đã phát" asks first, then records; "Hoàn tác" takes it back within the window
(issue 16). aiohttp test server, on SQLite and PostgreSQL."""
# ruff: noqa: F811 (the fixtures rt and folder are those of test_commune_web, imported)

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from aiohttp.test_utils import TestClient

from dispatcher.bootstrap import Runtime
from dispatcher.reports import monthly as reports
from tests.fakes import FakeClock
from tests.integration.test_airings import CAMPAIGN
from tests.integration.test_commune_web import (  # noqa: F401
    PAGE,
    TAN_DOAN,
    confirmations,
    folder,
    rt,
    serve,
)

STEP = f"{PAGE}/confirm?campaign={CAMPAIGN}&k=2024-10-14T0600"
AT = "2024-10-14T06:00:00+07:00"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def _aired(rt: Runtime) -> int:
    return sum(r.count for r in reports.monthly(rt, "2024-10").rows)


def test_da_phat_asks_first_then_records_and_hoan_tac_takes_it_back(rt: Runtime) -> None:
    clock = rt.clock
    assert isinstance(clock, FakeClock)

    async def steps(client: TestClient[Any, Any]) -> list[tuple[int, str]]:
        page = await client.get(f"{PAGE}?t={TAN_DOAN}")
        html = await page.text()
        assert 'method="get" action="/c/06307/confirm"' in html
        step = await client.get(STEP)
        step_html = await step.text()
        csrf = _CSRF.search(step_html)
        assert csrf is not None
        answers = [(step.status, step_html)]
        form = {"csrf": csrf[1], "campaign": CAMPAIGN, "at": AT}
        done = await client.post(f"{PAGE}/confirm", data=form)
        answers.append((done.status, await done.text()))
        answers.append((0, str(done.url)))
        undone = await client.post(f"{PAGE}/undo", data=form)
        answers.append((undone.status, await undone.text()))
        again = await client.post(f"{PAGE}/confirm", data=form)
        answers.append((again.status, await again.text()))
        clock.advance(timedelta(minutes=16))
        late = await client.post(f"{PAGE}/undo", data=form)
        answers.append((late.status, await late.text()))
        return answers

    before = _aired(rt)
    step, done, done_url, undone, again, late = serve(rt, steps)
    assert step[0] == 200 and "Có, đã phát" in step[1] and "Xác nhận đã phát" in step[1]
    assert done[0] == 200 and "Đã ghi nhận: lượt phát" in done[1]
    assert "Hoàn tác (đến 10:15)" in done[1] and "done=new" in done_url[1]
    assert undone[0] == 200 and "Đã hoàn tác: lượt phát" in undone[1]
    assert again[0] == 200 and "Đã ghi nhận: lượt phát" in again[1]
    assert late[0] == 409 and "hơn 15 phút" in late[1]
    assert confirmations(rt) == 1  # one confirmation; the undo and redo are corrections
    assert _aired(rt) == before + 1  # the redo stands


def test_the_step_page_changes_nothing(rt: Runtime) -> None:
    async def steps(client: TestClient[Any, Any]) -> int:
        await client.get(f"{PAGE}?t={TAN_DOAN}")
        return (await client.get(STEP)).status

    assert serve(rt, steps) == 200
    assert confirmations(rt) == 0
