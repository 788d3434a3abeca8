"""The frequency cap across campaigns, on SQLite and PostgreSQL, on a controllable clock through
the real twilio client to the private simulator: who is at the cap gets a ``skipped`` row with
the reason (and a delivery-log event), the window slides, urgent campaigns are not held back,
work still on its way counts, and ``plan`` counts who would be skipped."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from dispatcher.bootstrap import Runtime
from dispatcher.campaigns.registry import register_campaign
from dispatcher.core.outbox import LogFilter
from dispatcher.core.status import Status
from dispatcher.reports import audit_log
from dispatcher.sending import planning
from dispatcher.sending import send as services
from dispatcher.sending.materialize import materialize
from dispatcher.store.models import DeliveryEventRow
from tests.fakes import FakeClock
from tests.integration.sending_setup import (
    activity,
    counts,
    simulator_runtime,
    vn,
    write_campaign,
    write_list,
)

CAP = {"frequency_cap": {"max_messages": 1, "window_hours": 24}}
FIRST = ["0912345678", "0987654321", "0905111222"]
SECOND = ["0912345678", "0987654321", "0977000111"]  # two of FIRST, one new
REASON = "frequency-cap: already 1 message(s) within 24 h"


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    write_list(tmp_path, "first.csv", FIRST)
    write_list(tmp_path, "second.csv", SECOND)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _rows(rt: Runtime, campaign_id: str) -> dict[str, tuple[str, str | None]]:
    views = audit_log.delivery_log(rt, LogFilter(campaign_id, None, None))
    return {v.to: (v.status, v.error_message) for v in views}


def test_a_subscriber_at_the_cap_is_skipped_with_the_reason(
    folder: Path, engine: Engine, db_url: str
) -> None:
    clock = FakeClock(vn(1, 10))
    rt = simulator_runtime(engine, db_url, clock, **CAP)
    assert counts(services.send(rt, write_campaign(folder, "a", "first.csv"))) == {
        Status.ACCEPTED: 3
    }
    clock.set(vn(1, 12))
    report = services.send(rt, write_campaign(folder, "b", "second.csv"))
    assert counts(report) == {Status.ACCEPTED: 1, Status.SKIPPED: 2}
    assert report.complete  # skipped on purpose is settled, not work left
    assert _rows(rt, "b") == {
        "+84912345678": ("skipped", REASON),
        "+84987654321": ("skipped", REASON),
        "+84977000111": ("accepted", None),
    }
    with rt.uow() as uow:  # the delivery log (what auditors read) has each transition
        logged = uow.repo.session.execute(
            select(DeliveryEventRow.phone, DeliveryEventRow.status, DeliveryEventRow.detail)
            .where(DeliveryEventRow.campaign_id == "b", DeliveryEventRow.status == "skipped")
        ).all()  # fmt: skip
    assert sorted(logged) == [
        ("+84912345678", "skipped", REASON),
        ("+84987654321", "skipped", REASON),
    ]
    capped = [detail for kind, detail in activity(rt, "b") if kind == "frequency-capped"]
    assert capped == [f"skipped 2 subscriber(s) at the cap ({REASON})"]


def test_the_window_slides_and_a_higher_cap_lets_more_through(
    folder: Path, engine: Engine, db_url: str
) -> None:
    clock = FakeClock(vn(1, 10))
    rt = simulator_runtime(engine, db_url, clock, **CAP)
    services.send(rt, write_campaign(folder, "a", "first.csv"))
    clock.set(vn(2, 10, 1))  # 24 h and a minute later
    assert counts(services.send(rt, write_campaign(folder, "b", "second.csv"))) == {
        Status.ACCEPTED: 3
    }
    two = simulator_runtime(engine, db_url, clock, frequency_cap={"max_messages": 2})
    report = services.send(two, write_campaign(folder, "c", "first.csv"))
    # +84912345678 and +84987654321 had 2 within 24 h (a at 10:00 yesterday is out, b is in)
    assert counts(report) == {Status.ACCEPTED: 3}
    assert counts(services.send(two, write_campaign(folder, "d", "first.csv"))) == {
        Status.ACCEPTED: 1,
        Status.SKIPPED: 2,
    }


def test_urgent_campaigns_are_not_capped_but_count_towards_the_cap(
    folder: Path, engine: Engine, db_url: str
) -> None:
    clock = FakeClock(vn(1, 10))
    rt = simulator_runtime(engine, db_url, clock, **CAP)
    services.send(rt, write_campaign(folder, "a", "first.csv"))
    urgent = services.send(rt, write_campaign(folder, "b", "second.csv", "  urgent: true"))
    assert counts(urgent) == {Status.ACCEPTED: 3}
    later = services.send(rt, write_campaign(folder, "c", "second.csv"))
    assert counts(later) == {Status.SKIPPED: 3}


def test_messages_still_on_their_way_count(folder: Path, engine: Engine, db_url: str) -> None:
    rt = simulator_runtime(engine, db_url, FakeClock(vn(1, 10)), **CAP)
    prepared = services.prepare_campaign(write_campaign(folder, "a", "first.csv"))
    assert prepared.audience is not None
    with rt.uow() as uow:
        register_campaign(uow.repo, prepared.campaign, [], vn(1, 10))
        uow.commit()
    materialize(rt, prepared.campaign, prepared.audience, "once", vn(1, 10))  # pending, unsent
    report = services.send(rt, write_campaign(folder, "b", "second.csv"))
    assert counts(report) == {Status.ACCEPTED: 1, Status.SKIPPED: 2}


def test_plan_counts_who_the_cap_would_skip(folder: Path, engine: Engine, db_url: str) -> None:
    clock = FakeClock(vn(1, 10))
    rt = simulator_runtime(engine, db_url, clock, **CAP)
    second = write_campaign(folder, "b", "second.csv")
    before = planning.plan(second, clock.now(), rt.settings)
    assert (before.frequency_cap, before.capped_now) == (rt.settings.sending.frequency_cap, 0)
    services.send(rt, write_campaign(folder, "a", "first.csv"))
    assert planning.plan(second, clock.now(), rt.settings).capped_now == 2
    clock.set(vn(2, 10, 1))
    assert planning.plan(second, clock.now(), rt.settings).capped_now == 0
    urgent = write_campaign(folder, "u", "second.csv", "  urgent: true")
    assert planning.plan(urgent, clock.now(), rt.settings).frequency_cap is None
