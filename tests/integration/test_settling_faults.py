"""One run settles its own unknowns through the real twilio client, against the simulator with
15 % of creates answered 500, 15 % 429, some hung (timed out) and some dropped: `send` and a
worker (as `serve` and `dispatcher worker` run it) each deliver every recipient exactly once in
one run, counted at the simulator. SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import random
import secrets
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine

from dispatcher.bootstrap import Runtime, gateway
from dispatcher.core.clock import SystemClock
from dispatcher.core.status import REACHED_PROVIDER, Status
from dispatcher.gateways.simulator import Simulator, SimulatorConfig
from dispatcher.ops.worker import Worker
from dispatcher.sending import send as services
from dispatcher.sending.liveness import registered
from dispatcher.settings.config import Settings
from dispatcher.store.uow import unit_of_work_factory
from tests.integration.sending_setup import write_campaign, write_list

RECIPIENTS = 200
VN = ZoneInfo("Asia/Ho_Chi_Minh")


def _faults(after_accept: bool) -> SimulatorConfig:
    return SimulatorConfig(
        rate_500=0.15, rate_429=0.15, accept_then_hang_rate=0.03, drop_rate=0.03,
        error_500_after_accept=after_accept, hang_s=5, seed=15,
    )  # fmt: skip


@dataclass(frozen=True)
class Provider:
    sim: Simulator
    environ: dict[str, str]  # what the twilio gateway needs to reach it

    def messages_to(self) -> Counter[str]:
        return Counter(m.to for m in self.sim.accepted_messages())


@pytest.fixture(params=[True, False], ids=["500-after-recording", "500-before"])
def provider(request: pytest.FixtureRequest) -> Iterator[Provider]:
    sid, token = "AC" + secrets.token_hex(16), secrets.token_hex(16)
    with Simulator(sid, token, _faults(request.param)) as sim:
        environ = {"TWILIO_ACCOUNT_SID": sid, "TWILIO_AUTH_TOKEN": token,
                   "TWILIO_API_BASE_URL": sim.base_url, "TWILIO_FROM": "VANQUAN"}  # fmt: skip
        yield Provider(sim, environ)


def _runtime(engine: Engine, db_url: str, provider: Provider) -> Runtime:
    settings = Settings.model_validate(
        {
            "database_url": db_url,
            "gateway": "twilio",
            "sending": {
                "rate_per_sender": 100_000, "burst_segments": 1000, "quiet_hours": "off",
                "request_timeout_s": 0.5, "unknown_settle_seconds": 0.2,
                # ~20 % of attempts end unknown and absent: 10 rounds leave one of 200 in
                # doubt with a chance of 200 x 0.21^11, about 10^-5
                "unknown_settle_rounds": 10,
                "retry": {"max_attempts": 10, "initial_backoff_s": 0.01, "max_backoff_s": 0.05,
                          "jitter_s": 0},
            },
        }
    )  # fmt: skip
    uow = unit_of_work_factory(engine)
    return Runtime(settings, engine, uow, SystemClock(), provider.environ)


def _numbers(folder: Path) -> set[str]:
    rng = random.Random(15)
    national: set[str] = set()
    while len(national) < RECIPIENTS:
        national.add(rng.choice(("91", "94", "88", "98")) + f"{rng.randrange(10**7):07d}")
    write_list(folder, "a.csv", sorted("0" + n for n in national))
    return {"+84" + n for n in national}


def test_one_send_delivers_everyone_exactly_once(
    tmp_path: Path, engine: Engine, db_url: str, provider: Provider
) -> None:
    recipients = _numbers(tmp_path)
    rt = _runtime(engine, db_url, provider)
    report = services.send(rt, write_campaign(tmp_path, "mot-lan", "a.csv"))

    (run,) = report.runs
    assert provider.messages_to() == Counter(recipients)  # everyone, exactly once
    assert {s for s, n in run.result.counts.items() if n} <= REACHED_PROVIDER
    assert report.complete and run.result.unknown_reason is None
    faults = provider.sim.counters()
    assert faults["500_after_accept" if provider.sim.config.error_500_after_accept
                  else "500_before_accept"] > 0  # fmt: skip
    assert faults["429"] > 0 and faults["hung"] > 0 and faults["dropped"] > 0


def test_a_worker_settles_its_unknowns_before_it_moves_on(
    tmp_path: Path, engine: Engine, db_url: str, provider: Provider
) -> None:
    recipients = _numbers(tmp_path)
    rt = _runtime(engine, db_url, provider)
    due = (datetime.now(VN) - timedelta(minutes=1)).strftime("%Y-%m-%d %H:%M")
    path = write_campaign(tmp_path, "mot-lan", "a.csv", f"  schedule: {{at: [{due}]}}")
    assert services.schedule_due(rt, path).materialized  # what `serve`'s scheduler does

    async def work_until_idle() -> None:
        with gateway(rt) as gw:
            try:
                async with registered(rt, "worker") as me:
                    await Worker(rt, gw, me).run(until_idle=True)
            finally:
                await gw.aclose()

    asyncio.run(work_until_idle())  # one run of the occurrence: a second would come 15 s later
    assert provider.messages_to() == Counter(recipients)
    with rt.uow() as uow:
        occurrence = uow.repo.occurrence("mot-lan", next(iter(uow.repo.occurrence_keys("mot-lan"))))
        assert occurrence is not None
        assert uow.repo.deliveries_in(occurrence.id, Status.UNKNOWN) == []
        assert uow.repo.deliveries_in(occurrence.id, Status.PENDING) == []
