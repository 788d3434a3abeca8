"""What the safeguards print: the preview a real-gateway send asks to confirm, and approvals.

Phone numbers never appear here: the preview shows the first rendered message, not its number.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from dispatcher.core import schedule
from dispatcher.safety.budgets import money

if TYPE_CHECKING:  # annotations only: `plan` prints an approval without loading the sender
    from dispatcher.safety.approvals import ApprovalState
    from dispatcher.sending.approval import Approved, SendPreview


def send_preview(preview: SendPreview, tz: ZoneInfo) -> str:
    cost = (
        money(preview.cost, preview.currency)
        if preview.cost is not None
        else f"unknown (set pricing.per_segment.{preview.gateway})"
    )
    lines = [
        f"About to send through {preview.gateway} — these messages reach real phones:",
        f"  Campaign:    {preview.campaign}",
        f"  Recipients:  {preview.recipients:,}",
        f"  Segments:    {preview.segments:,}, cost {cost}",
        f"  Approval:    {approval_text(preview.approval, tz)}",
        "  First message:",
        *(f"    {line}" for line in preview.first_message.splitlines() or [""]),
    ]
    return "\n".join(lines)


def approval_text(state: ApprovalState, tz: ZoneInfo) -> str:
    if not state.needed:
        return "not needed"
    if state.approver is not None and state.at is not None:
        when = schedule.format_datetime_vi(state.at.astimezone(tz))
        return f"approved by {state.approver} ({when})"
    if state.void_by is not None:
        return f"VOID: the campaign changed since {state.void_by} approved it"
    return "needed, not given: `dispatcher approve FILE` by a second operator"


def approved(result: Approved) -> str:
    return (
        f"Approved {result.campaign} for {result.recipients:,} recipients as {result.approver} "
        f"(version {result.fingerprint[:12]}). Any edit to the text or the lists voids it."
    )


def operator_key(name: str, key: str, digest: str) -> str:
    """What `dispatcher operator-key NAME` prints: the key for the operator, the config line."""
    return (
        f"{name}'s key: give it to {name} alone, to keep in their environment, never in a file:\n"
        f"  export DISPATCHER_OPERATOR={name} DISPATCHER_OPERATOR_KEY={key}\n"
        "And in config.yaml (a digest of the key: it reveals nothing):\n"
        "  approval:\n"
        "    operator_keys:\n"
        f'      {name}: "{digest}"'
    )
