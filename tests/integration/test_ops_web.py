"""The operators' dashboard of ``dispatcher serve`` (``/ops``) on SQLite and PostgreSQL: progress,
recent rate, next occurrence and failures by code of a campaign the scheduler put in the outbox;
pause, resume, cancel, halt and unhalt through their confirmation step, in the activity log with
the web principal and the reason; and everything refused changes nothing."""

from __future__ import annotations

import asyncio
import re
import shutil
from collections.abc import Awaitable, Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select

from dispatcher.bootstrap import Runtime, runtime
from dispatcher.campaigns.registry import register_campaign
from dispatcher.campaigns.spec import Campaign, load_campaign
from dispatcher.core.outbox import NewDelivery, Outcome
from dispatcher.core.status import Status
from dispatcher.gateways.retry import HALT_CODES, RETRYABLE_CODES
from dispatcher.gateways.simulator_api import REJECTION_MESSAGES
from dispatcher.gateways.simulator_state import FINAL_ERRORS
from dispatcher.ops import controls
from dispatcher.safety import halting
from dispatcher.sending.tracking import UNKNOWN_OUTCOME
from dispatcher.settings.config import Settings
from dispatcher.store.models import ActivityRow, CampaignRow, DeliveryRow
from dispatcher.web import access
from dispatcher.web.ops_words import ERROR_MEANINGS
from dispatcher.web.service import build_app
from tests.fakes import FakeClock
from tests.integration.sending_setup import vn, write_campaign, write_list

T = TypeVar("T")
Steps = Callable[[TestClient[Any, Any]], Awaitable[T]]
REPO = Path(__file__).resolve().parents[2]
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
CAMPAIGN = "thong-bao-2g"
PAGE = f"/ops/c/{CAMPAIGN}"
NUMBERS = [f"09123{i:05d}" for i in range(10)]
DAILY = ["  schedule:", "    start: 2030-08-01", "    end: 2030-08-31", "    times: ['08:00']"]
NOW = vn(2, 8, 1)  # the 08:00 occurrence of 2 August is due; 1 August's was missed
KEY = "2030-08-02T08:00+07:00"
CHANGES = ("campaign-paused", "campaign-resumed", "campaign-canceled", "halt", "unhalt")


