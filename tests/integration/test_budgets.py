"""Budgets on SQLite and PostgreSQL, through the real twilio client to the private simulator:
a run stops exactly at a campaign's budget (exit 3, the rest pending), goes on when the budget
is raised, and a monthly budget holds across campaigns and starts again with the month."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from dispatcher.cli import presenters
from dispatcher.core.errors import ConfigError
from dispatcher.core.status import Status
from dispatcher.safety.budgets import budget_rule
from dispatcher.sending import send as services
from dispatcher.settings.config import Settings
from tests.fakes import FakeClock
from tests.integration.sending_setup import (
    counts,
    simulator_runtime,
    vn,
    write_campaign,
    write_list,
)

PRICE = {"pricing": {"per_segment": {"simulator": 0.01}, "currency": "USD"}}


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    write_list(tmp_path, "a.csv", [f"0912{i:06d}" for i in range(100)])
    write_list(tmp_path, "b.csv", [f"0987{i:06d}" for i in range(100)])
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _runtime(engine: Engine, db_url: str, clock: FakeClock, **extra: object) -> services.Runtime:
    rt = simulator_runtime(engine, db_url, clock, batch_size=16)
    settings = Settings.model_validate(rt.settings.model_dump() | PRICE | extra)
    return services.Runtime(settings, rt.engine, rt.uow, clock, {})


def test_a_run_stops_exactly_at_the_campaign_budget(
    folder: Path, engine: Engine, db_url: str
) -> None:
    rt = _runtime(engine, db_url, FakeClock(vn(1, 10)))
    path = write_campaign(folder, "c", "a.csv", "  budget: 0.5")
    report = services.send(rt, path)
    assert counts(report) == {Status.ACCEPTED: 50, Status.PENDING: 50}
    assert report.over_budget == "campaign budget 0.50 USD reached (0.50 spent)"
    assert presenters.send_exit_code(report) == 3
    summary = presenters.send_summary(report, rt.settings.tz)
    assert "STOPPED: campaign budget 0.50 USD reached (0.50 spent): 50 of 100 reached" in summary

    raised = services.send(rt, write_campaign(folder, "c", "a.csv", "  budget: 0.8"))
    assert counts(raised) == {Status.ACCEPTED: 80, Status.PENDING: 20}
    assert raised.over_budget is not None


def test_a_monthly_budget_holds_across_campaigns_and_starts_again(
    folder: Path, engine: Engine, db_url: str
) -> None:
    clock = FakeClock(vn(30, 10))  # 30/08/2030
    rt = _runtime(engine, db_url, clock, budgets={"monthly": 1.2})
    first = services.send(rt, write_campaign(folder, "a", "a.csv"))
    assert counts(first) == {Status.ACCEPTED: 100}
    second = services.send(rt, write_campaign(folder, "b", "b.csv"))
    assert counts(second) == {Status.ACCEPTED: 20, Status.PENDING: 80}
    assert second.over_budget == "monthly budget (08/2030) 1.20 USD reached (1.20 spent)"

    clock.set(vn(31, 21, 59).replace(month=8))  # the last hour of sending in August
    again = services.send(rt, write_campaign(folder, "b", "b.csv"))
    assert counts(again) == {Status.ACCEPTED: 20, Status.PENDING: 80}
    assert again.over_budget is not None
    clock.set(vn(1, 7, 0).replace(month=9))  # September: a new month's budget
    later = services.send(rt, write_campaign(folder, "b", "b.csv"))
    assert counts(later) == {Status.ACCEPTED: 100}
    assert later.over_budget is None


def test_a_budget_without_a_price_is_a_configuration_error(folder: Path) -> None:
    campaign = services.prepare_campaign(
        write_campaign(folder, "c", "a.csv", "  budget: 5")
    ).campaign
    settings = Settings.model_validate({"gateway": "twilio"})
    with pytest.raises(ConfigError) as caught:
        budget_rule(campaign, settings)
    assert caught.value.problems[0].field == "pricing.per_segment.twilio"
    free = Settings.model_validate({"gateway": "simulator"})
    assert budget_rule(campaign, free) is None  # nothing costs anything: no budget to reach
