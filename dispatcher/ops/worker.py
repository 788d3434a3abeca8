"""The worker: sends whatever outbox work is due, occurrence after occurrence, until stopped.

``dispatcher worker`` runs one on its own; ``dispatcher serve`` runs one beside its scheduler. Any
number of them may share one PostgreSQL: each claims rows with ``SKIP LOCKED``, paces against the
shared per-sender budget, and heartbeats, so that the claims of a worker that dies are reconciled
by the others (never blindly resent).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from dispatcher.bootstrap import Runtime, gateway
from dispatcher.campaigns.spec import Campaign, load_campaign
from dispatcher.core.errors import ConfigError, DispatcherError, Problem
from dispatcher.core.signals import stop_on_signals
from dispatcher.gateways.base import Gateway
from dispatcher.safety.budgets import budget_rule, refuse_all
from dispatcher.safety.gates import clock_rule_for, sending_gate
from dispatcher.safety.halting import stop_message
from dispatcher.sending import tracking
from dispatcher.sending.liveness import registered
from dispatcher.sending.pacing import Pacer, Pacing
from dispatcher.sending.sender import BudgetCheck, Progress, RunResult, Sender
from dispatcher.sending.settling import SettlePolicy
from dispatcher.sending.shared_pacing import SharedPacer
from dispatcher.store.health import PAUSED
from dispatcher.store.uow import UnitOfWork
from dispatcher.store.workers import HaltState, Identity, Job

log = logging.getLogger(__name__)
IDLE_S = 2.0  # with nothing to do, look again after this long
REST_S = 15.0  # an occurrence that could not go on (paused, quiet, retries) is left this long


@dataclass
class WorkerStats:
    runs: int = 0
    sent: int = 0  # rows that reached the provider
    blocked: dict[str, str] = field(default_factory=dict)  # campaign → why it waits


def make_pacer(rt: Runtime) -> Pacing:
    """The shared budget on PostgreSQL (several workers), this process's own on SQLite."""
    sending = rt.settings.sending
    if rt.engine.dialect.name == "postgresql":
        return SharedPacer(rt.uow, sending.rate_per_sender, sending.burst_segments,
                           sending.sender_rates)  # fmt: skip
    return Pacer(sending.rate_per_sender, sending.burst_segments, sending.sender_rates)


