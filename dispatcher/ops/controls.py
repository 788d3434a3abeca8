"""Campaign lifecycle: list, inspect, pause, resume and cancel campaigns from the command line.

A campaign is ``active``, ``paused`` or ``canceled`` (``campaigns.state``). Every worker reads the
state before it claims rows, so a pause or cancel takes effect across all running workers
within seconds; rows already claimed finish. Cancel is final: its pending rows become
``canceled`` (each logged in the delivery log), rows in ``sending`` or ``unknown`` are left to
finish or be reconciled, since they may have reached the provider. Every change is an event of
the activity log with who made it and why.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from dispatcher.bootstrap import Runtime
from dispatcher.core.errors import BadInput, Problem
from dispatcher.core.operator import operator
from dispatcher.core.status import Status
from dispatcher.ops import health
from dispatcher.store.health import (
    ACTIVE,
    CANCELED,
    PAUSED,
    ActivityEvent,
    CampaignSummary,
    OccurrenceSummary,
)
from dispatcher.store.uow import UnitOfWork

__all__ = [
    "ActivityEvent",
    "CampaignStatus",
    "CampaignSummary",
    "OccurrenceSummary",
    "StateChange",
    "campaigns",
    "cancel",
    "pause",
    "resume",
    "status",
]

RECENT_ACTIVITY = 10  # activity-log events shown by `status ID`
MAX_IDS_LISTED = 20  # known campaign ids named when an unknown one is asked for
IN_FLIGHT = (Status.SENDING, Status.UNKNOWN)  # what a cancel leaves to finish or reconcile


@dataclass(frozen=True)
class CampaignStatus:
    """``dispatcher status ID``: progress per occurrence, health findings, recent activity."""

    campaign: CampaignSummary
    health: health.HealthReport  # the findings about this campaign
    activity: list[ActivityEvent]


@dataclass(frozen=True)
class StateChange:
    """The outcome of pause, resume or cancel."""

    campaign_id: str
    before: str
    after: str
    by: str
    canceled: int = 0  # pending rows canceled
    in_flight: int = 0  # rows left `sending` or `unknown` (they finish or are reconciled)

    @property
    def changed(self) -> bool:
        return self.before != self.after or self.canceled > 0


def campaigns(rt: Runtime) -> list[CampaignSummary]:
    """Every campaign the database knows, by id, with its progress."""
    with rt.uow() as uow:
        return uow.repo.lifecycle.summaries()


def status(rt: Runtime, campaign_id: str) -> CampaignStatus:
    """One campaign's progress, its health findings and its recent activity."""
    with rt.uow() as uow:
        summary = _summary(uow, campaign_id)
        activity = uow.repo.lifecycle.activity(campaign_id, RECENT_ACTIVITY)
    return CampaignStatus(summary, health.check(rt, campaign_id), activity)


def pause(
    rt: Runtime, campaign_id: str, reason: str | None = None, by: str | None = None
) -> StateChange:
    """Stop claiming the campaign's rows (in every worker); rows in flight finish.

    ``by`` names who asks (a web sign-in); default: the operator at this terminal."""
    refused = {CANCELED: "it is canceled, which is final"}
    return _change(rt, campaign_id, PAUSED, reason, refused, by)


def resume(
    rt: Runtime, campaign_id: str, reason: str | None = None, by: str | None = None
) -> StateChange:
    """Let workers claim the campaign's rows again (``by``: as for :func:`pause`)."""
    refused = {CANCELED: "it is canceled, which is final; register it under a new id to send"}
    return _change(rt, campaign_id, ACTIVE, reason, refused, by)


def cancel(
    rt: Runtime,
    campaign_id: str,
    reason: str | None = None,
    confirm: Callable[[CampaignSummary], bool] | None = None,
    by: str | None = None,
) -> StateChange | None:
    """Cancel the campaign for good: no further sends, its pending rows become ``canceled``.

    ``confirm`` is asked first, with the campaign as it is; when it says no, nothing changes and
    None is returned. Canceling again cancels rows that are still pending, if any. ``by``: as
    for :func:`pause`.
    """
    with rt.uow() as uow:
        summary = _summary(uow, campaign_id)
    if confirm is not None and not confirm(summary):
        return None
    who, now = by or operator(rt.environ), rt.clock.now()
    with rt.uow() as uow:
        before = _state(uow, campaign_id)
        uow.repo.lifecycle.set_state(campaign_id, CANCELED, now)
        canceled = uow.repo.cancel_pending(campaign_id, now, f"canceled by {_why(who, reason)}")
        left = uow.repo.lifecycle.count_in(campaign_id, IN_FLIGHT)
        if before != CANCELED or canceled:
            detail = f"by {_why(who, reason)}; {canceled} pending canceled, {left} in flight left"
            uow.repo.record_activity("campaign-canceled", now, campaign_id, detail=detail)
        uow.commit()
    return StateChange(campaign_id, before, CANCELED, who, canceled, left)


def _change(
    rt: Runtime,
    campaign_id: str,
    target: str,
    reason: str | None,
    refused: dict[str, str],
    by: str | None,
) -> StateChange:
    who, now = by or operator(rt.environ), rt.clock.now()
    with rt.uow() as uow:
        before = _state(uow, campaign_id)
        if before in refused:
            verb = "pause" if target == PAUSED else "resume"
            raise BadInput(Problem(f"cannot {verb} {campaign_id}: {refused[before]}", field="ID"))
        if before != target:
            uow.repo.lifecycle.set_state(campaign_id, target, now)
            kind = "campaign-paused" if target == PAUSED else "campaign-resumed"
            detail = f"by {_why(who, reason)}"
            uow.repo.record_activity(kind, now, campaign_id, detail=detail)
            uow.commit()
    return StateChange(campaign_id, before, target, who)


def _state(uow: UnitOfWork, campaign_id: str) -> str:
    state = uow.repo.lifecycle.campaign_state(campaign_id)
    if state is None:
        raise _unknown(uow, campaign_id)
    return state


def _summary(uow: UnitOfWork, campaign_id: str) -> CampaignSummary:
    found = uow.repo.lifecycle.summaries(campaign_id)
    if not found:
        raise _unknown(uow, campaign_id)
    return found[0]


def _unknown(uow: UnitOfWork, campaign_id: str) -> BadInput:
    ids = uow.repo.lifecycle.campaign_ids()
    if not ids:
        known = "the database knows no campaign yet (`dispatcher send` registers one)"
    else:
        more = f", … ({len(ids)} in all)" if len(ids) > MAX_IDS_LISTED else ""
        known = "known: " + ", ".join(ids[:MAX_IDS_LISTED]) + more
    return BadInput(Problem(f"no campaign '{campaign_id}'; {known}", field="ID"))


def _why(who: str, reason: str | None) -> str:
    return f"{who}: {reason}" if reason else who
