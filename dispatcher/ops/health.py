"""Health: is any work stuck? "Never silently lost" in operation.

The rules are pure functions over the counts the repository reads (:class:`Snapshot`) and the
current time; :func:`check` is the service that reads them and applies the rules for
``dispatcher status`` and ``GET /health``. Healthy means no finding. Every finding names its
campaign (when it has one), the rule, a message for people and the numbers behind it; never a
phone number.

The rules:

``stuck-sending``
    Rows ``sending`` claimed more than ``health.stuck_after_minutes`` ago: their worker died or
    hung. A live worker takes them over after the lease, marks them ``unknown`` and asks the
    provider before anything is resent.
``stuck-unknown``
    Rows ``unknown`` for longer than that, not reconciled: no worker has asked the provider.
``no-progress``
    An occurrence with pending rows due now and no row claimed for ``health.no_progress_minutes``
    (or since its outbox was written): nobody is sending it. Age alone would be wrong: a large
    occurrence legitimately takes hours at 10 segments/s, and it is past its grace period while
    it is still being sent. Nor is "no delivery-log event" the test: polls and callbacks keep
    logging status changes for hours after the sender died. Paused campaigns are not judged;
    a canceled campaign with pending rows (an outbox written while it was being canceled) is.
``error-dominance``
    One error code in more than ``health.error_dominance`` of a campaign's last
    ``health.error_window`` failures within ``health.error_window_minutes``, once there are
    ``health.error_min_failures`` of them (three failures out of three prove nothing).
``silent-worker``
    A worker without a heartbeat for ``health.worker_silent_minutes``, never stopped, that still
    holds ``sending`` rows: it died holding work. One that died holding nothing lost nothing
    (``no-progress`` catches an occurrence it left unfinished), so it is not a finding: a crashed
    worker must not keep the health check red once its work has been taken over.
``halted``
    Sending is halted (``dispatcher halt``, or automatically when the provider refused the
    account): nothing is sent until ``dispatcher unhalt``. Unhealthy, since messages due now are
    not going out, and an automatic halt needs someone to fix the credentials; it is listed
    first, and in every campaign's status. While it holds, ``no-progress`` is not judged (as for
    a paused campaign): the halt is the one reason.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from dispatcher.bootstrap import Runtime
from dispatcher.core.status import Status
from dispatcher.settings.config import Settings
from dispatcher.store.health import (
    CANCELED,
    PAUSED,
    FailureCount,
    OpenWork,
    SilentWorker,
    Snapshot,
    StuckRows,
)
from dispatcher.store.workers import HaltState

STUCK_SENDING = "stuck-sending"
STUCK_UNKNOWN = "stuck-unknown"
NO_PROGRESS = "no-progress"
ERROR_DOMINANCE = "error-dominance"
SILENT_WORKER = "silent-worker"
HALTED = "halted"
DATABASE = "database"  # the health check could not read the database at all
SCHEDULER = "scheduler-stuck"  # a pass of `serve`'s scheduler has not ended (it is stuck)

Number = int | float | str


@dataclass(frozen=True)
class Rules:
    """The thresholds of the rules, from ``health`` and ``sending`` in the settings."""

    stuck_after: timedelta = timedelta(minutes=15)
    no_progress: timedelta = timedelta(minutes=30)
    worker_silent: timedelta = timedelta(minutes=5)
    grace: timedelta = timedelta(minutes=120)  # sending.grace_period_minutes
    error_dominance: float = 0.5
    error_window: int = 200
    error_span: timedelta = timedelta(minutes=60)
    error_min_failures: int = 20

    @classmethod
    def from_settings(cls, settings: Settings) -> Rules:
        health = settings.health
        return cls(
            stuck_after=timedelta(minutes=health.stuck_after_minutes),
            no_progress=timedelta(minutes=health.no_progress_minutes),
            worker_silent=timedelta(minutes=health.worker_silent_minutes),
            grace=timedelta(minutes=settings.sending.grace_period_minutes),
            error_dominance=health.error_dominance,
            error_window=health.error_window,
            error_span=timedelta(minutes=health.error_window_minutes),
            error_min_failures=health.error_min_failures,
        )


@dataclass(frozen=True)
class Cutoffs:
    """The moments the repository filters by, so it reads only what may be a finding."""

    stuck_before: datetime
    silent_before: datetime
    failures_since: datetime


def cutoffs(rules: Rules, now: datetime) -> Cutoffs:
    return Cutoffs(now - rules.stuck_after, now - rules.worker_silent, now - rules.error_span)


@dataclass(frozen=True)
class Finding:
    """One reason the system is unhealthy."""

    rule: str
    campaign_id: str | None
    message: str
    numbers: Mapping[str, Number]
    occurrence: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"campaign": self.campaign_id, "occurrence": self.occurrence, "rule": self.rule,
                "message": self.message, "numbers": dict(self.numbers)}  # fmt: skip


@dataclass(frozen=True)
class HealthReport:
    checked_at: datetime
    findings: list[Finding]

    @property
    def healthy(self) -> bool:
        return not self.findings

    def as_json(self) -> dict[str, Any]:
        """``{"status": "ok"}``, or ``{"status": "unhealthy", "findings": [...]}``."""
        if self.healthy:
            return {"status": "ok"}
        return {"status": "unhealthy", "findings": [f.as_json() for f in self.findings]}


def unreadable(now: datetime) -> HealthReport:
    """The report when the database cannot be read: unhealthy, for no campaign in particular."""
    return HealthReport(now, [Finding(DATABASE, None, "database unavailable", {})])


def with_stuck_scheduler(report: HealthReport, seconds: float, at: str | None) -> HealthReport:
    """``report`` with the finding that the scheduler's pass has not ended for ``seconds``."""
    where = f" (at {Path(at).name})" if at else ""
    message = f"the scheduler has been in one pass for {seconds:.0f} s{where}: it is stuck"
    finding = Finding(SCHEDULER, None, message, {"seconds": round(seconds)})
    return HealthReport(report.checked_at, [*report.findings, finding])