class Worker:
    def __init__(
        self, rt: Runtime, gateway: Gateway, me: Identity, pacer: Pacing | None = None
    ) -> None:
        self._rt = rt
        self._gateway = gateway
        self._me = me
        self._pacer = pacer or make_pacer(rt)
        self._stopping = asyncio.Event()
        self._current: Sender | None = None
        self._resting: dict[int, float] = {}  # occurrence id → monotonic time to look again
        self._paused: dict[int, str] = {}  # resting because its campaign is paused: its id
        self._halt_seen: HaltState | None = None
        self.stats = WorkerStats()

    def stop(self) -> None:
        self._stopping.set()
        if self._current is not None:
            self._current.stop()

    async def run(self, until_idle: bool = False) -> WorkerStats:
        """Work until stopped (or, with ``until_idle``, until nothing is left to do now)."""
        while not self._stopping.is_set():
            halted = await asyncio.to_thread(self._halted)
            job = None if halted else await asyncio.to_thread(self._next_job)
            if job is None:
                if until_idle:
                    break
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), IDLE_S)
                continue
            await self._work(job)
        return self.stats

    def _halted(self) -> bool:
        """Whether the global halt is on. While it is, nothing is claimed, and the occurrences
        that rest because the halt stopped them are forgotten: after `unhalt` they go on at once."""
        with self._rt.uow() as uow:
            state = uow.workers.halt_state()
        if state is not None:
            self._resting.clear()
        if (state is None) != (self._halt_seen is None):  # log the changes, not every look
            log.warning("%s", stop_message(state) if state else "halt lifted: sending resumes")
        self._halt_seen = state
        return state is not None

    def _next_job(self) -> Job | None:
        now, resting = self._rt.clock.monotonic(), self._resting
        for occurrence_id in [i for i, until in resting.items() if until <= now]:
            del resting[occurrence_id]
            self._paused.pop(occurrence_id, None)
        stale = self._rt.clock.now() - timedelta(seconds=self._rt.settings.sending.lease_s)
        with self._rt.uow() as uow:
            self._end_rests_of_resumed(uow)
            return uow.workers.next_job(self._rt.clock.now(), stale, exclude=set(resting))

    def _end_rests_of_resumed(self, uow: UnitOfWork) -> None:
        """A paused occurrence rests no longer once its campaign is resumed: a resume reaches
        the workers within a look (IDLE_S), not a rest (REST_S)."""
        lifecycle = uow.repo.lifecycle
        states = {c: lifecycle.campaign_state(c) for c in set(self._paused.values())}
        for occurrence_id, campaign_id in list(self._paused.items()):
            if states[campaign_id] != PAUSED:
                del self._paused[occurrence_id]
                self._resting.pop(occurrence_id, None)

    def _campaign_paused(self, campaign_id: str) -> bool:
        with self._rt.uow() as uow:
            return uow.repo.lifecycle.campaign_state(campaign_id) == PAUSED

    async def _work(self, job: Job) -> None:
        campaign = _load(job.source_path)
        sending = self._rt.settings.sending
        if campaign is not None and campaign.spec.sms is not None and campaign.spec.sms.rate:
            for name in campaign.spec.sms.sender_pool:
                self._pacer.set_rate(name, campaign.spec.sms.rate)
        rule = clock_rule_for(campaign, self._rt.settings)
        latest: dict[str, Progress] = {}  # this run's progress, for the stop summary's count
        sender = Sender(
            self._rt.uow, self._gateway, self._rt.clock, batch_size=sending.batch_size,
            concurrency=sending.concurrency, on_progress=lambda p: latest.update(now=p),
            pacer=self._pacer, identity=self._me, lease=timedelta(seconds=sending.lease_s),
            gate=sending_gate(job.campaign_id, rule),
            budget=_budget_check(campaign, self._rt, job.campaign_id),
            settle=SettlePolicy.from_settings(sending),  # its own unknowns, before it moves on
        )  # fmt: skip
        self._current = sender
        try:
            result = await sender.run(job.occurrence_id)
        finally:
            self._current = None
            if "now" in latest:
                self.stats.sent += latest["now"].reached
        self._after(job, result)
        if result.blocked:
            paused = await asyncio.to_thread(self._campaign_paused, job.campaign_id)
            if paused:  # its rest ends as soon as the campaign is resumed
                self._paused[job.occurrence_id] = job.campaign_id

    def _after(self, job: Job, result: RunResult) -> None:
        self.stats.runs += 1
        if result.blocked:
            self.stats.blocked[job.campaign_id] = result.blocked
        else:
            self.stats.blocked.pop(job.campaign_id, None)
        if result.halted:
            log.error("sending halted: %s", result.halted)
        if result.over_budget:
            log.error("campaign %s stopped: %s", job.campaign_id, result.over_budget)
        if result.blocked or result.halted or not result.complete:
            self._resting[job.occurrence_id] = self._rt.clock.monotonic() + REST_S


def _budget_check(campaign: Campaign | None, rt: Runtime, campaign_id: str) -> BudgetCheck | None:
    """The campaign's budgets (without its file, the monthly one); when they cannot be kept
    (no price), nothing is sent: a budget is never overspent by a worker guessing."""
    try:
        rule = budget_rule(campaign, rt.settings, campaign_id)
    except DispatcherError as exc:
        log.error("campaign %s: %s: nothing is sent", campaign_id, exc.message)
        return refuse_all(exc.message)
    return rule.room if rule is not None else None


def _load(source_path: str) -> Campaign | None:
    """The campaign file, for its rates and quiet hours; None if it is gone or broken (the
    rows carry their text and sender, so sending goes on with the configured defaults)."""
    try:
        return load_campaign(Path(source_path))
    except DispatcherError as exc:
        log.warning("campaign file %s unreadable (%s): config defaults apply", source_path, exc)
        return None


def run_worker(rt: Runtime, on_ready: Callable[[str], None]) -> WorkerStats:
    """``dispatcher worker``: one more sender process on the shared PostgreSQL, until SIGTERM."""
    if rt.engine.dialect.name != "postgresql":
        message = (
            "several workers need PostgreSQL; on SQLite one process sends: use `dispatcher "
            "serve` (or `dispatcher send`), or set database_url: postgresql://user@host/db"
        )
        raise ConfigError(Problem(message, field="database_url"))
    tracking.require_provider_gateway(rt, "worker")
    return asyncio.run(_work_until_stopped(rt, on_ready))


async def _work_until_stopped(rt: Runtime, on_ready: Callable[[str], None]) -> WorkerStats:
    with gateway(rt) as gw:
        try:
            async with registered(rt, "worker") as me:
                worker = Worker(rt, gw, me)
                with stop_on_signals(worker.stop):
                    on_ready(me.id)
                    return await worker.run()
        finally:
            await gw.aclose()