@pytest.fixture
def rt(tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    """A campaign registered from its file (its daily schedule), 1 August's occurrence missed and
    2 August's in the outbox, 9 of its 10 deliveries tried: 3 delivered, 1 sent, 1 accepted,
    2 failed 21614, 1 undelivered 30003, 1 failed without an outcome."""
    shutil.copy(REPO / "units.yaml", tmp_path / "units.yaml")  # for a commune's token
    write_list(tmp_path, "a.csv", NUMBERS)
    path = write_campaign(tmp_path, CAMPAIGN, "a.csv", *DAILY)
    monkeypatch.chdir(tmp_path)
    settings = Settings.model_validate({"database_url": db_url, "base_dir": tmp_path})
    environ = {"DISPATCHER_OPERATOR": "lan"}
    with runtime(settings, clock=FakeClock(NOW), environ=environ) as rt:
        _try_nine(rt, _outbox(rt, load_campaign(path)))
        yield rt


def _outbox(rt: Runtime, campaign: Campaign) -> int:
    """The campaign registered as the scheduler registers it, with its two occurrences."""
    now = rt.clock.now()
    with rt.uow() as uow:
        register_campaign(uow.repo, campaign, [], now)
        uow.repo.add_occurrence(CAMPAIGN, "2030-08-01T08:00+07:00", vn(1, 8), "skipped", now)
        occurrence = uow.repo.add_occurrence(CAMPAIGN, KEY, vn(2, 8), "open", now)
        new = [NewDelivery(f"+849123{n[5:]}", f"a.csv:{i}", "Xin chào", "UCS-2", 1, None)
               for i, n in enumerate(NUMBERS)]  # fmt: skip
        uow.repo.add_deliveries(occurrence, new, now)
        uow.commit()
        return occurrence.id


def _try_nine(rt: Runtime, occurrence_id: int) -> None:
    now = rt.clock.now()
    with rt.uow() as uow:
        ids = [m.delivery_id for m in uow.repo.claim(occurrence_id, 9, now, now, None).messages]
        outcomes = [
            *(Outcome(i, Status.DELIVERED, f"SM{i}") for i in ids[:3]),
            Outcome(ids[3], Status.SENT, "SM4"),
            Outcome(ids[4], Status.ACCEPTED, "SM5"),
            Outcome(ids[5], Status.FAILED, error_code=21614, error_message="not mobile"),
            Outcome(ids[6], Status.FAILED, error_code=21614, error_message="landline"),
            Outcome(ids[7], Status.UNDELIVERED, "SM8", error_code=30003),
            Outcome(ids[8], Status.FAILED, error_message=UNKNOWN_OUTCOME),
        ]
        uow.repo.apply(outcomes, now)
        uow.commit()


def serve(rt: Runtime, steps: Steps[T]) -> T:
    async def main() -> T:
        async with TestClient(TestServer(build_app(rt, "auth-token"))) as client:
            return await steps(client)

    return asyncio.run(main())


def token(rt: Runtime, role: str) -> tuple[str, int]:
    """A new token of ``role`` (a commune's for Xã Tân Đoàn): its secret and its id."""
    made = access.create_token(rt, role, "Minh", "Tân Đoàn" if role == "commune" else None, None)
    return made.secret, made.id


async def sign_in(client: TestClient[Any, Any], secret: str) -> str:
    """Open the login link; the CSRF token of the page it leads to."""
    page = await client.get(f"/login?token={secret}")
    assert page.status == 200, await page.text()
    found = CSRF.search(await page.text())
    assert found is not None
    return found[1]


def state(rt: Runtime) -> tuple[Any, ...]:
    """What an action could change: the campaign's state, its deliveries' statuses, the halt,
    and the activity log's changes."""
    with rt.uow() as uow:
        session = uow.repo.session
        campaign = session.scalar(select(CampaignRow.state).where(CampaignRow.id == CAMPAIGN))
        statuses = session.execute(
            select(DeliveryRow.status, func.count()).group_by(DeliveryRow.status)
        ).all()
        changes = session.scalars(
            select(ActivityRow.detail).where(ActivityRow.kind.in_(CHANGES)).order_by(ActivityRow.id)
        ).all()
        halt = uow.workers.halt_state()
    return campaign, sorted(statuses), list(changes), halt


def changes(rt: Runtime, kind: str) -> list[str | None]:
    with rt.uow() as uow:
        query = select(ActivityRow.detail).where(ActivityRow.kind == kind)
        return list(uow.repo.session.scalars(query.order_by(ActivityRow.id)))


def text(html: str) -> str:
    """The page's words, without tags and with spaces as one."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


# -- what the pages show -------------------------------------------------------------------------
def test_the_dashboard_shows_progress_rate_next_occurrence_and_no_halt(rt: Runtime) -> None:
    secret, _ = token(rt, "operator")

    async def steps(client: TestClient[Any, Any]) -> tuple[str, str]:
        await sign_in(client, secret)
        now = await client.get("/ops")
        assert isinstance(rt.clock, FakeClock)
        rt.clock.advance(timedelta(minutes=10, seconds=1))  # the 9 claims leave the window
        later = await client.get("/ops")
        assert now.status == later.status == 200
        return text(await now.text()), text(await later.text())

    now, later = serve(rt, steps)
    assert f"{CAMPAIGN} Thử đang chạy" in now
    # 3 delivered, 2 sent (sent + accepted), 4 failed (2 × 21614, 30003, no outcome), 1 pending
    assert "Đến nhà mạng 3 · Đã gửi 2 · Lỗi 4 · Chờ gửi 1 / tổng 10" in now
    assert "0,9 tin/phút" in now  # 9 attempts in the last 10 minutes
    assert "0,0 tin/phút" in later
    assert "03/08/2030 08:00" in now  # the next occurrence, local time
    assert "Việc gửi tin đang diễn ra bình thường" in now
    assert "Đã dừng toàn bộ" not in now
    assert "Tạm dừng…" in now and "Huỷ…" in now and "Tiếp tục…" not in now


def test_a_campaigns_page_groups_failures_by_code_with_their_meaning(rt: Runtime) -> None:
    secret, _ = token(rt, "operator")
    controls.pause(rt, CAMPAIGN, "hotline sai")  # from the command line: by lan

    async def steps(client: TestClient[Any, Any]) -> str:
        await sign_in(client, secret)
        page = await client.get(PAGE)
        assert page.status == 200
        return text(await page.text())

    page = serve(rt, steps)
    assert "Mã chiến dịch thong-bao-2g · trạng thái tạm dừng" in page
    assert "21614 2 Không phải số di động (có thể là số cố định)" in page
    assert "30003 1 Không liên lạc được máy người nhận" in page
    assert f"{UNKNOWN_OUTCOME} 1 Quá hạn mà vẫn không rõ" in page
    assert page.index("21614") < page.index("30003")  # most frequent first
    assert f"02/08/2030 08:00 · tạm dừng {KEY}" in page  # the occurrence sent, now paused
    assert "01/08/2030 08:00 · bỏ lỡ: quá thời hạn gửi" in page  # and the one missed
    assert "Lượt gửi đã xong: 1/2" in page  # nothing left of the missed one
    assert "Tạm dừng : do lan: hotline sai" in page  # recent activity, with who
    assert "Tiếp tục…" in page and "Tạm dừng…" not in page


# -- the actions ----------------------------------------------------------------------------------
def test_pause_resume_and_cancel_through_the_confirmation_step(rt: Runtime) -> None:
    secret, token_id = token(rt, "operator")
    who = f"web:operator:Minh (token {token_id})"
    seen: list[tuple[Any, ...]] = []

    async def act(client: TestClient[Any, Any], csrf: str, action: str, reason: str) -> str:
        step = await client.get(f"{PAGE}/{action}")
        assert step.status == 200
        seen.append(state(rt))  # the step changed nothing
        posted = await client.post(f"{PAGE}/{action}", data={"csrf": csrf, "reason": reason},
                                   allow_redirects=False)  # fmt: skip
        assert posted.status == 303, await posted.text()
        assert posted.headers["Location"].startswith(f"/ops?done={action}&c={CAMPAIGN}")
        landed = await client.get(posted.headers["Location"])
        return text(await step.text()) + " | " + text(await landed.text())

    async def steps(client: TestClient[Any, Any]) -> list[str]:
        csrf = await sign_in(client, secret)
        pages = [await act(client, csrf, "pause", "hotline sai")]
        seen.append(state(rt))
        pages.append(await act(client, csrf, "resume", "đã sửa hotline"))
        pages.append(await act(client, csrf, "cancel", "có thông báo mới"))
        return pages

    before = state(rt)
    paused, resumed, canceled = serve(rt, steps)
    assert seen[0] == before
    assert "Tạm dừng chiến dịch Thử (thong-bao-2g)" in paused
    assert "Đã tạm dừng chiến dịch thong-bao-2g" in paused
    assert seen[1][0] == "paused" and seen[1][2] == [f"by {who}: hotline sai"]
    assert seen[2] == seen[1]  # the resume step changed nothing either
    assert "1 tin chờ gửi sẽ được gửi" in resumed
    assert "Đã cho chiến dịch thong-bao-2g tiếp tục" in resumed
    assert "Huỷ chiến dịch thong-bao-2g: 1 tin chưa gửi sẽ bị huỷ, không lượt nào được gửi " \
           "thêm. Không thể hoàn tác." in canceled  # fmt: skip
    assert seen[3][0] == "active"
    assert "Đã huỷ chiến dịch thong-bao-2g: 1 tin chưa gửi đã bị huỷ" in canceled
    after = state(rt)
    assert after[0] == "canceled"
    assert ("canceled", 1) in after[1] and ("pending", 1) not in after[1]
    assert changes(rt, "campaign-resumed") == [f"by {who}: đã sửa hotline"]
    assert changes(rt, "campaign-canceled") == [
        f"by {who}: có thông báo mới; 1 pending canceled, 0 in flight left"
    ]


def test_halt_and_unhalt_through_the_confirmation_step(rt: Runtime) -> None:
    secret, token_id = token(rt, "operator")
    who = f"web:operator:Minh (token {token_id})"
    halts: list[Any] = []

    async def steps(client: TestClient[Any, Any]) -> list[str]:
        csrf = await sign_in(client, secret)
        step = await client.get("/ops/halt")
        halts.append(halting.current(rt))
        posted = await client.post("/ops/halt", data={"csrf": csrf, "reason": "sai nội dung"},
                                   allow_redirects=False)  # fmt: skip
        assert (step.status, posted.status) == (200, 303)
        halts.append(halting.current(rt))
        dashboard = await client.get(posted.headers["Location"])
        unhalt_step = await client.get("/ops/unhalt")
        halts.append(halting.current(rt))
        lifted = await client.post("/ops/unhalt", data={"csrf": csrf, "reason": "đã sửa"})
        return [text(await r.text()) for r in (step, dashboard, unhalt_step, lifted)]

    step, dashboard, unhalt_step, lifted = serve(rt, steps)
    assert halts[0] is None  # the step changed nothing
    assert "Dừng toàn bộ việc gửi tin của mọi chiến dịch" in step
    assert halts[1] is not None and (halts[1].by, halts[1].reason) == (who, "sai nội dung")
    assert halts[2] == halts[1]
    assert "Đã dừng toàn bộ việc gửi tin: mọi máy gửi ngừng" in dashboard  # the notice
    assert f"Đã dừng toàn bộ việc gửi tin từ 02/08/2030 08:01, bởi {who}: sai nội dung" in (
        dashboard
    )  # the banner
    assert "Cho gửi tin trở lại" in unhalt_step
    assert "Đã cho gửi tin trở lại" in lifted and "Đã dừng toàn bộ việc gửi tin từ" not in lifted
    assert halting.current(rt) is None
    assert changes(rt, "halt") == [f"by {who}: sai nội dung"]
    assert changes(rt, "unhalt") == [f"by {who}: đã sửa"]


# -- refused: nothing changes ---------------------------------------------------------------------
POSTS = [f"{PAGE}/pause", f"{PAGE}/cancel", "/ops/halt"]


def test_a_post_without_the_csrf_token_is_403_and_changes_nothing(rt: Runtime) -> None:
    secret, _ = token(rt, "operator")

    async def steps(client: TestClient[Any, Any]) -> list[int]:
        await sign_in(client, secret)
        answers = []
        for path in POSTS:
            for form in ({"reason": "x"}, {"reason": "x", "csrf": "0" * 64}):
                answers.append((await client.post(path, data=form)).status)
        return answers

    before = state(rt)
    assert serve(rt, steps) == [403] * 2 * len(POSTS)
    assert state(rt) == before


@pytest.mark.parametrize("role", ["auditor", "commune"])
def test_auditors_and_communes_see_nothing_and_change_nothing(rt: Runtime, role: str) -> None:
    secret, _ = token(rt, role)

    async def steps(client: TestClient[Any, Any]) -> list[int]:
        csrf = await sign_in(client, secret)
        pages = ["/ops", PAGE, f"{PAGE}/pause", "/ops/halt"]
        answers = [(await client.get(path)).status for path in pages]
        for path in POSTS:
            posted = await client.post(path, data={"csrf": csrf, "reason": "x"})
            answers.append(posted.status)
        bearer = {"Authorization": f"Bearer {secret}"}  # a script with the token: no better
        answers.append((await client.post(POSTS[0], data={"reason": "x"}, headers=bearer)).status)
        return answers

    before = state(rt)
    assert serve(rt, steps) == [403] * (4 + len(POSTS) + 1)
    assert state(rt) == before


@pytest.mark.parametrize(
    ("setup", "path", "form", "status", "says"),
    [
        (None, f"{PAGE}/resume", {"reason": "x"}, 409, "đang ở trạng thái «đang chạy»"),
        ("cancel", f"{PAGE}/cancel", {"reason": "x"}, 409, "trạng thái «đã huỷ»"),
        ("cancel", f"{PAGE}/pause", {"reason": "x"}, 409, "trạng thái «đã huỷ»"),
        ("pause", f"{PAGE}/pause", {"reason": "x"}, 409, "trạng thái «tạm dừng»"),
        (None, "/ops/c/khong-co/pause", {"reason": "x"}, 404, "Không có chiến dịch «khong-co»"),
        (None, f"{PAGE}/pause", {"reason": "  "}, 400, "Xin ghi lý do"),
        (None, f"{PAGE}/cancel", {"reason": "x" * 501}, 400, "tối đa 500 ký tự"),
        (None, "/ops/unhalt", {"reason": "x"}, 409, "đang không bị dừng"),
        ("halt", "/ops/halt", {"reason": "x"}, 409, "đã bị dừng từ 02/08/2030 08:01, bởi lan"),
    ],
)  # fmt: skip
def test_an_action_that_does_not_fit_is_refused_with_a_page_and_changes_nothing(
    rt: Runtime, setup: str | None, path: str, form: dict[str, str], status: int, says: str
) -> None:
    if setup == "halt":
        halting.halt(rt, "from the command line")
    elif setup is not None:
        getattr(controls, setup)(rt, CAMPAIGN, "from the command line")  # by lan
    secret, _ = token(rt, "operator")

    async def steps(client: TestClient[Any, Any]) -> list[tuple[int, str]]:
        csrf = await sign_in(client, secret)
        step = await client.get(path)  # the confirmation step refuses alike
        posted = await client.post(path, data={"csrf": csrf, **form})
        return [(r.status, text(await r.text())) for r in (step, posted)]

    before = state(rt)
    (step_status, step_page), (post_status, post_page) = serve(rt, steps)
    assert post_status == status and says in post_page and "Không có gì thay đổi" in post_page
    if status == 400:  # a bad reason: only the post is refused
        assert step_status == 200
    else:
        assert step_status == status and says in step_page
    assert state(rt) == before


def test_every_error_code_the_dispatcher_knows_has_a_meaning() -> None:
    known = {*HALT_CODES, *RETRYABLE_CODES, *REJECTION_MESSAGES}
    known |= {code for code, _ in FINAL_ERRORS.values()}
    assert known - ERROR_MEANINGS.keys() == set()


def test_an_unknown_action_is_404_and_changes_nothing(rt: Runtime) -> None:
    secret, _ = token(rt, "operator")

    async def steps(client: TestClient[Any, Any]) -> list[int]:
        csrf = await sign_in(client, secret)
        answers = []
        for path in (f"{PAGE}/delete", f"{PAGE}/halt", "/ops/pause", "/ops/restart"):
            answers.append((await client.get(path)).status)
            answers.append((await client.post(path, data={"csrf": csrf, "reason": "x"})).status)
        return answers

    before = state(rt)
    assert serve(rt, steps) == [404] * 8
    assert state(rt) == before
