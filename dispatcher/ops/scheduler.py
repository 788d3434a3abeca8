"""The scheduler of ``dispatcher serve``: turns due occurrences of the campaign folder into work.

Each pass reads every campaign file in ``scheduler.campaigns_dir``. A file that does not load is
reported once per version (its path and the problem) and skipped, never half-read; the others go
on. Materializing is exactly-once in the database, so any number of schedulers may run.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from pathlib import Path

from dispatcher.bootstrap import Runtime
from dispatcher.core.errors import BadInput, DispatcherError
from dispatcher.sending import send as services

log = logging.getLogger(__name__)
CAMPAIGN_PATTERNS = ("*.yaml", "*.yml")


@dataclass
class SchedulerStats:
    passes: int = 0
    materialized: list[str] = field(default_factory=list)  # "campaign/key"
    skipped: list[str] = field(default_factory=list)
    broken: dict[str, str] = field(default_factory=dict)  # file → first problem


def campaign_files(folder: Path) -> list[Path]:
    return sorted({p for pattern in CAMPAIGN_PATTERNS for p in folder.glob(pattern)})


def schedule_pass(rt: Runtime, stats: SchedulerStats) -> None:
    """One look at every campaign file; errors are per file and logged, never fatal."""
    for path in campaign_files(rt.settings.resolved_campaigns_dir):
        try:
            result = services.schedule_due(rt, path)
        except BadInput as exc:
            _report_broken(stats, path, exc)
            continue
        except DispatcherError as exc:
            log.error("scheduling %s failed: %s", path, exc.message)
            continue
        stats.broken.pop(str(path), None)
        stats.materialized += [f"{result.campaign_id}/{k}" for k in result.materialized]
        stats.skipped += [f"{result.campaign_id}/{k}" for k in result.skipped]
        for key in result.materialized:
            log.info("occurrence %s of %s is due: queued for sending", key, result.campaign_id)
        for key in result.skipped:
            log.warning("occurrence %s of %s missed its window: skipped", key, result.campaign_id)
    stats.passes += 1


def _report_broken(stats: SchedulerStats, path: Path, exc: BadInput) -> None:
    first = str(exc.problems[0]) if exc.problems else exc.message
    if stats.broken.get(str(path)) != first:  # once per problem, not every pass
        log.error("campaign %s is not scheduled until fixed: %s", path, first)
    stats.broken[str(path)] = first


async def run_scheduler(rt: Runtime, stats: SchedulerStats, stop: asyncio.Event) -> None:
    while not stop.is_set():
        await asyncio.to_thread(schedule_pass, rt, stats)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), rt.settings.scheduler.interval_s)
