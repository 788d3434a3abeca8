"""What the service-level sending tests share: campaign files in a folder, and a runtime on a
controllable clock whose gateway is the real twilio client talking to the private simulator."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from dispatcher.bootstrap import Runtime
from dispatcher.core.status import Status
from dispatcher.sending.send import SendReport
from dispatcher.settings.config import Settings
from dispatcher.store.uow import unit_of_work_factory
from tests.fakes import FakeClock

VN = ZoneInfo("Asia/Ho_Chi_Minh")


def vn(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """A moment of August 2030 on Vietnamese clocks."""
    return datetime(2030, 8, day, hour, minute, second, tzinfo=VN)


def write_list(folder: Path, name: str, nationals: list[str]) -> None:
    (folder / "lists").mkdir(exist_ok=True)
    text = "phone\n" + "".join(f"{n}\n" for n in nationals)
    (folder / "lists" / name).write_text(text, encoding="utf-8")


def write_campaign(folder: Path, campaign_id: str, list_name: str, *sms: str) -> Path:
    path = folder / f"{campaign_id}.yaml"
    lines = [f"id: {campaign_id}", "title: Thử", "unit: UBND xã Tân Đoàn", "sms:",
             "  text: Xin chào", f"  recipients: [lists/{list_name}]", *sms]  # fmt: skip
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def simulator_runtime(engine: Engine, db_url: str, clock: FakeClock, **sending: Any) -> Runtime:
    settings = Settings.model_validate(
        {
            "database_url": db_url,
            "gateway": "simulator",
            "sending": {"rate_per_sender": 1000, **sending},
        }
    )
    return Runtime(settings, engine, unit_of_work_factory(engine), clock, {})


def counts(report: SendReport) -> dict[Status, int]:
    """The statuses of a report's one occurrence, without the zeros."""
    (run,) = report.runs
    return {status: n for status, n in run.result.counts.items() if n}


def activity(rt: Runtime, campaign_id: str) -> list[tuple[str, str | None]]:
    with rt.uow() as uow:
        return [(e.kind, e.detail) for e in uow.repo.lifecycle.activity(campaign_id, 50)]
