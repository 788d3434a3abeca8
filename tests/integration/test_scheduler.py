"""The scheduler of `serve` on SQLite and PostgreSQL, on a controllable clock: an occurrence is
put in the outbox exactly once across restarts and racing schedulers, and one missed while the
service was down beyond its grace period is recorded as skipped, once, never sent late."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from dispatcher.bootstrap import Runtime
from dispatcher.ops import health
from dispatcher.ops import scheduler as scheduler_module
from dispatcher.ops.scheduler import STUCK_AFTER_S, SchedulerStats, run_scheduler, schedule_pass
from dispatcher.store.models import DeliveryRow, OccurrenceRow
from tests.fakes import FakeClock
from tests.integration.sending_setup import simulator_runtime, vn, write_campaign, write_list

NUMBERS = [f"09123{i:05d}" for i in range(50)]
DAILY = ["  schedule:", "    start: 2030-08-01", "    end: 2030-08-31", "    times: ['08:00']"]
KEY = "2030-08-02T08:00+07:00"
MISSED = "2030-08-01T08:00+07:00"
EXPECTED = ([(MISSED, "skipped"), (KEY, "open")], len(NUMBERS))


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    write_list(tmp_path, "a.csv", NUMBERS)
    write_campaign(tmp_path, "hang-ngay", "a.csv", *DAILY)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _service(engine: Engine, db_url: str, clock: FakeClock, folder: Path) -> Runtime:
    """A freshly started service's runtime (nothing in memory survives a restart)."""
    rt = simulator_runtime(engine, db_url, clock)
    scheduler = rt.settings.scheduler.model_copy(update={"campaigns_dir": folder})
    settings = rt.settings.model_copy(update={"scheduler": scheduler})
    return Runtime(settings, rt.engine, rt.uow, clock, {})


def _outbox(rt: Runtime) -> tuple[list[tuple[str, str]], int]:
    with rt.uow() as uow:
        session = uow.repo.session
        occurrences = session.execute(select(OccurrenceRow.key, OccurrenceRow.state)).all()
        deliveries = session.scalar(select(func.count()).select_from(DeliveryRow))
    return sorted((k, s) for k, s in occurrences), int(deliveries or 0)


def _pass(rt: Runtime) -> SchedulerStats:
    stats = SchedulerStats()
    schedule_pass(rt, stats)
    assert stats.broken == {}
    return stats


def test_an_occurrence_fires_once_across_a_restart_at_its_boundary(
    folder: Path, engine: Engine, db_url: str
) -> None:
    clock = FakeClock(vn(2, 7, 59, 59))
    first = _service(engine, db_url, clock, folder)
    # Yesterday's 08:00 is long past its grace: recorded as skipped, never sent late.
    assert _pass(first).skipped == [f"hang-ngay/{MISSED}"]
    assert _outbox(first) == ([(MISSED, "skipped")], 0)

    clock.set(vn(2, 8))
    assert _pass(first).materialized == [f"hang-ngay/{KEY}"]
    restarted = _service(engine, db_url, clock, folder)  # the service restarts at 08:00
    assert _pass(restarted).materialized == []
    clock.advance(timedelta(seconds=30))
    again = _pass(_service(engine, db_url, clock, folder))
    assert (again.materialized, again.skipped) == ([], [])
    assert _outbox(restarted) == EXPECTED


def test_racing_schedulers_fire_an_occurrence_once(
    folder: Path, engine: Engine, db_url: str
) -> None:
    clock = FakeClock(vn(2, 8, 0, 1))
    services = [_service(engine, db_url, clock, folder) for _ in range(4)]
    with ThreadPoolExecutor(len(services)) as pool:
        results = list(pool.map(_pass, services))
    made = [key for stats in results for key in stats.materialized]
    assert made == [f"hang-ngay/{KEY}"]
    skipped = [key for stats in results for key in stats.skipped]
    assert skipped == [f"hang-ngay/{MISSED}"]
    assert _outbox(services[0]) == EXPECTED


def test_a_message_broken_on_one_row_queues_nothing_until_the_list_is_mended(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, engine: Engine, db_url: str
) -> None:
    # The scheduler reads the lists once, checking each message as it writes it: a row found
    # broken late in the list rolls the whole occurrence back, on both databases (COPY included).
    names = ["Bà Lan"] * len(NUMBERS)
    names[40] = "Nguyễn " * 200  # a 1,400-character name: far over what one SMS may carry
    rows = "".join(f"{n},{name}\n" for n, name in zip(NUMBERS, names, strict=True))
    (tmp_path / "lists").mkdir()
    (tmp_path / "lists" / "a.csv").write_text("phone,name\n" + rows, encoding="utf-8")
    campaign = write_campaign(tmp_path, "hang-ngay", "a.csv", *DAILY)
    text = campaign.read_text(encoding="utf-8")
    campaign.write_text(text.replace("text: Xin chào", "text: Xin chào {{ name }}"), "utf-8")
    monkeypatch.chdir(tmp_path)
    rt = _service(engine, db_url, FakeClock(vn(2, 8, 0, 1)), tmp_path)

    stats = SchedulerStats()
    schedule_pass(rt, stats)
    assert stats.materialized == []
    (problem,) = stats.broken.values()
    assert "lists/a.csv:42" in problem
    assert _outbox(rt) == ([(MISSED, "skipped")], 0)

    mended = rows.replace(names[40], "Ông Tư")
    (tmp_path / "lists" / "a.csv").write_text("phone,name\n" + mended, encoding="utf-8")
    assert _pass(rt).materialized == [f"hang-ngay/{KEY}"]
    assert _outbox(rt) == EXPECTED


