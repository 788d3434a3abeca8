"""The scheduler of ``dispatcher serve``: turns due occurrences of the campaign folder into work.

Each pass reads every campaign file in ``scheduler.campaigns_dir``. A file that does not load, or
has the id of another file, is reported once per version (its path and the problem) and skipped,
never half-read; the others go on. A YAML file that is no campaign is skipped with one line per
process. Materializing is exactly-once in the database, so any number of schedulers may run.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dispatcher.bootstrap import Runtime
from dispatcher.campaigns.folder import campaign_files, survey
from dispatcher.core.errors import BadInput, DispatcherError
from dispatcher.sending import send as services

log = logging.getLogger(__name__)


# A pass that has not ended after this long is stuck (a file that does not finish reading, a
# database that does not answer): `/health` says so, and `serve` stops without waiting for it.
STUCK_AFTER_S = 120.0


@dataclass
class SchedulerStats:
    passes: int = 0
    materialized: list[str] = field(default_factory=list)  # "campaign/key"
    skipped: list[str] = field(default_factory=list)
    broken: dict[str, str] = field(default_factory=dict)  # file → first problem
    not_campaigns: set[str] = field(default_factory=set)  # YAML files skipped (said once)
    pass_started: float | None = None  # clock.monotonic() of the running pass; None: idle
    current_file: str | None = None  # the file the running pass is on

    def stuck_for(self, now: float) -> float | None:
        """Seconds the running pass has lasted, when past ``STUCK_AFTER_S``; else None."""
        if self.pass_started is None or now - self.pass_started < STUCK_AFTER_S:
            return None
        return now - self.pass_started


def schedule_pass(rt: Runtime, stats: SchedulerStats) -> None:
    """One look at every campaign file; errors are per file and logged, never fatal."""
    paths = campaign_files(rt.settings.resolved_campaigns_dir)
    found = survey(paths, reading=lambda path: setattr(stats, "current_file", str(path)))
    for path in paths:
        stats.current_file = str(path)
        if path in found.skipped:
            _report_skipped(stats, path, found.skipped[path])
            continue
        try:
            if path in found.clashes:
                raise BadInput(found.clashes[path])
            result = services.schedule_due(rt, path)
        except BadInput as exc:
            _report_broken(stats, path, exc)
            continue
        except DispatcherError as exc:
            log.error("scheduling %s failed: %s", path, exc.message)
            continue
        except Exception:  # one campaign's fault is that campaign's, never the service's end
            log.exception("scheduling %s failed unexpectedly; the other campaigns go on", path)
            continue
        stats.broken.pop(str(path), None)
        stats.materialized += [f"{result.campaign_id}/{k}" for k in result.materialized]
        stats.skipped += [f"{result.campaign_id}/{k}" for k in result.skipped]
        for key in result.materialized:
            log.info("occurrence %s of %s is due: queued for sending", key, result.campaign_id)
        for key in result.skipped:
            log.warning("occurrence %s of %s missed its window: skipped", key, result.campaign_id)
    stats.passes += 1


def _report_skipped(stats: SchedulerStats, path: Path, reason: str) -> None:
    if str(path) not in stats.not_campaigns:
        log.info("%s: %s", path, reason)
        stats.not_campaigns.add(str(path))


def _report_broken(stats: SchedulerStats, path: Path, exc: BadInput) -> None:
    first = str(exc.problems[0]) if exc.problems else exc.message
    if stats.broken.get(str(path)) != first:  # once per problem, not every pass
        log.error("campaign %s is not scheduled until fixed: %s", path, first)
    stats.broken[str(path)] = first


async def run_scheduler(rt: Runtime, stats: SchedulerStats, stop: asyncio.Event) -> None:
    """A pass every ``scheduler.interval_s`` until ``stop``; a stop never waits for a pass."""
    while not stop.is_set():
        stats.pass_started = rt.clock.monotonic()
        running = asyncio.ensure_future(_in_daemon_thread(schedule_pass, rt, stats))
        stopping = asyncio.ensure_future(stop.wait())
        await asyncio.wait({running, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if not running.done():  # stopped mid-pass: its thread is left to the process's end
            log.warning("stopping during a scheduling pass (at %s)", stats.current_file)
            running.cancel()
            return
        running.result()
        stats.pass_started = stats.current_file = None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), rt.settings.scheduler.interval_s)


async def _in_daemon_thread(work: Callable[..., None], *args: Any) -> None:
    """``work(*args)`` on a daemon thread: unlike asyncio's executor threads, one that never
    returns (a stuck read) does not keep the process from exiting on SIGTERM."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()

    def settle(error: BaseException | None) -> None:
        if done.done():
            return
        if error is None:
            done.set_result(None)
        else:
            done.set_exception(error)

    def run() -> None:
        error: BaseException | None = None
        try:
            work(*args)
        except BaseException as exc:  # handed to the awaiting task, raised there
            error = exc
        with contextlib.suppress(RuntimeError):  # the loop is gone: nobody waits any more
            loop.call_soon_threadsafe(settle, error)

    threading.Thread(target=run, name="dispatcher-scheduler", daemon=True).start()
    await done
