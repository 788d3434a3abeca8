"""A worker that found its campaign paused takes the occurrence up again as soon as the campaign
is resumed: within its next look, not after the rest it gives an occurrence that cannot go on."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine

from dispatcher.bootstrap import Runtime, gateway
from dispatcher.core.clock import SystemClock
from dispatcher.ops import controls
from dispatcher.ops.worker import Worker
from dispatcher.sending import send as services
from dispatcher.sending.liveness import registered
from dispatcher.settings.config import Settings
from dispatcher.store.uow import unit_of_work_factory
from dispatcher.store.workers import Job
from tests.integration.sending_setup import VN, write_campaign, write_list


def _runtime(engine: Engine, db_url: str) -> Runtime:
    settings = Settings.model_validate({
        "database_url": db_url, "gateway": "simulator",
        "sending": {"rate_per_sender": 1000, "quiet_hours": "off"},
    })  # fmt: skip
    return Runtime(settings, engine, unit_of_work_factory(engine), SystemClock(), {})


def test_a_resumed_campaign_is_taken_up_at_the_next_look(
    tmp_path: Path, engine: Engine, db_url: str
) -> None:
    rt = _runtime(engine, db_url)
    write_list(tmp_path, "a.csv", ["0912345678", "0987654321"])
    due = (datetime.now(VN) - timedelta(minutes=1)).strftime("%Y-%m-%d %H:%M")
    path = write_campaign(tmp_path, "tam-dung", "a.csv", f"  schedule: {{at: [{due}]}}")
    assert services.schedule_due(rt, path).materialized

    async def steps() -> tuple[Job, Job | None, Job | None, int]:
        with gateway(rt) as gw:
            try:
                async with registered(rt, "worker") as me:
                    worker = Worker(rt, gw, me)
                    job = await asyncio.to_thread(worker._next_job)
                    assert job is not None
                    # Paused between the look and the run: the run is blocked, sends nothing,
                    # and the occurrence rests.
                    controls.pause(rt, "tam-dung", "thử", by="test")
                    await worker._work(job)
                    resting = await asyncio.to_thread(worker._next_job)
                    controls.resume(rt, "tam-dung", "xong", by="test")
                    resumed = await asyncio.to_thread(worker._next_job)
                    return job, resting, resumed, worker.stats.sent
            finally:
                await gw.aclose()

    job, resting, resumed, sent = asyncio.run(steps())
    assert sent == 0 and resting is None  # paused: nothing sent, then left alone
    assert resumed is not None and resumed.occurrence_id == job.occurrence_id  # no 15 s wait