def test_a_stuck_pass_shows_in_health_and_never_holds_up_a_stop(
    engine: Engine, db_url: str, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FakeClock(vn(5, 7))
    rt = _service(engine, db_url, clock, folder)
    released, entered = threading.Event(), threading.Event()

    def stuck_pass(rt: Runtime, stats: SchedulerStats) -> None:
        stats.current_file = str(folder / "hang-ngay.yaml")
        entered.set()
        released.wait(60)  # a read that does not finish (an NFS share, a YAML bomb before)

    monkeypatch.setattr(scheduler_module, "schedule_pass", stuck_pass)
    stats = SchedulerStats()

    async def scenario() -> health.HealthReport:
        stop = asyncio.Event()
        task = asyncio.create_task(run_scheduler(rt, stats, stop))
        await asyncio.to_thread(entered.wait, 10)
        assert stats.stuck_for(clock.monotonic()) is None  # just started
        clock.advance(timedelta(seconds=STUCK_AFTER_S + 1))
        stuck = stats.stuck_for(clock.monotonic())
        assert stuck is not None
        report = health.with_stuck_scheduler(
            health.HealthReport(clock.now(), []), stuck, stats.current_file
        )
        stop.set()
        await asyncio.wait_for(task, 5)  # returns at once: the pass is left to its thread
        return report

    try:
        report = asyncio.run(scenario())
    finally:
        released.set()
    assert not report.healthy
    (finding,) = report.as_json()["findings"]
    assert finding["rule"] == "scheduler-stuck"
    assert finding["message"] == (
        "the scheduler has been in one pass for 121 s (at hang-ngay.yaml): it is stuck"
    )


def test_a_campaign_that_fails_unexpectedly_never_stops_the_others(
    engine: Engine, db_url: str, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rt = _service(engine, db_url, FakeClock(vn(2, 8)), folder)  # 08:00 of 02/08: due
    write_campaign(folder, "a-loi", "a.csv", *DAILY)  # sorted first: fails before the other
    real = scheduler_module.services.schedule_due

    def schedule_due(rt: Runtime, path: Path) -> Any:
        if path.name == "a-loi.yaml":
            raise RuntimeError("a parser bug")
        return real(rt, path)

    monkeypatch.setattr(scheduler_module.services, "schedule_due", schedule_due)
    stats = SchedulerStats()
    schedule_pass(rt, stats)
    assert stats.passes == 1
    assert stats.materialized == [f"hang-ngay/{KEY}"]


def test_two_files_with_one_id_are_neither_scheduled_and_each_names_the_other(
    folder: Path, engine: Engine, db_url: str
) -> None:
    # An operator copies a campaign to start a new one and forgets to change its id.
    original = folder / "hang-ngay.yaml"
    (folder / "ban-sao.yaml").write_text(original.read_text(encoding="utf-8"), encoding="utf-8")
    rt = _service(engine, db_url, FakeClock(vn(2, 8, 0, 1)), folder)
    stats = SchedulerStats()
    schedule_pass(rt, stats)
    assert (stats.materialized, stats.skipped) == ([], [])
    assert stats.broken == {
        str(folder / "ban-sao.yaml"): "ban-sao.yaml:1: id: 'hang-ngay' is also the id of "
        "hang-ngay.yaml: give each campaign its own id",
        str(original): "hang-ngay.yaml:1: id: 'hang-ngay' is also the id of ban-sao.yaml: give "
        "each campaign its own id",
    }
    assert _outbox(rt) == ([], 0)
    (folder / "ban-sao.yaml").unlink()  # fixed: the next pass schedules the campaign
    assert _pass(rt).materialized == [f"hang-ngay/{KEY}"]


def test_a_yaml_file_that_is_no_campaign_is_skipped_with_one_line(
    folder: Path, engine: Engine, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    (folder / "units.yaml").write_text("source: GSO\nunits: []\n", encoding="utf-8")
    (folder / "notes.yml").write_text("- a list, not a mapping\n", encoding="utf-8")
    rt = _service(engine, db_url, FakeClock(vn(2, 8, 0, 1)), folder)
    stats = SchedulerStats()
    with caplog.at_level("INFO", logger="dispatcher.ops.scheduler"):
        schedule_pass(rt, stats)
        schedule_pass(rt, stats)
    assert stats.broken == {}
    assert stats.materialized == [f"hang-ngay/{KEY}"]
    skipped = [r.getMessage() for r in caplog.records if "not a campaign" in r.getMessage()]
    assert skipped == [
        f"{folder / 'notes.yml'}: not a campaign (no id, sms or broadcast at the top): skipped",
        f"{folder / 'units.yaml'}: not a campaign (no id, sms or broadcast at the top): skipped",
    ]  # one line each, not one per pass