# -- the service ---------------------------------------------------------------------------------
def check(rt: Runtime, campaign_id: str | None = None) -> HealthReport:
    """Read the counts and apply the rules; only ``campaign_id``'s findings when one is given."""
    now = rt.clock.now()
    rules = Rules.from_settings(rt.settings)
    cut = cutoffs(rules, now)
    with rt.uow() as uow:
        snapshot = uow.repo.lifecycle.snapshot(
            now, cut.stuck_before, cut.silent_before, cut.failures_since, rules.error_window
        )
        halt = uow.workers.halt_state()
    found = findings(snapshot, now, rules, halt)
    if campaign_id is not None:  # a halt stops every campaign
        found = [f for f in found if f.campaign_id == campaign_id or f.rule == HALTED]
    return HealthReport(now, found)


# -- the rules (pure) ----------------------------------------------------------------------------
def findings(
    snapshot: Snapshot, now: datetime, rules: Rules, halt: HaltState | None = None
) -> list[Finding]:
    """Every finding: a halt first, then by campaign (those without one last), then by rule."""
    open_work = snapshot.open_work if halt is None else []
    maybe = [
        halt_finding(halt, now) if halt is not None else None,
        *(stuck_finding(s, now, rules) for s in snapshot.stuck_sending),
        *(stuck_finding(s, now, rules) for s in snapshot.stuck_unknown),
        *(progress_finding(w, now, rules) for w in open_work),
        *dominance_findings(snapshot.failures, rules),
        *(f for w in snapshot.silent_workers for f in silent_worker_findings(w, now, rules)),
    ]
    found = [f for f in maybe if f is not None]
    return sorted(
        found, key=lambda f: (f.rule != HALTED, f.campaign_id is None, f.campaign_id or "", f.rule)
    )


def halt_finding(halt: HaltState, now: datetime) -> Finding:
    """The global halt: nothing is sent by anyone until an operator lifts it."""
    why = f": {halt.reason}" if halt.reason else ""
    message = (
        f"sending is halted, for {_age(now - halt.since)}, by {halt.by}{why}; no worker sends "
        "until `dispatcher unhalt` (fix the cause first)"
    )
    numbers: dict[str, Number] = {"by": halt.by, "since": halt.since.isoformat(),
                                  "minutes": _minutes(now - halt.since)}  # fmt: skip
    return Finding(HALTED, None, message, numbers)


def stuck_finding(rows: StuckRows, now: datetime, rules: Rules) -> Finding | None:
    """Rows ``sending`` or ``unknown`` since before the cutoff."""
    age = now - rows.oldest
    if rows.count <= 0 or age <= rules.stuck_after:
        return None
    numbers: dict[str, Number] = {
        "rows": rows.count,
        "oldest_minutes": _minutes(age),
        "since": rows.oldest.isoformat(),
    }
    if rows.status == Status.SENDING:
        message = (
            f"{rows.count} deliveries claimed (`sending`) for up to {_age(age)} with no "
            "outcome: their worker died or hung; a worker takes them over after the lease "
            "and asks the provider before anything is resent (run `dispatcher send`)"
        )
        return Finding(STUCK_SENDING, rows.campaign_id, message, numbers)
    message = (
        f"{rows.count} deliveries `unknown` for up to {_age(age)}, not reconciled: no "
        "worker has asked the provider about them (run `dispatcher send`, which "
        "reconciles before it sends)"
    )
    return Finding(STUCK_UNKNOWN, rows.campaign_id, message, numbers)


