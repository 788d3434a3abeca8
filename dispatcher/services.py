"""The use cases. The CLI (and later the HTTP service) call these; they call the adapters.

Each function takes a :class:`Runtime` (database, clock, settings) or plain settings and returns a
plain result object for the caller to format. Nothing here prints.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from dispatcher import schedule
from dispatcher.audience import AudienceScan, scan_audience
from dispatcher.bootstrap import Runtime, gateway
from dispatcher.broadcast_service import check_broadcast, planned_airings
from dispatcher.campaign import Campaign, load_campaign
from dispatcher.compose import Composition, compose_sms, render_deliveries, template_columns
from dispatcher.errors import BadInput, DispatcherError, Problem
from dispatcher.gates import sending_gate
from dispatcher.liveness import registered
from dispatcher.optouts import OptOutFilter
from dispatcher.outbox import DeliveryView, LogFilter
from dispatcher.pacing import Pacer, assign_senders
from dispatcher.phones import InvalidPhone, normalize
from dispatcher.registry import register_campaign
from dispatcher.sender import Gate, Progress, RunResult, Sender
from dispatcher.settings import Settings
from dispatcher.signals import stop_on_signals
from dispatcher.status import Status
from dispatcher.store.repository import Repository

ONCE = "once"  # the occurrence key of a campaign without a schedule
NEXT_OCCURRENCES = 5
OCCURRENCE_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:+-]{0,63}$")


@dataclass
class Prepared:
    """A checked campaign: its audience (read again to send) and what the messages cost."""

    campaign: Campaign
    audience: AudienceScan | None
    composition: Composition | None
    warnings: list[Problem] = field(default_factory=list)


def prepare_campaign(path: Path) -> Prepared:
    """Load and check a campaign completely; raises :class:`BadInput` listing every problem."""
    campaign = load_campaign(path)
    audience = composition = None
    problems: list[Problem] = []
    sms = campaign.spec.sms
    if sms is not None:
        audience = scan_audience(
            [campaign.resolve(p) for p in sms.recipients],
            [campaign.resolve(p) for p in sms.exclude],
            display_base=Path.cwd(),
            columns=template_columns(campaign),
        )
        composition = compose_sms(campaign, audience)  # one pass: counts and costs
        problems += composition.problems
    if campaign.spec.broadcast is not None:
        problems += check_broadcast(campaign)
    if problems:
        raise BadInput(problems)
    warnings = _list_warnings(audience)
    return Prepared(campaign, audience, composition, warnings)


def _list_warnings(audience: AudienceScan | None) -> list[Problem]:
    if audience is None:
        return []
    unusable = audience.summary.exclude_invalid
    rows = [Problem(f"{r.reason}: '{r.raw}'", r.file, r.line) for r in unusable.rows]
    if unusable.omitted:
        rows.append(Problem(f"... and {unusable.omitted} more unusable numbers in exclusion lists"))
    return rows


@dataclass(frozen=True)
class ValidationResult:
    path: str
    problems: list[Problem]
    warnings: list[Problem]


def validate(paths: list[Path]) -> list[ValidationResult]:
    """Check each campaign file fully (lists, templates, limits); never raises for bad input."""
    results = []
    for path in paths:
        try:
            prepared = prepare_campaign(path)
            results.append(ValidationResult(str(path), [], prepared.warnings))
        except BadInput as exc:
            results.append(ValidationResult(str(path), exc.problems, []))
    return results


@dataclass(frozen=True)
class Plan:
    prepared: Prepared
    occurrences: list[datetime]
    schedule_ended: datetime | None


def plan(path: Path, now: datetime) -> Plan:
    prepared = prepare_campaign(path)
    campaign = prepared.campaign
    sms = campaign.spec.sms
    if sms is None or sms.schedule is None:
        return Plan(prepared, [], None)
    spec = sms.schedule
    upcoming = [
        at
        for at in schedule.expand(spec.start, spec.end, spec.times, spec.weekdays, campaign.tz)
        if at >= now
    ][:NEXT_OCCURRENCES]
    last_week = max(spec.start, spec.end - timedelta(days=6))  # the last occurrence is in it
    last = list(schedule.expand(last_week, spec.end, spec.times, spec.weekdays, campaign.tz))
    ended = last[-1] if last and not upcoming else None
    return Plan(prepared, upcoming, ended)


# -- sending -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class OccurrenceRun:
    key: str
    scheduled_at: datetime
    recipients: int
    result: RunResult


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
    def complete(self) -> bool:
        return all(r.result.complete for r in self.runs)


def send(
    rt: Runtime,
    path: Path,
    occurrence_key: str | None = None,
    on_progress: Callable[[str, Progress], None] | None = None,
) -> SendReport:
    """Send every occurrence that is due now (or the one named), resuming what was started."""
    if occurrence_key is not None and not OCCURRENCE_KEY.match(occurrence_key):
        message = "use letters, digits and - _ . : + (at most 64 characters)"
        raise BadInput(Problem(message, field="--occurrence"))
    prepared = prepare_campaign(path)
    campaign = prepared.campaign
    if campaign.spec.sms is None:
        raise BadInput(campaign.problem([], "this campaign has no `sms` section: nothing to send"))
    now = rt.clock.now()
    due, missed, upcoming = _occurrences(campaign, now, occurrence_key, rt.settings)
    with rt.uow() as uow:
        register_campaign(uow.repo, campaign, planned_airings(campaign), now)
        skipped = _record_missed(uow.repo, campaign, missed, now)
        uow.commit()
    runs = [_send_occurrence(rt, prepared, key, at, on_progress) for key, at in due]
    return SendReport(campaign.id, runs, skipped, upcoming)


Timed = tuple[str, datetime]


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
    due: list[Timed] = []
    missed: list[Timed] = []
    upcoming = None
    for at in schedule.expand(spec.start, spec.end, spec.times, spec.weekdays, campaign.tz):
        state = schedule.classify(at, now, grace)
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
    now = rt.clock.now()
    with rt.uow() as uow:
        occurrence = uow.repo.occurrence(campaign.id, key)
        if occurrence is None:
            occurrence = uow.repo.add_occurrence(campaign.id, key, at, "open", now)
            # The lists are read again and the rows streamed into the outbox in chunks, leaving
            # out the numbers on the opt-out list (checked in this same transaction).
            allowed = OptOutFilter(uow.optouts)
            rows = render_deliveries(campaign, allowed(audience))
            pacer = campaign_pacer(rt.settings, campaign)
            pool = campaign.spec.sms.sender_pool if campaign.spec.sms else [None]
            # A pool of senders shares the work in proportion to their rates.
            uow.repo.add_deliveries(occurrence, assign_senders(rows, pool, pacer.rate_of), now)
            detail = f"left out {allowed.excluded} number(s) on the opt-out list"
            uow.repo.record_activity("optout-excluded", now, campaign.id, key, detail)
            uow.commit()
        occurrence_id, recipients = occurrence.id, occurrence.recipients
        if occurrence.state == "skipped":
            raise DispatcherError(f"occurrence {key} of {campaign.id} was skipped; it is not sent")
    report = (lambda p: on_progress(key, p)) if on_progress else None
    pacer = campaign_pacer(rt.settings, campaign)
    gate = sending_gate(campaign.id)
    result = asyncio.run(_run_sender(rt, occurrence_id, pacer, gate, report))
    return OccurrenceRun(key, at, recipients, result)


def campaign_pacer(settings: Settings, campaign: Campaign) -> Pacer:
    """Per-sender pacing: the campaign's `sms.rate` for its senders, else config's rates."""
    sending = settings.sending
    sms = campaign.spec.sms
    rates = dict(sending.sender_rates)
    if sms is not None and sms.rate is not None:
        rates.update({sender or "": sms.rate for sender in sms.sender_pool})
    return Pacer(sending.rate_per_sender, sending.burst_segments, rates)


async def _run_sender(
    rt: Runtime,
    occurrence_id: int,
    pacer: Pacer,
    gate: Gate,
    on_progress: Callable[[Progress], None] | None,
) -> RunResult:
    sending = rt.settings.sending
    with gateway(rt) as gw:
        try:
            async with registered(rt, "send") as me:
                sender = Sender(
                    rt.uow, gw, rt.clock, sending.batch_size, sending.concurrency, on_progress,
                    pacer, me, timedelta(seconds=sending.lease_s), gate,
                )  # fmt: skip
                with stop_on_signals(sender.stop):
                    return await sender.run(occurrence_id)
        finally:
            await gw.aclose()


# -- the delivery log --------------------------------------------------------------------------
def log_filter(campaign: str | None, phone: str | None, status: str | None) -> LogFilter:
    """Check the options of ``dispatcher log``; bad ones are :class:`BadInput` naming them."""
    wanted = None
    if status is not None:
        try:
            wanted = Status(status)
        except ValueError as exc:
            choices = ", ".join(s.value for s in Status)
            problem = Problem(f"unknown status '{status}' (one of {choices})", field="--status")
            raise BadInput(problem) from exc
    number = None
    if phone is not None:
        try:
            number = normalize(phone)
        except InvalidPhone as exc:
            raise BadInput(Problem(f"'{phone}': {exc.reason}", field="--phone")) from exc
    return LogFilter(campaign, number, wanted)


def delivery_log(rt: Runtime, filters: LogFilter) -> Iterator[DeliveryView]:
    """The outbox rows matching ``filters``, oldest first, streamed."""
    with rt.uow() as uow:
        yield from uow.repo.deliveries(filters)
