"""A paused or canceled campaign's airings are off the plan (issue 16): not on the commune's
page, not pulled or downloaded, not confirmed (409, in Vietnamese), not chased by the report;
resuming puts them back. On SQLite and PostgreSQL."""
# ruff: noqa: F811 (the fixtures rt and folder are those of test_commune_web, imported)

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from dispatcher.bootstrap import Runtime
from dispatcher.broadcast import confirmations as airings
from dispatcher.broadcast import pull
from dispatcher.ops import controls
from dispatcher.reports import monthly as reports
from tests.integration.test_airings import CAMPAIGN
from tests.integration.test_commune_web import (  # noqa: F401
    BUTTON,
    FORM,
    PAGE,
    SCRIPT,
    TAN_DOAN,
    confirmations,
    folder,
    rt,
    serve,
)

Answers = tuple[tuple[int, str], int, tuple[int, str], tuple[int, str], tuple[int, str]]


def _halt(rt: Runtime, how: str) -> None:
    if how == "paused":
        controls.pause(rt, CAMPAIGN, "issue 16")
    else:
        controls.cancel(rt, CAMPAIGN, "issue 16")


async def _visit(client: TestClient[Any, Any]) -> Answers:
    page = await client.get(f"{PAGE}?t={TAN_DOAN}")  # signs in: the cookie goes along after
    script = await client.get(SCRIPT)
    listing = await client.get(f"{PAGE}/airings.json")
    form = await client.post(f"{PAGE}/confirm", data={**FORM, "t": TAN_DOAN})
    posted = await client.post(f"{PAGE}/confirm", json=FORM, params={"t": TAN_DOAN})
    return (
        (page.status, await page.text()),
        script.status,
        (listing.status, await listing.text()),
        (form.status, await form.text()),
        (posted.status, await posted.text()),
    )


@pytest.mark.parametrize(("how", "why"), [("paused", "đang tạm dừng"), ("canceled", "đã bị hủy")])
def test_a_halted_campaigns_airings_leave_the_page_and_cannot_be_confirmed(
    rt: Runtime, how: str, why: str
) -> None:
    before = serve(rt, _visit)
    assert BUTTON in before[0][1] and before[1] == 200
    _halt(rt, how)
    confirmed = confirmations(rt)
    (page, html), script, (listed, body), (form, form_html), (posted, posted_body) = serve(
        rt, _visit
    )
    assert page == 200 and BUTTON not in html and "Thử loa" not in html
    assert script == 404
    assert listed == 200 and '"airings": []' in body
    assert form == 409 and f"Không thể xác nhận: chiến dịch {why} ({CAMPAIGN})." in form_html
    assert posted == 409 and why in posted_body
    assert confirmations(rt) == confirmed


def test_a_paused_campaign_is_not_pulled_or_chased_until_resumed(rt: Runtime) -> None:
    def unconfirmed() -> int:
        return sum(r.count for r in reports.monthly(rt, "2024-10").unconfirmed)

    waiting = unconfirmed()
    assert waiting > 0
    assert pull.pull(rt, "Xã Tân Đoàn", day="14/10/2024", audio=False).airings
    controls.pause(rt, CAMPAIGN)
    assert unconfirmed() == 0
    assert pull.pull(rt, "Xã Tân Đoàn", day="14/10/2024", audio=False).airings == []
    path = Path("campaigns") / f"{CAMPAIGN}.yaml"
    given = pull.pull(rt, "Xã Tân Đoàn", day="14/10/2024", campaign_files=[path], audio=False)
    assert given.airings == [] and given.skipped == [f"{CAMPAIGN}: chiến dịch đang tạm dừng"]
    with pytest.raises(airings.CampaignHalted, match="chiến dịch đang tạm dừng"):
        airings.confirm(rt, "Xã Tân Đoàn", CAMPAIGN, "14/10/2024 06:00")
    controls.resume(rt, CAMPAIGN)
    assert unconfirmed() == waiting
    assert airings.confirm(rt, "Xã Tân Đoàn", CAMPAIGN, "14/10/2024 06:00").created