def progress_finding(work: OpenWork, now: datetime, rules: Rules) -> Finding | None:
    """An occurrence with pending rows that nobody has claimed from for too long."""
    if work.pending <= 0 or work.campaign_state == PAUSED:
        return None
    numbers: dict[str, Number] = {"pending": work.pending}
    if work.campaign_state == CANCELED:
        message = (
            f"the campaign is canceled but {work.pending} deliveries are still pending "
            f"(written while it was canceled): run `dispatcher cancel "
            f"{work.campaign_id}` again"
        )
        return Finding(NO_PROGRESS, work.campaign_id, message, numbers, work.occurrence_key)
    progress = max(work.started_at, work.last_claim or work.started_at)
    idle = now - progress
    if idle <= rules.no_progress:
        return None
    numbers |= {"idle_minutes": _minutes(idle), "last_progress": progress.isoformat()}
    late = now - work.scheduled_at > rules.grace
    numbers["past_grace"] = int(late)
    resume = (
        f"`dispatcher send --occurrence {work.occurrence_key}` (past its sending window)"
        if late
        else "`dispatcher send`"
    )
    message = (
        f"{work.pending} deliveries pending and none claimed for {_age(idle)}: no worker "
        f"is sending this occurrence; resume it with {resume}"
    )
    return Finding(NO_PROGRESS, work.campaign_id, message, numbers, work.occurrence_key)


def dominance_findings(failures: list[FailureCount], rules: Rules) -> list[Finding]:
    """Per campaign: one error code making up more than the dominance share of its failures."""
    by_campaign: dict[str, list[FailureCount]] = defaultdict(list)
    for count in failures:
        by_campaign[count.campaign_id].append(count)
    found = []
    for campaign_id, counts in sorted(by_campaign.items()):
        total = sum(c.count for c in counts)
        coded = [c for c in counts if c.error_code is not None]
        if total < rules.error_min_failures or not coded:
            continue
        top = max(coded, key=lambda c: (c.count, -(c.error_code or 0)))
        share = top.count / total
        if share > rules.error_dominance:
            found.append(_dominance(campaign_id, top, total, share, rules))
    return found


def _dominance(
    campaign_id: str, top: FailureCount, total: int, share: float, rules: Rules
) -> Finding:
    message = (
        f"error {top.error_code} in {top.count} of the last {total} failures within "
        f"{_age(rules.error_span)} ({share:.0%}, more than {rules.error_dominance:.0%}): "
        "one cause is failing this campaign (see `dispatcher log --campaign "
        f"{campaign_id} --status failed`)"
    )
    numbers: dict[str, Number] = {
        "error_code": top.error_code or 0,
        "count": top.count,
        "failures": total,
        "share": round(share, 3),
    }
    return Finding(ERROR_DOMINANCE, campaign_id, message, numbers)


def silent_worker_findings(worker: SilentWorker, now: datetime, rules: Rules) -> list[Finding]:
    """One finding per campaign whose rows a silent worker still holds."""
    silent = now - worker.heartbeat_at
    if silent <= rules.worker_silent:
        return []
    found = []
    for campaign_id, held in sorted(worker.held.items()):
        if held <= 0:
            continue
        message = (
            f"worker {worker.id} ({worker.role}, pid {worker.pid} on {worker.host}) has "
            f"been silent for {_age(silent)} without stopping and holds {held} deliveries "
            "`sending`: it died; another worker takes them over after the lease"
        )
        numbers: dict[str, Number] = {
            "worker": worker.id,
            "rows": held,
            "silent_minutes": _minutes(silent),
            "last_heartbeat": worker.heartbeat_at.isoformat(),
        }
        found.append(Finding(SILENT_WORKER, campaign_id, message, numbers))
    return found


def _minutes(delta: timedelta) -> int:
    return int(delta.total_seconds() // 60)


def _age(delta: timedelta) -> str:
    """``47 min``, ``2 h 05 min``, ``3 d 4 h``: for people."""
    minutes = _minutes(delta)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes:02d} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"
