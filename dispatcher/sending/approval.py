"""The two-person rule and the confirmation before a blast through a real gateway.

A send that would reach real phones shows what it is about to do (recipients, segments, cost,
the first rendered message) and asks; above ``approval.above_recipients`` recipients it also
needs `dispatcher approve` by a second operator. An approval is bound to a fingerprint of the
text, the lists' contents and the recipient count: any edit voids it. Operators are named by
``$DISPATCHER_OPERATOR`` (else the login name) and, when ``approval.operators`` lists them,
must be one of those.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

from dispatcher.auth.operators import ENV_OPERATOR_KEY, key_problem
from dispatcher.bootstrap import Runtime
from dispatcher.broadcast.service import airings_to_register
from dispatcher.campaigns.compose import render_deliveries
from dispatcher.campaigns.registry import register_campaign
from dispatcher.core.errors import BadInput, Declined, Problem
from dispatcher.core.operator import ENV_ASSUME_YES, ENV_OPERATOR, operator
from dispatcher.safety.approvals import ApprovalState, approval_state, fingerprint, gateway_is_real
from dispatcher.sending.prepare import Prepared, prepare_campaign
from dispatcher.sending.send import SendReport, send
from dispatcher.sending.sender import Progress


@dataclass(frozen=True, kw_only=True)
class SendPreview:
    """What a send is about to do, shown before a real-gateway send is confirmed."""

    campaign: str
    recipients: int
    segments: int
    cost: float | None  # None: the price of a segment is not configured
    currency: str
    first_message: str
    gateway: str
    approval: ApprovalState


@dataclass(frozen=True)
class Approved:
    campaign: str
    approver: str
    recipients: int
    fingerprint: str


def operator_name(rt: Runtime) -> str:
    """Who is at the keyboard: $DISPATCHER_OPERATOR, else the login name, checked against
    ``approval.operators`` when that lists anyone, and against the operator's own key when
    ``approval.operator_keys`` is set (:mod:`dispatcher.auth.operators`)."""
    name = operator(rt.environ)
    known = rt.settings.approval.operators
    if known and name not in known:
        message = f"'{name}' is not one of the operators in approval.operators ({', '.join(known)})"
        raise BadInput(Problem(message, field=f"${ENV_OPERATOR}"))
    problem = key_problem(name, rt.settings.approval.operator_keys, rt.environ)
    if problem is not None:  # a name anyone can type counts only with its owner's key
        raise BadInput(Problem(problem, field=f"${ENV_OPERATOR_KEY}"))
    return name


def approve(rt: Runtime, path: Path) -> Approved:
    """`dispatcher approve FILE`: a second operator approves this version of the campaign."""
    prepared = prepare_campaign(path, rt.settings, rt.environ)
    campaign = prepared.campaign
    if campaign.spec.sms is None or prepared.audience is None:
        raise BadInput(campaign.problem([], "this campaign has no `sms` section: nothing to send"))
    approver = operator_name(rt)
    if campaign.spec.author is not None and campaign.spec.author == approver:
        message = f"{approver} wrote this campaign: a second operator must approve it"
        raise BadInput(Problem(message, field=f"${ENV_OPERATOR}"))
    version = fingerprint(prepared)
    recipients = prepared.audience.summary.valid
    now = rt.clock.now()
    with rt.uow() as uow:
        register_campaign(uow.repo, campaign, airings_to_register(campaign, rt.settings), now)
        uow.approvals.add(campaign.id, version, recipients, approver, now)
        detail = f"approved by {approver} for {recipients} recipients ({version[:12]})"
        uow.repo.record_activity("approved", now, campaign.id, None, detail)
        uow.commit()
    return Approved(campaign.id, approver, recipients, version)


def preflight(
    rt: Runtime,
    prepared: Prepared,
    real: bool,
    confirm: Callable[[SendPreview], bool] | None,
) -> None:
    """Before a real-gateway send: the approval it needs, then the operator's yes."""
    if not real:
        return
    with rt.uow() as uow:
        state = approval_state(uow, prepared, rt.settings, real)
    operator = operator_name(rt)
    _check_approval(state, operator, rt.settings.approval.above_recipients)
    if confirm is None:
        message = (
            "this send reaches real phones: confirm it on a terminal, or pass --yes "
            f"(or set {ENV_ASSUME_YES}=1) in scripts"
        )
        raise BadInput(Problem(message, field="--yes"))
    if not confirm(preview(rt, prepared, state)):
        raise Declined("declined: nothing was sent")


def _check_approval(state: ApprovalState, operator: str, threshold: int) -> None:
    if not state.needed:
        return
    how = f"run `dispatcher approve FILE` as another operator ({ENV_OPERATOR}=name)"
    if state.void_by is not None:
        message = f"the approval by {state.void_by} is void: the campaign changed since; {how}"
        raise BadInput(Problem(message, field="approval"))
    if not state.granted:
        message = f"more than {threshold} recipients through a real gateway need approval: {how}"
        raise BadInput(Problem(message, field="approval"))
    if state.approver == operator:
        message = f"{operator} approved this campaign and cannot also send it: {how}"
        raise BadInput(Problem(message, field="approval"))


def preview(rt: Runtime, prepared: Prepared, state: ApprovalState) -> SendPreview:
    campaign, audience, composition = prepared.campaign, prepared.audience, prepared.composition
    assert audience is not None and composition is not None
    first = next(iter(render_deliveries(campaign, islice(audience, 1))), None)
    price = rt.settings.pricing.price(rt.settings.gateway)
    segments = composition.total_segments
    cost = None if price is None else price * segments
    return SendPreview(
        campaign=campaign.id, recipients=audience.summary.valid, segments=segments, cost=cost,
        currency=rt.settings.pricing.currency, first_message=first.body if first else "",
        gateway=rt.settings.gateway, approval=state,
    )  # fmt: skip


def guarded_send(
    rt: Runtime,
    path: Path,
    occurrence_key: str | None,
    on_progress: Callable[[str, Progress], None] | None,
    confirm: Callable[[SendPreview], bool] | None,
) -> SendReport:
    """`dispatcher send`: through a real gateway, only approved (when needed) and confirmed."""
    real = gateway_is_real(rt.settings, rt.environ)

    def check(prepared: Prepared) -> None:
        preflight(rt, prepared, real, confirm)

    return send(rt, path, occurrence_key, on_progress, check)
