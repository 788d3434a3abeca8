"""Stop everything: the global halt switch, set by an operator or by the sender itself.

``dispatcher halt`` stops every sender (``send``, ``serve`` and each ``worker``, on every host)
within seconds: each reads the switch before it starts a run and about once a second while it
sends. Requests already on the wire finish and are recorded; rows claimed but not yet sent go
back to ``pending``; rows a dead worker left ``sending`` stay until sending resumes, when they
are reconciled with the provider as ``unknown`` (reconciling needs the provider too, and under
an automatic halt its answer would be the same refusal). Nothing claimed is lost.

The sender sets the switch itself when the provider refuses the account (authentication,
suspension): every other worker uses the same account and would be refused too. The switch stays
on until an operator has fixed the cause and runs ``dispatcher unhalt``. Every change is an event
of the activity log (no campaign) with who and why.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from dispatcher.core.operator import operator
from dispatcher.store.uow import UnitOfWork
from dispatcher.store.workers import HaltState

if TYPE_CHECKING:
    from dispatcher.bootstrap import Runtime

__all__ = [
    "AUTOMATIC",
    "HaltChange",
    "HaltState",
    "current",
    "engage",
    "halt",
    "stop_message",
    "unhalt",
]

AUTOMATIC = "dispatcher"  # who halts when the provider refuses the account
HALT_EVENT, UNHALT_EVENT = "halt", "unhalt"  # their kinds in the activity log


@dataclass(frozen=True)
class HaltChange:
    """The outcome of ``halt`` or ``unhalt``."""

    halted: bool  # the switch after the command
    changed: bool
    by: str  # who ran the command
    reason: str | None
    state: HaltState | None  # the halt in force after ``halt`` (an earlier one when unchanged)
    lifted: HaltState | None = None  # the halt ``unhalt`` lifted


def current(rt: Runtime) -> HaltState | None:
    """The halt in force, or None when sending may go on."""
    with rt.uow() as uow:
        return uow.workers.halt_state()


def halt(rt: Runtime, reason: str | None = None, by: str | None = None) -> HaltChange:
    """Stop all sending by every worker; halting again keeps the first halt and its reason.

    ``by`` names who asks (a web sign-in); default: the operator at this terminal."""
    who, now = by or operator(rt.environ), rt.clock.now()
    with rt.uow() as uow:
        changed = engage(uow, reason, who, now)
        state = uow.workers.halt_state()
        uow.commit()
    return HaltChange(True, changed, who, reason, state)


def unhalt(rt: Runtime, reason: str | None = None, by: str | None = None) -> HaltChange:
    """Let every worker send again; when sending is not halted, nothing changes (``by``: as
    for :func:`halt`)."""
    who, now = by or operator(rt.environ), rt.clock.now()
    with rt.uow() as uow:
        lifted = uow.workers.halt_state()
        changed = uow.workers.set_halt(False, reason, who, now)
        if changed:
            uow.repo.record_activity(UNHALT_EVENT, now, detail=_by(who, reason))
        uow.commit()
    return HaltChange(False, changed, who, reason, None, lifted if changed else None)


def engage(uow: UnitOfWork, reason: str | None, by: str, now: datetime) -> bool:
    """Turn the switch on in ``uow``'s transaction (the caller commits) and log it.

    False when it was on already: the halt in force keeps its reason and author, so the first
    cause stays visible however many workers run into it.
    """
    changed = uow.workers.set_halt(True, reason, by, now)
    if changed:
        uow.repo.record_activity(HALT_EVENT, now, detail=_by(by, reason))
    return changed


def stop_message(state: HaltState) -> str:
    """Why a sender does not send: ``sending is halted by alice: wrong text; ...``."""
    return f"sending is halted {_by(state.by, state.reason)}; `dispatcher unhalt` resumes"


def _by(who: str, reason: str | None) -> str:
    return f"by {who}: {reason}" if reason else f"by {who}"
