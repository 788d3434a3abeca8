"""Quiet hours while sending, on a controllable clock, SQLite and PostgreSQL, through the real
twilio client to the private simulator: work due inside them waits and goes out when they end;
an urgent campaign sends through them and the activity log says so."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from dispatcher.bootstrap import Runtime
from dispatcher.core.status import Status
from dispatcher.sending import send as services
from dispatcher.sms.quiet import URGENT_NOTE
from tests.fakes import FakeClock
from tests.integration.sending_setup import (
    activity,
    counts,
    simulator_runtime,
    vn,
    write_campaign,
    write_list,
)


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    write_list(tmp_path, "a.csv", ["0912345678", "0987654321", "0905111222"])
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _urgent_notes(rt: Runtime) -> list[tuple[str, str | None]]:
    return [event for event in activity(rt, "thu") if event[0] == "urgent-quiet-hours"]


def test_work_due_in_quiet_hours_waits_then_goes_out(
    folder: Path, engine: Engine, db_url: str
) -> None:
    clock = FakeClock(vn(1, 22, 30))
    rt = simulator_runtime(engine, db_url, clock)
    assert rt.settings.sending.quiet_hours == "22:00-07:00"  # the default: Decree 91/2020
    path = write_campaign(folder, "thu", "a.csv")

    night = services.send(rt, path)
    assert night.runs[0].result.blocked == "quiet hours (22:00-07:00) until 07:00"
    assert counts(night) == {Status.PENDING: 3}
    assert not night.complete

    clock.set(vn(2, 6, 59))
    assert counts(services.send(rt, path)) == {Status.PENDING: 3}

    clock.set(vn(2, 7, 0))
    morning = services.send(rt, path)
    assert morning.runs[0].result.blocked is None
    assert counts(morning) == {Status.ACCEPTED: 3}
    assert _urgent_notes(rt) == []


def test_an_urgent_campaign_sends_in_quiet_hours_and_the_log_says_so(
    folder: Path, engine: Engine, db_url: str
) -> None:
    rt = simulator_runtime(engine, db_url, FakeClock(vn(1, 23, 30)))
    report = services.send(rt, write_campaign(folder, "thu", "a.csv", "  urgent: true"))
    assert counts(report) == {Status.ACCEPTED: 3}
    assert _urgent_notes(rt) == [("urgent-quiet-hours", URGENT_NOTE)]  # once per run


def test_an_urgent_campaign_by_day_logs_nothing_special(
    folder: Path, engine: Engine, db_url: str
) -> None:
    rt = simulator_runtime(engine, db_url, FakeClock(vn(1, 10)))
    report = services.send(rt, write_campaign(folder, "thu", "a.csv", "  urgent: true"))
    assert counts(report) == {Status.ACCEPTED: 3}
    assert _urgent_notes(rt) == []


@pytest.mark.parametrize(
    ("window", "hour", "blocked"),
    [
        ("off", 23, None),
        ("'20:00-08:00'", 21, "quiet hours (20:00-08:00) until 08:00"),
        ("'20:00-08:00'", 8, None),
    ],
)
def test_a_campaigns_own_quiet_hours_rule_its_sending(
    folder: Path, engine: Engine, db_url: str, window: str, hour: int, blocked: str | None
) -> None:
    rt = simulator_runtime(engine, db_url, FakeClock(vn(1, hour)))
    report = services.send(rt, write_campaign(folder, "thu", "a.csv", f"  quiet_hours: {window}"))
    assert report.runs[0].result.blocked == blocked
    assert counts(report) == ({Status.PENDING: 3} if blocked else {Status.ACCEPTED: 3})
