"""The use cases. The CLI (and later the HTTP service) call these; they call the adapters.

Each function takes a :class:`Runtime` (database, clock, settings) or plain settings and returns a
plain result object for the caller to format. Nothing here prints.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from dispatcher.bootstrap import Runtime, gateway
from dispatcher.broadcast.service import airings_to_register
from dispatcher.campaigns.registry import register_campaign
from dispatcher.campaigns.spec import Campaign, load_campaign
from dispatcher.core import schedule
from dispatcher.core.errors import BadInput, Problem
from dispatcher.core.signals import stop_on_signals
from dispatcher.core.status import Status
from dispatcher.safety.budgets import budget_rule
from dispatcher.safety.gates import clock_rule_for, effective_quiet_hours, sending_gate
from dispatcher.sending.liveness import registered
from dispatcher.sending.materialize import materialize
from dispatcher.sending.pacing import Pacer, campaign_pacer
from dispatcher.sending.prepare import (
    Prepared,
    broadcast_units,
    checked_without_lists,
    prepare_campaign,
    sms_audience,
)
from dispatcher.sending.prepare import ValidationResult as ValidationResult  # where they were
from dispatcher.sending.prepare import validate as validate
from dispatcher.sending.sender import BudgetCheck, Gate, Progress, RunResult, Sender
from dispatcher.sending.settling import SettlePolicy
from dispatcher.settings.config import Settings
from dispatcher.store.repository import Repository

log = logging.getLogger(__name__)

ONCE = "once"  # the occurrence key of a campaign without a schedule
OCCURRENCE_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:+-]{0,63}$")


# -- sending -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class OccurrenceRun:
    key: str
    scheduled_at: datetime
    recipients: int
    result: RunResult
    done_before: bool = False  # complete before this run: it sent nothing
    last_sent_at: datetime | None = None  # with done_before: when the last one reached them


@dataclass(frozen=True)
class SendReport:
    campaign: str
    runs: list[OccurrenceRun]
    skipped: list[str]
    upcoming: datetime | None

    @property
    def halted(self) -> str | None:
        return next((r.result.halted for r in self.runs if r.result.halted), None)

    @property
    def over_budget(self) -> str | None:
        return next((r.result.over_budget for r in self.runs if r.result.over_budget), None)

    @property
    def complete(self) -> bool:
        return all(r.result.complete for r in self.runs)


def send(
    rt: Runtime,
    path: Path,
    occurrence_key: str | None = None,
    on_progress: Callable[[str, Progress], None] | None = None,
    preflight: Callable[[Prepared], None] | None = None,
) -> SendReport:
    """Send every occurrence that is due now (or the one named), resuming what was started.

    ``preflight`` sees the checked campaign before anything is written, and may refuse by
    raising (the approval and confirmation of a real-gateway send).
    """
    if occurrence_key is not None and not OCCURRENCE_KEY.match(occurrence_key):
        message = "use letters, digits and - _ . : + (at most 64 characters)"
        raise BadInput(Problem(message, field="--occurrence"))
    prepared = prepare_campaign(path, rt.settings, rt.environ)  # carriers' rules too
    campaign = prepared.campaign
    if campaign.spec.sms is None:
        raise BadInput(campaign.problem([], "this campaign has no `sms` section: nothing to send"))
    if preflight is not None:
        preflight(prepared)
    now = rt.clock.now()
    due, missed, upcoming = _occurrences(campaign, now, occurrence_key, rt.settings)
    with rt.uow() as uow:
        register_campaign(uow.repo, campaign, airings_to_register(campaign, rt.settings), now)
        skipped = _record_missed(uow.repo, campaign, missed, now)
        uow.commit()
    runs = [_send_occurrence(rt, prepared, key, at, on_progress) for key, at in due]
    return SendReport(campaign.id, runs, skipped, upcoming)


Timed = tuple[str, datetime]


@dataclass(frozen=True)
class ScheduledCampaign:
    campaign_id: str
    materialized: list[str]  # occurrence keys whose outbox rows this call created
    skipped: list[str]  # occurrences recorded as missed (past their grace period)


def schedule_due(rt: Runtime, path: Path) -> ScheduledCampaign:
    """What the scheduler does for one campaign file: register it, record missed occurrences,
    and create the outbox rows of due ones (exactly once, however many schedulers run)."""
    campaign = load_campaign(path)
    now = rt.clock.now()
    if campaign.spec.sms is None or campaign.spec.sms.schedule is None:
        return ScheduledCampaign(campaign.id, [], [])
    due, missed, _ = _occurrences(campaign, now, None, rt.settings)
    units = broadcast_units(campaign, rt.settings)
    with rt.uow() as uow:
        register_campaign(uow.repo, campaign, airings_to_register(campaign, rt.settings), now)
        skipped = _record_missed(uow.repo, campaign, missed, now)
        known = uow.repo.occurrence_keys(campaign.id)
        state = uow.workers.campaign_states([campaign.id]).get(campaign.id)
        uow.commit()
    todo = [(key, at) for key, at in due if key not in known]
    if not todo or state == "canceled":
        return ScheduledCampaign(campaign.id, [], skipped)
    # Only when something is due: what can be checked without the lists, then one pass over
    # them per occurrence that renders, checks and writes each message (a problem found on the
    # way rolls the whole occurrence back, so nothing of a faulty campaign is queued).
    carriers, problems = checked_without_lists(campaign, rt.settings, rt.environ, units)
    if problems:
        raise BadInput(problems)
    audience = sms_audience(campaign)
    assert audience is not None
    made = [
        key
        for key, at in todo
        if materialize(rt, campaign, audience, key, at, carriers.check).created
    ]
    return ScheduledCampaign(campaign.id, made, skipped)


def _occurrences(
    campaign: Campaign, now: datetime, key: str | None, settings: Settings
) -> tuple[list[Timed], list[Timed], datetime | None]:
    """Split the schedule at ``now``: due (within the grace period), missed, and the next one."""
    sms = campaign.spec.sms
    assert sms is not None
    if key is not None:
        return [(key, now)], [], None
    if sms.schedule is None:
        return [(ONCE, now)], [], None
    spec, grace = sms.schedule, timedelta(minutes=settings.sending.grace_period_minutes)
    window = effective_quiet_hours(campaign, settings)
    due: list[Timed] = []
    missed: list[Timed] = []
    upcoming = None
    for at in schedule.occurrences(spec, campaign.tz):
        # Due from when it may really start: one that falls in quiet hours waits for them to
        # end, and its grace period counts from then (not missed overnight).
        opens = window.next_open(at, campaign.tz) if window else at
        state = schedule.classify(opens, now, grace)
        if state == "future":
            upcoming = at
            break
        (due if state == "due" else missed).append((schedule.occurrence_key(at), at))
    return due, missed, upcoming


def _record_missed(
    repo: Repository, campaign: Campaign, missed: list[Timed], now: datetime
) -> list[str]:
    """Record occurrences that missed their window as skipped, once: never a late blast."""
    known = repo.occurrence_keys(campaign.id)
    skipped = []
    for key, at in missed:
        if key in known:
            continue
        repo.add_occurrence(campaign.id, key, at, "skipped", now)
        detail = "missed its sending window (grace period); never sent late"
        repo.record_activity("occurrence-skipped", now, campaign.id, key, detail)
        skipped.append(key)
    return skipped


def _send_occurrence(
    rt: Runtime,
    prepared: Prepared,
    key: str,
    at: datetime,
    on_progress: Callable[[str, Progress], None] | None,
) -> OccurrenceRun:
    campaign, audience = prepared.campaign, prepared.audience
    assert audience is not None
    made = materialize(rt, campaign, audience, key, at)
    if not made.created and (done := _done_before(rt, made.occurrence_id)) is not None:
        counts, last = done  # a second `send` of it: say so, start no gateway
        return OccurrenceRun(key, at, made.recipients, RunResult(counts, None, False), True, last)
    report = (lambda p: on_progress(key, p)) if on_progress else None
    pacer = campaign_pacer(rt.settings, campaign)
    gate = sending_gate(campaign.id, clock_rule_for(campaign, rt.settings))
    budget = budget_rule(campaign, rt.settings)
    check = budget.room if budget is not None else None
    result = asyncio.run(run_sender(rt, made.occurrence_id, pacer, gate, report, check))
    return OccurrenceRun(key, at, made.recipients, result)


def _done_before(
    rt: Runtime, occurrence_id: int
) -> tuple[dict[Status, int], datetime | None] | None:
    """An occurrence with nothing left to send or to ask about: its counts and last sending."""
    with rt.uow() as uow:
        counts = uow.repo.status_counts(occurrence_id)
        if any(counts.get(status) for status in (Status.PENDING, Status.SENDING, Status.UNKNOWN)):
            return None
        return counts, uow.workers.last_sent_at(occurrence_id)


def pacing_for(settings: Settings, pacer: Pacer) -> Pacer | None:
    """The pacing a send keeps: none through the built-in simulator, which stands in for the
    provider in the demo and has no carrier queue to overflow (the demo would otherwise wait
    out Twilio's per-sender rate for nothing); as configured through any real gateway, and
    through `gateway: twilio` pointed at a standalone simulator (how pacing is tested)."""
    if settings.gateway == "simulator":
        log.info("pacing off: the built-in simulator stands in for the provider")
        return None
    return pacer


async def run_sender(
    rt: Runtime,
    occurrence_id: int,
    pacer: Pacer,
    gate: Gate,
    on_progress: Callable[[Progress], None] | None,
    budget: BudgetCheck | None = None,
) -> RunResult:
    sending = rt.settings.sending
    with gateway(rt) as gw:
        try:
            async with registered(rt, "send") as me:
                sender = Sender(
                    rt.uow, gw, rt.clock, batch_size=sending.batch_size,
                    concurrency=sending.concurrency, on_progress=on_progress,
                    pacer=pacing_for(rt.settings, pacer),
                    identity=me, lease=timedelta(seconds=sending.lease_s), gate=gate,
                    budget=budget, wait_for_others=True,
                    settle=SettlePolicy.from_settings(sending),
                )  # fmt: skip
                with stop_on_signals(sender.stop):
                    return await sender.run(occurrence_id)
        finally:
            await gw.aclose()
