"""Campaign lifecycle and health on SQLite and PostgreSQL: the repository's queries, the pause /
resume / cancel services, the health check and the `/health` endpoint."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import Engine, select, update

from dispatcher.bootstrap import Runtime
from dispatcher.core.errors import BadInput
from dispatcher.core.outbox import NewDelivery, Outcome
from dispatcher.core.status import Status
from dispatcher.ops import controls as lifecycle
from dispatcher.ops import health
from dispatcher.settings.config import Settings
from dispatcher.store.models import CampaignRow, DeliveryEventRow, DeliveryRow
from dispatcher.store.uow import unit_of_work_factory
from dispatcher.store.workers import Identity
from dispatcher.web.service import build_app
from tests.fakes import FakeClock

T0 = datetime(2024, 10, 16, 1, 0, tzinfo=UTC)
PHONES = [f"+8491234{i:04d}" for i in range(40)]


@pytest.fixture
def rt(engine: Engine, db_url: str) -> Runtime:
    settings = Settings.model_validate({"database_url": db_url})
    environ = {"DISPATCHER_OPERATOR": "lan"}
    return Runtime(settings, engine, unit_of_work_factory(engine), FakeClock(T0), environ)


def _campaign(rt: Runtime, campaign_id: str, title: str = "Dừng công nghệ di động 2G") -> None:
    with rt.uow() as uow:
        row = CampaignRow(
            id=campaign_id,
            title=title,
            unit="UBND huyện Văn Quan",
            timezone="Asia/Ho_Chi_Minh",
            source_path=f"{campaign_id}.yaml",
            fingerprint="0" * 64,
        )
        uow.repo.save_campaign(row, rt.clock.now())
        uow.commit()


def _occurrence(rt: Runtime, campaign_id: str, key: str, phones: list[str]) -> int:
    now = rt.clock.now()
    with rt.uow() as uow:
        occurrence = uow.repo.add_occurrence(campaign_id, key, now, "open", now)
        new = [
            NewDelivery(p, f"l.csv:{i}", "Xin chào", "UCS-2", 1, None) for i, p in enumerate(phones)
        ]
        uow.repo.add_deliveries(occurrence, new, now)
        uow.commit()
        return occurrence.id


def _claim(rt: Runtime, occurrence_id: int, n: int, claimant: str | None = None) -> list[int]:
    now = rt.clock.now()
    with rt.uow() as uow:
        claimed = uow.repo.claim(occurrence_id, n, now, now, claimant).messages
        uow.commit()
    return [m.delivery_id for m in claimed]


def _apply(rt: Runtime, outcomes: list[Outcome]) -> None:
    with rt.uow() as uow:
        uow.repo.apply(outcomes, rt.clock.now())
        uow.commit()


def _statuses(rt: Runtime, campaign_id: str) -> dict[str, int]:
    with rt.uow() as uow:
        (summary,) = uow.repo.lifecycle.summaries(campaign_id)
    return {s.value: n for s, n in summary.counts.items()}


def _advance(rt: Runtime, delta: timedelta) -> None:
    assert isinstance(rt.clock, FakeClock)
    rt.clock.advance(delta)


# -- campaigns and their progress ----------------------------------------------------------------
def test_summaries_count_every_occurrence_and_campaign(rt: Runtime) -> None:
    _campaign(rt, "b-empty", "Chưa gửi")
    _campaign(rt, "a-2g")
    first = _occurrence(rt, "a-2g", "first", PHONES[:3])
    ids = _claim(rt, first, 3)
    _apply(
        rt,
        [
            Outcome(ids[0], Status.ACCEPTED, "SM1"),
            Outcome(ids[1], Status.FAILED, error_code=21614),
            Outcome(ids[2], Status.DELIVERED, "SM2"),
        ],
    )
    _advance(rt, timedelta(hours=1))
    _occurrence(rt, "a-2g", "second", PHONES[1:5])  # 2 numbers again, 2 new ones
    _advance(rt, timedelta(minutes=5))
    with rt.uow() as uow:
        uow.repo.record_activity("note", rt.clock.now(), "a-2g", detail="an activity, later")
        uow.commit()
        summaries = uow.repo.lifecycle.summaries()
    a, b = summaries
    assert (a.id, a.title, a.state, a.unit) == (
        "a-2g",
        "Dừng công nghệ di động 2G",
        "active",
        "UBND huyện Văn Quan",
    )
    assert [(o.key, o.recipients, o.done) for o in a.occurrences] == [
        ("first", 3, True),
        ("second", 4, False),
    ]
    assert a.occurrences[0].counts == {Status.ACCEPTED: 1, Status.FAILED: 1, Status.DELIVERED: 1}
    assert a.counts == {
        Status.ACCEPTED: 1,
        Status.FAILED: 1,
        Status.DELIVERED: 1,
        Status.PENDING: 4,
    }
    assert (a.recipients, a.occurrences_done) == (5, 1)
    assert a.last_activity == T0 + timedelta(hours=1, minutes=5)
    assert (b.id, b.occurrences, b.counts, b.recipients, b.last_activity) == (
        "b-empty",
        [],
        {},
        0,
        None,
    )


# -- pause, resume, cancel -----------------------------------------------------------------------
def _activity(rt: Runtime, campaign_id: str) -> list[tuple[str, str | None]]:
    with rt.uow() as uow:
        events = uow.repo.lifecycle.activity(campaign_id, 10)
    return [(e.kind, e.detail) for e in reversed(events)]


def test_pause_and_resume_are_logged_with_who_and_why(rt: Runtime) -> None:
    _campaign(rt, "2g")
    who = "lan"
    paused = lifecycle.pause(rt, "2g", "sai số hotline")
    assert (paused.before, paused.after, paused.by, paused.changed) == (
        "active",
        "paused",
        who,
        True,
    )
    assert not lifecycle.pause(rt, "2g").changed  # already paused: nothing logged
    resumed = lifecycle.resume(rt, "2g")
    assert (resumed.before, resumed.after) == ("paused", "active")
    assert _activity(rt, "2g") == [
        ("campaign-paused", f"by {who}: sai số hotline"),
        ("campaign-resumed", f"by {who}"),
    ]
    with rt.uow() as uow:
        assert uow.repo.lifecycle.campaign_state("2g") == "active"


def test_cancel_cancels_pending_rows_logs_each_and_leaves_those_in_flight(rt: Runtime) -> None:
    _campaign(rt, "2g")
    _campaign(rt, "other")
    occurrence = _occurrence(rt, "2g", "once", PHONES[:6])
    _occurrence(rt, "other", "once", PHONES[:2])
    _sending, unknown, accepted = _claim(rt, occurrence, 3)
    _apply(rt, [Outcome(unknown, Status.UNKNOWN), Outcome(accepted, Status.ACCEPTED, "SM1")])
    _advance(rt, timedelta(minutes=1))
    asked: list[lifecycle.CampaignSummary] = []

    def confirm(summary: lifecycle.CampaignSummary) -> bool:
        asked.append(summary)
        return True

    change = lifecycle.cancel(rt, "2g", "thay bằng chiến dịch mới", confirm)
    assert change is not None
    assert (change.before, change.after, change.canceled, change.in_flight) == (
        "active",
        "canceled",
        3,
        2,
    )
    assert asked[0].counts[Status.PENDING] == 3  # what the operator was shown
    assert _statuses(rt, "2g") == {"sending": 1, "unknown": 1, "accepted": 1, "canceled": 3}
    assert _statuses(rt, "other") == {"pending": 2}
    with rt.uow() as uow:
        log = uow.repo.session.execute(
            select(
                DeliveryEventRow.delivery_id,
                DeliveryEventRow.occurrence_key,
                DeliveryEventRow.attempt,
                DeliveryEventRow.detail,
                DeliveryEventRow.at,
            )
            .where(DeliveryEventRow.status == "canceled")
            .order_by(DeliveryEventRow.delivery_id)
        ).all()
        canceled = uow.repo.session.scalars(
            select(DeliveryRow.id).where(DeliveryRow.status == "canceled").order_by(DeliveryRow.id)
        ).all()
    who = "lan"
    detail = f"canceled by {who}: thay bằng chiến dịch mới"
    assert log == [(i, "once", 0, detail, T0 + timedelta(minutes=1)) for i in canceled]
    (event,) = _activity(rt, "2g")
    assert event == (
        "campaign-canceled",
        f"by {who}: thay bằng chiến dịch mới; 3 pending canceled, 2 in flight left",
    )
    # Cancel is final.
    with pytest.raises(BadInput, match="cannot pause 2g: it is canceled"):
        lifecycle.pause(rt, "2g")
    with pytest.raises(BadInput, match="cannot resume 2g: it is canceled"):
        lifecycle.resume(rt, "2g")
    again = lifecycle.cancel(rt, "2g")
    assert again is not None and not again.changed
    assert len(_activity(rt, "2g")) == 1


def test_a_declined_cancel_changes_nothing(rt: Runtime) -> None:
    _campaign(rt, "2g")
    _occurrence(rt, "2g", "once", PHONES[:2])
    assert lifecycle.cancel(rt, "2g", confirm=lambda _summary: False) is None
    assert _statuses(rt, "2g") == {"pending": 2}
    assert _activity(rt, "2g") == []


@pytest.mark.parametrize(
    "action", [lifecycle.pause, lifecycle.resume, lifecycle.cancel, lifecycle.status]
)
def test_an_unknown_campaign_names_the_known_ones(rt: Runtime, action: Any) -> None:
    with pytest.raises(BadInput, match="no campaign 'x'; the database knows no campaign yet"):
        action(rt, "x")
    _campaign(rt, "b")
    _campaign(rt, "a")
    with pytest.raises(BadInput) as caught:
        action(rt, "x")
    assert caught.value.message == "ID: no campaign 'x'; known: a, b"


# -- health --------------------------------------------------------------------------------------
def _trouble(rt: Runtime) -> int:
    """One occurrence with every kind of trouble, started at T0 by worker w-1 (then silent)."""
    _campaign(rt, "2g")
    _campaign(rt, "calm")
    occurrence = _occurrence(rt, "2g", "once", PHONES)
    with rt.uow() as uow:
        uow.workers.register(Identity("w-1", "other-host", 4242), "send", rt.clock.now())
        uow.commit()
    ids = _claim(rt, occurrence, 25, "w-1")
    failed = [Outcome(i, Status.FAILED, error_code=21614) for i in ids[:21]]
    failed += [Outcome(i, Status.FAILED, error_code=21211) for i in ids[21:23]]
    _apply(rt, [*failed, Outcome(ids[23], Status.UNKNOWN)])  # ids[24] stays `sending`
    return occurrence


def test_health_finds_every_kind_of_stuck_work(rt: Runtime) -> None:
    _trouble(rt)
    # Failures count at once; the rest is only stuck once it lasts.
    assert [f.rule for f in health.check(rt).findings] == ["error-dominance"]
    _advance(rt, timedelta(minutes=40))
    report = health.check(rt)
    assert [(f.campaign_id, f.rule) for f in report.findings] == [
        ("2g", "error-dominance"),
        ("2g", "no-progress"),
        ("2g", "silent-worker"),
        ("2g", "stuck-sending"),
        ("2g", "stuck-unknown"),
    ]
    numbers = {f.rule: f.numbers for f in report.findings}
    assert numbers["error-dominance"]["error_code"] == 21614
    assert numbers["error-dominance"]["failures"] == 23
    assert numbers["no-progress"]["pending"] == 15
    assert numbers["silent-worker"]["rows"] == 1
    assert numbers["stuck-sending"]["rows"] == numbers["stuck-unknown"]["rows"] == 1
    assert "+84" not in str(report.as_json())  # never a phone number
    assert health.check(rt, "calm").healthy


def test_health_findings_clear_when_their_cause_does(rt: Runtime) -> None:
    _trouble(rt)
    _advance(rt, timedelta(minutes=40))
    lifecycle.pause(rt, "2g")  # deliberately not sent: no progress is expected
    _advance(rt, timedelta(hours=1))  # the failures are older than the window now
    with rt.uow() as uow:  # the worker said it stopped
        uow.workers.stopped("w-1", rt.clock.now())
        uow.commit()
    rules = {f.rule for f in health.check(rt).findings}
    assert rules == {"stuck-sending", "stuck-unknown"}


def test_deferred_pending_rows_are_not_work_left_now(rt: Runtime) -> None:
    _campaign(rt, "2g")
    _occurrence(rt, "2g", "once", PHONES[:3])
    later = T0 + timedelta(hours=10)  # e.g. quiet hours until the morning
    with rt.uow() as uow:
        uow.repo.session.execute(update(DeliveryRow).values(not_before=later))
        uow.commit()
    _advance(rt, timedelta(hours=2))
    assert health.check(rt).healthy
    _advance(rt, timedelta(hours=9))
    (finding,) = health.check(rt).findings
    assert (finding.rule, finding.occurrence, finding.numbers["pending"]) == (
        "no-progress",
        "once",
        3,
    )


def test_recent_failures_are_each_campaigns_last_n(rt: Runtime) -> None:
    _campaign(rt, "2g")
    occurrence = _occurrence(rt, "2g", "once", PHONES[:30])
    ids = _claim(rt, occurrence, 30)
    _apply(rt, [Outcome(i, Status.FAILED, error_code=30001) for i in ids[:20]])
    _apply(rt, [Outcome(i, Status.UNDELIVERED, error_code=30003) for i in ids[20:]])
    with rt.uow() as uow:
        newest = uow.repo.lifecycle.recent_failures(T0, per_campaign=10)
        everything = uow.repo.lifecycle.recent_failures(T0, per_campaign=100)
        none = uow.repo.lifecycle.recent_failures(T0 + timedelta(seconds=1), per_campaign=100)
    assert [(f.campaign_id, f.error_code, f.count) for f in newest] == [("2g", 30003, 10)]
    assert {(f.error_code, f.count) for f in everything} == {(30001, 20), (30003, 10)}
    assert none == []


# -- GET /health ---------------------------------------------------------------------------------
async def _get_health(rt: Runtime) -> tuple[int, Any]:
    runner = web.AppRunner(build_app(rt, "token"))
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        host, port = runner.addresses[0][:2]
        url = f"http://{host}:{port}/health"
        async with aiohttp.ClientSession() as session, session.get(url) as response:
            return response.status, await response.json()
    finally:
        await runner.cleanup()


def test_the_health_endpoint_answers_200_or_503_naming_campaign_and_reason(rt: Runtime) -> None:
    _campaign(rt, "2g")
    assert asyncio.run(_get_health(rt)) == (200, {"status": "ok"})
    _trouble(rt)
    _advance(rt, timedelta(minutes=40))
    status, body = asyncio.run(_get_health(rt))
    assert status == 503 and body["status"] == "unhealthy"
    assert {(f["campaign"], f["rule"]) for f in body["findings"]} >= {("2g", "stuck-sending")}
    stuck = next(f for f in body["findings"] if f["rule"] == "stuck-sending")
    assert stuck["numbers"]["rows"] == 1 and "worker died or hung" in stuck["message"]
